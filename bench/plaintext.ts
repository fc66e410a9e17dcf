// The plaintext-tier benchmark, run in headless Chromium by scripts/bench.mjs.
// Each exported step runs on a page of its own; `cold` runs on a fresh page.
import { create, insertMultiple, search as oramaSearch } from '@orama/orama';
import MiniSearch from 'minisearch';
import { createStaticEmbedder, createWorkerEmbedder } from '../src/embed';
import { Bm25Index } from '../src/search/bm25';
import { createMneme, Mneme } from '../src/mneme';
import { MemoryIndex } from '../src/search/memory-index';
import { openMemoryStore } from '../src/store/store';
import type { MemoryRecord } from '../src/memory/types';
import { median, percentile, synthetic } from './synthetic';
import { everydayMemories } from '../test/support/everyday-memories';

const scope = { userId: 'u1' };
const embedding = { model: 'synthetic/random-384', dim: 384 };
const COLD_DB = 'mneme-bench-cold';
const SEALED_DB = 'mneme-bench-cold-encrypted';
/** Where the encrypted steps keep their host key between pages (a CryptoKey is stored as it is, never exported). */
const KEY_DB = 'mneme-bench-key';

/** A searchable Mneme over n synthetic memories, indexed in memory (the store's IndexedDB stays empty). */
async function inMemory(n: number) {
  const data = synthetic(n);
  const store = await openMemoryStore({ name: `bench-mem-${n}-${Date.now()}` });
  const index = new MemoryIndex(embedding);
  const records: MemoryRecord[] = data.texts.map((text, i) => ({
    id: `m${i}`, text, scope, tags: [], importance: 0.5, source: 'imported', tier: 'plaintext',
    createdAt: i, updatedAt: i, lastAccessedAt: i, accessCount: 0, embedding,
  }));
  index.apply({ upserted: records, vectors: data.vectors.map((data, i) => ({ id: `m${i}`, ...embedding, data })), removed: [], removedRecords: [], events: [] });
  return { mneme: new Mneme(store, index, {}), data };
}

async function latencies(run: (q: { text: string; vector: Float32Array }) => Promise<unknown>, queries: { text: string; vector: Float32Array }[]) {
  for (const q of queries.slice(0, 20)) await run(q); // warm-up
  const samples: number[] = [];
  for (const q of queries) {
    const t = performance.now();
    await run(q);
    samples.push(performance.now() - t);
  }
  return samples;
}

export async function search(): Promise<Record<string, number | string>> {
  const out: Record<string, number | string> = {};
  for (const n of [10_000, 100_000]) {
    const { mneme, data } = await inMemory(n);
    const samples = await latencies((q) => mneme.searchMemory(q.text, { scope, k: 10, vector: q.vector }), data.queries);
    out[`search.p50_ms.n${n}`] = percentile(samples, 50);
    out[`search.p95_ms.n${n}`] = percentile(samples, 95);
    // Recall of the true match (the stored vector each query was made from) in the top 10.
    let found = 0;
    for (const q of data.queries) {
      const hits = await mneme.searchMemory(q.text, { scope, k: 10, vector: q.vector });
      if (hits.some((h) => h.parts.denseRank === 1)) found++;
    }
    out[`search.dense_top1_in_results.n${n}`] = found / data.queries.length;
    await mneme.close();
  }
  return out;
}

export async function peer(): Promise<Record<string, number | string>> {
  const n = 10_000;
  const data = synthetic(n);
  const db = create({ schema: { text: 'string', userId: 'string', embedding: 'vector[384]' } as const });
  await insertMultiple(db, data.texts.map((text, i) => ({ id: `m${i}`, text, userId: 'u1', embedding: Array.from(data.vectors[i]!) })));
  const samples = await latencies(
    (q) =>
      Promise.resolve(
        oramaSearch(db, {
          mode: 'hybrid',
          term: q.text,
          vector: { value: Array.from(q.vector), property: 'embedding' },
          similarity: 0.5,
          where: { userId: 'u1' },
          limit: 10,
        }),
      ),
    data.queries,
  );
  return { [`search.orama.p50_ms.n${n}`]: percentile(samples, 50), [`search.orama.p95_ms.n${n}`]: percentile(samples, 95) };
}

