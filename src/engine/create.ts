// One call from configuration to a running engine: probe the device (once),
// choose WebLLM or the transformers.js engine (or take the configured one),
// and create it. Both engines' configs are validated up front, so a mistake in
// the one not chosen here still fails on this device rather than on another.
import type { EngineChoice, EngineChoiceConfig } from './choose';
import { chooseEngineHere } from './choose';
import { createTransformersEngine, resolveTransformersEngineConfig, type TransformersEngineConfig, type TransformersEngineOptions } from './transformers';
import type { Engine } from './types';
import { createWebLLMEngine, resolveWebLLMConfig, type WebLLMEngineConfig, type WebLLMEngineOptions } from './webllm';

export interface EngineConfig extends EngineChoiceConfig {
  /** Settings of the WebLLM engine (WebGPU). */
  webllm?: WebLLMEngineConfig;
  /** Settings of the transformers.js engine (WASM). */
  transformers?: TransformersEngineConfig;
}

export type EngineOptions = WebLLMEngineOptions & TransformersEngineOptions;

/**
 * Creates the engine for this device; `choice.reason` says why it is that one.
 * @throws InvalidInputError when either engine's config, or `engine`, is invalid
 */
export async function createEngine(config: EngineConfig = {}, options: EngineOptions = {}): Promise<{ engine: Engine; choice: EngineChoice }> {
  const href = globalThis.location?.href;
  resolveWebLLMConfig(config.webllm ?? {}, href);
  resolveTransformersEngineConfig(config.transformers ?? {}, href);
  const choice = await chooseEngineHere(config.engine === undefined ? {} : { engine: config.engine });
  const engine = choice.engine === 'webllm' ? createWebLLMEngine(config.webllm, options) : createTransformersEngine(config.transformers, options);
  return { engine, choice };
}
