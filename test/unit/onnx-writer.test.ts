// The ONNX writer (scripts/onnx/) and the stand-in BERT it builds: bytes match
// the protobuf encoding, ONNX Runtime loads the graph, and its output equals a
// plain-JS BERT forward pass over the same weights.
import { existsSync, statSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import * as ort from 'onnxruntime-node';

// scripts/ is plain JS (// @ts-check); these are the few exports used here.
interface MessageLike {
  byteLength: number;
  varint(field: number, value: number | bigint): MessageLike;
  float(field: number, value: number): MessageLike;
  string(field: number, value: string): MessageLike;
  message(field: number, message: MessageLike): MessageLike;
  toBytes(): Uint8Array;
}
interface BertShape {
  vocabSize: number;
  hiddenSize: number;
  layers: number;
  heads: number;
  intermediateSize: number;
  maxPositions: number;
  typeVocabSize: number;
  layerNormEps: number;
}
const proto = (await import('../../scripts/onnx/proto.mjs' as string)) as {
  encodeVarint(value: number | bigint): Uint8Array;
  Message: new () => MessageLike;
};
const onnx = (await import('../../scripts/onnx/onnx.mjs' as string)) as {
  model(graph: MessageLike, options?: { opset?: number }): MessageLike;
};
const bert = (await import('../../scripts/onnx/bert.mjs' as string)) as {
  MINILM_L6: BertShape;
  buildBert(shape: BertShape, seed: number, options?: { weightScale?: number }): { graph: { toGraph(): MessageLike }; weights: Map<string, Float32Array> };
};

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('protobuf writer', () => {
  test('varints match the protobuf encoding, negatives as 64-bit two’s complement', () => {
    expect(hex(proto.encodeVarint(0))).toBe('00');
    expect(hex(proto.encodeVarint(1))).toBe('01');
    expect(hex(proto.encodeVarint(127))).toBe('7f');
    expect(hex(proto.encodeVarint(128))).toBe('8001');
    expect(hex(proto.encodeVarint(300))).toBe('ac02');
    expect(hex(proto.encodeVarint(2 ** 31))).toBe('8080808008');
    expect(hex(proto.encodeVarint(-1))).toBe('ffffffffffffffffff01');
    expect(hex(proto.encodeVarint(2n ** 63n - 1n))).toBe('ffffffffffffffff7f');
  });

  test('fields carry tag, wire type and length', () => {
    const inner = new proto.Message().varint(1, 150);
    const m = new proto.Message().string(2, 'hi').float(3, 1).message(4, inner);
    // 12 02 'h' 'i' | 1d 0000803f | 22 03 (08 96 01)
    expect(hex(m.toBytes())).toBe('12026869' + '1d0000803f' + '2203089601');
    expect(m.byteLength).toBe(m.toBytes().byteLength);
  });
});

const TINY: BertShape = {
  vocabSize: 40,
  hiddenSize: 8,
  layers: 2,
  heads: 2,
  intermediateSize: 16,
  maxPositions: 12,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
};

function int64(rows: number[][]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(rows.flat(), BigInt), [rows.length, rows[0]!.length]);
}

async function run(session: ort.InferenceSession, ids: number[][], mask: number[][]) {
  const types = ids.map((row) => row.map(() => 0));
  const out = await session.run({ input_ids: int64(ids), attention_mask: int64(mask), token_type_ids: int64(types) });
  return out.last_hidden_state!;
}

describe('stand-in BERT graph', () => {
  test('ONNX Runtime output equals a plain-JS BERT forward pass, padding included', async () => {
    const { graph, weights } = bert.buildBert(TINY, 7, { weightScale: 30 }); // sharp attention, so wiring errors show
    const session = await ort.InferenceSession.create(onnx.model(graph.toGraph()).toBytes());
    expect(session.inputNames).toEqual(['input_ids', 'attention_mask', 'token_type_ids']);
    expect(session.outputNames).toEqual(['last_hidden_state']);

    const ids = [
      [1, 5, 9, 13, 2],
      [1, 7, 2, 0, 0],
    ];
    const mask = [
      [1, 1, 1, 1, 1],
      [1, 1, 1, 0, 0],
    ];
    const out = await run(session, ids, mask);
    expect(out.dims).toEqual([2, 5, TINY.hiddenSize]);
    const got = out.data as Float32Array;
    const want = referenceBert(TINY, weights, ids, mask);
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
    expect(worst).toBeLessThan(1e-4);

    // Padding changes nothing for the real tokens: the short row alone gives the same vectors.
    const alone = (await run(session, [[1, 7, 2]], [[1, 1, 1]])).data as Float32Array;
    const H = TINY.hiddenSize;
    for (let i = 0; i < 3 * H; i++) expect(Math.abs(alone[i]! - got[5 * H + i]!)).toBeLessThan(1e-5);
  });

  test('the same seed gives the same bytes', () => {
    const a = onnx.model(bert.buildBert(TINY, 3).graph.toGraph()).toBytes();
    const b = onnx.model(bert.buildBert(TINY, 3).graph.toGraph()).toBytes();
    const c = onnx.model(bert.buildBert(TINY, 4).graph.toGraph()).toBytes();
    expect(hex(a)).toBe(hex(b));
    expect(hex(a)).not.toBe(hex(c));
  });

  test('the generated MiniLM-shaped model loads and returns [batch, seq, 384]', async () => {
    const file = 'test/fixtures/generated/models/mneme/standin-minilm-l6/onnx/model.onnx';
    expect(existsSync(file), 'run `node scripts/gen-standin-models.mjs` first').toBe(true);
    // all-MiniLM-L6-v2's BertModel has 22,565,376 parameters besides the pooler (unused for embeddings).
    const { weights } = bert.buildBert(bert.MINILM_L6, 1);
    const parameters = [...weights.values()].reduce((n, w) => n + w.length, 0);
    expect(parameters).toBe(22_565_376);
    expect(statSync(file).size).toBeGreaterThan(parameters * 4);
    const session = await ort.InferenceSession.create(file);
    const out = await run(session, [[101, 7592, 2088, 102]], [[1, 1, 1, 1]]);
    expect(out.dims).toEqual([1, 4, bert.MINILM_L6.hiddenSize]);
    expect((out.data as Float32Array).every(Number.isFinite)).toBe(true);
  });
});

