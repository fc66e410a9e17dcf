// The static embedder: a model2vec model (a tokenizer and a matrix of token
// rows) run in the calling thread. A text's vector is the normalised mean of
// its tokens' rows, so a draft embeds in microseconds and every keystroke can
// be searched by meaning. Files are fetched like any model (the hub, or
// `modelBaseUrl`) and kept in the Cache API. tokenizer.json is read by
// transformers.js's own tokenizer library (@huggingface/tokenizers, pure JS,
// about 36 KB minified), imported statically: a dynamic import would split a
// worker that imports this module into chunks, which a bundler building
// workers as classic scripts (Vite's default) refuses.
import { Tokenizer } from '@huggingface/tokenizers';
import { InvalidInputError, ModelError, RpcError, isMnemeError } from '../errors';
import type { EmbeddingRef } from '../memory/types';
import { withSignal } from '../util/with-signal';
import { validateTexts } from './config';
import { fetchModelFile } from './model-files';
import { LoadProgressTracker, type TransformersProgressEvent } from './progress';
import { readSafetensors } from './safetensors';
import { resolveStaticEmbedderConfig, type ResolvedStaticEmbedderConfig, type StaticEmbedderConfig } from './static-config';
import { createStaticModel, type StaticModel } from './static-model';
import type { Embedder, LoadProgress } from './types';

/**
 * An Embedder over a static (model2vec) model, e.g. minishlab/potion-base-8M.
 * Its vectors carry meaning, so Mneme treats it as semantic.
 * @throws InvalidInputError when the config is invalid
 */
export function createStaticEmbedder(config: StaticEmbedderConfig = {}): Embedder {
  resolveStaticEmbedderConfig(config, globalThis.location?.href ?? 'http://localhost/'); // fail fast; a relative URL resolves at load
  let model: StaticModel | undefined;
  let ref: EmbeddingRef | undefined;
  let loading: Promise<EmbeddingRef> | undefined;
  let disposed = false;

  const load: Embedder['load'] = async (options = {}) => {
    if (disposed) throw new InvalidInputError('invalid-input', 'This embedder was disposed; create a new one with createStaticEmbedder()');
    if (ref) return ref;
    if (!loading) {
      const resolved = resolveStaticEmbedderConfig(config, globalThis.location?.href);
      const call = loadStaticModel(resolved, options).then((loaded) => {
        if (!disposed) [model, ref] = [loaded, { model: resolved.model, dim: loaded.dim }];
        return { model: resolved.model, dim: loaded.dim };
      });
      loading = call;
      call.catch(() => {
        if (loading === call) loading = undefined; // a failed or cancelled load can be retried
      });
      return call;
    }
    return withSignal(loading, options.signal, 'embed.load');
  };

  return {
    get ref() {
      return ref;
    },
    load,
    async embed(texts, options = {}) {
      validateTexts(texts);
      if (texts.length === 0) return [];
      await load(options.signal ? { signal: options.signal } : {});
      options.signal?.throwIfAborted();
      const current = model;
      if (!current) throw new InvalidInputError('invalid-input', 'This embedder was disposed; create a new one with createStaticEmbedder()');
      return texts.map((text) => current.embed(text));
    },
    async dispose() {
      disposed = true;
      model = undefined;
      ref = undefined;
      loading = undefined;
    },
  };
}

/**
 * Fetches tokenizer.json and model.safetensors, builds the tokenizer and the model.
 * @throws ModelError naming the file and the setting to fix, RpcError('aborted') when cancelled
 */
async function loadStaticModel(config: ResolvedStaticEmbedderConfig, options: { onProgress?: (p: LoadProgress) => void; signal?: AbortSignal }): Promise<StaticModel> {
  const what = `static embedding model "${config.model}"`;
  const tracker = new LoadProgressTracker();
  const report = (p: LoadProgress | undefined) => (p ? options.onProgress?.(p) : undefined);
  const fileOptions = {
    what: 'static embedding model',
    ...(options.signal && { signal: options.signal }),
    ...(options.onProgress && { onEvent: (e: TransformersProgressEvent) => report(tracker.update(e, Date.now())) }),
  };
  const [tokenizerBytes, tensorBytes] = await Promise.all([fetchModelFile(config, 'tokenizer.json', fileOptions), fetchModelFile(config, 'model.safetensors', fileOptions)]);
  try {
    const tokenizerJson = JSON.parse(new TextDecoder().decode(tokenizerBytes)) as { model?: { unk_token?: unknown } };
    const unk = tokenizerJson.model?.unk_token;
    options.signal?.throwIfAborted();
    const tokenizer = new Tokenizer(tokenizerJson, typeof unk === 'string' ? { unk_token: unk } : {});
    const model = createStaticModel({
      tensors: readSafetensors(tensorBytes, `${what} model.safetensors`),
      tokenizer: { encode: (text, o) => tokenizer.encode(text, o).ids },
      vocabSize: tokenizer.get_vocab().size,
      unknownId: typeof unk === 'string' ? tokenizer.token_to_id(unk) : undefined,
      maxTokens: config.maxTokens,
      what,
    });
    options.onProgress?.(tracker.ready(Date.now()));
    return model;
  } catch (error) {
    if (options.signal?.aborted) throw new RpcError('aborted', `Loading ${what} was cancelled`);
    if (isMnemeError(error)) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new ModelError('model-load-failed', `Could not load ${what}: ${reason}. Check that tokenizer.json is a Hugging Face tokenizer file, or change model.`, { cause: error });
  }
}
