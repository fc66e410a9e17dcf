// An OpenAI-shaped `chat.completions.create` over any Engine, typed with
// WebLLM's own request and response types, so chat code written for WebLLM's
// MLCEngine runs unchanged on either engine. Underneath it is our loop: the
// messages are laid out for reuse (layout.ts) and whatever the cache holds of
// them is kept. Decoding is greedy; sampling settings are accepted and ignored.
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionFinishReason,
  ChatCompletionMessageParam,
  ChatCompletionRequest,
  ChatCompletionRequestNonStreaming,
  ChatCompletionRequestStreaming,
  CompletionUsage,
} from '@mlc-ai/web-llm';
import { InvalidInputError } from '../errors';
import { layoutPrompt, type HistoryTurn } from './layout';
import { promptLength } from './ledger';
import type { Engine, FinishReason, GenerateResult, TokenChunk } from './types';

export interface CreateOptions {
  /** Stops the reply (it then ends with finish_reason 'abort'), as OpenAI's SDK takes it. */
  signal?: AbortSignal;
}

export interface ChatCompletionsApi {
  /** Stops every reply in progress, as WebLLM's `engine.interruptGenerate()` does: each ends with finish_reason 'abort'. */
  interruptGenerate(): void;
  chat: {
    completions: {
      create(request: ChatCompletionRequestNonStreaming, options?: CreateOptions): Promise<ChatCompletion>;
      create(request: ChatCompletionRequestStreaming, options?: CreateOptions): Promise<AsyncIterable<ChatCompletionChunk>>;
      create(request: ChatCompletionRequest, options?: CreateOptions): Promise<AsyncIterable<ChatCompletionChunk> | ChatCompletion>;
    };
  };
}

/** Request fields that change what is generated in ways this loop does not do; refused rather than ignored. */
const REFUSED = ['tools', 'tool_choice', 'response_format', 'logprobs', 'top_logprobs', 'logit_bias', 'stop'] as const;