export async function ingest(): Promise<Record<string, number | string>> {
  const data = synthetic(5_000, { queries: 0 });
  const store = await openMemoryStore({ name: `bench-ingest-${Date.now()}` });
  const samples: number[] = [];
  for (let b = 0; b < 5; b++) {
    const slice = { from: b * 1000, to: (b + 1) * 1000 };
    const inputs = data.texts.slice(slice.from, slice.to).map((text) => ({ text, scope }));
    const t = performance.now();
    await store.addMany(inputs, { vectors: data.vectors.slice(slice.from, slice.to), embedding });
    samples.push(performance.now() - t);
  }
  store.close();
  return { 'ingest.per_1000_ms': median(samples) };
}

const fixedEmbedder = { ref: embedding, load: async () => embedding, embed: async () => [], dispose: async () => {} };

function deleteDatabase(name: string): Promise<void> {
  return new Promise<void>((ok) => {
    const r = indexedDB.deleteDatabase(name);
    r.onsuccess = r.onerror = r.onblocked = () => ok();
  });
}

/** The host key of the encrypted steps: made by `populate`, read back by later pages. */
async function hostKey(make: boolean): Promise<CryptoKey> {
  const { openDB } = await import('idb');
  const db = await openDB(KEY_DB, 1, { upgrade: (d) => void d.createObjectStore('keys') });
  try {
    if (make) await db.put('keys', await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']), 'key');
    return (await db.get('keys', 'key')) as CryptoKey;
  } finally {
    db.close();
  }
}

/** Fills the databases the `cold` steps open (plain, and encrypted under a host key), then opens and closes each once as an app would (which caches the index). */
export async function populate(): Promise<Record<string, number | string>> {
  const data = synthetic(10_000, { queries: 0 });
  const key = await hostKey(true);
  for (const [name, encryption] of [[COLD_DB, undefined], [SEALED_DB, { key }]] as const) {
    await deleteDatabase(name);
    const store = await openMemoryStore({ name, ...(encryption && { encryption }) });
    for (let i = 0; i < 10_000; i += 2_000) {
      await store.addMany(
        data.texts.slice(i, i + 2_000).map((text) => ({ text, scope })),
        { vectors: data.vectors.slice(i, i + 2_000), embedding },
      );
    }
    store.close();
    await (await createMneme({ name, embedder: fixedEmbedder, ...(encryption && { encryption }) })).close();
  }
  return {};
}

async function timeFirstSearch(name = COLD_DB, encryption?: { key: CryptoKey }): Promise<number> {
  const query = synthetic(10_000, { queries: 1 }).queries[0]!;
  const t = performance.now();
  const mneme = await createMneme({ name, embedder: fixedEmbedder, ...(encryption && { encryption }) });
  const hits = await mneme.searchMemory(query.text, { scope, k: 10, vector: query.vector });
  const ms = performance.now() - t;
  if (hits.length === 0 || mneme.size < 10_000) throw new Error(`cold open found ${mneme.size} memories, ${hits.length} results`);
  await mneme.close();
  return ms;
}

/** On a fresh page: open the store of 10k memories and get the first search result (the index comes from its snapshot). */
export async function cold(): Promise<Record<string, number | string>> {
  return { 'open.cold_ms.n10000': await timeFirstSearch() };
}

/**
 * The same without a current snapshot. `rebuild`: another tab wrote last (the stale snapshot catches
 * up from the log); `full_rebuild`: no snapshot at all (after an upgrade, a delete, or compaction past
 * it): every record is read and indexed.
 */
export async function rebuild(): Promise<Record<string, number | string>> {
  return staleThenFull(COLD_DB, undefined, '');
}

async function staleThenFull(name: string, encryption: { key: CryptoKey } | undefined, suffix: string): Promise<Record<string, number>> {
  await writeBehind(name, encryption);
  const staleMs = await timeFirstSearch(name, encryption);
  const { openDB } = await import('idb');
  const db = await openDB(name);
  await db.clear('snapshots');
  db.close();
  return { [`open.rebuild_ms.n10000${suffix}`]: staleMs, [`open.full_rebuild_ms.n10000${suffix}`]: await timeFirstSearch(name, encryption) };
}

/** Another tab writes 10 memories and closes before saving its snapshot: the snapshot on disk is stale. */
async function writeBehind(name: string, encryption?: { key: CryptoKey }): Promise<void> {
  const store = await openMemoryStore({ name, ...(encryption && { encryption }) });
  const data = synthetic(10, { queries: 0, seed: 7 });
  await store.addMany(data.texts.map((text) => ({ text, scope })), { vectors: data.vectors, embedding });
  store.close();
}

/** `cold` on the encrypted database (host key: no key derivation): the sealed index snapshot is opened. */
export async function coldEncrypted(): Promise<Record<string, number | string>> {
  return { 'open.cold_ms.n10000.encrypted': await timeFirstSearch(SEALED_DB, { key: await hostKey(false) }) };
}

/** `rebuild` on the encrypted database. */
export async function rebuildEncrypted(): Promise<Record<string, number | string>> {
  const out = await staleThenFull(SEALED_DB, { key: await hostKey(false) }, '.encrypted');
  await Promise.all([deleteDatabase(SEALED_DB), deleteDatabase(KEY_DB)]);
  return out;
}

/** The stand-in embedding model (random weights, real MiniLM shape and tokenizer) through the worker. */
export async function embed(): Promise<Record<string, number | string>> {
  const embedder = createWorkerEmbedder({ model: 'mneme/standin-minilm-l6', modelBaseUrl: '/test/fixtures/generated/models', allowRemote: false, dtype: 'fp32' });
  try {
    await embedder.load();
    const texts = synthetic(96, { queries: 0 }).texts;
    await embedder.embed(texts.slice(0, 16)); // warm-up
    const t = performance.now();
    await embedder.embed(texts.slice(16));
    return { 'embed.per_text_ms': (performance.now() - t) / 80, 'embed.model': 'stand-in: random-weight MiniLM-L6 shape, fp32, WASM' };
  } finally {
    await embedder.dispose();
  }
}


/**
 * Lexical search alone, ours against MiniSearch (BM25+, its default tokenizer, no stemming) on the
 * same 10k texts: p50 latency, how often the query's source text is in the top 10, and how much
 * of the two top 10s agree.
 */
export async function lexical(): Promise<Record<string, number | string>> {
  const n = 10_000;
  const data = synthetic(n);
  const ours = new Bm25Index();
  data.texts.forEach((text, i) => ours.upsert(`m${i}`, text));
  const mini = new MiniSearch<{ id: string; text: string; userId: string }>({ fields: ['text'], storeFields: ['userId'] });
  mini.addAll(data.texts.map((text, i) => ({ id: `m${i}`, text, userId: 'u1' })));
  const ourTop = (q: string) => ours.search(q, 10, () => true).map((h) => h.id);
  const miniTop = (q: string) => mini.search(q, { filter: (r) => r.userId === 'u1' }).slice(0, 10).map((r) => r.id as string);
  const oursMs = await latencies((q) => Promise.resolve(ourTop(q.text)), data.queries);
  const miniMs = await latencies((q) => Promise.resolve(miniTop(q.text)), data.queries);
  const targets = data.queries.map((q) => `m${data.texts.findIndex((t) => t.startsWith(q.text))}`);
  const hit = (top: (q: string) => string[]) => data.queries.filter((q, i) => top(q.text).includes(targets[i]!)).length / data.queries.length;
  const agreement = data.queries.reduce((sum, q) => sum + ourTop(q.text).filter((id) => miniTop(q.text).includes(id)).length / 10, 0) / data.queries.length;
  return {
    [`search.lexical.p50_ms.n${n}`]: percentile(oursMs, 50),
    [`search.minisearch.p50_ms.n${n}`]: percentile(miniMs, 50),
    [`search.lexical.source_in_top10.n${n}`]: hit(ourTop),
    [`search.minisearch.source_in_top10.n${n}`]: hit(miniTop),
    [`search.minisearch.agreement_at_10.n${n}`]: agreement,
  };
}

/** The static embedder (GloVe, model2vec format) on the page's thread: time per text, short texts as typed. */
export async function staticEmbed(): Promise<Record<string, number | string>> {
  const embedder = createStaticEmbedder({ model: 'mneme/glove-6b-100d-50k', modelBaseUrl: '/test/fixtures/generated/models', allowRemote: false });
  try {
    await embedder.load();
  } catch (error) {
    return { 'embed.static.per_text_us': `skipped: ${(error as Error).message}` };
  }
  // Drafts as typed: every prefix, at word ends, of 40 everyday English sentences.
  const drafts = everydayMemories(40).flatMap(({ text }) => [...text.matchAll(/\S+/g)].map((m) => text.slice(0, m.index + m[0].length)));
  await embedder.embed(drafts.slice(0, 20)); // warm-up
  const t = performance.now();
  for (const d of drafts) await embedder.embed([d]);
  const perText = (performance.now() - t) / drafts.length;
  await embedder.dispose();
  return { 'embed.static.per_text_us': perText * 1000, 'embed.static.model': `GloVe 6B 100-d, 50k words (model2vec format); ${drafts.length} drafts of everyday sentences, one per call` };
}
