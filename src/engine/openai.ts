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
import type { Engine, FinishReason, TokenChunk } from './types';

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

/** A request read into prompt parts: an optional system message, earlier turns, and the user's last message. */
export interface RequestParts {
  system: string | undefined;
  history: HistoryTurn[];
  draft: string;
}

/** What an answer reports when it is done. */
export interface Answered {
  text: string;
  finishReason: FinishReason;
  promptTokens: number;
  completionTokens: number;
  tokensReused: number;
  tokensPrefilled: number;
  prefillTokensPerS: number;
  decodeTokensPerS: number;
  /** Anything else the answerer reports in `usage.extra` (Mneme's memory figures). */
  extra?: Record<string, number>;
}

/**
 * Answers one request: `started` resolves with the model's name once the answer is under way; chunks go
 * to `onChunk`; `done` resolves when the reply is complete.
 */
export type Answerer = (
  parts: RequestParts,
  options: { maxTokens: number | undefined; signal: AbortSignal; onChunk: (chunk: TokenChunk) => void },
) => Promise<{ model: string; done: Promise<Answered> }>;

/** `chat.completions.create` over an engine in this thread (or its worker): the request's messages are the whole prompt. */
export function createChatCompletions(engine: Engine): ChatCompletionsApi {
  return chatCompletionsOver(async (parts, options) => {
    const info = engine.info ?? (await engine.load());
    const prompt = await layoutPrompt({ ...parts, system: parts.system ?? '' }, info.template, (texts) => engine.tokenize(texts));
    const promptTokens = promptLength(prompt);
    const done = engine.generate(prompt, { ...(options.maxTokens !== undefined && { maxTokens: options.maxTokens }), signal: options.signal, onChunk: options.onChunk }).then(
      (result): Answered => ({
        text: result.text,
        finishReason: result.finishReason,
        promptTokens,
        completionTokens: result.tokens.length,
        tokensReused: result.stats.tokensReused,
        tokensPrefilled: result.stats.tokensPrefilled,
        prefillTokensPerS: result.stats.prefillTokensPerS,
        decodeTokensPerS: result.stats.decodeTokensPerS,
      }),
    );
    return { model: info.model, done };
  });
}

/**
 * An OpenAI-shaped `chat.completions.create` over any answerer, streaming or not. Time to first token is
 * timed here, in the caller's thread, from the call to the first token arriving: every worker hop included.
 */
export function chatCompletionsOver(answer: Answerer): ChatCompletionsApi {
  const running = new Set<AbortController>();

  async function create(request: ChatCompletionRequest, options: CreateOptions = {}): Promise<AsyncIterable<ChatCompletionChunk> | ChatCompletion> {
    const started = performance.now();
    const { parts, maxTokens } = readRequest(request);
    const control = new AbortController();
    running.add(control);
    const signal = options.signal ? AbortSignal.any([options.signal, control.signal]) : control.signal;
    const pieces: string[] = [];
    let firstTokenAt: number | undefined;
    let notify = () => {};
    const onChunk = (chunk: TokenChunk) => {
      firstTokenAt ??= performance.now();
      if (chunk.text !== '') pieces.push(chunk.text);
      notify();
    };
    let answering: { model: string; done: Promise<Answered> };
    try {
      answering = await answer(parts, { maxTokens, signal, onChunk });
    } catch (error) {
      running.delete(control);
      throw error;
    }
    const done = answering.done.finally(() => running.delete(control));
    const id = `chatcmpl-${crypto.randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const usage = (result: Answered): MnemeCompletionUsage => usageOf(result, performance.now() - started, (firstTokenAt ?? performance.now()) - started);
    const base = { id, created, model: answering.model };

    if (!request.stream) {
      const result = await done;
      return {
        ...base,
        object: 'chat.completion',
        choices: [{ index: 0, message: { role: 'assistant', content: result.text }, finish_reason: finishReason(result.finishReason), logprobs: null }],
        usage: usage(result),
      };
    }
    const includeUsage = request.stream_options?.include_usage === true;
    const chunk = (choices: ChatCompletionChunk['choices'], extra: Partial<ChatCompletionChunk> = {}): ChatCompletionChunk => ({ ...base, object: 'chat.completion.chunk', choices, ...extra });
    return (async function* stream(): AsyncGenerator<ChatCompletionChunk> {
      let settled = false;
      done.finally(() => {
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
      const result = await done; // a failed answer rejects here, to the reader
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
function readRequest(request: ChatCompletionRequest): { parts: RequestParts; maxTokens: number | undefined } {
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
  const system = messages[0]?.role === 'system' ? text(messages.shift() as ChatCompletionMessageParam) : undefined;
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

/**
 * WebLLM's usage, plus what the cache saved: prompt tokens kept from before, and those fed through the model.
 * `time_to_first_token_s` is timed in the caller's thread, from the call to the first token.
 */
export type MnemeCompletionUsage = CompletionUsage & { extra: CompletionUsage['extra'] & { tokens_reused: number; tokens_prefilled: number } & Record<string, number> };

function usageOf(result: Answered, elapsedMs: number, ttftMs: number): MnemeCompletionUsage {
  return {
    prompt_tokens: result.promptTokens,
    completion_tokens: result.completionTokens,
    total_tokens: result.promptTokens + result.completionTokens,
    extra: {
      ...result.extra,
      e2e_latency_s: elapsedMs / 1000,
      prefill_tokens_per_s: result.prefillTokensPerS,
      decode_tokens_per_s: result.decodeTokensPerS,
      time_to_first_token_s: ttftMs / 1000,
      time_per_output_token_s: result.decodeTokensPerS > 0 ? 1 / result.decodeTokensPerS : 0,
      tokens_reused: result.tokensReused,
      tokens_prefilled: result.tokensPrefilled,
    },
  };
}
