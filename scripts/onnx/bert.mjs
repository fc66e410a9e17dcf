// @ts-check
// A BERT encoder (the architecture of sentence-transformers all-MiniLM-L6-v2)
// as an ONNX graph with seeded random weights. Standard opset-17 ops only.
import { DataType, GraphBuilder } from './onnx.mjs';
import { seededRandom, uniformWeights } from './random.mjs';

/**
 * @typedef {object} BertShape
 * @property {number} vocabSize
 * @property {number} hiddenSize
 * @property {number} layers
 * @property {number} heads
 * @property {number} intermediateSize
 * @property {number} maxPositions
 * @property {number} typeVocabSize
 * @property {number} layerNormEps
 */

/** all-MiniLM-L6-v2's shape. @type {Readonly<BertShape>} */
export const MINILM_L6 = Object.freeze({
  vocabSize: 30522,
  hiddenSize: 384,
  layers: 6,
  heads: 12,
  intermediateSize: 1536,
  maxPositions: 512,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
});

const FLOAT32_MIN = -3.4028234663852886e38;

/**
 * Inputs `input_ids`, `attention_mask`, `token_type_ids` (int64 [batch, sequence]);
 * output `last_hidden_state` (float [batch, sequence, hidden]). Padding keys get
 * the float32 minimum added to their attention scores, as Hugging Face's BERT does.
 * Returns the graph and its weights by name (Hugging Face's parameter names;
 * linear weights stored [in, out]), so a test can recompute the forward pass.
 * @param {BertShape} shape @param {number} seed
 * @param {{ weightScale?: number }} [options] multiplies every weight's spread (tests use sharper attention)
 * @returns {{ graph: GraphBuilder, weights: Map<string, Float32Array> }}
 */
export function buildBert(shape, seed, options = {}) {
  const spread = options.weightScale ?? 1;
  const { vocabSize, hiddenSize: H, layers, heads, intermediateSize: I, maxPositions, typeVocabSize, layerNormEps } = shape;
  if (layers < 1) throw new Error(`a BERT needs at least one layer`);
  if (H % heads !== 0) throw new Error(`hidden size ${H} is not a multiple of ${heads} heads`);
  const headDim = H / heads;
  const random = seededRandom(seed);
  const g = new GraphBuilder('bert');
  const F = DataType.FLOAT;
  const dyn = ['batch_size', 'sequence_length'];
  /** @type {Map<string, Float32Array>} */
  const weights = new Map();

  /** @param {string} name @param {number[]} dims @param {Float32Array} data */
  const keep = (name, dims, data) => {
    weights.set(name, data);
    return g.initializer(name, F, dims, data);
  };
  /** @param {string} name @param {number[]} dims @param {number} std */
  const weight = (name, dims, std) => keep(name, dims, uniformWeights(random, dims.reduce((a, b) => a * b, 1), std * spread));
  /** @param {string} name @param {number} n @param {number} value */
  const filled = (name, n, value) => keep(name, [n], new Float32Array(n).fill(value));
  /** @param {string} x @param {string} prefix @param {string} [output] */
  const layerNorm = (x, prefix, output) =>
    g.op('LayerNormalization', [x, filled(`${prefix}.weight`, H, 1), filled(`${prefix}.bias`, H, 0)], {
      attrs: { axis: { int: -1 }, epsilon: { float: layerNormEps } },
      ...(output === undefined ? {} : { output }),
    });
  /** x·W + b, W stored [in, out] as MatMul wants it. @param {string} x @param {string} prefix @param {number} inDim @param {number} outDim */
  const linear = (x, prefix, inDim, outDim) =>
    g.op('Add', [g.op('MatMul', [x, weight(`${prefix}.weight`, [inDim, outDim], 0.02)]), weight(`${prefix}.bias`, [outDim], 0.01)]);

  const inputIds = g.input('input_ids', DataType.INT64, dyn);
  const attentionMask = g.input('attention_mask', DataType.INT64, dyn);
  const tokenTypeIds = g.input('token_type_ids', DataType.INT64, dyn);

  // Embeddings: word + position (the table's first `sequence_length` rows) + token type.
  const words = g.op('Gather', [weight('embeddings.word_embeddings.weight', [vocabSize, H], 0.05), inputIds], { attrs: { axis: { int: 0 } } });
  const seqLen = g.op('Slice', [g.op('Shape', [inputIds]), g.int64s([1]), g.int64s([2])]);
  const positions = g.op('Slice', [weight('embeddings.position_embeddings.weight', [maxPositions, H], 0.01), g.int64s([0]), seqLen, g.int64s([0])]);
  const types = g.op('Gather', [weight('embeddings.token_type_embeddings.weight', [typeVocabSize, H], 0.01), tokenTypeIds], { attrs: { axis: { int: 0 } } });
  let hidden = layerNorm(g.op('Add', [g.op('Add', [words, positions]), types]), 'embeddings.LayerNorm');

  // Additive attention bias [batch, 1, 1, sequence]: 0 for real tokens, float32 min for padding.
  const maskFloat = g.op('Cast', [attentionMask], { attrs: { to: { int: F } } });
  const inverted = g.op('Sub', [g.scalar(1), maskFloat]);
  const bias = g.op('Unsqueeze', [g.op('Mul', [inverted, g.scalar(FLOAT32_MIN)]), g.int64s([1, 2])]);

  const splitHeads = g.int64s([0, 0, heads, headDim], 'split_heads_shape');
  const mergeHeads = g.int64s([0, 0, H], 'merge_heads_shape');
  const scale = g.scalar(1 / Math.sqrt(headDim), 'attention_scale');
  const half = g.scalar(0.5);
  const one = g.scalar(1);
  const sqrt2 = g.scalar(Math.SQRT2);
  /** @param {string} x @param {number[]} perm */
  const heads4d = (x, perm) => g.op('Transpose', [g.op('Reshape', [x, splitHeads])], { attrs: { perm: { ints: perm } } });

  for (let l = 0; l < layers; l++) {
    const p = `encoder.layer.${l}`;
    const q = heads4d(linear(hidden, `${p}.attention.self.query`, H, H), [0, 2, 1, 3]); // [b, h, s, d]
    const k = heads4d(linear(hidden, `${p}.attention.self.key`, H, H), [0, 2, 3, 1]); // [b, h, d, s]
    const v = heads4d(linear(hidden, `${p}.attention.self.value`, H, H), [0, 2, 1, 3]); // [b, h, s, d]
    const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [q, k]), scale]), bias]);
    const probs = g.op('Softmax', [scores], { attrs: { axis: { int: -1 } } });
    const context = g.op('Transpose', [g.op('MatMul', [probs, v])], { attrs: { perm: { ints: [0, 2, 1, 3] } } });
    const attended = linear(g.op('Reshape', [context, mergeHeads]), `${p}.attention.output.dense`, H, H);
    const afterAttention = layerNorm(g.op('Add', [attended, hidden]), `${p}.attention.output.LayerNorm`);

    // Exact GELU: x · ½ · (1 + erf(x / √2)).
    const up = linear(afterAttention, `${p}.intermediate.dense`, H, I);
    const gelu = g.op('Mul', [g.op('Mul', [up, half]), g.op('Add', [one, g.op('Erf', [g.op('Div', [up, sqrt2])])])]);
    const down = linear(gelu, `${p}.output.dense`, I, H);
    const last = l === layers - 1;
    hidden = layerNorm(g.op('Add', [down, afterAttention]), `${p}.output.LayerNorm`, last ? 'last_hidden_state' : undefined);
  }
  g.output(hidden, F, [...dyn, H]);
  return { graph: g, weights };
}
