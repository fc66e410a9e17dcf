// The AI SDK's prompt (LanguageModelV4Prompt) read for Mneme: as OpenAI-shaped
// messages for the engine's chat.completions.create, the user's new message a
// turn starts with, and the text of a reply. Pure.
import type { LanguageModelV4Content, LanguageModelV4Message, LanguageModelV4Prompt } from '@ai-sdk/provider';
import type { ChatCompletionMessageParam } from '@mlc-ai/web-llm';
import { lastUserText } from '../client/augment';
import { InvalidInputError } from '../errors';

/**
 * The prompt as chat messages: text only (each message's text parts joined; an assistant's reasoning is left out).
 * @throws InvalidInputError for a prompt Mneme's engine cannot answer as asked: files or images, tool calls and results
 */
export function toChatMessages(prompt: LanguageModelV4Prompt): ChatCompletionMessageParam[] {
  if (!Array.isArray(prompt) || prompt.length === 0) throw new InvalidInputError('invalid-input', 'The prompt needs at least one message (prompt or messages in generateText / streamText).');
  return prompt.map((message): ChatCompletionMessageParam => {
    switch (message?.role) {
      case 'system':
        return { role: 'system', content: message.content };
      case 'user':
        return { role: 'user', content: textOf(message) };
      case 'assistant':
        return { role: 'assistant', content: textOf(message) };
      default:
        throw new InvalidInputError('invalid-input', `Mneme's engine answers text chats; a '${String(message?.role)}' message (tool results) is not supported. Use mnemeMiddleware with a model that has tools.`);
    }
  });
}

/** The text of a user or assistant message. */
function textOf(message: Extract<LanguageModelV4Message, { role: 'user' | 'assistant' }>): string {
  const texts: string[] = [];
  for (const part of message.content) {
    if (part.type === 'text') texts.push(part.text);
    else if (part.type !== 'reasoning') {
      throw new InvalidInputError('invalid-input', `Mneme's engine answers text only; a '${part.type}' part in a '${message.role}' message is not supported. Send text, or use mnemeMiddleware with a model that takes ${part.type === 'file' ? 'files' : 'tools'}.`);
    }
  }
  return texts.join('\n');
}

/** The user's message when the prompt ends with it (a new turn); undefined for a continuation after tool results. */
export function newUserText(prompt: LanguageModelV4Prompt): string | undefined {
  return prompt.at(-1)?.role === 'user' ? lastUserText(prompt) : undefined;
}

/** The text a model replied with (its text parts, joined). */
export function replyText(content: readonly LanguageModelV4Content[]): string {
  return content.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('');
}
