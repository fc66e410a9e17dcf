// The page side of the drop-in: memory in the scheduler worker, drafts fed as
// the user types, memories chosen at send, and an on-device engine loaded only
// when asked to answer. It never throws into the host page's path: when
// workers or IndexedDB are missing, memory turns off; when the GPU engine
// fails, the CPU engine answers; when that fails, memory and lexical search go
// on. Each step down is reported as a 'degraded' event and on the console.
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest } from '@mlc-ai/web-llm';
import { MnemeError, ModelError } from '../errors';
import type { LoadProgress } from '../embed/types';
import type { EngineConfig } from '../engine/create';
import type { ChatCompletionsApi } from '../engine/openai';
import type { SchedulerClient } from '../scheduler/client';
import type { MemoryView } from '../scheduler/service';
import { augmentMessages, lastUserText, type ChatMessage } from './augment';

export interface ClientOptions {
  /** Whose memories. Default 'me'. */
  user?: string;
  role?: string;
  /** IndexedDB name. Default 'mneme'. */
  dbName?: string;
  /** Memories added to a request. Default 5. */
  k?: number;
  /** The engine `chat.completions.create` answers with (loaded on first use). */
  engine?: EngineConfig;
  /** Report degradations on the console too. Default true. */
  log?: boolean;
}

/** How the client reaches its worker and its lazily loaded engine code; each entry point supplies its own. */
export interface ClientLoaders {
  worker(): SchedulerClient;
  engine(): Promise<typeof import('./engine-module')>;
}

export interface Degradation {
  /** What is off now: memory entirely, the GPU engine, or every engine. */
  what: 'memory' | 'gpu-engine' | 'engine';
  reason: string;
}

export interface ClientEventMap {
  degraded: Degradation;
  prediction: MemoryView[];
  'model-progress': LoadProgress;
  'model-ready': { model: string; engine: string };
  sent: { text: string; memories: MemoryView[] };
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
  /** The messages with memories for the last user message added. */
  augment(messages: readonly ChatMessage[]): Promise<ChatMessage[]>;
  chat: { completions: { create(request: ChatCompletionRequest): Promise<Completion> } };
  on<K extends keyof ClientEventMap>(type: K, listener: (detail: ClientEventMap[K]) => void): () => void;
  close(): Promise<void>;
}

export function createMnemeClient(options: ClientOptions, loaders: ClientLoaders): MnemeClient {
  const k = options.k ?? 5;
  const events = new EventTarget();
  const emit = <K extends keyof ClientEventMap>(type: K, detail: ClientEventMap[K]) => events.dispatchEvent(new CustomEvent(type, { detail }));
  const degrade = (what: Degradation['what'], error: unknown) => {
    const reason = error instanceof Error ? error.message : String(error);
    if (options.log ?? true) console.warn(`Mneme: ${what === 'memory' ? 'memory is off' : what === 'gpu-engine' ? 'the GPU engine failed, using the CPU engine' : 'no engine could load; memory and lexical search go on'}: ${reason}`);
    emit('degraded', { what, reason });
  };

  let worker: SchedulerClient | undefined;
  const ready = (async () => {
    try {
      if (typeof Worker === 'undefined') throw new Error('this browser has no Web Workers');
      if (typeof indexedDB === 'undefined') throw new Error('this browser has no IndexedDB (private mode?)');
      worker = loaders.worker();
      const scope = { userId: options.user ?? 'me', ...(options.role !== undefined && { role: options.role }) };
      await worker.call('open', [{ scope, dbName: options.dbName ?? 'mneme' }]);
      await worker.call('startSession', [options.role !== undefined ? { role: options.role } : {}]);
      return true;
    } catch (error) {
      worker?.terminate();
      worker = undefined;
      degrade('memory', error);
      return false;
    }
  })();
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

  let answering: Promise<ChatCompletionsApi> | undefined;
  const engineApi = () => (answering ??= loadEngine());
  async function loadEngine(): Promise<ChatCompletionsApi> {
    const { createEngine, createChatCompletions } = await loaders.engine();
    const onProgress = (p: LoadProgress) => emit('model-progress', p);
    for (const config of [options.engine ?? {}, { ...options.engine, engine: 'transformers' as const }]) {
      try {
        const { engine, choice } = await createEngine(config);
        try {
          const info = await engine.load({ onProgress });
          emit('model-ready', { model: info.model, engine: choice.engine });
          return createChatCompletions(engine);
        } catch (error) {
          await engine.dispose().catch(() => undefined);
          if (choice.engine !== 'webllm') throw error;
          degrade('gpu-engine', error);
        }
      } catch (error) {
        degrade('engine', error);
        answering = undefined; // a later request tries again
        throw error instanceof MnemeError ? error : new ModelError('model-load-failed', `No engine could load: ${String(error)}`);
      }
    }
    throw new ModelError('model-load-failed', 'No engine could load');
  }

  const client: MnemeClient = {
    ready,
    draft(text) {
      void withMemory(undefined, async (w) => {
        const view = await w.call('draft', [text]);
        if (!view.superseded) emit('prediction', view.predicted);
      });
    },
    async send(text) {
      const memories = await withMemory([], (w) => w.call('send', [text, k]).then((s) => s.results));
      emit('sent', { text, memories });
      await client.observe(text, 'user');
      return memories;
    },
    observe: (text, role = 'user') => withMemory(undefined, async (w) => void (await w.call('observe', [{ text, role }]))),
    searchMemory: (query, o = {}) => withMemory([], (w) => w.call('search', [query, o.k ?? k])),
    async augment(messages) {
      const text = lastUserText(messages);
      const memories = await client.searchMemory(text);
      return augmentMessages(messages, memories.map((m) => m.text).filter((m) => m !== text.trim()));
    },
    chat: {
      completions: {
        async create(request) {
          const api = await engineApi();
          return api.chat.completions.create({ ...request, messages: await client.augment(request.messages) });
        },
      },
    },
    on(type, listener) {
      const handler = (event: Event) => listener((event as CustomEvent).detail);
      events.addEventListener(type, handler);
      return () => events.removeEventListener(type, handler);
    },
    async close() {
      await withMemory(undefined, (w) => w.call('close', []));
      worker?.terminate();
    },
  };
  return client;
}
