// The worker embedder through the real transformers.js path in Chromium, with
// the stand-in MiniLM (real tokenizer, random weights) served by the test server.
// Needs `node scripts/gen-standin-models.mjs` (npm test runs it).
import { pipeline, type FeatureExtractionPipeline } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { configureTransformers } from '../../src/embed/transformers-service';
import { resolveEmbedderConfig } from '../../src/embed/config';
import type { Embedder, EmbedderConfig, LoadProgress } from '../../src/embed/types';
import { createWorkerEmbedder } from '../../src/embed/worker-embedder';
import { InvalidInputError, ModelError, RpcError } from '../../src/errors';
import { rejection } from '../support/rejection';

const BASE = '/test/fixtures/generated/models';
const STANDIN = { modelBaseUrl: BASE, model: 'mneme/standin-minilm-l6', allowRemote: false, dtype: 'fp32' } as const satisfies EmbedderConfig;
const MODEL_URL = new URL(`${BASE}/${STANDIN.model}/`, location.href).href;
const LOAD_MS = 120_000;

const TEXTS = [
  'I moved to Lisbon in March.',
  'My sister is allergic to peanuts, so we never cook with them.',
  'hello',
  'The quarterly report is due on the last Friday of the month, and the finance team wants the numbers reconciled against the ledger before anyone signs off on it.',
  'Remind me to water the ficus.',
  'She prefers tea over coffee in the mornings',
  'Ünïcødé and emoji 🙂 still tokenize.',
];

const uniqueCache = (label: string) => `mneme-test-${label}-${Math.random().toString(36).slice(2)}`;
const norm = (v: Float32Array) => Math.sqrt(v.reduce((a, x) => a + x * x, 0));
function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

