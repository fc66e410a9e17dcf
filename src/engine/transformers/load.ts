// Loads a causal LM through transformers.js in the worker and wraps it as a
// LoadedEngine: tokenizer and ONNX model from the configured source (ONNX
// Runtime's wasm from our own origin), its chat template split into token
// pieces, and our own forward loop (primitives.ts) under the CacheDriver.
import { AutoModelForCausalLM, AutoTokenizer, type PreTrainedModel, type PreTrainedTokenizer } from '@huggingface/transformers';
import { isMnemeError, ModelError, RpcError } from '../../errors';
import { configureTransformers } from '../../embed/transformers-service';
import { LoadProgressTracker, type TransformersProgressEvent } from '../../embed/progress';
import { CacheDriver } from '../driver';
import type { LoadedEngine } from '../engine-service';
import type { EngineInfo, LoadProgress } from '../types';
import type { ResolvedTransformersEngineConfig } from './config';
import { OwnedKvCache, type CausalForward, type KvShape } from './primitives';
import { encodeText, templatePieces } from './template';

/** The revision transformers.js loads (its `from_pretrained` default; Mneme does not set another). */
const TRANSFORMERS_REVISION = 'main';

export async function loadTransformersEngine(
  config: ResolvedTransformersEngineConfig,
  onProgress: (progress: LoadProgress) => void,
  signal: AbortSignal,
): Promise<LoadedEngine> {
  const { source, failures } = configureTransformers(config, { signal, base: self.location.href, what: 'language model' });
  const tracker = new LoadProgressTracker();
  const progress_callback = (event: object) => {
    const p = tracker.update(event as TransformersProgressEvent, Date.now());
    if (p) onProgress(p);
  };
  let tokenizer: PreTrainedTokenizer;
  let model: PreTrainedModel;
  try {
    [tokenizer, model] = await Promise.all([
      AutoTokenizer.from_pretrained(config.model, { progress_callback }),
      AutoModelForCausalLM.from_pretrained(config.model, { dtype: config.dtype, device: config.device, progress_callback }),
    ]);
  } catch (error) {
    if (signal.aborted) throw new RpcError('aborted', `Loading "${config.model}" was cancelled`);
    if (isMnemeError(error)) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    const fix =
      source.kind === 'self-hosted'
        ? `Check that ${source.url} serves config.json, tokenizer.json, tokenizer_config.json and the ONNX weights for dtype '${config.dtype}', or change modelBaseUrl, model or dtype.`
        : 'Check the model id, dtype and the network, or host the files yourself and set modelBaseUrl.';
    throw new ModelError('model-load-failed', `Could not load language model "${config.model}" from ${failures.at(-1) ?? source.url}: ${reason}. ${fix}`, { cause: error });
  }
  try {
    const shape = kvShape(model, config);
    const template = templatePieces(tokenizer, config.model);
    const primitives = new OwnedKvCache(model as unknown as CausalForward, shape, config.device);
    // One slice-sized forward pass at load: the runtime's first-run set-up (kernels, buffers grown to a slice)
    // happens here, not on the first keystroke's prewarm or a cold send.
    const warm = Array.from({ length: config.sliceTokens }, (_, i) => template.turnStart.user[i % template.turnStart.user.length]!);
    await primitives.append(warm, { sample: false });
    await primitives.reset();
    const decode = (ids: readonly number[]) => tokenizer.decode([...ids], { skip_special_tokens: true });
    const driver = new CacheDriver(primitives, { template, decode, sliceTokens: config.sliceTokens });
    const info: EngineInfo = Object.freeze({
      engine: 'transformers',
      model: config.model,
      device: config.device,
      capabilities: primitives.capabilities,
      template,
      notes: Object.freeze([
        `KV cache held as owned fp32 tensors (${shape.layers} layers × ${shape.kvHeads} KV heads × ${shape.headDim}); rollback by slicing them`,
        ...(config.device === 'webgpu' ? ['WebGPU: the cache stays in GPU buffers between forward passes; it is read back only to roll back or to save a snapshot'] : []),
      ]),
    });
    await onProgress(tracker.ready(Date.now()));
    return {
      info,
      driver,
      weights: { revision: TRANSFORMERS_REVISION, dtype: config.dtype },
      tokenize: (texts) => texts.map((text) => encodeText(tokenizer, text)),
      async dispose() {
        await model.dispose();
      },
    };
  } catch (error) {
    await model.dispose();
    throw error;
  }
}

/** The cache's shape from the model's config and graph. @throws ModelError when the graph has no KV cache */
function kvShape(model: PreTrainedModel, config: ResolvedTransformersEngineConfig): KvShape {
  const c = model.config as unknown as Record<string, number | undefined>;
  const session = (model as unknown as { sessions: Record<string, { inputNames: string[] }> }).sessions.model;
  const inputs = session?.inputNames ?? [];
  const layers = c.num_hidden_layers;
  const heads = c.num_attention_heads;
  if (!inputs.includes('past_key_values.0.key') || !layers || !heads || !c.hidden_size) {
    throw new ModelError('model-load-failed', `"${config.model}" is not a decoder with KV-cache inputs (past_key_values.*); use an ONNX export made with use_cache, such as onnx-community's or HuggingFaceTB's own`);
  }
  const contextLength = Math.min(config.contextLength ?? Infinity, c.max_position_embeddings ?? 2048);
  return {
    layers,
    kvHeads: c.num_key_value_heads ?? heads,
    headDim: c.head_dim ?? c.hidden_size / heads,
    contextLength,
    logitsToKeep: inputs.includes('num_logits_to_keep'),
  };
}
