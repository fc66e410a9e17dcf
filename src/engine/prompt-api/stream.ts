// A reply from the built-in model, streamed in chunks. The API has no token
// limit, so the reply is measured as it grows (the model's own count, on the
// measuring session) and cut at `maxTokens`; chunks go out every `chunkTokens`
// tokens or `chunkMs` ms, as the other engines send them.
import type { FinishReason, TokenChunk } from '../types';
import { isAbort, type LanguageModelSession } from './api';
import type { TextUnits } from './units';

export interface StreamOptions {
  maxTokens: number;
  chunkTokens: number;
  chunkMs: number;
  signal?: AbortSignal;
  onChunk?: (chunk: TokenChunk) => void;
  now: () => number;
  units: TextUnits;
  /** Model tokens of a text (framing excluded). */
  measure: (text: string) => Promise<number>;
}

export interface StreamedReply {
  tokens: number[];
  text: string;
  finishReason: FinishReason;
  /** When the first text arrived (or the stream ended without any). */
  firstAt: number;
}

export async function streamReply(session: LanguageModelSession, input: string, options: StreamOptions): Promise<StreamedReply> {
  const { now, units, onChunk } = options;
  const control = new AbortController();
  const onAbort = () => control.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const reader = session.promptStreaming(input, { signal: control.signal }).getReader();
  let text = '';
  let size = 0;
  let sent = { text: '', size: 0, at: now() };
  let firstAt: number | undefined;
  let finishReason: FinishReason = 'stop';
  const flush = () => {
    if (!onChunk || text.length === sent.text.length) return;
    const piece = text.slice(sent.text.length);
    onChunk({ tokens: units.encodeMeasured(piece, size - sent.size), text: piece });
    sent = { text, size, at: now() };
  };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      firstAt ??= now();
      text += value;
      size = Math.max(size, await options.measure(text)); // never shrinks, so chunk sizes stay ≥ 0
      if (size >= options.maxTokens) {
        finishReason = 'length';
        break;
      }
      if (sent.size === 0 || size - sent.size >= options.chunkTokens || now() - sent.at >= options.chunkMs) flush();
    }
  } catch (error) {
    if (!isAbort(error) || !options.signal?.aborted) throw error;
    finishReason = 'aborted';
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    control.abort(); // a reply cut at maxTokens stops generating
    reader.releaseLock();
  }
  flush();
  return { tokens: units.encodeMeasured(text, size), text, finishReason, firstAt: firstAt ?? now() };
}
