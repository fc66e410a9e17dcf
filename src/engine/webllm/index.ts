// The WebLLM engine (WebGPU): the model runs in workers/webllm.worker.ts.
// Nothing touches browser globals until the first call, so this module
// imports under Node.
import type { Engine } from '../types';
import { createWorkerEngine, type WorkerEngineOptions } from '../worker-engine';
import { resolveWebLLMConfig, type ResolvedWebLLMConfig, type WebLLMEngineConfig } from './config';

export { resolveWebLLMConfig, selectModel, WEBLLM_DEFAULTS, type ResolvedWebLLMConfig, type WebLLMEngineConfig } from './config';

export type WebLLMEngineOptions = Pick<WorkerEngineOptions<ResolvedWebLLMConfig>, 'timeoutMs' | 'loadTimeoutMs'>;

/**
 * An Engine running a WebLLM model on the GPU, in its own worker.
 * @throws InvalidInputError when the config is invalid
 */
export function createWebLLMEngine(config: WebLLMEngineConfig = {}, options: WebLLMEngineOptions = {}): Engine {
  const resolved = resolveWebLLMConfig(config, globalThis.location?.href);
  return createWorkerEngine({
    ...options,
    name: 'webllm',
    config: resolved,
    spawn: () => new Worker(new URL('../../../workers/webllm.worker.ts', import.meta.url), { type: 'module', name: 'mneme-webllm' }),
  });
}
