// Configuration of the transformers.js engine: defaults (applied with ??) and
// validation. Pure.
import { InvalidInputError } from '../../errors';
import { bool, oneOf, resolveBaseUrl } from '../../embed/config';

export const TRANSFORMERS_ENGINE_DTYPES = ['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'q4f16'] as const;
export const TRANSFORMERS_ENGINE_DEVICES = ['wasm', 'webgpu'] as const;

export interface TransformersEngineConfig {
  /** A Hugging Face model id of a causal LM with ONNX weights, or a path under `modelBaseUrl`. Default 'HuggingFaceTB/SmolLM-360M-Instruct'. */
  model?: string;
  /** Your own server for model files (`${modelBaseUrl}/${model}/…`); the hub is then never contacted. */
  modelBaseUrl?: string;
  /** Whether the Hugging Face hub may be contacted when no `modelBaseUrl` is set. Default true. */
  allowRemote?: boolean;
  /** Which ONNX weights (`onnx/model.onnx` for fp32, `onnx/model_quantized.onnx` for q8, …). Default 'q8'. */
  dtype?: (typeof TRANSFORMERS_ENGINE_DTYPES)[number];
  /** Default 'wasm'. 'webgpu' needs an adapter; the KV cache is then copied back to the CPU after each call. */
  device?: (typeof TRANSFORMERS_ENGINE_DEVICES)[number];
  /** Cache API cache holding model and runtime files. Default 'mneme-models'. */
  cacheName?: string;
  /** Prompt tokens per model call while prefilling; a prewarm stops only between slices. Default 32. */
  sliceTokens?: number;
  /** Most tokens the cache holds. Default: the model's `max_position_embeddings`. */
  contextLength?: number;
}

export interface ResolvedTransformersEngineConfig {
  model: string;
  modelBaseUrl: string | undefined;
  allowRemote: boolean;
  dtype: (typeof TRANSFORMERS_ENGINE_DTYPES)[number];
  device: (typeof TRANSFORMERS_ENGINE_DEVICES)[number];
  cacheName: string;
  sliceTokens: number;
  contextLength: number | undefined;
}

export const TRANSFORMERS_ENGINE_DEFAULTS = Object.freeze({
  model: 'HuggingFaceTB/SmolLM-360M-Instruct',
  allowRemote: true,
  dtype: 'q8',
  device: 'wasm',
  cacheName: 'mneme-models',
  sliceTokens: 32,
} as const);

/**
 * Applies defaults and validates; `baseHref` makes a relative `modelBaseUrl` absolute.
 * @throws InvalidInputError naming the offending setting
 */
export function resolveTransformersEngineConfig(config: TransformersEngineConfig = {}, baseHref?: string): ResolvedTransformersEngineConfig {
  if (typeof config !== 'object' || config === null) throw invalid('the engine config must be an object');
  const d = TRANSFORMERS_ENGINE_DEFAULTS;
  const model = config.model ?? d.model;
  if (typeof model !== 'string' || model.trim() === '' || model.split('/').some((part) => part === '..' || part === '')) {
    throw invalid(`model must be a model id such as '${d.model}', got ${JSON.stringify(model)}`);
  }
  const cacheName = config.cacheName ?? d.cacheName;
  if (typeof cacheName !== 'string' || cacheName === '') throw invalid('cacheName must be a non-empty string');
  const sliceTokens = config.sliceTokens ?? d.sliceTokens;
  if (!Number.isInteger(sliceTokens) || sliceTokens < 1 || sliceTokens > 4096) throw invalid(`sliceTokens must be an integer from 1 to 4096, got ${sliceTokens}`);
  const contextLength = config.contextLength;
  if (contextLength !== undefined && (!Number.isInteger(contextLength) || contextLength < 2)) throw invalid(`contextLength must be an integer ≥ 2, got ${contextLength}`);
  return {
    model,
    modelBaseUrl: config.modelBaseUrl === undefined ? undefined : resolveBaseUrl(config.modelBaseUrl, baseHref),
    allowRemote: bool('allowRemote', config.allowRemote ?? d.allowRemote),
    dtype: oneOf('dtype', config.dtype ?? d.dtype, TRANSFORMERS_ENGINE_DTYPES),
    device: oneOf('device', config.device ?? d.device, TRANSFORMERS_ENGINE_DEVICES),
    cacheName,
    sliceTokens,
    contextLength,
  };
}

function invalid(message: string): InvalidInputError {
  return new InvalidInputError('invalid-input', message);
}
