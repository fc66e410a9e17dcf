// One engine per origin. The tab whose worker loaded the model serves it on a
// BroadcastChannel (`serveEngine`); a worker in another tab of the same origin
// drives it through `connectEngine`, an `Engine` like any other, so the model
// is never loaded twice. Calls cross as tagged messages with an id and the
// caller's id; replies, streamed chunks and errors ({name, code, message})
// come back addressed to the caller. Every call has a timeout, and an aborted
// prewarm or generate is interrupted on the owner's side.
import { fromWire, InvalidInputError, isMnemeError, MnemeError, RpcError, toWire, type WireError } from '../errors';
import type { Engine, EngineInfo, GenerateOptions, GenerateResult, PrewarmResult, PromptTokens, TokenChunk } from './types';

/** What a caller may ask of the owner's engine, by method: arguments → result. */
interface SharedCalls {
  load: { args: []; result: EngineInfo };
  tokenize: { args: [texts: readonly string[]]; result: number[][] };
  prewarm: { args: [prefix: PromptTokens]; result: PrewarmResult };
  generate: { args: [prompt: PromptTokens, options: Omit<GenerateOptions, 'signal' | 'onChunk'>]; result: GenerateResult };
  held: { args: []; result: PromptTokens };
}
type Method = keyof SharedCalls;

export type SharedMessage =
  | { [M in Method]: { type: 'call'; from: string; id: number; method: M; args: SharedCalls[M]['args'] } }[Method]
  | { type: 'interrupt'; from: string; id: number }
  | { type: 'chunk'; to: string; id: number; chunk: TokenChunk }
  | { type: 'result'; to: string; id: number; value: unknown }
  | { type: 'error'; to: string; id: number; error: WireError };

/** Serves `engine` to the other tabs of this origin on `channelName` until the returned function is called. */
export function serveEngine(engine: Engine, channelName: string): () => void {
  const channel = new BroadcastChannel(channelName);
  const running = new Map<string, AbortController>();
  const reply = (message: SharedMessage) => channel.postMessage(message);
  channel.onmessage = async (event: MessageEvent<SharedMessage>) => {
    const message = event.data;
    if (message.type === 'interrupt') return running.get(`${message.from}/${message.id}`)?.abort();
    if (message.type !== 'call') return;
    const { from: to, id } = message;
    const key = `${to}/${id}`;
    const control = new AbortController();
    running.set(key, control);
    try {
      const value = await run(engine, message, control.signal, (chunk) => reply({ type: 'chunk', to, id, chunk }));
      reply({ type: 'result', to, id, value });
    } catch (error) {
      const wire = isMnemeError(error) ? error : new MnemeError('internal', `The shared engine failed: ${String(error)}`);
      reply({ type: 'error', to, id, error: toWire(wire) });
    } finally {
      running.delete(key);
    }
  };
  return () => {
    for (const control of running.values()) control.abort();
    channel.close();
  };
}

async function run(engine: Engine, call: Extract<SharedMessage, { type: 'call' }>, signal: AbortSignal, onChunk: (chunk: TokenChunk) => void): Promise<unknown> {
  switch (call.method) {
    case 'load':
      return engine.info ?? engine.load();
    case 'tokenize':
      return engine.tokenize(...call.args);
    case 'prewarm':
      return engine.prewarm(call.args[0], { signal });
    case 'generate':
      return engine.generate(call.args[0], { ...call.args[1], signal, onChunk });
    case 'held':
      return engine.held();
  }
}

export interface ConnectOptions {
  /** The channel the owning tab serves on. */
  channelName: string;
  /** Time limit in ms for a reply, or for the next chunk of a streamed one. Default 120 000. */
  timeoutMs?: number;
}

/** The engine another tab of this origin serves, as an `Engine`. Disposing it only closes this tab's channel. */
export function connectEngine(options: ConnectOptions): Engine {
  const channel = new BroadcastChannel(options.channelName);
  const timeoutMs = options.timeoutMs ?? 120_000;
  const me = crypto.randomUUID();
  const waiting = new Map<number, { settle: (message: SharedMessage) => void; onChunk?: (chunk: TokenChunk) => void }>();
  let nextId = 1;
  let info: EngineInfo | undefined;
  let closed = false;
  channel.onmessage = (event: MessageEvent<SharedMessage>) => {
    const message = event.data;
    if (!('to' in message) || message.to !== me) return;
    const call = waiting.get(message.id);
    if (message.type === 'chunk') call?.onChunk?.(message.chunk);
    else call?.settle(message);
  };

  function call<M extends Method>(method: M, args: SharedCalls[M]['args'], extra: { signal?: AbortSignal; onChunk?: (chunk: TokenChunk) => void } = {}): Promise<SharedCalls[M]['result']> {
    if (closed) return Promise.reject(new InvalidInputError('invalid-input', 'This shared engine was disposed; connect again.'));
    const id = nextId++;
    return new Promise((resolve, reject) => {
      // The time limit runs from the call or its last streamed chunk: a long reply that keeps coming is not cut off.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => done(() => reject(new RpcError('timeout', `The tab that owns the engine did not answer ${method} within ${timeoutMs} ms (closed or busy?)`))), timeoutMs);
      };
      const onAbort = () => channel.postMessage({ type: 'interrupt', from: me, id } satisfies SharedMessage);
      const done = (then: () => void) => {
        clearTimeout(timer);
        waiting.delete(id);
        extra.signal?.removeEventListener('abort', onAbort);
        then();
      };
      arm();
      waiting.set(id, {
        settle: (m) => done(() => (m.type === 'result' ? resolve(m.value as SharedCalls[M]['result']) : m.type === 'error' ? reject(fromWire(m.error)) : undefined)),
        onChunk: (chunk) => {
          arm();
          extra.onChunk?.(chunk);
        },
      });
      extra.signal?.addEventListener('abort', onAbort, { once: true });
      channel.postMessage({ type: 'call', from: me, id, method, args } as SharedMessage);
      if (extra.signal?.aborted) onAbort();
    });
  }

  const load = async () => (info ??= await call('load', [], {}));
  return {
    get info() {
      return info;
    },
    load: () => load(),
    tokenize: async (texts) => (await load(), call('tokenize', [texts])),
    prewarm: async (prefix, o = {}) => (await load(), call('prewarm', [prefix], o.signal ? { signal: o.signal } : {})),
    generate: async (prompt, o = {}) => {
      await load();
      const { signal, onChunk, ...wire } = o;
      return call('generate', [prompt, wire], { ...(signal && { signal }), ...(onChunk && { onChunk }) });
    },
    held: async () => (await load(), call('held', [])),
    async dispose() {
      closed = true;
      channel.close();
      for (const id of [...waiting.keys()]) waiting.get(id)?.settle({ type: 'error', to: me, id, error: toWire(new RpcError('aborted', 'The shared engine was disposed')) });
    },
  };
}
