// Memory context for a chat request, for apps that keep their own model: the
// memories go into the system message as escaped data inside <memory> tags,
// under a header saying they are information, never instructions. Pure.
// Messages are OpenAI's (WebLLM's) or the AI SDK's prompt messages: both have
// a role, and content as text or as parts with `text`.
import type { ChatCompletionMessageParam } from '@mlc-ai/web-llm';
import { LAYOUT_DEFAULTS, memoryElement } from '../engine/layout';

export type ChatMessage = ChatCompletionMessageParam;

/** A chat message of any of the shapes above: a role, and content as a string or an array of parts. */
export interface RoleMessage {
  role: string;
  content?: unknown;
}

/** The system message the memory note comes in when the messages have none. */
export interface SystemNote {
  role: 'system';
  content: string;
}

/** The note that carries the memories, or '' when there are none. */
export function memoryNote(memories: readonly string[]): string {
  return memories.length === 0 ? '' : LAYOUT_DEFAULTS.workingHeader + memories.map((m) => memoryElement(m, [])).join('');
}

/** The messages with the memory note in the leading system message (added when there is none); the input is not changed. */
export function augmentMessages<M extends RoleMessage>(messages: readonly M[], memories: readonly string[]): (M | SystemNote)[] {
  const note = memoryNote(memories);
  if (note === '') return [...messages];
  const [first, ...rest] = messages;
  if (first?.role === 'system' && typeof first.content === 'string') return [{ ...first, content: `${first.content}\n\n${note}` }, ...rest];
  return [{ role: 'system', content: note }, ...messages];
}

/** The text of the last user message, which the memories are chosen for (its text parts, joined). */
export function lastUserText(messages: readonly RoleMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    return Array.isArray(m.content) ? m.content.map(partText).join(' ') : '';
  }
  return '';
}

const partText = (part: unknown): string => (typeof part === 'object' && part !== null && 'text' in part && typeof part.text === 'string' ? part.text : '');
