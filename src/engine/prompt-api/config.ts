// Configuration of the Prompt API engine: defaults (applied with ??) and validation. Pure.
import { InvalidInputError } from '../../errors';

export interface PromptApiEngineConfig {
  /**
   * Tokens of the context window kept free for the user's text and the reply when a draft's memories are
   * budgeted (memories that do not fit are left out, never overflowed). Default 768.
   */
  reserveTokens?: number;
  /**
   * The BroadcastChannel on which the page serves this engine to its scheduler worker (the API exists on pages
   * only). Set by `servePromptApiEngine`; the worker connects to it.
   */
  channel?: string;
  /**
   * Languages of the conversation (BCP 47, e.g. ['en']), passed to the model as expected input and output
   * languages, so it can fail early or fetch what it needs. Default: none said (Chrome then warns once).
   */
  languages?: string[];
}

export interface ResolvedPromptApiEngineConfig {
  reserveTokens: number;
  channel: string | undefined;
  languages: string[] | undefined;
}

export const PROMPT_API_ENGINE_DEFAULTS = Object.freeze({ reserveTokens: 768 });

/** @throws InvalidInputError when a setting is invalid */
export function resolvePromptApiEngineConfig(config: PromptApiEngineConfig = {}): ResolvedPromptApiEngineConfig {
  if (typeof config !== 'object' || config === null) throw new InvalidInputError('invalid-input', 'promptApi must be an object { reserveTokens?, channel?, languages? }');
  const reserveTokens = config.reserveTokens ?? PROMPT_API_ENGINE_DEFAULTS.reserveTokens;
  if (!Number.isInteger(reserveTokens) || reserveTokens < 0) throw new InvalidInputError('invalid-input', `promptApi.reserveTokens must be a whole number ≥ 0, got ${String(reserveTokens)}`);
  if (config.channel !== undefined && (typeof config.channel !== 'string' || config.channel === '')) {
    throw new InvalidInputError('invalid-input', 'promptApi.channel must be the non-empty channel name servePromptApiEngine() returned');
  }
  const { languages } = config;
  if (languages !== undefined && (!Array.isArray(languages) || languages.length === 0 || languages.some((l) => typeof l !== 'string' || l === ''))) {
    throw new InvalidInputError('invalid-input', "promptApi.languages must be a non-empty array of language codes, e.g. ['en']");
  }
  return { reserveTokens, channel: config.channel, languages: languages && [...languages] };
}
