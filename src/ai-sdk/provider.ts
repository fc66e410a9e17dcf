// Mneme's own engine as an AI SDK language model:
// `streamText({ model: mnemeLanguageModel(client), messages })`. It answers
// through the client's chat.completions.create: the worker's one engine, with
// the memories it prewarmed while the user typed (client.draft). Each turn is
// observed into memory once answered. Decoding is greedy: sampling settings
// come back as warnings, as the spec asks; what cannot be answered as asked
// (files, tool results, a required tool) is an InvalidInputError.
import type { LanguageModelV4, LanguageModelV4CallOptions, LanguageModelV4GenerateResult, LanguageModelV4StreamResult, SharedV4Warning } from '@ai-sdk/provider';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest } from '@mlc-ai/web-llm';
import type { MnemeClient } from '../client/client';
import { InvalidInputError } from '../errors';
import { toChatMessages } from './messages';
import { observeReply, observeUser, observingStream } from './observe';
import { finishReasonOf, metadataOf, streamParts, usageOf } from './result';

/** The `provider` of a Mneme model (and the key of its providerMetadata). */
export const MNEME_PROVIDER = 'mneme';

export interface MnemeModelOptions {
  /** The model id the AI SDK reports before the first reply names the engine's model. Default 'mneme-engine'. */
  modelId?: string;
}

/** Settings that change sampling, which Mneme's greedy decoding does not do: answered without them, with a warning. */
const SAMPLING = ['temperature', 'topP', 'topK', 'presencePenalty', 'frequencyPenalty', 'seed', 'stopSequences'] as const;

/**
 * The worker's engine as a LanguageModelV4.
 * @throws InvalidInputError when `client` is not a Mneme client
 */
export function mnemeLanguageModel(client: MnemeClient, options: MnemeModelOptions = {}): LanguageModelV4 {
  if (typeof client?.chat?.completions?.create !== 'function') throw new InvalidInputError('invalid-input', "mnemeLanguageModel takes a Mneme client: create() from 'mneme/client'.");
  const modelId = options.modelId ?? 'mneme-engine';
  return {
    specificationVersion: 'v4',
    provider: MNEME_PROVIDER,
    modelId,
    // Files are refused (text only), so every URL counts as taken as it is: the AI SDK then never downloads one just for it to be refused.
    supportedUrls: { '*/*': [/^/] },
    async doGenerate(call) {
      const { request, warnings } = requestOf(call, false);
      const reply = (await client.chat.completions.create(request, signalOf(call.abortSignal))) as ChatCompletion;
      const text = reply.choices[0]?.message.content ?? '';
      await observeReply(client, observeUser(client, call.prompt), text);
      return {
        content: text === '' ? [] : [{ type: 'text', text }],
        finishReason: finishReasonOf(reply.choices[0]?.finish_reason ?? null),
        usage: usageOf(reply.usage),
        providerMetadata: metadataOf(reply.usage),
        request: { body: request },
        response: { id: reply.id, modelId: reply.model, timestamp: new Date(reply.created * 1000) },
        warnings,
      } satisfies LanguageModelV4GenerateResult;
    },
    async doStream(call) {
      const { request, warnings } = requestOf(call, true);
      const cancel = new AbortController();
      const signal = call.abortSignal ? AbortSignal.any([call.abortSignal, cancel.signal]) : cancel.signal;
      const chunks = (await client.chat.completions.create(request, { signal })) as AsyncIterable<ChatCompletionChunk>;
      const stream = streamParts(chunks, { warnings, includeRaw: call.includeRawChunks === true, signal, cancel: () => cancel.abort() });
      // The turn is observed once the reply is complete (after the memories for it were picked); the stream closes after that.
      const observed = observingStream((reply) => observeReply(client, observeUser(client, call.prompt), reply));
      return { stream: stream.pipeThrough(observed), request: { body: request } } satisfies LanguageModelV4StreamResult;
    },
  };
}

const signalOf = (signal: AbortSignal | undefined) => (signal ? { signal } : {});

/**
 * The call as a chat completion request, and warnings for the settings it leaves out.
 * @throws InvalidInputError for a prompt or setting Mneme's engine cannot answer as asked
 */
function requestOf(call: LanguageModelV4CallOptions, stream: boolean): { request: ChatCompletionRequest; warnings: SharedV4Warning[] } {
  if (typeof call !== 'object' || call === null) throw new InvalidInputError('invalid-input', 'A language model call takes options { prompt, … }.');
  const { maxOutputTokens, toolChoice, tools, responseFormat } = call;
  if (maxOutputTokens !== undefined && (!Number.isInteger(maxOutputTokens) || maxOutputTokens < 1)) {
    throw new InvalidInputError('invalid-input', `maxOutputTokens must be a positive integer, got ${maxOutputTokens}`);
  }
  if (toolChoice?.type === 'required' || toolChoice?.type === 'tool') {
    throw new InvalidInputError('invalid-input', `toolChoice '${toolChoice.type}' needs a model that calls tools; Mneme's engine answers text. Use mnemeMiddleware with such a model.`);
  }
  const warnings: SharedV4Warning[] = SAMPLING.filter((setting) => call[setting] !== undefined).map((feature) => ({ type: 'unsupported', feature, details: "Mneme's engine decodes greedily; the setting was ignored." }));
  if (tools !== undefined && tools.length > 0) warnings.push({ type: 'unsupported', feature: 'tools', details: "Mneme's engine calls no tools; it answered with text." });
  if (responseFormat?.type === 'json') warnings.push({ type: 'unsupported', feature: 'responseFormat', details: "Mneme's engine does not constrain its output to JSON." });
  const messages = toChatMessages(call.prompt);
  const request: ChatCompletionRequest = {
    messages,
    ...(maxOutputTokens !== undefined && { max_tokens: maxOutputTokens }),
    ...(stream && { stream: true, stream_options: { include_usage: true } }),
  };
  return { request, warnings };
}
