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
  const link = new WorkerLink(options);
  const loaded = async <T>(call: (rpc: RpcClient<EngineService<C>>) => Promise<T>): Promise<T> => {
    await link.load();
    return call(link.live());
  };
  return {
    get info() {
      return link.info;
    },
    load: (loadOptions) => link.load(loadOptions),
    async tokenize(texts) {
      if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string')) throw new InvalidInputError('invalid-input', 'tokenize takes an array of strings');
      return loaded((rpc) => rpc.call('tokenize', [texts]));
    },
    prewarm(prefix, prewarmOptions = {}) {
      return link.interruptibly(prewarmOptions.signal, (rpc, id) => rpc.call('prewarm', [prefix, id]));
    },
    generate(prompt, generateOptions = {}) {
      const { signal, onChunk, ...wire } = generateOptions;
      return link.interruptibly(signal, (rpc, id) => rpc.call('generate', onChunk ? [prompt, wire, id, onChunk] : [prompt, wire, id]));
    },
    held: () => loaded((rpc) => rpc.call('held', [])),
    exportPrefix: (length) => loaded((rpc) => rpc.call('exportPrefix', [length])),
    importPrefix: (prefix) => loaded((rpc) => rpc.call('importPrefix', [prefix])),
    dispose: () => link.dispose(),
  };
}

/** The worker behind one engine: started on first use, started again (and the model loaded again) after a crash. */
class WorkerLink<C> {
  info: EngineInfo | undefined;
  private client: RpcClient<EngineService<C>> | undefined;
  private loading: Promise<EngineInfo> | undefined;
  private disposed = false;
  private nextInterruptible = 1;

  constructor(private readonly options: WorkerEngineOptions<C>) {}

  live(): RpcClient<EngineService<C>> {
    if (this.disposed) throw new InvalidInputError('invalid-input', `This ${this.options.name} engine was disposed; create a new one`);
    if (!this.client?.alive) {
      this.client = createRpcClient<EngineService<C>>(this.options.spawn(), { name: this.options.name, timeoutMs: this.options.timeoutMs ?? WORKER_ENGINE_DEFAULTS.timeoutMs });
      this.loading = undefined;
      this.info = undefined;
    }
    return this.client;
  }

  async load(loadOptions: Parameters<Engine['load']>[0] = {}): Promise<EngineInfo> {
    const rpc = this.live();
    if (this.info) return this.info;
    if (!this.loading) {
      const { onProgress, signal } = loadOptions;
      const timeoutMs = this.options.loadTimeoutMs ?? WORKER_ENGINE_DEFAULTS.loadTimeoutMs;
      const call = rpc.call('load', onProgress ? [this.options.config, onProgress] : [this.options.config], { timeoutMs, ...(signal ? { signal } : {}) });
      this.loading = call.then(
        (value) => {
          if (this.client === rpc) this.info = value;
          return value;
        },
        (error: unknown) => {
          this.loading = undefined; // a failed or aborted load can be retried
          throw error;
        },
      );
    }
    return this.loading;
  }

  /** Runs `call` with an interrupt id; aborting `signal` interrupts it in the worker instead of abandoning it. */
  async interruptibly<T>(signal: AbortSignal | undefined, call: (rpc: RpcClient<EngineService<C>>, id: number) => Promise<T>): Promise<T> {
    await this.load(signal ? { signal } : {});
    const rpc = this.live();
    const id = this.nextInterruptible++;
    const onAbort = () => void rpc.call('interrupt', [id]).catch(() => undefined);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const result = call(rpc, id);
      if (signal?.aborted) onAbort();
      return await result;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const rpc = this.client;
    this.client = undefined;
    this.loading = undefined;
    this.info = undefined;
    if (!rpc?.alive) return;
    try {
      await rpc.call('dispose', []);
    } catch (error) {
      if (!(error instanceof RpcError)) throw error; // a dead or stuck worker is stopped all the same
    } finally {
      rpc.terminate();
    }
  }
}
