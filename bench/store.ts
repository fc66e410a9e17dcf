// The store's open paths at scale, run in headless Chromium by scripts/bench.mjs
// (`npm run bench store`). The 10k open steps (plain and encrypted, from the
// index snapshot or rebuilt) are plaintext.ts's. `populate` writes 100k memories of one user and a
// year of 1M events with bulk IndexedDB writes (no per-write transactions);
// `scheduler` times a scheduler's start over the whole log with no saved themes
// (the baseline: what every start did before the log was bounded and themes
// were saved), the save of the themes it placed, the compaction that folds the
// log, and the start from tallies plus the tail and the saved themes.
import { openDB } from 'idb';
import { createMneme } from '../src/mneme';
import { Scheduler } from '../src/scheduler/scheduler';
import { openMemoryStore } from '../src/store/store';
import type { MemoryRow, MnemeDB } from '../src/store/schema';
import type { MemoryEvent, UseKind } from '../src/memory/types';
import { synthetic } from './synthetic';

export { populate as populateOpen, cold, rebuild, coldEncrypted, rebuildEncrypted } from './plaintext';

const LOG_DB = 'mneme-bench-log';
const MEMORIES = 100_000;
const EVENTS = 1_000_000;
const YEAR = 365 * 86_400_000;
const END = Date.parse('2026-06-01T00:00:00Z');
const scope = { userId: 'u1' };
const embedder = { ref: { model: 'synthetic/none', dim: 8 }, load: async () => ({ model: 'synthetic/none', dim: 8 }), embed: async () => [], dispose: async () => {} };

function deleteDatabase(name: string): Promise<void> {
  return new Promise((ok) => {
    const r = indexedDB.deleteDatabase(name);
    r.onsuccess = r.onerror = r.onblocked = () => ok();
  });
}

/** Puts `values` into `store` in transactions of `batch`, queuing every request of a transaction before awaiting it. */
async function bulk<S extends 'memories' | 'events'>(db: Awaited<ReturnType<typeof openDB<MnemeDB>>>, store: S, count: number, make: (i: number) => MnemeDB[S]['value'], batch = 50_000): Promise<void> {
  for (let from = 0; from < count; from += batch) {
    const tx = db.transaction(store, 'readwrite', { durability: 'relaxed' });
    for (let i = from; i < Math.min(count, from + batch); i++) void tx.store.put(make(i) as never);
    await tx.done;
  }
}

/** 100k memories created over a year, then 900k uses of them (mentions, retrievals, accesses), in time order. */
export async function populate(): Promise<Record<string, number | string>> {
  await deleteDatabase(LOG_DB);
  (await openMemoryStore({ name: LOG_DB })).close(); // the current schema
  const texts = synthetic(MEMORIES, { queries: 0, dim: 1 }).texts;
  const start = END - YEAR;
  const step = YEAR / EVENTS;
  const t = performance.now();
  const db = await openDB<MnemeDB>(LOG_DB);
  await bulk(db, 'memories', MEMORIES, (i): MemoryRow => {
    const at = Math.round(start + i * 10 * step);
    return { id: `m${i}`, text: texts[i]!, scope, tags: [], importance: 0.5, source: 'user', tier: 'plaintext', createdAt: at, updatedAt: at, lastAccessedAt: at, accessCount: 0, owner: 'u:u1' };
  });
  const kinds: UseKind[] = ['retrieval', 'retrieval', 'mention', 'access'];
  await bulk(db, 'events', EVENTS, (i): MemoryEvent => {
    const at = Math.round(start + i * step);
    // Every tenth event creates the next memory; the others use one made earlier.
    if (i % 10 === 0) return { at, memoryId: `m${i / 10}`, type: 'created', source: 'user', origin: 'add' };
    return { at, memoryId: `m${(i * 7919) % Math.floor(i / 10 + 1)}`, type: 'accessed', use: kinds[i % 4]! };
  });
  await db.put('meta', crypto.randomUUID(), 'generation'); // as a store's own writes leave it
  db.close();
  return { 'log.populate_s': (performance.now() - t) / 1000 };
}

/**
 * A scheduler's start; its first search right after (which builds what the start left for later, e.g. restored
 * themes' term tables); and its close (which saves the themes it placed, when there was no saved state to restore).
 */
async function timedStart(mneme: Awaited<ReturnType<typeof createMneme>>, query: string): Promise<{ start: number; search: number; close: number }> {
  const t = performance.now();
  const s = await Scheduler.create(mneme, { scope, clock: () => END });
  const start = performance.now() - t;
  const q = performance.now();
  await s.search(query, { k: 10 });
  const search = performance.now() - q;
  const c = performance.now();
  await s.dispose();
  return { start, search, close: performance.now() - c };
}

export async function scheduler(): Promise<Record<string, number | string>> {
  const mneme = await createMneme({ name: LOG_DB, embedder, now: () => END, snapshotDelayMs: 3_600_000 });
  try {
    if (mneme.size !== MEMORIES) throw new Error(`the log database holds ${mneme.size} memories; run the populate step first`);
    const query = mneme.peek('m777')!.text.split(' ').slice(0, 3).join(' ');
    const full = await timedStart(mneme, query);
    const c = performance.now();
    const folded = await mneme.store.compactLog();
    const compactMs = performance.now() - c;
    // The median of five starts: one start is a few hundred ms, within the reach of a GC pause or another process.
    const starts: { start: number; search: number; close: number }[] = [];
    for (let i = 0; i < 5; i++) starts.push(await timedStart(mneme, query));
    const bounded = starts.sort((a, b) => a.start - b.start)[2]!;
    const r = performance.now();
    await mneme.store.heatLog();
    const logRead = performance.now() - r;
    const s = performance.now();
    await mneme.store.readSnapshot('themes:u1');
    return {
      'open.scheduler_full_replay_ms.n100000': full.start,
      'themes.save_ms.n100000': full.close,
      'log.compact_ms.n1000000': compactMs,
      'log.compacted_events': folded,
      'open.scheduler_ms.n100000': bounded.start,
      'open.scheduler_ms.n100000.runs': starts.map((s) => Math.round(s.start)).join(' '),
      'open.scheduler_first_search_ms.n100000': bounded.search,
      'search.scheduled_ms.n100000': full.search,
      'open.scheduler_log_read_ms.n100000': logRead,
      'open.scheduler_themes_read_ms.n100000': performance.now() - s,
    };
  } finally {
    await mneme.close();
    await deleteDatabase(LOG_DB);
  }
}
