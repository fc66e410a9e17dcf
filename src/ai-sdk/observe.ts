// What a chat turn teaches memory: the user's new message at send, then the
// reply once it is complete, observed in that order through the client (the
// same worker and scheduler as the drop-in). The client's observe never
// throws: with memory off, nothing is observed and the chat goes on.
import type { LanguageModelV4Prompt, LanguageModelV4StreamPart } from '@ai-sdk/provider';
import type { MnemeClient } from '../client/client';
import { newUserText } from './messages';

/** Observes the user's new message of the prompt (nothing for a continuation after tool results). */
export async function observeUser(client: MnemeClient, prompt: LanguageModelV4Prompt): Promise<void> {
  const text = newUserText(prompt);
  if (text?.trim()) await client.observe(text, 'user');
}

/** Observes the assistant's reply once the user's message (`after`) is observed. */
export async function observeReply(client: MnemeClient, after: Promise<void>, reply: string): Promise<void> {
  await after;
  if (reply.trim()) await client.observe(reply, 'assistant');
}

/** A stream's parts passed on as they are, the reply's text collected; the stream ends once `onReply(reply)` settles. */
export function observingStream(onReply: (reply: string) => Promise<void>): TransformStream<LanguageModelV4StreamPart, LanguageModelV4StreamPart> {
  let reply = '';
  return new TransformStream({
    transform(part, controller) {
      if (part.type === 'text-delta') reply += part.delta;
      controller.enqueue(part);
    },
    flush: () => onReply(reply),
  });
}
