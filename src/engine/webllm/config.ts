// The WebLLM engine's settings, and which model record they select on a given
// GPU: a WebLLM prebuilt model by id, or a self-hosted one by URL, with the
// f32 build chosen where the adapter lacks shader-f16. Pure: the model list
// and the probe are passed in.
import type { ModelRecord } from '@mlc-ai/web-llm';
import { bool, resolveBaseUrl } from '../../embed/config';
import { DeviceError, InvalidInputError } from '../../errors';
import type { GpuProbe } from '../probe';

export interface WebLLMEngineConfig {
  /**
   * A model id from WebLLM's prebuilt list (`prebuiltAppConfig.model_list`),
   * or the id to give a self-hosted model. Default 'SmolLM2-360M-Instruct-q4f16_1-MLC'.
   */
  model?: string;
  /**
   * Where a self-hosted model's files live (mlc-chat-config.json, tokenizer.json,
   * the weight shards). Like WebLLM, `resolve/main/` is appended unless the URL
   * already has a `/resolve/…/` part. Relative URLs resolve against the page.
   */
  modelUrl?: string;
  /** The compiled WebGPU library (.wasm) of a self-hosted model; needed when `model` is not a prebuilt id. */
  modelLibUrl?: string;
  /** Where shader-f16 is missing, run the f32 build of an f16 model instead of failing. Default true. */
  f32Fallback?: boolean;
  /** Prefill slice in tokens: a prewarm yields to a send between slices. Default 64. */
  sliceTokens?: number;
}

export const WEBLLM_DEFAULTS = Object.freeze({
  model: 'SmolLM2-360M-Instruct-q4f16_1-MLC',
  f32Fallback: true,
  sliceTokens: 64,
});

/** A config with defaults applied and URLs made absolute (without a trailing slash); what crosses to the worker. */
export interface ResolvedWebLLMConfig {
  model: string;
  modelUrl: string | undefined;
  modelLibUrl: string | undefined;
  f32Fallback: boolean;
  sliceTokens: number;
}

/**
 * Validates a config and applies its defaults.
 * @throws InvalidInputError naming the setting that is wrong
 */
export function resolveWebLLMConfig(config: WebLLMEngineConfig, baseUrl: string | undefined): ResolvedWebLLMConfig {
  if (typeof config !== 'object' || config === null) throw new InvalidInputError('invalid-input', 'The WebLLM engine config must be an object');
  const model = config.model ?? WEBLLM_DEFAULTS.model;
  if (typeof model !== 'string' || model.trim() === '') throw new InvalidInputError('invalid-input', 'model must be a non-empty WebLLM model id');
  const f32Fallback = bool('f32Fallback', config.f32Fallback ?? WEBLLM_DEFAULTS.f32Fallback);
  const sliceTokens = config.sliceTokens ?? WEBLLM_DEFAULTS.sliceTokens;
  if (!Number.isInteger(sliceTokens) || sliceTokens < 1) throw new InvalidInputError('invalid-input', `sliceTokens must be a positive integer, got ${sliceTokens}`);
  return {
    model,
    modelUrl: config.modelUrl === undefined ? undefined : resolveBaseUrl(config.modelUrl, baseUrl, 'modelUrl'),
    modelLibUrl: config.modelLibUrl === undefined ? undefined : resolveBaseUrl(config.modelLibUrl, baseUrl, 'modelLibUrl'),
    f32Fallback,
    sliceTokens,
  };
}

export interface ModelSelection {
  /** The record WebLLM loads (with the self-hosted URLs, if any). */
  readonly record: ModelRecord;
  /** The configured model, when the f32 build replaced it. */
  readonly replaced: string | undefined;
  /** One line saying which model and why, for the engine's report. */
  readonly note: string;
}

/**
 * Picks the model record to load on this GPU.
 * @throws InvalidInputError for an unknown model id without `modelUrl`/`modelLibUrl`
 * @throws DeviceError('webgpu-unavailable') without an adapter; ('shader-f16-unsupported') when no f32 build can stand in
 */
export function selectModel(config: ResolvedWebLLMConfig, modelList: readonly ModelRecord[], probe: GpuProbe): ModelSelection {
  if (!probe.adapter) {
    throw new DeviceError('webgpu-unavailable', `The WebLLM engine needs WebGPU: ${probe.summary}. Set engine to 'auto' (or 'transformers') to run on the CPU instead`);
  }
  const prebuilt = modelList.find((r) => r.model_id === config.model);
  if (!prebuilt && !(config.modelUrl && config.modelLibUrl)) {
    const examples = modelList.filter((r) => /SmolLM2|Qwen2\.5-0\.5B/.test(r.model_id)).map((r) => r.model_id).slice(0, 4);
    throw new InvalidInputError(
      'invalid-input',
      `Unknown WebLLM model '${config.model}': set model to an id from WebLLM's prebuilt list (e.g. ${examples.join(', ')}), or set modelUrl and modelLibUrl to a self-hosted model`,
    );
  }
  const wanted = withUrls(prebuilt ?? { model_id: config.model, model: '', model_lib: '' }, config);
  if (!needsF16(wanted) || probe.shaderF16) return { record: wanted, replaced: undefined, note: `${wanted.model_id} on ${probe.summary}` };

  const twinId = f32Twin(wanted.model_id);
  const twin = twinId === undefined ? undefined : modelList.find((r) => r.model_id === twinId);
  if (config.f32Fallback && twin && !config.modelUrl) {
    return { record: twin, replaced: wanted.model_id, note: `${twin.model_id} instead of ${wanted.model_id}: ${probe.summary}` };
  }
  const hint = twinId ? `set model to '${twinId}'` : 'set model to an f32 build (its id has q4f32 or q0f32)';
  const why = config.f32Fallback ? (config.modelUrl ? 'a self-hosted model has no known f32 build' : 'no f32 build is listed') : 'f32Fallback is off';
  throw new DeviceError('shader-f16-unsupported', `${wanted.model_id} needs shader-f16, which this GPU lacks (${probe.summary}), and ${why}: ${hint}`);
}

/** Whether a record needs f16 shaders: it says so, or its quantization (q4f16_1, q0f16) implies it. */
export function needsF16(record: ModelRecord): boolean {
  return (record.required_features ?? []).includes('shader-f16') || /-q\d+f16(_\d+)?-/.test(`${record.model_id}-`);
}

/** The id of a model's f32 build by WebLLM's naming (q4f16_1 → q4f32_1), if it is an f16 one. */
export function f32Twin(modelId: string): string | undefined {
  const twin = modelId.replace(/-q(\d+)f16(_\d+)?-/, '-q$1f32$2-');
  return twin === modelId ? undefined : twin;
}

function withUrls(record: ModelRecord, config: ResolvedWebLLMConfig): ModelRecord {
  if (!config.modelUrl && !config.modelLibUrl) return record;
  return { ...record, model: config.modelUrl ?? record.model, model_lib: config.modelLibUrl ?? record.model_lib };
}
