// The page side of any engine worker: an `Engine` whose model runs in a
// worker serving `EngineService<C>` (src/engine/engine-service.ts). The worker
// starts on the first call. Aborting a prewarm or generate interrupts it in
// the worker, and the call resolves as an aborted one, as in-process; a
// crashed worker takes its cache with it, so the next call starts a new one
// and loads the model again.
import { InvalidInputError, RpcError } from '../errors';
import { createRpcClient, type RpcClient, type WorkerLike } from '../rpc/client';
import type { EngineService } from '../rpc/protocol';
import type { Engine, EngineInfo } from './types';

export interface WorkerEngineOptions<C> {
  /** Names the worker in error messages, e.g. 'webllm'. */
  name: string;
  /** Starts the worker (`new Worker(new URL(…), { type: 'module' })`). */
  spawn: () => WorkerLike;
  /** Validated, with defaults applied; crosses to the worker as is. */
  config: C;
  /** Time limit of a prewarm, tokenize or generate in ms. Default 120 000. */
  timeoutMs?: number;
  /** Time limit of loading the model (download included) in ms. Default 1 800 000. */
  loadTimeoutMs?: number;
}

export const WORKER_ENGINE_DEFAULTS = Object.freeze({ timeoutMs: 120_000, loadTimeoutMs: 1_800_000 });

export function createWorkerEngine<C>(options: WorkerEngineOptions<C>): Engine {
  const timeoutMs = options.timeoutMs ?? WORKER_ENGINE_DEFAULTS.timeoutMs;
  const loadTimeoutMs = options.loadTimeoutMs ?? WORKER_ENGINE_DEFAULTS.loadTimeoutMs;
  let client: RpcClient<EngineService<C>> | undefined;
  let loading: Promise<EngineInfo> | undefined;
  let info: EngineInfo | undefined;
  let disposed = false;
  let nextInterruptible = 1;

  const live = (): RpcClient<EngineService<C>> => {
    if (disposed) throw new InvalidInputError('invalid-input', `This ${options.name} engine was disposed; create a new one`);
    if (!client?.alive) {
      client = createRpcClient<EngineService<C>>(options.spawn(), { name: options.name, timeoutMs });
      loading = undefined;
      info = undefined;
    }
    return client;
  };

  const load: Engine['load'] = async (loadOptions = {}) => {
    const rpc = live();
    if (info) return info;
    if (!loading) {
      const { onProgress, signal } = loadOptions;
      const call = rpc.call('load', onProgress ? [options.config, onProgress] : [options.config], { timeoutMs: loadTimeoutMs, ...(signal ? { signal } : {}) });
      loading = call.then(
        (value) => {
          if (client === rpc) info = value;
          return value;
        },
        (error: unknown) => {
          loading = undefined; // a failed or aborted load can be retried
          throw error;
        },
      );
    }
    return loading;
  };

  /** Runs `call` with an interrupt id; aborting `signal` interrupts it in the worker instead of abandoning it. */
  const interruptibly = async <T>(signal: AbortSignal | undefined, call: (rpc: RpcClient<EngineService<C>>, id: number) => Promise<T>): Promise<T> => {
    await load(signal ? { signal } : {});
    const rpc = live();
    const id = nextInterruptible++;
    const onAbort = () => void rpc.call('interrupt', [id]).catch(() => undefined);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const result = call(rpc, id);
      if (signal?.aborted) onAbort();
      return await result;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  };

  return {
    get info() {
      return info;
    },
    load,
    async tokenize(texts) {
      if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string')) throw new InvalidInputError('invalid-input', 'tokenize takes an array of strings');
      await load();
      return live().call('tokenize', [texts]);
    },
    prewarm(prefix, prewarmOptions = {}) {
      return interruptibly(prewarmOptions.signal, (rpc, id) => rpc.call('prewarm', [prefix, id]));
    },
    generate(prompt, generateOptions = {}) {
      const { signal, onChunk, ...wire } = generateOptions;
      return interruptibly(signal, (rpc, id) => rpc.call('generate', onChunk ? [prompt, wire, id, onChunk] : [prompt, wire, id]));
    },
    async held() {
      await load();
      return live().call('held', []);
    },
    async exportPrefix(length) {
      await load();
      return live().call('exportPrefix', [length]);
    },
    async importPrefix(prefix) {
      await load();
      return live().call('importPrefix', [prefix]);
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      const rpc = client;
      client = undefined;
      loading = undefined;
      info = undefined;
      if (!rpc?.alive) return;
      try {
        await rpc.call('dispose', []);
      } catch (error) {
        if (!(error instanceof RpcError)) throw error; // a dead or stuck worker is stopped all the same
      } finally {
        rpc.terminate();
      }
    },
  };
}
