// Embedder configuration: defaults (applied with ??) and validation. Pure.
import { InvalidInputError, ModelError } from '../errors';
import {
  EMBEDDER_DEVICES,
  EMBEDDER_DTYPES,
  EMBEDDER_POOLINGS,
  type EmbedderConfig,
  type ResolvedEmbedderConfig,
} from './types';

export const EMBEDDER_DEFAULTS = Object.freeze({
  model: 'Xenova/all-MiniLM-L6-v2',
  dtype: 'q8',
  allowRemote: true,
  pooling: 'mean',
  normalize: true,
  batchSize: 16,
  device: 'wasm',
  cacheName: 'mneme-models',
} as const satisfies Omit<ResolvedEmbedderConfig, 'modelBaseUrl'>);

export const MAX_BATCH_SIZE = 1024;

/**
 * Applies defaults and validates. `baseHref` (the page's URL) makes a relative
 * `modelBaseUrl` absolute, so the worker fetches the same URL the page would.
 * @throws InvalidInputError naming the offending setting
 */
export function resolveEmbedderConfig(config: EmbedderConfig = {}, baseHref?: string): ResolvedEmbedderConfig {
  if (typeof config !== 'object' || config === null) throw invalid('the embedder config must be an object');
  const batchSize = config.batchSize ?? EMBEDDER_DEFAULTS.batchSize;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
    throw invalid(`batchSize must be an integer from 1 to ${MAX_BATCH_SIZE}, got ${batchSize}`);
  }
  return {
    ...resolveModelLocation(config, EMBEDDER_DEFAULTS, baseHref),
    dtype: oneOf('dtype', config.dtype ?? EMBEDDER_DEFAULTS.dtype, EMBEDDER_DTYPES),
    pooling: oneOf('pooling', config.pooling ?? EMBEDDER_DEFAULTS.pooling, EMBEDDER_POOLINGS),
    normalize: bool('normalize', config.normalize ?? EMBEDDER_DEFAULTS.normalize),
    batchSize,
    device: oneOf('device', config.device ?? EMBEDDER_DEFAULTS.device, EMBEDDER_DEVICES),
  };
}

/**
 * The settings that say where a model's files are, with `defaults` applied and validated.
 * @throws InvalidInputError naming the offending setting
 */
export function resolveModelLocation(
  config: { model?: unknown; modelBaseUrl?: unknown; allowRemote?: unknown; cacheName?: unknown },
  defaults: { model: string; allowRemote: boolean; cacheName: string },
  baseHref: string | undefined,
): ModelLocation {
  const model = config.model ?? defaults.model;
  if (typeof model !== 'string' || model.trim() === '' || model.split('/').some((part) => part === '..' || part === '')) {
    throw invalid(`model must be a model id such as '${defaults.model}', got ${JSON.stringify(model)}`);
  }
  const cacheName = config.cacheName ?? defaults.cacheName;
  if (typeof cacheName !== 'string' || cacheName === '') throw invalid('cacheName must be a non-empty string');
  return {
    model,
    modelBaseUrl: config.modelBaseUrl === undefined ? undefined : resolveBaseUrl(config.modelBaseUrl, baseHref),
    allowRemote: bool('allowRemote', config.allowRemote ?? defaults.allowRemote),
    cacheName,
  };
}

/** Where a transformers.js model's files are; embedder and engine configs both have it. */
export type ModelLocation = Pick<ResolvedEmbedderConfig, 'model' | 'modelBaseUrl' | 'allowRemote' | 'cacheName'>;

/**
 * Where model files come from: the base URL, or the hub. With neither (remote
 * loading off and no base URL) there is nowhere to load from.
 * @throws ModelError('remote-loading-disabled')
 */
export function modelSource(config: ModelLocation, what = 'embedding model'): { kind: 'self-hosted' | 'hub'; url: string } {
  if (config.modelBaseUrl !== undefined) return { kind: 'self-hosted', url: `${config.modelBaseUrl}/${config.model}/` };
  if (!config.allowRemote) {
    throw new ModelError(
      'remote-loading-disabled',
      `Cannot load ${what} "${config.model}": allowRemote is false and no modelBaseUrl is set. ` +
        'Set modelBaseUrl to where you host the model files, or set allowRemote: true to fetch them from the Hugging Face hub.',
    );
  }
  return { kind: 'hub', url: `https://huggingface.co/${config.model}/resolve/main/` };
}

/**
 * The texts `embed` accepts: an array of non-empty strings.
 * @throws InvalidInputError
 */
export function validateTexts(texts: unknown): asserts texts is readonly string[] {
  if (!Array.isArray(texts)) throw invalid(`texts must be an array of strings, got ${describe(texts)}`);
  texts.forEach((text, i) => {
    if (typeof text !== 'string') throw invalid(`texts[${i}] must be a string, got ${describe(text)}`);
    if (text.trim() === '') throw new InvalidInputError('text-empty', `texts[${i}] is empty; there is nothing to embed`);
  });
}

export function resolveBaseUrl(value: unknown, baseHref: string | undefined, setting = 'modelBaseUrl'): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalid(`${setting} must be a non-empty URL`);
  let url: URL;
  try {
    url = new URL(value, baseHref);
  } catch {
    const hint = baseHref === undefined ? ' (a relative URL needs a page to resolve against; give an absolute one)' : '';
    throw invalid(`${setting} ${JSON.stringify(value)} is not a valid URL${hint}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalid(`${setting} must be an http(s) URL, got ${JSON.stringify(value)}`);
  }
  return url.href.replace(/\/+$/, '');
}

export function oneOf<T extends string>(setting: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw invalid(`${setting} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(value)}`);
}

export function bool(setting: string, value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  throw invalid(`${setting} must be true or false, got ${describe(value)}`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? JSON.stringify(value) : typeof value === 'object' ? 'an object' : String(value);
}

function invalid(message: string): InvalidInputError {
  return new InvalidInputError('invalid-input', message);
}