/** BERT in plain JS, one sequence at a time: the definition the ONNX graph must match. */
function referenceBert(shape: BertShape, w: Map<string, Float32Array>, ids: number[][], mask: number[][]): Float32Array {
  const { hiddenSize: H, heads, intermediateSize: I, layers, layerNormEps: eps } = shape;
  const d = H / heads;
  const get = (name: string) => w.get(name) ?? expect.unreachable(`no weight ${name}`);
  const linear = (x: Float32Array, prefix: string, inDim: number, outDim: number) => {
    const W = get(`${prefix}.weight`);
    const b = get(`${prefix}.bias`);
    const y = Float32Array.from(b);
    for (let i = 0; i < inDim; i++) for (let j = 0; j < outDim; j++) y[j]! += x[i]! * W[i * outDim + j]!;
    return y;
  };
  const layerNorm = (x: Float32Array, prefix: string) => {
    const mean = x.reduce((a, v) => a + v, 0) / x.length;
    const variance = x.reduce((a, v) => a + (v - mean) ** 2, 0) / x.length;
    const g = get(`${prefix}.weight`);
    const b = get(`${prefix}.bias`);
    return x.map((v, i) => ((v - mean) / Math.sqrt(variance + eps)) * g[i]! + b[i]!);
  };
  const gelu = (v: number) => 0.5 * v * (1 + erf(v / Math.SQRT2));
  const out: number[] = [];
  ids.forEach((row, bIdx) => {
    let h = row.map((id, t) => {
      const x = new Float32Array(H);
      for (let k = 0; k < H; k++) {
        x[k] =
          get('embeddings.word_embeddings.weight')[id * H + k]! +
          get('embeddings.position_embeddings.weight')[t * H + k]! +
          get('embeddings.token_type_embeddings.weight')[k]!;
      }
      return layerNorm(x, 'embeddings.LayerNorm');
    });
    for (let l = 0; l < layers; l++) {
      const p = `encoder.layer.${l}`;
      const q = h.map((x) => linear(x, `${p}.attention.self.query`, H, H));
      const k = h.map((x) => linear(x, `${p}.attention.self.key`, H, H));
      const v = h.map((x) => linear(x, `${p}.attention.self.value`, H, H));
      h = h.map((x, t) => {
        const context = new Float32Array(H);
        for (let head = 0; head < heads; head++) {
          const scores = row.map((_, u) => {
            if (!mask[bIdx]![u]) return -Infinity;
            let s = 0;
            for (let i = 0; i < d; i++) s += q[t]![head * d + i]! * k[u]![head * d + i]!;
            return s / Math.sqrt(d);
          });
          const max = Math.max(...scores);
          const e = scores.map((s) => Math.exp(s - max));
          const sum = e.reduce((a, b) => a + b, 0);
          e.forEach((weight, u) => {
            for (let i = 0; i < d; i++) context[head * d + i]! += (weight / sum) * v[u]![head * d + i]!;
          });
        }
        const attended = linear(context, `${p}.attention.output.dense`, H, H);
        const a = layerNorm(attended.map((val, i) => val + x[i]!), `${p}.attention.output.LayerNorm`);
        const up = linear(a, `${p}.intermediate.dense`, H, I).map(gelu);
        const down = linear(up, `${p}.output.dense`, I, H);
        return layerNorm(down.map((val, i) => val + a[i]!), `${p}.output.LayerNorm`);
      });
    }
    for (const x of h) out.push(...x);
  });
  return Float32Array.from(out);
}

/** erf to ~1e-7 (Abramowitz & Stegun 7.1.26). */
function erf(x: number): number {
  const sign = Math.sign(x);
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return sign * y;
}
