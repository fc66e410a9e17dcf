// The embedding service that runs inside the worker: transformers.js's
// feature-extraction pipeline (tokenizer, ONNX model, mean pooling and
// normalisation all on its own code path), batched, with aggregated progress.
// transformers.js keeps its settings in a global `env`; only this module, in
// the worker, writes it, from the per-instance config.
import { env, pipeline, type FeatureExtractionPipeline } from '@huggingface/transformers';
// The ONNX Runtime files transformers.web.js loads (its `onnxruntime-web/webgpu`
// bundle uses the asyncify build). Served by our own origin, never by a CDN.
import ortWasmFactoryUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import ortWasmBinaryUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import { transfer } from 'comlink';
import { isMnemeError, ModelError, RpcError } from '../errors';
import type { EmbeddingRef } from '../memory/types';
import type { CallContext, EmbedService, ServiceHandler } from '../rpc/protocol';
import { modelSource, validateTexts, type ModelLocation } from './config';
import { LoadProgressTracker } from './progress';
import type { LoadProgress, ResolvedEmbedderConfig } from './types';
import { nextTask } from '../util/next-task';

/** The ONNX file transformers.js picks for each dtype, for error messages. */
const ONNX_FILE: Record<ResolvedEmbedderConfig['dtype'], string> = {
  fp32: 'model.onnx',
  fp16: 'model_fp16.onnx',
  q8: 'model_quantized.onnx',
  int8: 'model_int8.onnx',
  uint8: 'model_uint8.onnx',
  q4: 'model_q4.onnx',
  q4f16: 'model_q4f16.onnx',
  bnb4: 'model_bnb4.onnx',
};

/** Absolute URLs of the ONNX Runtime wasm files on this origin. */
export function ortWasmPaths(base: string): { mjs: string; wasm: string } {
  return { mjs: new URL(ortWasmFactoryUrl, base).href, wasm: new URL(ortWasmBinaryUrl, base).href };
}

/**
 * Points transformers.js's global `env` at this config: where model files and
 * the runtime's wasm come from, which cache holds them, and a fetch that can be
 * cancelled and remembers the URLs that failed. Called before each load.
 */
export function configureTransformers(config: ModelLocation, options: { signal?: AbortSignal; base: string; what?: string }) {
  const source = modelSource(config, options.what);
  const onnx = env.backends.onnx;
  if (onnx.wasm) onnx.wasm.wasmPaths = ortWasmPaths(options.base);
  env.allowLocalModels = false;
  env.allowRemoteModels = true; // the hub, or the self-hosted base standing in for it
  if (source.kind === 'self-hosted') {
    env.remoteHost = `${config.modelBaseUrl}/`;
    env.remotePathTemplate = '{model}/';
  } else {
    env.remoteHost = 'https://huggingface.co/';
    env.remotePathTemplate = '{model}/resolve/{revision}/';
  }
  const cacheAvailable = typeof caches !== 'undefined';
  env.useBrowserCache = cacheAvailable;
  env.useWasmCache = cacheAvailable;
  env.cacheKey = config.cacheName;

  const failures: string[] = [];
  const plainFetch = globalThis.fetch.bind(globalThis);
  env.fetch = async (input: string | URL, init?: RequestInit) => {
    const response = await plainFetch(input, { ...init, ...(options.signal ? { signal: options.signal } : {}) });
    if (!response.ok) failures.push(`${String(input)} (HTTP ${response.status})`);
    return response;
  };
  return { source, failures };
}

interface Loaded {
  pipe: FeatureExtractionPipeline;
  ref: EmbeddingRef;
  config: ResolvedEmbedderConfig;
}

