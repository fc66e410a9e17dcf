// The page side of the drop-in: memory in the scheduler worker, drafts fed as
// the user types, memories chosen at send, and an on-device engine loaded only
// when asked to answer. It never throws into the host page's path: when
// workers or IndexedDB are missing, memory turns off; when the GPU engine
// fails, the CPU engine answers; when that fails, memory and lexical search go
// on. Each step down is reported as a 'degraded' event and on the console.
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest } from '@mlc-ai/web-llm';
import { ModelError } from '../errors';
import { resolveStaticEmbedderConfig, type ResolvedStaticEmbedderConfig, type StaticEmbedderConfig } from '../embed/static-config';
import type { EmbeddingRef, LoadProgress } from '../embed/types';
import { chooseEngineHere } from '../engine/choose';
import type { EngineConfig } from '../engine/create';
import { servePromptApiEngine } from '../engine/prompt-api';
import { chatCompletionsOver, type Answered, type Answerer, type ChatCompletionsApi, type CreateOptions } from '../engine/openai';
import type { SchedulerClient } from '../scheduler/client';
import type { EngineLoaded, MemoryView, SendView } from '../scheduler/service';
import { augmentMessages, lastUserText, type RoleMessage, type SystemNote } from './augment';

export interface ClientOptions {
  /** Whose memories. Default 'me'. */
  user?: string;
  role?: string;
  /** IndexedDB name. Default 'mneme'. */
  dbName?: string;
  /** Memories added to a request. Default 5. */
  k?: number;
  /** The engine that prewarms while the user types and answers `chat.completions.create`, in the worker (loaded by `loadEngine` or the first `create`). */
  engine?: EngineConfig;
  /**
   * A static (model2vec) embedding model, run in the worker, so drafts are ranked by meaning as well as by their
   * words (default model minishlab/potion-base-8M, about 30 MB, fetched once and kept in the Cache API). Loaded in
   * the background when memory opens; memories stored before are embedded then. Without it, search is lexical.
   * A relative `modelBaseUrl` resolves against the page. Invalid settings throw an InvalidInputError naming them.
   */
  embedder?: StaticEmbedderConfig;
  /** Report degradations on the console too. Default true. */
  log?: boolean;
}

/** How the client reaches its worker; each entry point supplies its own. */
export interface ClientLoaders {
  worker(): SchedulerClient;
}

export interface Degradation {
  /**
   * What is off now: memory entirely, the GPU engine, the browser's built-in model (chosen, then failing), every
   * engine, or the embedder (search by meaning; memory and lexical search go on).
   */
  what: 'memory' | 'gpu-engine' | 'built-in-engine' | 'engine' | 'embedder';
  reason: string;
}

export interface ClientEventMap {
  degraded: Degradation;
  /** While typing: the memories predicted for the message. */
  prediction: MemoryView[];
  /** A draft's prewarm settled: `held` of its predicted memories are in the engine's cache (0 without an engine). */
  prewarmed: { text: string; predicted: number; held: number };
  'model-progress': LoadProgress;
  /** `shared`: another tab of this site runs the model and this one drives it (the model is loaded once per site). */
  'model-ready': { model: string; engine: string; shared: boolean };
  /** The embedder's model loading (files arriving, then the model starting). */
  'embedder-progress': LoadProgress;
  /** The embedder is loaded: drafts rank by meaning from now on. */
  'embedder-ready': EmbeddingRef;
  sent: { text: string; memories: MemoryView[] };
  /** A reply from the on-device engine: exactly the memories the model saw, and what the cache held at send. */
  answered: SendView;
}

type Completion = ChatCompletion | AsyncIterable<ChatCompletionChunk>;

export interface MnemeClient {
  /** Resolves true once memory is on, false when it could not start (the reason was reported). */
  readonly ready: Promise<boolean>;
  draft(text: string): void;
  /** The user sent `text`: the memories for it (retrieved into the request), and the message observed. */
  send(text: string): Promise<MemoryView[]>;
  observe(text: string, role?: 'user' | 'assistant'): Promise<void>;
  searchMemory(query: string, options?: { k?: number }): Promise<MemoryView[]>;
  /** The messages (OpenAI's, or the AI SDK's prompt) with memories for the last user message added. */
  augment<M extends RoleMessage>(messages: readonly M[]): Promise<(M | SystemNote)[]>;
  /**
   * Loads the one engine, in the worker, that prewarms while the user types and answers `chat.completions.create`.
   * Drafts prewarm from then on. Without it, the first `create` loads it.
   */
  loadEngine(config?: EngineConfig): Promise<{ model: string; engine: string; shared: boolean }>;
  /**
   * The `embedder` option's model once it is loaded (undefined without one, or when memory is off). Rejects with its
   * ModelError when it could not load (also a 'degraded' event): memory and lexical search go on.
   */
  embedderReady(): Promise<EmbeddingRef | undefined>;
  chat: { completions: { create(request: ChatCompletionRequest, options?: CreateOptions): Promise<Completion> } };
  on<K extends keyof ClientEventMap>(type: K, listener: (detail: ClientEventMap[K]) => void): () => void;
  close(): Promise<void>;
}

