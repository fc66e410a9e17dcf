// The stand-in Llama decoder (scripts/onnx/llama.mjs): ONNX Runtime's logits
// and KV cache equal a plain-JS Llama forward pass (RMSNorm, RoPE, grouped-
// query attention, SwiGLU, tied embeddings), whole or continued from a cache.
import { existsSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import * as ort from 'onnxruntime-node';

interface LlamaShape {
  vocabSize: number;
  hiddenSize: number;
  layers: number;
  heads: number;
  kvHeads: number;
  intermediateSize: number;
  ropeTheta: number;
  rmsNormEps: number;
}
interface GraphLike {
  toGraph(): unknown;
}
const llama = (await import('../../scripts/onnx/llama.mjs' as string)) as {
  SMOLLM_TINY: LlamaShape;
  SMOLLM_360M_4L: LlamaShape;
  buildLlama(shape: LlamaShape, seed: number): { graph: GraphLike; weights: Map<string, Float32Array> };
};
const onnx = (await import('../../scripts/onnx/onnx.mjs' as string)) as {
  model(graph: unknown, options?: { opset?: number }): { toBytes(): Uint8Array };
};

const TINY: LlamaShape = { vocabSize: 50, hiddenSize: 24, layers: 2, heads: 6, kvHeads: 2, intermediateSize: 40, ropeTheta: 10000, rmsNormEps: 1e-5 };

const { graph, weights } = llama.buildLlama(TINY, 11);
const session = await ort.InferenceSession.create(onnx.model(graph.toGraph()).toBytes());
const HD = TINY.hiddenSize / TINY.heads;

const i64 = (values: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(values, BigInt), dims);
const emptyCache = () => new ort.Tensor('float32', new Float32Array(0), [1, TINY.kvHeads, 0, HD]);

/** One forward call: `ids` after `past` tokens held in `cache`. */
async function forward(ids: number[], past: number, cache: Record<string, ort.Tensor> | undefined, keep = 0) {
  const feeds: Record<string, ort.Tensor> = {
    input_ids: i64(ids, [1, ids.length]),
    attention_mask: i64(new Array(past + ids.length).fill(1), [1, past + ids.length]),
    position_ids: i64(ids.map((_, i) => past + i), [1, ids.length]),
    num_logits_to_keep: i64([keep], []),
  };
  for (let l = 0; l < TINY.layers; l++) {
    feeds[`past_key_values.${l}.key`] = cache?.[`present.${l}.key`] ?? emptyCache();
    feeds[`past_key_values.${l}.value`] = cache?.[`present.${l}.value`] ?? emptyCache();
  }
  return session.run(feeds);
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

describe('stand-in Llama graph', () => {
  test('has the inputs and outputs transformers.js feeds to llama decoders', () => {
    expect(session.inputNames).toEqual([
      'input_ids',
      'attention_mask',
      'position_ids',
      'past_key_values.0.key',
      'past_key_values.0.value',
      'past_key_values.1.key',
      'past_key_values.1.value',
      'num_logits_to_keep',
    ]);
    expect(session.outputNames).toEqual(['present.0.key', 'present.0.value', 'present.1.key', 'present.1.value', 'logits']);
  });

  test('logits equal a plain-JS Llama forward pass', async () => {
    const ids = [3, 17, 5, 42, 8, 8, 30];
    const out = await forward(ids, 0, undefined);
    expect(out.logits!.dims).toEqual([1, ids.length, TINY.vocabSize]);
    const want = referenceLlama(TINY, weights, ids);
    expect(maxDiff(out.logits!.data as Float32Array, want.logits)).toBeLessThan(1e-4);
    expect(out['present.1.key']!.dims).toEqual([1, TINY.kvHeads, ids.length, HD]);
    expect(maxDiff(out['present.1.key']!.data as Float32Array, want.keys[1]!)).toBeLessThan(1e-4);
  });

  test('a continuation from the cache equals the whole pass; num_logits_to_keep keeps the last rows', async () => {
    const ids = [3, 17, 5, 42, 8, 8, 30];
    const whole = (await forward(ids, 0, undefined)).logits!.data as Float32Array;
    const first = await forward(ids.slice(0, 4), 0, undefined, 1);
    expect(first.logits!.dims).toEqual([1, 1, TINY.vocabSize]);
    expect(maxDiff(first.logits!.data as Float32Array, whole.slice(3 * 50, 4 * 50))).toBeLessThan(1e-5);
    const rest = await forward(ids.slice(4), 4, first);
    expect(rest.logits!.dims).toEqual([1, 3, TINY.vocabSize]);
    expect(maxDiff(rest.logits!.data as Float32Array, whole.slice(4 * 50))).toBeLessThan(1e-5);
    expect(rest['present.0.value']!.dims).toEqual([1, TINY.kvHeads, 7, HD]);
  });

  test('the generated SmolLM-shaped models have the real config’s widths', async () => {
    const dir = 'test/fixtures/generated/models/mneme/standin-smollm-tiny';
    expect(existsSync(`${dir}/onnx/model.onnx`), 'run `node scripts/gen-standin-models.mjs` first').toBe(true);
    expect(llama.SMOLLM_360M_4L).toMatchObject({ hiddenSize: 960, heads: 15, kvHeads: 5, intermediateSize: 2560, vocabSize: 49152 });
    const tiny = await ort.InferenceSession.create(`${dir}/onnx/model.onnx`);
    expect(tiny.outputNames).toContain('present.1.value');
  });
});

/** Llama in plain JS over one sequence: the definition the ONNX graph must match. */
function referenceLlama(shape: LlamaShape, w: Map<string, Float32Array>, ids: number[]) {
  const { hiddenSize: H, heads, kvHeads, intermediateSize: I, layers, ropeTheta, rmsNormEps } = shape;
  const hd = H / heads;
  const rep = heads / kvHeads;
  const get = (name: string) => w.get(name) ?? expect.unreachable(`no weight ${name}`);
  const matvec = (x: Float32Array, name: string, inDim: number, outDim: number) => {
    const W = get(name);
    const y = new Float32Array(outDim);
    for (let i = 0; i < inDim; i++) for (let j = 0; j < outDim; j++) y[j]! += x[i]! * W[i * outDim + j]!;
    return y;
  };
  const rms = (x: Float32Array, name: string) => {
    const g = get(name);
    const ms = x.reduce((a, v) => a + v * v, 0) / x.length;
    return x.map((v, i) => (v / Math.sqrt(ms + rmsNormEps)) * g[i]!);
  };
  const rope = (v: Float32Array, pos: number, nHeads: number) => {
    const out = new Float32Array(v.length);
    for (let h = 0; h < nHeads; h++) {
      for (let i = 0; i < hd; i++) {
        const f = i % (hd / 2);
        const angle = pos / ropeTheta ** ((2 * f) / hd);
        const rotated = i < hd / 2 ? -v[h * hd + i + hd / 2]! : v[h * hd + i - hd / 2]!;
        out[h * hd + i] = v[h * hd + i]! * Math.cos(angle) + rotated * Math.sin(angle);
      }
    }
    return out;
  };
  const embed = get('model.embed_tokens.weight');
  let xs = ids.map((id) => embed.slice(id * H, (id + 1) * H));
  const keys: Float32Array[] = [];
  for (let l = 0; l < layers; l++) {
    const p = `model.layers.${l}`;
    const hs = xs.map((x) => rms(x, `${p}.input_layernorm.weight`));
    const q = hs.map((h, t) => rope(matvec(h, `${p}.self_attn.q_proj.weight`, H, H), t, heads));
    const k = hs.map((h, t) => rope(matvec(h, `${p}.self_attn.k_proj.weight`, H, kvHeads * hd), t, kvHeads));
    const v = hs.map((h) => matvec(h, `${p}.self_attn.v_proj.weight`, H, kvHeads * hd));
    // present.{l}.key as [kvHeads, seq, hd]
    const layerKeys = new Float32Array(kvHeads * ids.length * hd);
    k.forEach((kt, t) => {
      for (let g = 0; g < kvHeads; g++) for (let i = 0; i < hd; i++) layerKeys[(g * ids.length + t) * hd + i] = kt[g * hd + i]!;
    });
    keys.push(layerKeys);
    xs = xs.map((x, t) => {
      const context = new Float32Array(H);
      for (let h = 0; h < heads; h++) {
        const g = Math.floor(h / rep);
        const scores = k.slice(0, t + 1).map((ku) => {
          let s = 0;
          for (let i = 0; i < hd; i++) s += q[t]![h * hd + i]! * ku[g * hd + i]!;
          return s / Math.sqrt(hd);
        });
        const max = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - max));
        const sum = e.reduce((a, b) => a + b, 0);
        e.forEach((weight, u) => {
          for (let i = 0; i < hd; i++) context[h * hd + i]! += (weight / sum) * v[u]![g * hd + i]!;
        });
      }
      const attended = matvec(context, `${p}.self_attn.o_proj.weight`, H, H);
      const a = x.map((val, i) => val + attended[i]!);
      const h2 = rms(a, `${p}.post_attention_layernorm.weight`);
      const gate = matvec(h2, `${p}.mlp.gate_proj.weight`, H, I);
      const up = matvec(h2, `${p}.mlp.up_proj.weight`, H, I);
      const act = gate.map((gv, i) => (gv / (1 + Math.exp(-gv))) * up[i]!);
      const down = matvec(act, `${p}.mlp.down_proj.weight`, I, H);
      return a.map((val, i) => val + down[i]!);
    });
  }
  const logits: number[] = [];
  for (const x of xs) {
    const h = rms(x, 'model.norm.weight');
    for (let tok = 0; tok < shape.vocabSize; tok++) {
      let s = 0;
      for (let i = 0; i < H; i++) s += h[i]! * embed[tok * H + i]!;
      logits.push(s);
    }
  }
  return { logits: Float32Array.from(logits), keys };
}
