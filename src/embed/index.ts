export { createWorkerEmbedder, WORKER_EMBEDDER_DEFAULTS, type WorkerEmbedderOptions } from './worker-embedder';
export { createStaticEmbedder } from './static';
export { resolveStaticEmbedderConfig, STATIC_EMBEDDER_DEFAULTS, type ResolvedStaticEmbedderConfig, type StaticEmbedderConfig } from './static-config';
export { EMBEDDER_DEFAULTS, MAX_BATCH_SIZE, modelSource, resolveEmbedderConfig, validateTexts } from './config';
export { LoadProgressTracker, type TransformersProgressEvent } from './progress';
export {
  EMBEDDER_DEVICES,
  EMBEDDER_DTYPES,
  EMBEDDER_POOLINGS,
  type Embedder,
  type EmbedderConfig,
  type EmbedderDevice,
  type EmbedderDtype,
  type EmbedderPooling,
  type EmbeddingRef,
  type LoadProgress,
  type ResolvedEmbedderConfig,
} from './types';
