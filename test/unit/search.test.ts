import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileKernel } from '../../scripts/build-kernel.mjs';
import { seededRandom as rng } from '../../scripts/onnx/random.mjs';
import { Bm25Index } from '../../src/search/bm25';
import { DenseIndex } from '../../src/search/dense';
import { fuseRanks } from '../../src/search/fuse';
import { KERNEL_WASM_BASE64 } from '../../src/search/kernel-wasm';
import { TopK } from '../../src/search/top-k';
import { tokenize } from '../../src/search/tokenize';

function randomUnit(dim: number, next: () => number): Float32Array {
  const v = new Float32Array(dim);
  let n = 0;
  for (let i = 0; i < dim; i++) n += (v[i] = next() * 2 - 1) ** 2;
  return v.map((x) => x / Math.sqrt(n));
}

const cosine = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

describe('TopK', () => {
  it('keeps the k best, best first, earlier offer winning ties', () => {
    const top = new TopK(3);
    [5, 1, 9, 5, 7, 9, 2].forEach((s, i) => top.offer(s, i));
    expect(top.drain()).toEqual([{ score: 9, item: 2 }, { score: 9, item: 5 }, { score: 7, item: 4 }]);
  });
  it('matches a full sort on random input', () => {
    const next = rng(1);
    const scores = Array.from({ length: 500 }, () => Math.floor(next() * 50));
    const top = new TopK(20);
    scores.forEach((s, i) => top.offer(s, i));
    const expected = scores.map((score, item) => ({ score, item })).sort((a, b) => b.score - a.score || a.item - b.item).slice(0, 20);
    expect(top.drain()).toEqual(expected);
  });
});

describe('int8 kernel', () => {
  it('committed bytes match kernel.wat', async () => {
    expect(Buffer.from(await compileKernel()).toString('base64')).toBe(KERNEL_WASM_BASE64);
    expect(readFileSync(new URL('../../src/search/kernel.wat', import.meta.url), 'utf8')).toContain('i32x4.dot_i16x8_s');
  });

  it('WASM SIMD and JS agree exactly, and approximate float cosine within 0.02', () => {
    const next = rng(7);
    const dim = 100; // not a multiple of 16: exercises padding
    const wasm = new DenseIndex(dim);
    const js = new DenseIndex(dim, { preferWasm: false });
    expect(wasm.simd).toBe(true);
    expect(js.simd).toBe(false);
    const vectors = Array.from({ length: 5000 }, () => randomUnit(dim, next));
    vectors.forEach((v, i) => {
      wasm.upsert(`m${i}`, v);
      js.upsert(`m${i}`, v);
    });
    const q = randomUnit(dim, next);
    const a = wasm.search(q, 10, () => true);
    expect(a).toEqual(js.search(q, 10, () => true));
    for (const hit of a) expect(Math.abs(hit.cosine - cosine(q, vectors[Number(hit.id.slice(1))]!))).toBeLessThan(0.02);
    const exact = vectors.map((v, i) => ({ i, c: cosine(q, v) })).sort((x, y) => y.c - x.c);
    expect(a[0]!.id).toBe(`m${exact[0]!.i}`);
  });

  it('finds a vector as its own nearest neighbour after removals move rows', () => {
    const next = rng(3);
    const index = new DenseIndex(384);
    const vectors = Array.from({ length: 9000 }, () => randomUnit(384, next)); // spans three scan chunks
    vectors.forEach((v, i) => index.upsert(`m${i}`, v));
    for (let i = 0; i < 9000; i += 3) index.remove(`m${i}`);
    expect(index.size).toBe(6000);
    for (const i of [1, 4000, 8999]) {
      const [hit] = index.search(vectors[i]!, 1, () => true);
      expect(hit!.id).toBe(`m${i}`);
      expect(hit!.cosine).toBeGreaterThan(0.98);
    }
    expect(index.search(vectors[0]!, 5, () => true).map((h) => h.id)).not.toContain('m0');
  });

  it('applies the filter before ranking', () => {
    const index = new DenseIndex(16);
    const v = new Float32Array(16).fill(1);
    index.upsert('hidden', v);
    index.upsert('visible', v.map((x, i) => (i < 8 ? x : -x)));
    expect(index.search(v, 1, (id) => id !== 'hidden').map((h) => h.id)).toEqual(['visible']);
  });
});

