// One call from configuration to a running engine: probe the device (once),
// choose WebLLM, the Prompt API engine or the transformers.js engine (or take
// the configured one), and create it. Every engine's config is validated up
// front, so a mistake in one not chosen here still fails on this device rather
// than on another.
import type { EngineChoice, EngineChoiceConfig } from './choose';
import { chooseEngineHere } from './choose';
import { createTransformersEngine, resolveTransformersEngineConfig, type TransformersEngineConfig, type TransformersEngineOptions } from './transformers';
import { createPromptApiEngine, resolvePromptApiEngineConfig, type PromptApiEngineConfig } from './prompt-api';
import type { Engine } from './types';
import { createWebLLMEngine, resolveWebLLMConfig, type WebLLMEngineConfig, type WebLLMEngineOptions } from './webllm';

export interface EngineConfig extends EngineChoiceConfig {
  /** Settings of the WebLLM engine (WebGPU). */
  webllm?: WebLLMEngineConfig;
  /** Settings of the transformers.js engine (WASM). */
  transformers?: TransformersEngineConfig;
  /** Settings of the Prompt API engine (Chrome's built-in model; pages only). */
  promptApi?: PromptApiEngineConfig;
}

export type EngineOptions = WebLLMEngineOptions & TransformersEngineOptions;

/**
 * Creates the engine for this device; `choice.reason` says why it is that one.
 * @throws InvalidInputError when an engine's config, or `engine`, is invalid
 */
export async function createEngine(config: EngineConfig = {}, options: EngineOptions = {}): Promise<{ engine: Engine; choice: EngineChoice }> {
  const href = globalThis.location?.href;
  resolveWebLLMConfig(config.webllm ?? {}, href);
  resolveTransformersEngineConfig(config.transformers ?? {}, href);
  resolvePromptApiEngineConfig(config.promptApi ?? {});
  const choice = await chooseEngineHere(config.engine === undefined ? {} : { engine: config.engine });
  const engine =
    choice.engine === 'webllm' ? createWebLLMEngine(config.webllm, options)
    : choice.engine === 'prompt-api' ? createPromptApiEngine(config.promptApi)
    : createTransformersEngine(config.transformers, options);
  return { engine, choice };
}