export function createTransformersEmbedService(): ServiceHandler<EmbedService> {
  let ready: Loaded | undefined;
  let inFlight: { promise: Promise<Loaded>; signal: AbortSignal } | undefined;
  return {
    async load(context, config, onProgress) {
      // A cancelled load winds down before another starts (its fetches were aborted);
      // transformers.js shares in-flight work by key, so overlapping them would join the cancelled one.
      if (inFlight?.signal.aborted) await inFlight.promise.catch(() => undefined);
      if (ready) return ready.ref; // loaded before, or the cancelled load finished anyway
      if (!inFlight || inFlight.signal.aborted) {
        const entry = { promise: loadPipeline(context, config, onProgress), signal: context.signal };
        inFlight = entry;
        entry.promise
          .then((loaded) => {
            ready = loaded;
          })
          .catch(() => undefined)
          .finally(() => {
            if (inFlight === entry) inFlight = undefined;
          });
      }
      return (await inFlight.promise).ref;
    },

    async embed(context, texts) {
      validateTexts(texts);
      if (!ready) throw new ModelError('embedding-failed', 'The embedding model is not loaded; call load() first');
      const vectors = await embedInBatches(ready, texts, context.signal);
      return transfer(vectors, vectors.map((v) => v.buffer));
    },

    async dispose() {
      const current = ready;
      ready = undefined;
      await current?.pipe.dispose();
    },
  };
}

async function loadPipeline(context: CallContext, config: ResolvedEmbedderConfig, onProgress?: (p: LoadProgress) => void): Promise<Loaded> {
  const { source, failures } = configureTransformers(config, { signal: context.signal, base: self.location.href });
  const tracker = new LoadProgressTracker();
  const report = (p: LoadProgress | undefined) => (p ? onProgress?.(p) : undefined);
  try {
    const pipe = await pipeline('feature-extraction', config.model, {
      dtype: config.dtype,
      device: config.device,
      ...(onProgress ? { progress_callback: (event: object) => report(tracker.update(event as { status: string }, Date.now())) } : {}),
    });
    // One run proves the model works and tells its width.
    const probe = await pipe('mneme', { pooling: config.pooling, normalize: config.normalize });
    const dim = probe.dims.at(-1);
    if (dim === undefined || dim < 1) throw new Error(`the model returned a tensor of shape [${probe.dims}]`);
    probe.dispose();
    // Awaited: the caller sees fraction 1 before load resolves.
    await onProgress?.(tracker.ready(Date.now()));
    return { pipe, ref: { model: config.model, dim }, config };
  } catch (error) {
    if (context.signal.aborted) throw new RpcError('aborted', `Loading "${config.model}" was cancelled`);
    if (isMnemeError(error)) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    const tried = failures.at(-1) ?? source.url;
    const fix =
      source.kind === 'self-hosted'
        ? `Check that ${source.url} serves config.json, tokenizer.json, tokenizer_config.json and onnx/${ONNX_FILE[config.dtype]}, ` +
          'or change modelBaseUrl, model or dtype.'
        : 'Check the model id and dtype and the network, or host the files yourself and set modelBaseUrl.';
    throw new ModelError('model-load-failed', `Could not load embedding model "${config.model}" (dtype ${config.dtype}) from ${tried}: ${reason}. ${fix}`, {
      cause: error,
    });
  }
}

/** Embeds `texts` batch by batch, letting a cancel message in between batches. */
async function embedInBatches({ pipe, config }: Loaded, texts: readonly string[], signal: AbortSignal): Promise<Float32Array[]> {
  const vectors: Float32Array[] = [];
  for (let start = 0; start < texts.length; start += config.batchSize) {
    if (start > 0) await nextTask();
    signal.throwIfAborted();
    const batch = texts.slice(start, start + config.batchSize);
    try {
      const output = await pipe(batch, { pooling: config.pooling, normalize: config.normalize });
      const [rows, dim] = output.dims as [number, number];
      const data = output.data as Float32Array;
      for (let r = 0; r < rows; r++) vectors.push(data.slice(r * dim, (r + 1) * dim));
      output.dispose();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ModelError('embedding-failed', `Embedding texts ${start}..${start + batch.length - 1} with "${config.model}" failed: ${reason}`, {
        cause: error,
      });
    }
  }
  return vectors;
}
