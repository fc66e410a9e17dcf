// @ts-check
// A Llama decoder (the architecture of SmolLM-360M-Instruct: RMSNorm, rotary
// position embeddings, grouped-query attention, SwiGLU, tied embeddings) as an
// ONNX graph with seeded random weights and a KV cache, with the inputs and
// outputs transformers.js feeds to llama decoders:
//   input_ids, attention_mask, position_ids, past_key_values.{i}.key/value,
//   num_logits_to_keep  →  logits, present.{i}.key/value.
// Standard opset-17 ops only.
import { DataType, GraphBuilder } from './onnx.mjs';
import { seededRandom, uniformWeights } from './random.mjs';

/**
 * @typedef {object} LlamaShape
 * @property {number} vocabSize
 * @property {number} hiddenSize
 * @property {number} layers
 * @property {number} heads
 * @property {number} kvHeads
 * @property {number} intermediateSize
 * @property {number} ropeTheta
 * @property {number} rmsNormEps
 */

/** SmolLM-360M's width with 4 of its 32 layers. @type {Readonly<LlamaShape>} */
export const SMOLLM_360M_4L = Object.freeze({
  vocabSize: 49152,
  hiddenSize: 960,
  layers: 4,
  heads: 15,
  kvHeads: 5,
  intermediateSize: 2560,
  ropeTheta: 10000,
  rmsNormEps: 1e-5,
});

/** A tiny decoder on SmolLM's vocabulary, for fast tests. @type {Readonly<LlamaShape>} */
export const SMOLLM_TINY = Object.freeze({
  vocabSize: 49152,
  hiddenSize: 64,
  layers: 2,
  heads: 4,
  kvHeads: 2,
  intermediateSize: 128,
  ropeTheta: 10000,
  rmsNormEps: 1e-5,
});

const FLOAT32_MIN = -3.4028234663852886e38;

/**
 * Cache tensors are [batch, kvHeads, sequence, headDim]. The attention mask
 * covers past and new tokens; a query at absolute position p (past + its index)
 * sees keys at positions ≤ p whose mask is 1. `num_logits_to_keep` = n > 0
 * computes logits for the last n positions only; 0 keeps all.
 * Returns the graph and its weights by Hugging Face's parameter names (linear
 * weights stored [in, out]), so a test can recompute the forward pass.
 * @param {LlamaShape} shape @param {number} seed
 * @returns {{ graph: GraphBuilder, weights: Map<string, Float32Array> }}
 */
