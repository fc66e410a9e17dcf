// The transformers.js engine (WASM, or WebGPU where available): the model runs
// in workers/transformers.worker.ts. Nothing touches browser globals until the
// first call, so this module imports under Node.
import type { Engine } from '../types';
import { createWorkerEngine, type WorkerEngineOptions } from '../worker-engine';
import { resolveTransformersEngineConfig, type ResolvedTransformersEngineConfig, type TransformersEngineConfig } from './config';

export {
  resolveTransformersEngineConfig,
  TRANSFORMERS_ENGINE_DEFAULTS,
  type ResolvedTransformersEngineConfig,
  type TransformersEngineConfig,
} from './config';

export type TransformersEngineOptions = Pick<WorkerEngineOptions<ResolvedTransformersEngineConfig>, 'timeoutMs' | 'loadTimeoutMs'>;

/**
 * An Engine running a transformers.js causal LM with a KV cache we hold, in its own worker.
 * @throws InvalidInputError when the config is invalid
 */
export function createTransformersEngine(config: TransformersEngineConfig = {}, options: TransformersEngineOptions = {}): Engine {
  const resolved = resolveTransformersEngineConfig(config, globalThis.location?.href);
  return createWorkerEngine({
    ...options,
    name: 'transformers',
    config: resolved,
    spawn: () => new Worker(new URL('../../../workers/transformers.worker.ts', import.meta.url), { type: 'module', name: 'mneme-transformers' }),
  });
}
