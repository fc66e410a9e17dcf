// The bounded event log's I/O: compaction folds the log's oldest events into
// the use tallies and deletes them, a chunk per transaction, so the tallies and
// the position they cover never disagree with the log; and the read a scheduler
// starts from (the tallies plus the tail after their position). What to fold
// and how is decided in memory/event-log.ts.
import type { IDBPDatabase } from 'idb';
import { compactable, foldEvents, packTallies, unpackTallies, type LogFold, type Retention, type UseTally } from '../memory/event-log';
import type { MemoryEvent } from '../memory/types';
import { guard } from './idb-errors';
import type { MnemeDB } from './schema';

/** Events folded per transaction: large enough to be quick, small enough not to hold the log for long. */
const CHUNK = 25_000;

/** The log as a scheduler starts from it: the tallies of compacted events, and the events after them. */
export interface HeatLog {
  tallies: UseTally[];
  tail: MemoryEvent[];
  /** The last log position folded into the tallies (0: none). */
  upTo: number;
}

/**
 * Folds one chunk of the oldest events retention lets go; returns how many it folded (0: the log is
 * within retention). `cache` keeps the unpacked tallies between chunks while no one else compacted.
 */
async function compactChunk(db: IDBPDatabase<MnemeDB>, retention: Retention, halfLifeMs: number, now: number, cache: { upTo: number; tallies: Map<string, UseTally> }): Promise<number> {
  const tx = db.transaction(['events', 'logState'], 'readwrite', { durability: 'strict' });
  const events = tx.objectStore('events');
  const fold: LogFold | undefined = await tx.objectStore('logState').get('fold');
  const upTo = fold?.upTo ?? 0;
  const [total, oldest] = await Promise.all([events.count(), events.getAll(IDBKeyRange.lowerBound(upTo, true), CHUNK)]);
  const n = compactable(oldest, total, retention, now);
  if (n === 0) {
    await tx.done;
    return 0;
  }
  if (cache.upTo !== upTo) cache.tallies = new Map(unpackTallies(fold?.tallies).map((t) => [t.id, t]));
  const folded = oldest.slice(0, n);
  const foldHalfLife = fold?.halfLifeMs ?? halfLifeMs;
  foldEvents(cache.tallies, folded, foldHalfLife);
  const last = folded[n - 1]!.seq!;
  const next: LogFold = { upTo: last, halfLifeMs: foldHalfLife, tallies: packTallies(cache.tallies.values()) };
  await Promise.all<unknown>([events.delete(IDBKeyRange.bound(folded[0]!.seq!, last)), tx.objectStore('logState').put(next, 'fold'), tx.done]);
  cache.upTo = last;
  return n;
}

/**
 * Folds the events retention lets go into the tallies, a chunk per transaction (another tab may
 * compact at the same time: each chunk starts from the position the last one stored). Returns how many it folded.
 */
export async function compactLog(db: IDBPDatabase<MnemeDB>, retention: Retention, halfLifeMs: number, now: number): Promise<number> {
  const cache = { upTo: -1, tallies: new Map<string, UseTally>() };
  let total = 0;
  for (;;) {
    const n = await guard('compacting the event log', () => compactChunk(db, retention, halfLifeMs, now, cache));
    total += n;
    if (n === 0) return total;
  }
}

/** The tallies and the log's tail, read in one transaction (a compaction cannot fall between them). */
export function readHeatLog(db: IDBPDatabase<MnemeDB>): Promise<HeatLog> {
  return guard('reading the event log', async () => {
    const tx = db.transaction(['events', 'logState'], 'readonly');
    const fold = await tx.objectStore('logState').get('fold');
    const [tail] = await Promise.all([tx.objectStore('events').getAll(IDBKeyRange.lowerBound(fold?.upTo ?? 0, true)), tx.done]);
    return { tallies: unpackTallies(fold?.tallies), tail, upTo: fold?.upTo ?? 0 };
  });
}
