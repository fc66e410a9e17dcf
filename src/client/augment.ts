// Memory context for a chat request, for apps that keep their own model: the
// memories go into the system message as escaped data inside <memory> tags,
// under a header saying they are information, never instructions. Pure.
import type { ChatCompletionMessageParam } from '@mlc-ai/web-llm';
import { LAYOUT_DEFAULTS, memoryElement } from '../engine/layout';

export type ChatMessage = ChatCompletionMessageParam;

/** The note that carries the memories, or '' when there are none. */
export function memoryNote(memories: readonly string[]): string {
  return memories.length === 0 ? '' : LAYOUT_DEFAULTS.workingHeader + memories.map((m) => memoryElement(m, [])).join('');
}

/** The messages with the memory note in the leading system message (added when there is none); the input is not changed. */
export function augmentMessages(messages: readonly ChatMessage[], memories: readonly string[]): ChatMessage[] {
  const note = memoryNote(memories);
  if (note === '') return [...messages];
  const [first, ...rest] = messages;
  if (first?.role === 'system' && typeof first.content === 'string') return [{ role: 'system', content: `${first.content}\n\n${note}` }, ...rest];
  return [{ role: 'system', content: note }, ...messages];
}

/** The text of the last user message, which the memories are chosen for. */
export function lastUserText(messages: readonly ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role === 'user') return typeof m.content === 'string' ? m.content : m.content.map((p) => ('text' in p ? p.text : '')).join(' ');
  }
  return '';
}
