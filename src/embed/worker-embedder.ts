// The page side of the embedder: the model runs in workers/embed.worker.ts.
// Nothing touches browser globals until the first load or embed, so this module
// imports under Node.
import { InvalidInputError } from '../errors';
import type { EmbeddingRef } from '../memory/types';
import { createRpcClient, type RpcClient } from '../rpc/client';
import type { EmbedService } from '../rpc/protocol';
import { withSignal } from '../util/with-signal';
import { modelSource, resolveEmbedderConfig, validateTexts } from './config';
import type { Embedder, EmbedderConfig } from './types';

export interface WorkerEmbedderOptions {
  /** Time limit of one embed call in ms. Default 60 000. */
  timeoutMs?: number;
  /** Time limit of loading the model (download included) in ms. Default 600 000. */
  loadTimeoutMs?: number;
}

export const WORKER_EMBEDDER_DEFAULTS = Object.freeze({ timeoutMs: 60_000, loadTimeoutMs: 600_000 });

/**
 * An Embedder whose model runs in a dedicated worker, started on first use.
 * A worker that crashes is replaced on the next call (the model loads again).
 * @throws InvalidInputError when the config is invalid
 */
export function createWorkerEmbedder(config: EmbedderConfig = {}, options: WorkerEmbedderOptions = {}): Embedder {
  // Fail fast on a bad config; a relative modelBaseUrl is resolved against the page at load.
  resolveEmbedderConfig(config, globalThis.location?.href ?? 'http://localhost/');
  const timeoutMs = options.timeoutMs ?? WORKER_EMBEDDER_DEFAULTS.timeoutMs;
  const loadTimeoutMs = options.loadTimeoutMs ?? WORKER_EMBEDDER_DEFAULTS.loadTimeoutMs;
  let client: RpcClient<EmbedService> | undefined;
  let loading: Promise<EmbeddingRef> | undefined;
  let ref: EmbeddingRef | undefined;
  let disposed = false;

  /** The running worker's client; a crashed worker is replaced (its model must load again). */
  const live = (): RpcClient<EmbedService> => {
    if (disposed) throw new InvalidInputError('invalid-input', 'This embedder was disposed; create a new one with createWorkerEmbedder()');
    if (!client?.alive) {
      const worker = new Worker(new URL('../../workers/embed.worker.ts', import.meta.url), { type: 'module', name: 'mneme-embed' });
      client = createRpcClient<EmbedService>(worker, { name: 'embed', timeoutMs });
      loading = undefined;
      ref = undefined;
    }
    return client;
  };

  const load: Embedder['load'] = async (loadOptions = {}) => {
    const { onProgress, signal } = loadOptions;
    const resolved = resolveEmbedderConfig(config, globalThis.location?.href);
    modelSource(resolved); // with nowhere to load from, say so before starting a worker
    const rpc = live();
    if (ref) return ref;
    if (loading) return withSignal(loading, signal, 'embed.load');
    const call = rpc.call('load', onProgress ? [resolved, onProgress] : [resolved], { timeoutMs: loadTimeoutMs, ...(signal ? { signal } : {}) });
    loading = call;
    call.then(
      (value) => {
        if (client === rpc) ref = value;
      },
      () => {
        if (loading === call) loading = undefined; // a failed or cancelled load can be retried
      },
    );
    return call;
  };

  return {
    get ref() {
      return ref;
    },
    load,
    async embed(texts, embedOptions = {}) {
      validateTexts(texts);
      if (texts.length === 0) return [];
      const signal = embedOptions.signal;
      await load(signal ? { signal } : {});
      return live().call('embed', [texts], signal ? { signal } : {});
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      client?.terminate();
      client = undefined;
      loading = undefined;
      ref = undefined;
    },
  };
}
