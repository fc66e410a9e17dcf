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
  /** Stops the reply when the reader cancels the stream. */
  cancel(): void;
}

/**
 * The chunks of a streamed chat completion as stream parts: stream-start (with the warnings), response-metadata,
 * one text block of deltas, and a finish with the usage. A failed reply gives an error part and finishes as 'error'.
 */
export function streamParts(chunks: AsyncIterable<ChatCompletionChunk>, options: StreamOptions): ReadableStream<LanguageModelV4StreamPart> {
  const iterator = chunks[Symbol.asyncIterator]();
  let first = true;
  let texting = false;
  let finish: LanguageModelV4FinishReason = { unified: 'other', raw: undefined };
  let usage: CompletionUsage | undefined;
  const end = (controller: ReadableStreamDefaultController<LanguageModelV4StreamPart>) => {
    if (texting) controller.enqueue({ type: 'text-end', id: '0' });
    const providerMetadata = metadataOf(usage);
    controller.enqueue({ type: 'finish', finishReason: finish, usage: usageOf(usage), ...(providerMetadata && { providerMetadata }) });
    controller.close();
  };
  return new ReadableStream<LanguageModelV4StreamPart>({
    start: (controller) => controller.enqueue({ type: 'stream-start', warnings: options.warnings }),
    async pull(controller) {
      let next: IteratorResult<ChatCompletionChunk>;
      try {
        next = await iterator.next();
      } catch (error) {
        controller.enqueue({ type: 'error', error });
        finish = { unified: 'error', raw: undefined };
        return end(controller);
      }
      if (next.done) return end(controller);
      const chunk = next.value;
      if (options.includeRaw) controller.enqueue({ type: 'raw', rawValue: chunk });
      if (first) controller.enqueue({ type: 'response-metadata', id: chunk.id, modelId: chunk.model, timestamp: new Date(chunk.created * 1000) });
      first = false;
      const choice = chunk.choices[0];
      const delta = choice?.delta.content;
      if (delta) {
        if (!texting) controller.enqueue({ type: 'text-start', id: '0' });
        texting = true;
        controller.enqueue({ type: 'text-delta', id: '0', delta });
      }
      if (choice?.finish_reason) finish = finishReasonOf(choice.finish_reason);
      if (chunk.usage) usage = chunk.usage;
    },
    cancel() {
      options.cancel();
      void iterator.return?.()?.catch(() => undefined); // the generator ends once the stopped reply settles
    },
  });
}