describe('tokenize', () => {
  it('folds case and accents, drops stopwords, stems (Porter2), splits CJK into characters', () => {
    expect(tokenize('The Café and the TILES!')).toEqual(['cafe', 'tile']);
    expect(tokenize('housing houses house')).toEqual(['hous', 'hous', 'hous']);
    expect(tokenize('delivered delivering shopping shops running')).toEqual(['deliv', 'deliv', 'shop', 'shop', 'run']);
    expect(tokenize('adoption adopted happiness happy generously')).toEqual(['adopt', 'adopt', 'happi', 'happi', 'generous']);
    expect(tokenize('查看房价 in XX')).toEqual(['查', '看', '房', '价', 'xx']);
    expect(tokenize('')).toEqual([]);
  });
});

describe('Bm25Index', () => {
  it('ranks rarer and more frequent terms higher', () => {
    const index = new Bm25Index();
    index.upsert('a', 'tiles tiles for the bathroom');
    index.upsert('b', 'tiles for the kitchen');
    index.upsert('c', 'mortgage rate for the house');
    const hits = index.search('bathroom tiles', 10, () => true);
    expect(hits.map((h) => h.id)).toEqual(['a', 'b']);
    expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);
  });

  it('matches the textbook formula', () => {
    const index = new Bm25Index({ k1: 1.2, b: 0.75 });
    index.upsert('a', 'apple banana');
    index.upsert('b', 'apple cherry cherry durian');
    const [hit] = index.search('cherry', 1, () => true);
    const idf = Math.log(1 + (2 - 1 + 0.5) / (1 + 0.5));
    expect(hit!.coverage).toBe(1);
    const avg = 3;
    expect(hit!.score).toBeCloseTo((idf * 2 * 2.2) / (2 + 1.2 * (1 - 0.75 + (0.75 * 4) / avg)), 5);
  });

  it('forgets removed and rewritten documents and reuses their slots', () => {
    const index = new Bm25Index();
    index.upsert('a', 'electricity work on monday');
    index.upsert('b', 'furniture delivery');
    index.upsert('a', 'water pipes');
    expect(index.search('electricity', 5, () => true)).toEqual([]);
    expect(index.search('water', 5, () => true).map((h) => h.id)).toEqual(['a']);
    index.remove('b');
    index.upsert('c', 'furniture store');
    expect(index.search('furniture', 5, () => true).map((h) => h.id)).toEqual(['c']);
    expect(index.size).toBe(2);
  });

  it('gives the same scores as a fresh index after churn', () => {
    const next = rng(11);
    const words = Array.from({ length: 60 }, (_, i) => `w${i}`);
    const text = () => Array.from({ length: 6 }, () => words[Math.floor(next() * words.length)]).join(' ');
    const churned = new Bm25Index();
    const docs = new Map<string, string>();
    for (let i = 0; i < 2000; i++) {
      const id = `d${Math.floor(next() * 400)}`;
      if (next() < 0.2) {
        churned.remove(id);
        docs.delete(id);
      } else {
        const t = text();
        churned.upsert(id, t);
        docs.set(id, t);
      }
    }
    const fresh = new Bm25Index();
    for (const [id, t] of docs) fresh.upsert(id, t);
    const query = 'w1 w2 w3';
    const scores = (index: Bm25Index) => new Map(index.search(query, 1000, () => true).map((h) => [h.id, Math.round(h.score * 1e4)]));
    const a = scores(churned);
    expect(a.size).toBeGreaterThan(50);
    expect(a).toEqual(scores(fresh));
  });
});