export function createChatCompletions(engine: Engine): ChatCompletionsApi {
  const running = new Set<AbortController>();

  async function create(request: ChatCompletionRequest, options: CreateOptions = {}): Promise<AsyncIterable<ChatCompletionChunk> | ChatCompletion> {
    const { parts, maxTokens } = readRequest(request);
    const info = engine.info ?? (await engine.load());
    const prompt = await layoutPrompt(parts, info.template, (texts) => engine.tokenize(texts));
    const control = new AbortController();
    running.add(control);
    const signal = options.signal ? AbortSignal.any([options.signal, control.signal]) : control.signal;
    const done = () => running.delete(control);
    const promptTokens = promptLength(prompt);
    const id = `chatcmpl-${crypto.randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const started = performance.now();
    const usage = (result: GenerateResult): MnemeCompletionUsage => usageOf(result, promptTokens, performance.now() - started);
    const generate = (onChunk?: (chunk: TokenChunk) => void) =>
      engine.generate(prompt, { ...(maxTokens !== undefined ? { maxTokens } : {}), signal, ...(onChunk ? { onChunk } : {}) }).finally(done);

    if (!request.stream) {
      const result = await generate();
      return {
        id,
        object: 'chat.completion',
        created,
        model: info.model,
        choices: [{ index: 0, message: { role: 'assistant', content: result.text }, finish_reason: finishReason(result.finishReason), logprobs: null }],
        usage: usage(result),
      };
    }
    const includeUsage = request.stream_options?.include_usage === true;
    const chunk = (choices: ChatCompletionChunk['choices'], extra: Partial<ChatCompletionChunk> = {}): ChatCompletionChunk => ({
      id,
      object: 'chat.completion.chunk',
      created,
      model: info.model,
      choices,
      ...extra,
    });
    return (async function* stream(): AsyncGenerator<ChatCompletionChunk> {
      const pieces: string[] = [];
      let settled = false;
      let notify = () => {};
      const running = generate((piece) => {
        if (piece.text !== '') pieces.push(piece.text);
        notify();
      });
      running.finally(() => {
        settled = true;
        notify();
      }).catch(() => undefined);
      let first = true;
      for (;;) {
        if (pieces.length === 0 && !settled) await new Promise<void>((resolve) => (notify = resolve));
        for (let content = pieces.shift(); content !== undefined; content = pieces.shift()) {
          yield chunk([{ index: 0, delta: first ? { role: 'assistant', content } : { content }, finish_reason: null, logprobs: null }]);
          first = false;
        }
        if (settled) break;
      }
      const result = await running; // a failed generate rejects here, to the reader
      yield chunk([{ index: 0, delta: {}, finish_reason: finishReason(result.finishReason), logprobs: null }]);
      if (includeUsage) yield chunk([], { usage: usage(result) });
    })();
  }
  return {
    interruptGenerate() {
      for (const control of running) control.abort();
    },
    chat: { completions: { create: create as ChatCompletionsApi['chat']['completions']['create'] } },
  };
}

/**
 * The prompt parts of a request: an optional leading system message, earlier
 * turns as history, and the last user message as what is answered.
 * @throws InvalidInputError for a request this loop cannot answer as asked
 */
function readRequest(request: ChatCompletionRequest): { parts: { system: string; history: HistoryTurn[]; draft: string }; maxTokens: number | undefined } {
  if (typeof request !== 'object' || request === null || !Array.isArray(request.messages) || request.messages.length === 0) {
    throw new InvalidInputError('invalid-input', 'A chat completion request needs messages: [{ role, content }, …]');
  }
  for (const field of REFUSED) {
    if ((request as unknown as Record<string, unknown>)[field] != null) throw new InvalidInputError('invalid-input', `The request field '${field}' is not supported by Mneme's engines; remove it`);
  }
  if (request.n != null && request.n !== 1) throw new InvalidInputError('invalid-input', `n must be 1 (one choice per request), got ${request.n}`);
  const maxTokens = request.max_tokens ?? undefined;
  if (maxTokens !== undefined && (!Number.isInteger(maxTokens) || maxTokens < 1)) throw new InvalidInputError('invalid-input', `max_tokens must be a positive integer, got ${maxTokens}`);
  const messages = [...request.messages];
  const system = messages[0]?.role === 'system' ? text(messages.shift() as ChatCompletionMessageParam) : '';
  const last = messages.pop();
  if (last?.role !== 'user') throw new InvalidInputError('invalid-input', "The last message must be the user's (role 'user')");
  const history = messages.map((message): HistoryTurn => {
    if (message.role !== 'user' && message.role !== 'assistant') {
      throw new InvalidInputError('invalid-input', `Only the first message may be a system message, and tool messages are not supported; got role '${message.role}'`);
    }
    return { role: message.role, text: text(message) };
  });
  return { parts: { system, history, draft: text(last) }, maxTokens };
}

function text(message: ChatCompletionMessageParam): string {
  if (typeof message.content === 'string') return message.content;
  if (message.content == null && message.role === 'assistant') return '';
  throw new InvalidInputError('invalid-input', `Message content must be a string (images and content parts are not supported), in a '${message.role}' message`);
}

function finishReason(reason: FinishReason): ChatCompletionFinishReason {
  return reason === 'aborted' ? 'abort' : reason;
}

/** WebLLM's usage, plus what the cache saved: prompt tokens kept from before, and those fed through the model. */
export type MnemeCompletionUsage = CompletionUsage & { extra: CompletionUsage['extra'] & { tokens_reused: number; tokens_prefilled: number } };

function usageOf(result: GenerateResult, promptTokens: number, elapsedMs: number): MnemeCompletionUsage {
  const { stats } = result;
  return {
    prompt_tokens: promptTokens,
    completion_tokens: result.tokens.length,
    total_tokens: promptTokens + result.tokens.length,
    extra: {
      e2e_latency_s: elapsedMs / 1000,
      prefill_tokens_per_s: stats.prefillTokensPerS,
      decode_tokens_per_s: stats.decodeTokensPerS,
      time_to_first_token_s: stats.ttftMs / 1000,
      time_per_output_token_s: stats.decodeTokensPerS > 0 ? 1 / stats.decodeTokensPerS : 0,
      tokens_reused: stats.tokensReused,
      tokens_prefilled: stats.tokensPrefilled,
    },
  };
}
