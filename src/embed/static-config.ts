// The static embedder's configuration: defaults (applied with ??) and
// validation. Pure, and apart from static.ts, so that what only checks a
// config (the page's client, the memory-only worker) imports no tokenizer.
import { InvalidInputError } from '../errors';
import { resolveModelLocation, type ModelLocation } from './config';

export interface StaticEmbedderConfig {
  /** A model2vec model on the Hugging Face hub, or a path under `modelBaseUrl`. Default 'minishlab/potion-base-8M'. */
  model?: string;
  /** Your own server for model files: `${modelBaseUrl}/${model}/model.safetensors` and `tokenizer.json`. Unset: the hub. */
  modelBaseUrl?: string;
  /** Whether the Hugging Face hub may be contacted when no `modelBaseUrl` is set. Default true. */
  allowRemote?: boolean;
  /** Cache API cache holding the model files, so later sessions work offline. Default 'mneme-models'. */
  cacheName?: string;
  /** Tokens of a text beyond this many are ignored. Default 512 (model2vec's). */
  maxTokens?: number;
}

/** A config with every default applied and validated, `modelBaseUrl` absolute: what crosses to a worker. */
export interface ResolvedStaticEmbedderConfig extends ModelLocation {
  maxTokens: number;
}

export const STATIC_EMBEDDER_DEFAULTS = Object.freeze({
  model: 'minishlab/potion-base-8M',
  allowRemote: true,
  cacheName: 'mneme-models',
  maxTokens: 512,
} as const);

const MAX_TOKENS_LIMIT = 1_000_000;

/**
 * Applies defaults and validates. `baseHref` (the page's URL) makes a relative `modelBaseUrl`
 * absolute, so a worker fetches the same URL the page would.
 * @throws InvalidInputError naming the offending setting
 */
export function resolveStaticEmbedderConfig(config: StaticEmbedderConfig = {}, baseHref?: string): ResolvedStaticEmbedderConfig {
  if (typeof config !== 'object' || config === null) throw new InvalidInputError('invalid-input', 'the static embedder config must be an object');
  const maxTokens = config.maxTokens ?? STATIC_EMBEDDER_DEFAULTS.maxTokens;
  if (!Number.isInteger(maxTokens) || maxTokens < 1 || maxTokens > MAX_TOKENS_LIMIT) {
    throw new InvalidInputError('invalid-input', `maxTokens must be an integer from 1 to ${MAX_TOKENS_LIMIT}, got ${String(maxTokens)}`);
  }
  return { ...resolveModelLocation(config, STATIC_EMBEDDER_DEFAULTS, baseHref), maxTokens };
}