describe('worker embedder, loaded once', () => {
  const cacheName = uniqueCache('main');
  let embedder: Embedder;
  const events: LoadProgress[] = [];
  let page: FeatureExtractionPipeline; // the same model run in this page, for reference values

  beforeAll(async () => {
    embedder = createWorkerEmbedder({ ...STANDIN, cacheName, batchSize: 3 });
    await embedder.load({ onProgress: (p) => events.push(p) });
    const config = resolveEmbedderConfig({ ...STANDIN, cacheName }, location.href);
    configureTransformers(config, { base: location.href });
    page = await pipeline('feature-extraction', STANDIN.model, { dtype: 'fp32', device: 'wasm' });
  }, LOAD_MS);

  afterAll(async () => {
    await embedder?.dispose();
    await page?.dispose();
    await caches.delete(cacheName);
  });

  test('load reports progress that only grows and reaches 1 when ready', () => {
    expect(events.length).toBeGreaterThan(3);
    expect(events.length).toBeLessThan(300); // throttled, not one message per chunk
    const fractions = events.map((e) => e.fraction);
    fractions.forEach((f, i) => {
      expect(f).toBeGreaterThanOrEqual(i === 0 ? 0 : fractions[i - 1]!);
      expect(f).toBeLessThanOrEqual(1);
    });
    const last = events.at(-1)!;
    expect(last).toMatchObject({ status: 'ready', fraction: 1 });
    expect(events.slice(0, -1).every((e) => e.status !== 'ready' && e.fraction < 1)).toBe(true);
    expect(events.some((e) => e.file === 'onnx/model.onnx' && e.status === 'downloading')).toBe(true);
    expect(last.total).toBeGreaterThan(22_565_376 * 4); // the fp32 weights were counted
    expect(events.every((e) => e.loaded <= e.total)).toBe(true);
  });

  test('ref names the model and its dimension', () => {
    expect(embedder.ref).toEqual({ model: 'mneme/standin-minilm-l6', dim: 384 });
  });

  test('vectors are 384-d, unit length, deterministic, and differ between texts', async () => {
    const vectors = await embedder.embed(TEXTS);
    expect(vectors).toHaveLength(TEXTS.length);
    for (const v of vectors) {
      expect(v).toBeInstanceOf(Float32Array);
      expect(v.length).toBe(384);
      expect(Math.abs(norm(v) - 1)).toBeLessThan(1e-5);
    }
    const again = await embedder.embed([TEXTS[0]!]);
    expect(maxAbsDiff(again[0]!, vectors[0]!)).toBeLessThan(1e-6);
    expect(maxAbsDiff(vectors[0]!, vectors[1]!)).toBeGreaterThan(1e-3);
    expect(await embedder.embed([])).toEqual([]);
  });

  test('mean pooling = the mask-weighted mean of the token embeddings, normalized', async () => {
    const vectors = await embedder.embed(TEXTS);
    const tokens = await page(TEXTS, { pooling: 'none' }); // [batch, seq, 384], padded to the longest
    const [batch, seq, dim] = tokens.dims as [number, number, number];
    const mask = page.tokenizer(TEXTS, { padding: true, truncation: true }).attention_mask.data as BigInt64Array;
    expect(batch).toBe(TEXTS.length);
    expect(mask.includes(0n)).toBe(true); // padding is present, so the mask matters
    const data = tokens.data as Float32Array;
    for (let b = 0; b < batch; b++) {
      const mean = new Float32Array(dim);
      const naive = new Float32Array(dim); // padding included: must NOT match when the text is padded
      let count = 0;
      for (let s = 0; s < seq; s++) {
        const real = mask[b * seq + s] === 1n;
        if (real) count++;
        for (let k = 0; k < dim; k++) {
          const x = data[(b * seq + s) * dim + k]!;
          naive[k]! += x / seq;
          if (real) mean[k]! += x;
        }
      }
      const expected = mean.map((x) => x / count);
      const n = norm(expected);
      expect(maxAbsDiff(vectors[b]!, expected.map((x) => x / n))).toBeLessThan(1e-5);
      if (count < seq) {
        const nn = norm(naive);
        expect(maxAbsDiff(vectors[b]!, naive.map((x) => x / nn))).toBeGreaterThan(1e-3);
      }
    }
  });

  test('batching changes nothing: one call (batches of 3 for 7 texts) = one by one = one batch of 7', async () => {
    const together = await embedder.embed(TEXTS);
    const alone: Float32Array[] = [];
    for (const text of TEXTS) alone.push(...(await embedder.embed([text])));
    const oneBatch = await page(TEXTS, { pooling: 'mean', normalize: true });
    const rows = (oneBatch.data as Float32Array).length / 384;
    expect(rows).toBe(TEXTS.length);
    TEXTS.forEach((_, i) => {
      expect(maxAbsDiff(together[i]!, alone[i]!)).toBeLessThan(1e-5);
      expect(maxAbsDiff(together[i]!, (oneBatch.data as Float32Array).slice(i * 384, (i + 1) * 384))).toBeLessThan(1e-5);
    });
  });

  test('bad input is an InvalidInputError naming the entry, and nothing crosses', async () => {
    const bad: [unknown, string, string][] = [
      ['one string', 'invalid-input', 'texts must be an array'],
      [['fine', ''], 'text-empty', 'texts[1] is empty'],
      [['fine', null], 'invalid-input', 'texts[1] must be a string'],
    ];
    for (const [texts, code, mentions] of bad) {
      const error = await rejection(embedder.embed(texts as string[]));
      expect(error).toBeInstanceOf(InvalidInputError);
      expect(error.code).toBe(code);
      expect(error.message).toContain(mentions);
    }
    expect(() => createWorkerEmbedder({ ...STANDIN, batchSize: -1 })).toThrow(InvalidInputError);
  });

  test('aborting an embed rejects with aborted, stops the worker between batches, and the embedder stays usable', async () => {
    const many = Array.from({ length: 60 }, (_, i) => `${TEXTS[3]} (${i})`); // 20 batches of 3
    let started = performance.now();
    await embedder.embed(many);
    const whole = performance.now() - started;

    const controller = new AbortController();
    started = performance.now();
    const call = embedder.embed(many, { signal: controller.signal });
    setTimeout(() => controller.abort(), 30);
    const error = await rejection(call);
    expect(error).toBeInstanceOf(RpcError);
    expect(error.code).toBe('aborted');
    // The next call waits only for the batch in progress, not for the 20 batches.
    expect((await embedder.embed(['still here']))[0]!.length).toBe(384);
    expect(performance.now() - started).toBeLessThan(whole / 2);
  });

  test('the ONNX Runtime files come from this origin and are cached with the model', async () => {
    const urls = (await (await caches.open(cacheName)).keys()).map((r) => r.url);
    expect(urls.every((u) => new URL(u).origin === location.origin)).toBe(true);
    expect(urls.some((u) => u.endsWith('/ort-wasm-simd-threaded.asyncify.wasm'))).toBe(true);
  });
});

