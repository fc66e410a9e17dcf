// The worker side of any engine: an `EngineService` handler around a loader
// that turns a config into a model behind a CacheDriver. The driver's queue
// serializes every cache operation; this file adds loading once, interrupts
// by id (so an interrupted call resolves as aborted rather than rejecting),
// and teardown after the queue drains.
import { InvalidInputError } from '../errors';
import type { CallContext, EngineService, ServiceHandler } from '../rpc/protocol';
import { underPolicyWatch } from './csp';
import type { CacheDriver } from './driver';
import type { EngineInfo, KvPrefix, LoadProgress, TokenChunk } from './types';

/** A loaded model: what the service needs of it. */
export interface LoadedEngine {
  readonly info: EngineInfo;
  readonly driver: CacheDriver;
  /** Where the engine owns its KV tensors: what a saved prefix must have been made with to restore here. */
  readonly weights?: { readonly revision: string; readonly dtype: string };
  tokenize(texts: readonly string[]): number[][] | Promise<number[][]>;
  dispose(): Promise<void>;
}

export type EngineLoader<C> = (config: C, onProgress: (progress: LoadProgress) => void, signal: AbortSignal) => Promise<LoadedEngine>;

export function createEngineService<C>(loader: EngineLoader<C>): ServiceHandler<EngineService<C>> {
  let loaded: LoadedEngine | undefined;
  let loading: Promise<LoadedEngine> | undefined;
  const interrupts = new Interrupts();

  const ready = (): LoadedEngine => {
    if (!loaded) throw new InvalidInputError('invalid-input', 'The engine has no model yet: call load() first');
    return loaded;
  };

  return {
    async load(context, config, onProgress) {
      if (loaded) return loaded.info;
      // Progress crosses on its own channel: wait for the last report to land before the result, so none is lost.
      let delivered: Promise<unknown> = Promise.resolve();
      const report = (progress: LoadProgress) => {
        delivered = Promise.resolve((onProgress as ((p: LoadProgress) => unknown) | undefined)?.(progress));
      };
      // A load that fails after the page's policy refused the runtime's blob: import or wasm compile says so.
      loading ??= underPolicyWatch('loading the on-device engine', () => loader(config, report, context.signal)).finally(() => {
        loading = undefined;
      });
      loaded = await loading;
      await delivered;
      return loaded.info;
    },
    async tokenize(_context, texts) {
      return ready().tokenize(texts);
    },
    async prewarm(context, prefix, id) {
      const { signal, done } = interrupts.open(id, context);
      try {
        return await ready().driver.prewarm(prefix, { signal });
      } finally {
        done();
      }
    },
    async generate(context, prompt, options, id, onChunk) {
      const { signal, done } = interrupts.open(id, context);
      let delivered: Promise<unknown> = Promise.resolve();
      const send = (chunk: TokenChunk) => {
        delivered = Promise.resolve((onChunk as (c: TokenChunk) => unknown)(chunk));
      };
      try {
        const result = await ready().driver.generate(prompt, { ...options, signal, ...(onChunk ? { onChunk: send } : {}) });
        await delivered; // chunks cross on their own channel: the last one lands before the result
        return result;
      } finally {
        done();
      }
    },
    async interrupt(_context, id) {
      interrupts.abort(id);
    },
    async held() {
      return ready().driver.ledger.held();
    },
    exportPrefix: (_context, length) => exportPrefix(ready(), length),
    importPrefix: (_context, prefix) => importPrefix(ready(), prefix),
    async dispose() {
      const engine = loaded ?? (await loading?.catch(() => undefined));
      loaded = undefined;
      interrupts.abortAll();
      if (engine) {
        await engine.driver.drain();
        await engine.dispose();
      }
    },
  };
}

/** The calls in flight that can be interrupted, by the id the page gave them. */
class Interrupts {
  private readonly live = new Map<number, AbortController>();

  /** An AbortSignal for call `id` that fires on `abort(id)` or when the call itself is cancelled. */
  open(id: number, context: CallContext): { signal: AbortSignal; done: () => void } {
    const control = new AbortController();
    this.live.set(id, control);
    const onCancel = () => control.abort();
    context.signal.addEventListener('abort', onCancel, { once: true });
    return {
      signal: control.signal,
      done: () => {
        this.live.delete(id);
        context.signal.removeEventListener('abort', onCancel);
      },
    };
  }

  abort(id: number): void {
    this.live.get(id)?.abort();
  }

  abortAll(): void {
    for (const control of this.live.values()) control.abort();
  }
}

async function exportPrefix(engine: LoadedEngine, length: number): Promise<KvPrefix> {
  const weights = ownedWeights(engine);
  const { segments, kv } = await engine.driver.readPrefix(length);
  return { model: engine.info.model, ...weights, segments, kv };
}

async function importPrefix(engine: LoadedEngine, prefix: KvPrefix): Promise<void> {
  const weights = ownedWeights(engine);
  const made = [prefix?.model, prefix?.revision, prefix?.dtype];
  const here = [engine.info.model, weights.revision, weights.dtype];
  if (made.some((v, i) => v !== here[i])) throw new InvalidInputError('snapshot-mismatch', `The saved cache was made by ${made.join(' ')}, the engine runs ${here.join(' ')}`);
  await engine.driver.writePrefix(prefix.segments, prefix.kv);
}

function ownedWeights(engine: LoadedEngine): NonNullable<LoadedEngine['weights']> {
  if (!engine.weights || !engine.info.capabilities.kvExport) throw new InvalidInputError('invalid-input', `The ${engine.info.engine} engine does not own its KV cache, so it cannot be saved or restored`);
  return engine.weights;
}