describe('Bm25Index feedback', () => {
  const feedback = { k1: 1.2, b: 0.2, feedback: { docs: 2, terms: 3, weight: 0.3 } };

  it('finds what the best matches talk about, without counting it as coverage', () => {
    const docs = {
      a: 'passport renewal at the embassy office',
      b: 'the embassy office opens at nine',
      c: 'passport renewal photo',
      d: 'tomatoes in the garden',
    };
    const plain = new Bm25Index({ k1: 1.2, b: 0.2 });
    const expanded = new Bm25Index(feedback);
    for (const [id, text] of Object.entries(docs)) [plain, expanded].forEach((index) => index.upsert(id, text));
    expect(plain.search('passport renewal', 10, () => true).map((h) => h.id).sort()).toEqual(['a', 'c']);
    const hits = expanded.search('passport renewal', 10, () => true);
    expect(hits.map((h) => h.id).slice(0, 2).sort()).toEqual(['a', 'c']);
    expect(hits.map((h) => h.id)).toContain('b');
    expect(hits.find((h) => h.id === 'b')!.coverage).toBe(0);
    expect(hits.find((h) => h.id === 'a')!.coverage).toBe(1);
  });

  it('expands a query the same whatever order the documents came in (ties at the cut are left out)', () => {
    const texts = Array.from({ length: 60 }, (_, i) => `note ${i % 6} about tiles ${i % 7} and pipes ${i % 11}`);
    const forward = new Bm25Index(feedback);
    const backward = new Bm25Index(feedback);
    texts.forEach((t, i) => forward.upsert(`d${i}`, t));
    [...texts.entries()].reverse().forEach(([i, t]) => backward.upsert(`d${i}`, t));
    const scores = (index: Bm25Index, q: string) => new Map(index.search(q, 100, () => true).map((h) => [h.id, h.score.toFixed(5)]));
    for (const q of ['tiles 3', 'pipes 10 note', 'note 5']) expect(scores(backward, q)).toEqual(scores(forward, q));
  });

  it('matches a brute-force RM3 on a seeded corpus', () => {
    const next = rng(7);
    const words = Array.from({ length: 40 }, (_, i) => `w${i}`);
    const texts = Array.from({ length: 300 }, () => Array.from({ length: 3 + Math.floor(next() * 8) }, () => words[Math.floor(next() ** 2 * words.length)]).join(' '));
    const index = new Bm25Index(feedback);
    texts.forEach((t, i) => index.upsert(`d${i}`, t));
    const docs = texts.map((t) => tokenize(t));
    const avg = docs.reduce((s, d) => s + d.length, 0) / docs.length;
    const df = (t: string) => docs.filter((d) => d.includes(t)).length;
    const idf = (t: string) => Math.log(1 + (docs.length - df(t) + 0.5) / (df(t) + 0.5));
    const bm25 = (query: Map<string, number>) =>
      docs
        .map((d, i) => {
          let s = 0;
          for (const [t, w] of query) {
            const tf = d.filter((x) => x === t).length;
            if (tf > 0) s += (w * idf(t) * tf * 2.2) / (tf + 1.2 * (0.8 + (0.2 * d.length) / avg));
          }
          return { id: `d${i}`, doc: i, s };
        })
        .filter((h) => h.s > 0)
        .sort((x, y) => y.s - x.s || x.doc - y.doc);
    for (const q of ['w30 w31', 'w5 w38 w12', 'w39']) {
      const query = new Map(tokenize(q).map((t) => [t, 1]));
      const first = bm25(query);
      const top = first.slice(0, 2).filter((h) => first.length < 3 || h.s > first[2]!.s + 1e-9);
      const total = top.reduce((s, h) => s + h.s, 0);
      const mass = new Map<string, number>();
      for (const h of top) for (const t of new Set(docs[h.doc])) if (!query.has(t)) mass.set(t, (mass.get(t) ?? 0) + ((h.s / total) * idf(t)) / docs[h.doc]!.length);
      const best = [...mass].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).slice(0, 3);
      const sum = best.reduce((s, [, m]) => s + m, 0);
      for (const [t, m] of best) query.set(t, (0.3 * tokenize(q).length * m) / sum);
      const expected = bm25(query).slice(0, 20);
      const got = index.search(q, 20, () => true);
      expect(got.map((h) => h.score)).toEqual(expected.map((h) => expect.closeTo(h.s, 4)));
      expect(new Set(got.map((h) => h.id))).toEqual(new Set(expected.map((h) => h.id)));
    }
  });
});

describe('fuseRanks', () => {
  it('scores 1 for first in every list and rewards agreement', () => {
    const fused = fuseRanks([
      { ids: ['a', 'b', 'c'], weight: 1 },
      { ids: ['a', 'c'], weight: 1 },
    ]);
    expect(fused.get('a')).toBeCloseTo(1);
    expect(fused.get('c')!).toBeGreaterThan(fused.get('b')!);
    expect(fuseRanks([])).toEqual(new Map());
  });
  it('honours weights', () => {
    const fused = fuseRanks([
      { ids: ['x'], weight: 0 },
      { ids: ['y'], weight: 1 },
    ]);
    expect(fused.get('y')).toBeCloseTo(1);
    expect(fused.get('x')).toBe(0);
  });
});
