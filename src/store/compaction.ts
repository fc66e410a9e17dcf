// The bounded event log's I/O: compaction folds the log's oldest events into
// the per-memory use tallies and deletes them, a chunk per transaction, so the
// tallies and the position they cover never disagree with the log; and the read
// a scheduler starts from (the tallies plus the tail after their position). What
// to fold and how is decided in memory/event-log.ts.
import type { IDBPDatabase } from 'idb';
import { compactable, foldEvents, type LogFold, type Retention, type UseTally } from '../memory/event-log';
import type { MemoryEvent } from '../memory/types';
import { guard } from './idb-errors';
import type { MnemeDB } from './schema';

/** Events folded per transaction: large enough to be quick, small enough not to hold the log for long. */
const CHUNK = 5_000;

/** The log as a scheduler starts from it: the tallies of compacted events, and the events after them. */
export interface HeatLog {
  tallies: UseTally[];
  tail: MemoryEvent[];
  fold: LogFold | undefined;
}

/** Folds one chunk of the oldest events retention lets go; returns how many it folded (0: the log is within retention). */
async function compactChunk(db: IDBPDatabase<MnemeDB>, retention: Retention, halfLifeMs: number, now: number): Promise<number> {
  const tx = db.transaction(['events', 'tallies', 'logState'], 'readwrite', { durability: 'strict' });
  const events = tx.objectStore('events');
  const tallies = tx.objectStore('tallies');
  const fold = (await tx.objectStore('logState').get('fold')) ?? { upTo: 0, halfLifeMs };
  const [total, oldest] = await Promise.all([events.count(), events.getAll(IDBKeyRange.lowerBound(fold.upTo, true), CHUNK)]);
  const n = compactable(oldest, total, retention, now);
  if (n === 0) {
    await tx.done;
    return 0;
  }
  const folded = oldest.slice(0, n);
  const ids = [...new Set(folded.map((e) => e.memoryId))];
  const found = await Promise.all(ids.map((id) => tallies.get(id)));
  const before = new Map(found.filter((t): t is UseTally => t !== undefined).map((t) => [t.id, t]));
  const { put, drop } = foldEvents(before, folded, fold.halfLifeMs);
  const last = folded[n - 1]!.seq!;
  await Promise.all<unknown>([
    ...put.map((t) => tallies.put(t)),
    ...drop.map((id) => tallies.delete(id)),
    events.delete(IDBKeyRange.bound(folded[0]!.seq!, last)),
    tx.objectStore('logState').put({ upTo: last, halfLifeMs: fold.halfLifeMs }, 'fold'),
    tx.done,
  ]);
  return n;
}

/**
 * Folds the events retention lets go into the tallies, a chunk per transaction (another tab may
 * compact at the same time: each chunk starts from the position the last one stored). Returns how many it folded.
 */
export async function compactLog(db: IDBPDatabase<MnemeDB>, retention: Retention, halfLifeMs: number, now: number): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await guard('compacting the event log', () => compactChunk(db, retention, halfLifeMs, now));
    total += n;
    if (n === 0) return total;
  }
}

/** The tallies and the log's tail, read in one transaction (a compaction cannot fall between them). */
export function readHeatLog(db: IDBPDatabase<MnemeDB>): Promise<HeatLog> {
  return guard('reading the event log', async () => {
    const tx = db.transaction(['events', 'tallies', 'logState'], 'readonly');
    const fold = await tx.objectStore('logState').get('fold');
    const [tallies, tail] = await Promise.all([tx.objectStore('tallies').getAll(), tx.objectStore('events').getAll(IDBKeyRange.lowerBound(fold?.upTo ?? 0, true)), tx.done]);
    return { tallies, tail, fold };
  });
}
