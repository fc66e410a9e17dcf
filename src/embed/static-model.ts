// A static embedding model in the model2vec layout: a tokenizer and a matrix
// with one row per token. A text's vector is the mean of its tokens' rows,
// scaled to unit length; unknown tokens are left out. Optional tensors of the
// format: "weights" (a weight per token, e.g. zipf) and "mapping" (token id →
// row, for a vocabulary that shares rows). Pure: the caller fetches the files.
import { ModelError } from '../errors';
import type { Safetensors } from './safetensors';

/** What the model needs of a tokenizer: the ids of a text (@huggingface/tokenizers' `encode(…).ids`). */
export interface TokenIds {
  encode(text: string, options: { add_special_tokens: boolean }): number[];
}

export interface StaticModel {
  readonly dim: number;
  /** One unit-length vector (zeros when no token of the text is known). */
  embed(text: string): Float32Array;
}

export interface StaticModelParts {
  tensors: Safetensors;
  tokenizer: TokenIds;
  /** Token ids the tokenizer has; every id it gives must be below this. */
  vocabSize: number;
  /** The unknown token's id, left out of the mean (as model2vec does); undefined when there is none. */
  unknownId: number | undefined;
  /** Tokens beyond this many are ignored (model2vec's default is 512). */
  maxTokens: number;
  /** Names the model in error messages. */
  what: string;
}

/** @throws ModelError('model-load-failed') when the tensors do not fit the format or the tokenizer */
export function createStaticModel(parts: StaticModelParts): StaticModel {
  const { tensors, tokenizer, vocabSize, unknownId, maxTokens, what } = parts;
  const fail = (reason: string) => new ModelError('model-load-failed', `${what} is not a model2vec model: ${reason}`);
  const shape = tensors.tensors.get('embeddings')?.shape;
  if (!shape) throw fail('model.safetensors has no "embeddings" tensor');
  if (shape.length !== 2 || shape[0]! < 1 || shape[1]! < 1) throw fail(`"embeddings" has shape [${shape.join(', ')}], not [tokens, dim]`);
  const [rows, dim] = shape as [number, number];
  const matrix = tensors.floats('embeddings');
  const weights = tensors.tensors.has('weights') ? tensors.floats('weights') : undefined;
  const mapping = tensors.tensors.has('mapping') ? tensors.ints('mapping') : undefined;
  if (weights && weights.length !== vocabSize) throw fail(`"weights" has ${weights.length} entries for ${vocabSize} tokens`);
  if (mapping) {
    if (mapping.length !== vocabSize) throw fail(`"mapping" has ${mapping.length} entries for ${vocabSize} tokens`);
    if (mapping.some((row) => row < 0 || row >= rows)) throw fail(`"mapping" points outside the ${rows} rows of "embeddings"`);
  } else if (rows !== vocabSize) {
    throw fail(`"embeddings" has ${rows} rows for the tokenizer's ${vocabSize} tokens`);
  }

  return {
    dim,
    embed(text) {
      const out = new Float32Array(dim);
      let used = 0;
      for (const id of tokenizer.encode(text, { add_special_tokens: false })) {
        if (id === unknownId || !(id >= 0 && id < vocabSize)) continue;
        const w = weights ? weights[id]! : 1;
        const at = (mapping ? mapping[id]! : id) * dim;
        for (let i = 0; i < dim; i++) out[i]! += w * matrix[at + i]!;
        if (++used === maxTokens) break;
      }
      return unit(out);
    },
  };
}

/** Scales `v` to unit length in place (the mean's 1/n cancels out); a zero vector stays zero. */
function unit(v: Float32Array): Float32Array {
  let sq = 0;
  for (let i = 0; i < v.length; i++) sq += v[i]! * v[i]!;
  if (sq === 0) return v;
  const k = 1 / Math.sqrt(sq);
  for (let i = 0; i < v.length; i++) v[i]! *= k;
  return v;
}