const DEGRADED: Record<Degradation['what'], string> = {
  memory: 'memory is off',
  'gpu-engine': 'the GPU engine failed, using the CPU engine',
  'built-in-engine': "the browser's built-in model failed, using an engine Mneme loads",
  engine: 'no engine could load; memory and lexical search go on',
  embedder: 'the embedding model could not load; memory and lexical search go on',
};

export function createMnemeClient(options: ClientOptions, loaders: ClientLoaders): MnemeClient {
  const k = options.k ?? 5;
  const embedder = options.embedder === undefined ? undefined : resolveStaticEmbedderConfig(options.embedder, globalThis.location?.href);
  const events = new EventTarget();
  const emit = <K extends keyof ClientEventMap>(type: K, detail: ClientEventMap[K]) => events.dispatchEvent(new CustomEvent(type, { detail }));
  const degrade = (what: Degradation['what'], error: unknown) => {
    const reason = error instanceof Error ? error.message : String(error);
    if (options.log ?? true) console.warn(`Mneme: ${DEGRADED[what]}: ${reason}`);
    emit('degraded', { what, reason });
  };

  let worker: SchedulerClient | undefined;
  const ready = openMemory(options, loaders, embedder).then(
    (opened) => ((worker = opened), true),
    (error: unknown) => (degrade('memory', error), false),
  );
  /** Runs `work` when memory is on; otherwise (or when it fails) gives `fallback`. */
  const withMemory = async <T>(fallback: T, work: (w: SchedulerClient) => Promise<T>): Promise<T> => {
    if (!(await ready) || !worker) return fallback;
    try {
      return await work(worker);
    } catch (error) {
      if (options.log ?? true) console.warn('Mneme:', error instanceof Error ? error.message : error);
      return fallback;
    }
  };

  const context: ClientContext = { options, k, emit, degrade, connected: async () => ((await ready) ? worker : undefined) };
  const device = deviceEngine(context);
  const closing = new AbortController();
  const embedding = watchEmbedder(context, embedder, closing.signal);

  const client: MnemeClient = {
    ready,
    draft(text) {
      void withMemory(undefined, async (w) => {
        const view = await w.call('draft', [text, (predicted: MemoryView[]) => emit('prediction', predicted)]);
        if (!view.superseded) emit('prewarmed', { text: view.text, predicted: view.predicted.length, held: view.held });
      });
    },
    async send(text) {
      const memories = await client.searchMemory(text);
      emit('sent', { text, memories });
      await client.observe(text, 'user');
      return memories;
    },
    observe: (text, role = 'user') => withMemory(undefined, async (w) => void (await w.call('observe', [{ text, role }]))),
    searchMemory: (query, o = {}) => withMemory([], (w) => w.call('search', [query, o.k ?? k])),
    async augment(messages) {
      const text = lastUserText(messages);
      // The same path as an answer on the device (the memories are picked and recorded as retrieved), but nothing is generated.
      const memories = await withMemory([], (w) => w.call('send', [{ text, k, answer: false }]).then((s) => s.seen));
      return augmentMessages(messages, memories.map((m) => m.text).filter((m) => m !== text.trim()));
    },
    async loadEngine(config) {
      const loaded = await device.load(config);
      return { model: loaded.model, engine: loaded.engine, shared: loaded.shared };
    },
    embedderReady: () => embedding,
    chat: {
      completions: {
        create: (request, createOptions) => device.completions.chat.completions.create(request, createOptions),
      },
    },
    on(type, listener) {
      const handler = (event: Event) => listener((event as CustomEvent).detail);
      events.addEventListener(type, handler);
      return () => events.removeEventListener(type, handler);
    },
    async close() {
      closing.abort();
      await withMemory(undefined, (w) => w.call('close', []));
      worker?.terminate();
      await device.close();
    },
  };
  return client;
}

interface ClientContext {
  options: ClientOptions;
  k: number;
  emit<K extends keyof ClientEventMap>(type: K, detail: ClientEventMap[K]): void;
  degrade(what: Degradation['what'], error: unknown): void;
  /** The worker, once memory is on; undefined when it could not start. */
  connected(): Promise<SchedulerClient | undefined>;
}

/**
 * Starts the worker and opens the user's memory in it.
 * @throws why memory cannot start in this browser (the worker is stopped)
 */
async function openMemory(options: ClientOptions, loaders: ClientLoaders, embedder: ResolvedStaticEmbedderConfig | undefined): Promise<SchedulerClient> {
  if (typeof Worker === 'undefined') throw new Error('this browser has no Web Workers');
  if (typeof indexedDB === 'undefined') throw new Error('this browser has no IndexedDB (private mode?)');
  const worker = loaders.worker();
  try {
    const scope = { userId: options.user ?? 'me', ...(options.role !== undefined && { role: options.role }) };
    await worker.call('open', [{ scope, dbName: options.dbName ?? 'mneme', ...(embedder && { embedder }) }]);
    await worker.call('startSession', [options.role !== undefined ? { role: options.role } : {}]);
    return worker;
  } catch (error) {
    worker.terminate();
    throw error;
  }
}

