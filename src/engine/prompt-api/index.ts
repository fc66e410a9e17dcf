// The Prompt API engine: Chrome's built-in model (Gemini Nano) behind the
// Engine contract. Page only; servePromptApiEngine lets the scheduler worker
// drive it. Nothing touches browser globals until the first call, so this
// module imports under Node.
import type { PromptApiEngineConfig } from './config';
import { PromptApiEngine, type PromptApiEngineOptions } from './session';

export { PROMPT_API_ENGINE_DEFAULTS, resolvePromptApiEngineConfig, type PromptApiEngineConfig, type ResolvedPromptApiEngineConfig } from './config';
export { PromptApiEngine, type PromptApiEngineOptions, type PromptApiUsage } from './session';
export { servePromptApiEngine, type ServedPromptApiEngine } from './serve';
export { languageModelHere, type LanguageModelApi, type LanguageModelAvailability, type LanguageModelSession } from './api';

/**
 * An Engine on the browser's built-in model. Loading fails with DeviceError('built-in-model-unavailable') where
 * there is none (other browsers, workers), naming the setting that falls back.
 * @throws InvalidInputError when the config is invalid
 */
export function createPromptApiEngine(config: PromptApiEngineConfig = {}, options: PromptApiEngineOptions = {}): PromptApiEngine {
  return new PromptApiEngine(config, options);
}