describe('browser cache', () => {
  const cacheName = uniqueCache('cache');
  const embedders: Embedder[] = [];
  const make = (config: EmbedderConfig) => {
    const e = createWorkerEmbedder(config);
    embedders.push(e);
    return e;
  };
  afterAll(async () => {
    await Promise.all(embedders.map((e) => e.dispose()));
    await caches.delete(cacheName);
  });

  test(
    'model files land in the named cache, and a later load is served from it',
    async () => {
      const first = make({ ...STANDIN, cacheName });
      await first.load();
      const cache = await caches.open(cacheName);
      const urls = (await cache.keys()).map((r) => r.url);
      for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx']) {
        expect(urls).toContain(`${MODEL_URL}${file}`);
      }

      // Copy the cached files to a model path the server does not have: only the cache can serve it.
      const cachedOnly = new URL(`${BASE}/mneme/cache-only/`, location.href).href;
      expect((await fetch(`${cachedOnly}config.json`)).status).toBe(404);
      for (const url of urls.filter((u) => u.startsWith(MODEL_URL))) {
        const response = await cache.match(url);
        await cache.put(url.replace(MODEL_URL, cachedOnly), response!);
      }

      const started = performance.now();
      const second = make({ ...STANDIN, model: 'mneme/cache-only', cacheName });
      expect(await second.load()).toEqual({ model: 'mneme/cache-only', dim: 384 });
      console.log(`load from the browser cache: ${Math.round(performance.now() - started)} ms`);
      const [a] = await first.embed(['the cache serves the same weights']);
      const [b] = await second.embed(['the cache serves the same weights']);
      expect(maxAbsDiff(a!, b!)).toBeLessThan(1e-6);

      // Without that cache the same model cannot load.
      const error = await rejection(make({ ...STANDIN, model: 'mneme/cache-only', cacheName: uniqueCache('empty') }).load());
      expect(error.code).toBe('model-load-failed');
    },
    LOAD_MS,
  );
});

describe('load failures and limits', () => {
  const embedders: Embedder[] = [];
  const make = (config: EmbedderConfig, options?: { loadTimeoutMs?: number }) => {
    const e = createWorkerEmbedder({ cacheName: uniqueCache('fail'), ...config }, options);
    embedders.push(e);
    return e;
  };
  afterAll(async () => {
    await Promise.all(embedders.map((e) => e.dispose()));
    for (const name of await caches.keys()) if (name.startsWith('mneme-test-fail-')) await caches.delete(name);
  });

  test('a missing model is a ModelError naming the model, the URL tried and the setting', async () => {
    const error = await rejection(make({ ...STANDIN, model: 'mneme/no-such-model' }).load());
    expect(error).toBeInstanceOf(ModelError);
    expect(error.code).toBe('model-load-failed');
    expect(error.message).toContain('"mneme/no-such-model"');
    expect(error.message).toContain(new URL(`${BASE}/mneme/no-such-model/`, location.href).href);
    expect(error.message).toContain('modelBaseUrl');
  });

  test('a dtype the server lacks names the exact file that failed', async () => {
    const error = await rejection(make({ ...STANDIN, dtype: 'q8' }).load());
    expect(error.code).toBe('model-load-failed');
    expect(error.message).toContain(`${MODEL_URL}onnx/model_quantized.onnx (HTTP 404)`);
    expect(error.message).toContain('dtype');
  });

  test('remote loading off with no base URL is remote-loading-disabled, before any worker starts', async () => {
    const error = await rejection(make({ allowRemote: false }).load());
    expect(error).toBeInstanceOf(ModelError);
    expect(error.code).toBe('remote-loading-disabled');
    expect(error.message).toContain('allowRemote');
    expect(error.message).toContain('modelBaseUrl');
  });

  test('a load past loadTimeoutMs rejects with timeout', async () => {
    const error = await rejection(make(STANDIN, { loadTimeoutMs: 50 }).load());
    expect(error).toBeInstanceOf(RpcError);
    expect(error.code).toBe('timeout');
  });

  test(
    'an aborted load rejects with aborted and can be retried',
    async () => {
      const embedder = make(STANDIN);
      const controller = new AbortController();
      const loading = embedder.load({ signal: controller.signal });
      setTimeout(() => controller.abort(), 100);
      expect((await rejection(loading)).code).toBe('aborted');
      expect(embedder.ref).toBeUndefined();
      expect(await embedder.load()).toEqual({ model: STANDIN.model, dim: 384 });
    },
    LOAD_MS,
  );

  test('a disposed embedder refuses work', async () => {
    const embedder = make(STANDIN);
    await embedder.dispose();
    const error = await rejection(embedder.embed(['x']));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toContain('disposed');
  });
});
