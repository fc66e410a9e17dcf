// A chat completion from Mneme's engine, read as the AI SDK's spec has results:
// the usage (what the cache held counted as cached input), the finish reason,
// Mneme's own figures under providerMetadata.mneme, and a streamed reply as
// LanguageModelV4 stream parts. Pure apart from reading the stream.
import type { JSONObject, LanguageModelV4FinishReason, LanguageModelV4StreamPart, LanguageModelV4Usage, SharedV4ProviderMetadata, SharedV4Warning } from '@ai-sdk/provider';
import type { ChatCompletionChunk, ChatCompletionFinishReason, CompletionUsage } from '@mlc-ai/web-llm';
import type { MnemeCompletionUsage } from '../engine/openai';

/** Mneme's usage figures (`usage.extra` of its chat completions) as the reply reports them. */
const extraOf = (usage: CompletionUsage | undefined): MnemeCompletionUsage['extra'] | undefined => (usage as MnemeCompletionUsage | undefined)?.extra;

/**
 * The spec's usage: input tokens the cache held at send (reused from the prewarm while typing, or from the
 * conversation before) are `cacheRead`; those fed through the model at send are `noCache`.
 */
export function usageOf(usage: CompletionUsage | undefined): LanguageModelV4Usage {
  const extra = extraOf(usage);
  return {
    inputTokens: { total: usage?.prompt_tokens, noCache: extra?.tokens_prefilled, cacheRead: extra?.tokens_reused, cacheWrite: undefined },
    outputTokens: { total: usage?.completion_tokens, text: usage?.completion_tokens, reasoning: undefined },
    ...(usage && { raw: usage as unknown as JSONObject }),
  };
}

/** `{ mneme: usage.extra }`: the memories the model saw and held, what was prefilled while typing, timings. */
export function metadataOf(usage: CompletionUsage | undefined): SharedV4ProviderMetadata | undefined {
  const extra = extraOf(usage);
  return extra ? { mneme: { ...extra } } : undefined;
}

/** Stop and length as the spec has them; an aborted reply is 'other' (raw 'abort'). */
export function finishReasonOf(reason: ChatCompletionFinishReason | null): LanguageModelV4FinishReason {
  const unified = reason === 'stop' || reason === 'length' ? reason : reason === 'tool_calls' ? 'tool-calls' : 'other';
  return { unified, raw: reason ?? undefined };
}

interface StreamOptions {
  warnings: SharedV4Warning[];
  /** Pass each chunk on as a 'raw' part too (includeRawChunks). */
  includeRaw: boolean;
  /** The reply's signal: once aborted, the reply ends as stopped (finish 'other', raw 'abort'), not as an error. */
  signal: AbortSignal;
  /** Stops the reply when the reader cancels the stream. */
  cancel(): void;
}

/**
 * The chunks of a streamed chat completion as stream parts: stream-start (with the warnings), response-metadata,
 * one text block of deltas, and a finish with the usage. A failed reply gives an error part and finishes as 'error';
 * an aborted one finishes as 'other' (raw 'abort').
 */
export function streamParts(chunks: AsyncIterable<ChatCompletionChunk>, options: StreamOptions): ReadableStream<LanguageModelV4StreamPart> {
  const iterator = chunks[Symbol.asyncIterator]();
  const reading = { first: true, texting: false, finish: { unified: 'other', raw: undefined } as LanguageModelV4FinishReason, usage: undefined as CompletionUsage | undefined };
  const end = (controller: ReadableStreamDefaultController<LanguageModelV4StreamPart>, finishReason: LanguageModelV4FinishReason) => {
    if (reading.texting) controller.enqueue({ type: 'text-end', id: '0' });
    const providerMetadata = metadataOf(reading.usage);
    controller.enqueue({ type: 'finish', finishReason, usage: usageOf(reading.usage), ...(providerMetadata && { providerMetadata }) });
    controller.close();
  };
  return new ReadableStream<LanguageModelV4StreamPart>({
    start: (controller) => controller.enqueue({ type: 'stream-start', warnings: options.warnings }),
    // A pull that enqueues nothing is not called again: read on until a chunk gives parts, or the reply ends.
    async pull(controller) {
      for (;;) {
        const next = options.signal.aborted ? undefined : await iterator.next().catch((error: unknown) => ({ error }));
        // Once the caller stopped the reply, nothing more is passed on (the engine's abort is no error).
        if (next === undefined || options.signal.aborted) return end(controller, finishReasonOf('abort'));
        if ('error' in next) {
          controller.enqueue({ type: 'error', error: next.error });
          return end(controller, { unified: 'error', raw: undefined });
        }
        if (next.done) return end(controller, reading.finish);
        const parts = partsOf(next.value, reading, options.includeRaw);
        for (const part of parts) controller.enqueue(part);
        if (parts.length > 0) return;
      }
    },
    cancel() {
      options.cancel();
      void iterator.return?.()?.catch(() => undefined); // the generator ends once the stopped reply settles
    },
  });
}

/** The parts one chunk gives; its finish reason and usage are kept in `reading` for the finish part. */
function partsOf(chunk: ChatCompletionChunk, reading: { first: boolean; texting: boolean; finish: LanguageModelV4FinishReason; usage: CompletionUsage | undefined }, includeRaw: boolean): LanguageModelV4StreamPart[] {
  const parts: LanguageModelV4StreamPart[] = includeRaw ? [{ type: 'raw', rawValue: chunk }] : [];
  if (reading.first) parts.push({ type: 'response-metadata', id: chunk.id, modelId: chunk.model, timestamp: new Date(chunk.created * 1000) });
  reading.first = false;
  const choice = chunk.choices[0];
  const delta = choice?.delta.content;
  if (delta) {
    if (!reading.texting) parts.push({ type: 'text-start', id: '0' });
    reading.texting = true;
    parts.push({ type: 'text-delta', id: '0', delta });
  }
  if (choice?.finish_reason) reading.finish = finishReasonOf(choice.finish_reason);
  if (chunk.usage) reading.usage = chunk.usage;
  return parts;
}
