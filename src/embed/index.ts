export { createWorkerEmbedder, WORKER_EMBEDDER_DEFAULTS, type WorkerEmbedderOptions } from './worker-embedder';
export { createStaticEmbedder, STATIC_EMBEDDER_DEFAULTS, type StaticEmbedderConfig } from './static';
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