/** The embedder's load in the worker, from the moment memory is on: its progress and outcome become events. */
function watchEmbedder(context: ClientContext, embedder: ResolvedStaticEmbedderConfig | undefined, closing: AbortSignal): Promise<EmbeddingRef | undefined> {
  if (!embedder) return Promise.resolve(undefined);
  const watched = context.connected().then((worker) =>
    worker?.call('embedderReady', [(p: LoadProgress) => context.emit('embedder-progress', p)], { timeoutMs: 1_800_000, signal: closing }),
  );
  void watched.then(
    (ref) => ref && context.emit('embedder-ready', ref),
    (error: unknown) => closing.aborted || context.degrade('embedder', error),
  );
  return watched;
}

/**
 * Chrome's built-in model exists on pages only: when the configuration names it, or the choice made here on the
 * page picks it, the page serves the Prompt API engine and the worker is told to drive it over its channel.
 */
async function servedOnPage(config: EngineConfig): Promise<{ config: EngineConfig; stop?: () => Promise<void> }> {
  const wanted = config.engine ?? 'auto';
  if (wanted !== 'prompt-api' && (wanted !== 'auto' || (await chooseEngineHere()).engine !== 'prompt-api')) return { config };
  const served = servePromptApiEngine(config.promptApi);
  return { config: { ...config, engine: 'prompt-api', promptApi: { ...config.promptApi, channel: served.channel } }, stop: () => served.stop() };
}

/** The worker's one engine, as the page reaches it: loaded once (a failure is reported and a later call tries again), answering chat completions. */
function deviceEngine(context: ClientContext): { load(config?: EngineConfig): Promise<EngineLoaded>; completions: ChatCompletionsApi; close(): Promise<void> } {
  const { options, emit, degrade } = context;
  let loading: Promise<EngineLoaded> | undefined;
  let stopServing: (() => Promise<void>) | undefined;
  const loadIn = (worker: SchedulerClient, config: EngineConfig) => worker.call('loadEngine', [config, (p: LoadProgress) => emit('model-progress', p)], { timeoutMs: 1_800_000 });
  /** The configured engine; a built-in model chosen by 'auto' that fails gives way to what the worker picks without it. */
  const loadServed = async (worker: SchedulerClient, wanted: EngineConfig): Promise<EngineLoaded> => {
    const page = await servedOnPage(wanted);
    stopServing = page.stop;
    try {
      return await loadIn(worker, page.config);
    } catch (error) {
      await stopServing?.();
      stopServing = undefined;
      if (!page.stop || (wanted.engine ?? 'auto') !== 'auto') throw error;
      degrade('built-in-engine', error);
      return loadIn(worker, wanted); // the worker has no LanguageModel, so its own choice is WebLLM or transformers.js
    }
  };
  const load = (config?: EngineConfig): Promise<EngineLoaded> =>
    (loading ??= (async () => {
      const worker = await context.connected();
      if (!worker) throw new ModelError('model-load-failed', 'Memory is off in this browser, so there is no on-device engine to answer (see the degraded event).');
      try {
        const loaded = await loadServed(worker, config ?? options.engine ?? {});
        if (loaded.gpuFailure !== undefined) degrade('gpu-engine', loaded.gpuFailure);
        emit('model-ready', { model: loaded.model, engine: loaded.engine, shared: loaded.shared });
        return loaded;
      } catch (error) {
        loading = undefined;
        degrade('engine', error);
        throw error;
      }
    })());

  /** Answers on the worker's engine, the memories laid out as they were prewarmed. */
  const answer: Answerer = async (parts, o) => {
    const loaded = await load();
    const worker = (await context.connected())!;
    const message = { text: parts.draft, k: context.k, history: parts.history, ...(parts.system !== undefined && { system: parts.system }), ...(o.maxTokens !== undefined && { maxTokens: o.maxTokens }) };
    const done = worker.call('send', [message, o.onChunk], { signal: o.signal, timeoutMs: 600_000 }).then((sent): Answered => {
      emit('answered', sent);
      return {
        text: sent.reply,
        finishReason: sent.finishReason === 'none' ? 'stop' : sent.finishReason,
        promptTokens: sent.promptTokens,
        completionTokens: sent.completionTokens,
        tokensReused: sent.tokensReused,
        tokensPrefilled: sent.prefillTokensAtSend,
        prefillTokensPerS: sent.prefillTokensPerS,
        decodeTokensPerS: sent.decodeTokensPerS,
        extra: { memories: sent.seen.length, memories_held: sent.heldFinal, tokens_prefilled_while_typing: sent.typingPrefillTokens, tokens_wasted_while_typing: sent.wastedPrefillTokens, worker_ttft_s: sent.workerTtftMs / 1000 },
      };
    });
    return { model: loaded.model, done };
  };
  return { load, completions: chatCompletionsOver(answer), close: async () => stopServing?.() };
}
