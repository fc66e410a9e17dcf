// The embedder: turns texts into vectors with an on-device model.
import type { EmbeddingRef } from '../memory/types';

export type { EmbeddingRef };

export interface Embedder {
  /**
   * Fetches (or reads from the browser cache) and starts the model. Resolves
   * with the model's identity. Calling it again once loaded is free; calls
   * made while a load is running share it.
   */
  load(options?: { onProgress?: (progress: LoadProgress) => void; signal?: AbortSignal }): Promise<EmbeddingRef>;
  /** One vector per text, in order. Loads the model first if needed. */
  embed(texts: readonly string[], options?: { signal?: AbortSignal }): Promise<Float32Array[]>;
  /** Set once `load` has succeeded. */
  readonly ref: EmbeddingRef | undefined;
  /** Stops the worker and frees the model; the embedder cannot be used afterwards. */
  dispose(): Promise<void>;
}

/**
 * Enough to draw a progress bar. `fraction` only ever grows and is 1 exactly
 * when `status` is 'ready'. Byte counts cover every file seen so far (model,
 * tokenizer, config), whether fetched or read from the cache.
 */
export interface LoadProgress {
  /** 'downloading' while files arrive, 'initializing' while the runtime starts the model. */
  status: 'downloading' | 'initializing' | 'ready';
  /** The file the latest event was about, e.g. 'onnx/model_quantized.onnx'. */
  file: string | undefined;
  loaded: number;
  total: number;
  /** 0..1 */
  fraction: number;
}

export const EMBEDDER_DTYPES = ['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4'] as const;
export type EmbedderDtype = (typeof EMBEDDER_DTYPES)[number];

export const EMBEDDER_POOLINGS = ['mean', 'cls'] as const;
export type EmbedderPooling = (typeof EMBEDDER_POOLINGS)[number];

export const EMBEDDER_DEVICES = ['wasm', 'webgpu'] as const;
export type EmbedderDevice = (typeof EMBEDDER_DEVICES)[number];

export interface EmbedderConfig {
  /** A Hugging Face model id, or a path under `modelBaseUrl`. Default 'Xenova/all-MiniLM-L6-v2'. */
  model?: string;
  /**
   * Your own server for model files: they are fetched from
   * `${modelBaseUrl}/${model}/…` (relative URLs resolve against the page), and
   * the Hugging Face hub is never contacted. Unset: files come from the hub.
   */
  modelBaseUrl?: string;
  /** Which ONNX weights to load (`onnx/model.onnx` for fp32, `onnx/model_quantized.onnx` for q8, …). Default 'q8'. */
  dtype?: EmbedderDtype;
  /** Whether the Hugging Face hub may be contacted when no `modelBaseUrl` is set. Default true. */
  allowRemote?: boolean;
  /** Default 'mean'. */
  pooling?: EmbedderPooling;
  /** Scale vectors to unit length. Default true. */
  normalize?: boolean;
  /** Texts per model run. Default 16. */
  batchSize?: number;
  /** Default 'wasm'. */
  device?: EmbedderDevice;
  /** Cache API cache holding the model and runtime files, so later sessions work offline. Default 'mneme-models'. */
  cacheName?: string;
}

/** A config with every default applied and validated; what crosses to the worker. */
export interface ResolvedEmbedderConfig {
  model: string;
  /** Absolute, without a trailing slash. */
  modelBaseUrl: string | undefined;
  dtype: EmbedderDtype;
  allowRemote: boolean;
  pooling: EmbedderPooling;
  normalize: boolean;
  batchSize: number;
  device: EmbedderDevice;
  cacheName: string;
}