export function buildLlama(shape, seed) {
  const { vocabSize: V, hiddenSize: H, layers, heads, kvHeads, intermediateSize: I, ropeTheta, rmsNormEps } = shape;
  if (H % heads !== 0 || heads % kvHeads !== 0) throw new Error(`hidden ${H}, heads ${heads}, kv heads ${kvHeads} do not divide`);
  const hd = H / heads;
  const rep = heads / kvHeads;
  const random = seededRandom(seed);
  const g = new GraphBuilder('llama');
  const F = DataType.FLOAT;
  const I64 = DataType.INT64;
  /** @type {Map<string, Float32Array>} */
  const weights = new Map();
  /** @param {string} name @param {number[]} dims @param {Float32Array} data */
  const keep = (name, dims, data) => (weights.set(name, data), g.initializer(name, F, dims, data));
  /** @param {string} name @param {number[]} dims @param {number} std */
  const weight = (name, dims, std) => keep(name, dims, uniformWeights(random, dims.reduce((a, b) => a * b, 1), std));
  /** Norm weights around 1, so the random model is not symmetric. @param {string} name */
  const normWeight = (name) => keep(name, [H], uniformWeights(random, H, 0.1, 1));
  /** @param {number} value */
  const i64 = (value) => g.initializer('scalar_i64', I64, [], BigInt64Array.of(BigInt(value)));
  /** @param {string} x @param {number[]} axes */
  const unsqueeze = (x, axes) => g.op('Unsqueeze', [x, g.int64s(axes)]);
  /** @param {string} x @param {number} axis @param {number} from @param {number} to */
  const slice = (x, axis, from, to) => g.op('Slice', [x, g.int64s([from]), g.int64s([to]), g.int64s([axis])]);

  const inputIds = g.input('input_ids', I64, ['batch_size', 'sequence_length']);
  const attentionMask = g.input('attention_mask', I64, ['batch_size', 'total_sequence_length']);
  const positionIds = g.input('position_ids', I64, ['batch_size', 'sequence_length']);
  const past = Array.from({ length: layers }, (_, l) => ({
    key: g.input(`past_key_values.${l}.key`, F, ['batch_size', kvHeads, 'past_sequence_length', hd]),
    value: g.input(`past_key_values.${l}.value`, F, ['batch_size', kvHeads, 'past_sequence_length', hd]),
  }));
  const logitsToKeep = g.input('num_logits_to_keep', I64, []);

  const embed = weight('model.embed_tokens.weight', [V, H], 0.02);
  let x = g.op('Gather', [embed, inputIds], { attrs: { axis: { int: 0 } } });

  // Attention bias [batch, 1, rep·sequence, total]: 0 where a query may see a key, float32 min elsewhere.
  const seq = g.op('Squeeze', [slice(g.op('Shape', [inputIds]), 0, 1, 2), g.int64s([0])]);
  const total = g.op('Squeeze', [slice(g.op('Shape', [attentionMask]), 0, 1, 2), g.int64s([0])]);
  const queryPos = g.op('Range', [g.op('Sub', [total, seq]), total, i64(1)]);
  const keyPos = g.op('Range', [i64(0), total, i64(1)]);
  const causal = g.op('LessOrEqual', [unsqueeze(keyPos, [0]), unsqueeze(queryPos, [1])]); // [s, T]
  const visible = g.op('And', [causal, unsqueeze(g.op('Cast', [attentionMask], { attrs: { to: { int: DataType.BOOL } } }), [1])]); // [b, s, T]
  const bias = g.op('Where', [visible, g.scalar(0), g.scalar(FLOAT32_MIN)]);
  // Queries of the `rep` heads sharing a KV head are stacked along the sequence axis.
  const biasRep = g.op('Tile', [unsqueeze(bias, [1]), g.int64s([1, 1, rep, 1])]);

  // Rotary embeddings (Hugging Face's rotate_half convention): angle = position · θ^(−2i/hd).
  const invFreq = Float32Array.from({ length: hd / 2 }, (_, i) => 1 / ropeTheta ** ((2 * i) / hd));
  const freqs = g.op('Mul', [unsqueeze(g.op('Cast', [positionIds], { attrs: { to: { int: F } } }), [2]), g.initializer('rope_inv_freq', F, [hd / 2], invFreq)]);
  const angles = unsqueeze(g.op('Concat', [freqs, freqs], { attrs: { axis: { int: -1 } } }), [1]); // [b, 1, s, hd]
  const cos = g.op('Cos', [angles]);
  const sin = g.op('Sin', [angles]);
  /** @param {string} t [b, h, s, hd] */
  const rope = (t) => {
    const rotated = g.op('Concat', [g.op('Neg', [slice(t, 3, hd / 2, hd)]), slice(t, 3, 0, hd / 2)], { attrs: { axis: { int: -1 } } });
    return g.op('Add', [g.op('Mul', [t, cos]), g.op('Mul', [rotated, sin])]);
  };
  const eps = g.scalar(rmsNormEps, 'rms_eps');
  /** @param {string} t @param {string} name */
  const rmsNorm = (t, name) => {
    const meanSquare = g.op('ReduceMean', [g.op('Mul', [t, t])], { attrs: { axes: { ints: [-1] }, keepdims: { int: 1 } } });
    return g.op('Mul', [g.op('Div', [t, g.op('Sqrt', [g.op('Add', [meanSquare, eps])])]), normWeight(name)]);
  };
  /** @param {string} t @param {string} name @param {number} inDim @param {number} outDim */
  const linear = (t, name, inDim, outDim) => g.op('MatMul', [t, weight(name, [inDim, outDim], 1 / Math.sqrt(inDim))]);
  /** [b, s, n·hd] → [b, n, s, hd] @param {string} t @param {number} n */
  const toHeads = (t, n) => g.op('Transpose', [g.op('Reshape', [t, g.int64s([0, 0, n, hd])])], { attrs: { perm: { ints: [0, 2, 1, 3] } } });
  const scale = g.scalar(1 / Math.sqrt(hd), 'attention_scale');

  for (let l = 0; l < layers; l++) {
    const p = `model.layers.${l}`;
    const h = rmsNorm(x, `${p}.input_layernorm.weight`);
    const q = rope(toHeads(linear(h, `${p}.self_attn.q_proj.weight`, H, heads * hd), heads));
    const k = rope(toHeads(linear(h, `${p}.self_attn.k_proj.weight`, H, kvHeads * hd), kvHeads));
    const v = toHeads(linear(h, `${p}.self_attn.v_proj.weight`, H, kvHeads * hd), kvHeads);
    const keys = g.op('Concat', [past[l].key, k], { attrs: { axis: { int: 2 } }, output: `present.${l}.key` });
    const values = g.op('Concat', [past[l].value, v], { attrs: { axis: { int: 2 } }, output: `present.${l}.value` });
    g.output(keys, F, ['batch_size', kvHeads, 'total_sequence_length', hd]);
    g.output(values, F, ['batch_size', kvHeads, 'total_sequence_length', hd]);
    const grouped = g.op('Reshape', [q, g.int64s([0, kvHeads, -1, hd])]); // [b, kv, rep·s, hd]
    const keysT = g.op('Transpose', [keys], { attrs: { perm: { ints: [0, 1, 3, 2] } } });
    const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [grouped, keysT]), scale]), biasRep]);
    const context = g.op('MatMul', [g.op('Softmax', [scores], { attrs: { axis: { int: -1 } } }), values]); // [b, kv, rep·s, hd]
    const merged = g.op('Reshape', [g.op('Transpose', [g.op('Reshape', [context, g.int64s([0, heads, -1, hd])])], { attrs: { perm: { ints: [0, 2, 1, 3] } } }), g.int64s([0, 0, H])]);
    x = g.op('Add', [x, linear(merged, `${p}.self_attn.o_proj.weight`, H, H)]);

    const h2 = rmsNorm(x, `${p}.post_attention_layernorm.weight`);
    const gate = linear(h2, `${p}.mlp.gate_proj.weight`, H, I);
    const silu = g.op('Mul', [gate, g.op('Sigmoid', [gate])]);
    const up = linear(h2, `${p}.mlp.up_proj.weight`, H, I);
    x = g.op('Add', [x, linear(g.op('Mul', [silu, up]), `${p}.mlp.down_proj.weight`, I, H)]);
  }

  const normed = rmsNorm(x, 'model.norm.weight');
  const start = g.op('Neg', [unsqueeze(logitsToKeep, [0])]);
  const kept = g.op('Slice', [normed, start, g.int64s([Number.MAX_SAFE_INTEGER]), g.int64s([1])]); // n = 0: -0 = 0, all
  // Tied embeddings: logits = h · Eᵀ, as Gemm with transB over 2-D rows.
  const rows = g.op('Gemm', [g.op('Reshape', [kept, g.int64s([-1, H])]), embed], { attrs: { transB: { int: 1 } } });
  const outShape = g.op('Concat', [slice(g.op('Shape', [kept]), 0, 0, 2), g.int64s([V])], { attrs: { axis: { int: 0 } } });
  g.op('Reshape', [rows, outShape], { output: 'logits' });
  g.output('logits', F, ['batch_size', 'logits_length', V]);
  return { graph: g, weights };
}
