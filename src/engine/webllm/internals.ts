// The parts of WebLLM 0.2.86 our loop drives. `MLCEngine` is public; its
// `LLMChatPipeline` (the model, its KV cache, tokenizer and chat config) is
// private in WebLLM's typings, so this file names exactly what we read from
// it and checks it is there when a model loads. @mlc-ai/web-llm is pinned to
// an exact version because of this. Line numbers are of
// node_modules/@mlc-ai/web-llm/lib/index.js at 0.2.86.
import type { ChatOptions } from '@mlc-ai/web-llm';
import { ModelError } from '../../errors';

/** mlc-chat-config.json's `conv_template` (WebLLM exports the type only inside ChatOptions). */
export type ConvTemplate = NonNullable<ChatOptions['conv_template']>;

/** The public MLCEngine methods the loop uses (index.js 19008–19046). None of them takes WebLLM's per-model lock. */
export interface MlcEngineLike {
  /** `LLMChatPipeline.forwardTokensAndSample` (13958): prefills `ids` in chunks onto the cache and samples the next token. */
  forwardTokensAndSample(ids: number[], isPrefill: boolean): Promise<number>;
  /** Clears the cache and sets `filledKVCacheLength` to 0 (12008–12030). */
  resetChat(keepStats?: boolean): Promise<void>;
  unload(): Promise<void>;
}

/** A TVM packed function. */
export type PackedFunc = ((...args: unknown[]) => unknown) & { dispose?: () => void };

export interface TvmLike {
  /** Throws "Cannot find global function …" when the runtime lacks it (7979–7987). */
  getGlobalFunc(name: string): PackedFunc;
  /** TVM objects returned inside a scope are freed at its end unless detached (7238–7265). */
  beginScope(): void;
  endScope(): void;
  detachFromCurrentScope<T>(value: T): T;
  scalar(value: number, dtype: string): unknown;
}

/** WebLLM's tokenizer: @mlc-ai/web-tokenizers' Tokenizer, loaded from tokenizer.json in WebLLM's cache (14914–14935). */
export interface TokenizerLike {
  encode(text: string): Int32Array;
  decode(ids: Int32Array): string;
}

/** An exported KV checkpoint (12716–12764); opaque to us. */
export type KvCheckpoint = { readonly processedSeqLen: number };

/** The private pipeline fields we read or keep in step. */
export interface PipelineLike {
  /** WebLLM's count of tokens in the cache; every forward adds to it (13330), `resetChat` zeroes it. */
  filledKVCacheLength: number;
  kvCache: unknown;
  rnnState: unknown;
  slidingWindowSize: number;
  contextWindowSize: number;
  tvm: TvmLike;
  tokenizer: TokenizerLike;
  config: { conv_template: ConvTemplate };
  /** 12716: copies the sequence's KV pages to CPU memory; needs the runtime's checkpoint functions (11617). */
  exportPromptCheckpoint?(logits: undefined, storeCheckpointLogits: boolean): Promise<KvCheckpoint | undefined>;
  /** 12766: writes them back and sets `filledKVCacheLength` from the runtime's sequence length. */
  importPromptCheckpoint?(checkpoint: KvCheckpoint): Promise<void>;
}

/** Runtime functions the checkpoint path needs (index.js 11617–11624). */
export const KV_CHECKPOINT_FUNCS = [
  'vm.builtin.attention_kv_cache_get_checkpoint_metadata',
  'vm.builtin.attention_kv_cache_export_page_group',
  'vm.builtin.attention_kv_cache_prepare_import',
  'vm.builtin.attention_kv_cache_import_page_group',
  'vm.builtin.attention_kv_cache_finish_import',
  'vm.builtin.attention_kv_cache_get_sequence_length',
] as const;

export const KV_POPN = 'vm.builtin.kv_state_popn';

/**
 * The loaded model's pipeline, checked field by field.
 * @throws ModelError('model-load-failed') when WebLLM's internals are not what this version expects
 */
export function reachPipeline(engine: MlcEngineLike, modelId: string): PipelineLike {
  const pipelines = (engine as unknown as { loadedModelIdToPipeline?: Map<string, unknown> }).loadedModelIdToPipeline;
  const pipeline = pipelines?.get(modelId) as Partial<PipelineLike> | undefined;
  const missing = [
    typeof pipeline?.filledKVCacheLength === 'number' ? '' : 'filledKVCacheLength',
    typeof pipeline?.tvm?.getGlobalFunc === 'function' ? '' : 'tvm',
    typeof pipeline?.tokenizer?.encode === 'function' && typeof pipeline.tokenizer.decode === 'function' ? '' : 'tokenizer',
    typeof pipeline?.config?.conv_template === 'object' ? '' : 'config.conv_template',
    typeof pipeline?.contextWindowSize === 'number' ? '' : 'contextWindowSize',
  ].filter((name) => name !== '');
  if (!pipeline || missing.length > 0) {
    throw new ModelError(
      'model-load-failed',
      `WebLLM's model pipeline for ${modelId} lacks ${missing.join(', ') || 'everything'}; Mneme drives @mlc-ai/web-llm 0.2.86 exactly, install that version`,
    );
  }
  return pipeline as PipelineLike;
}

/** A runtime function, or undefined where the model's runtime lacks it. */
export function findGlobalFunc(tvm: TvmLike, name: string): PackedFunc | undefined {
  tvm.beginScope();
  try {
    return tvm.detachFromCurrentScope(tvm.getGlobalFunc(name));
  } catch {
    return undefined;
  } finally {
    tvm.endScope();
  }
}
