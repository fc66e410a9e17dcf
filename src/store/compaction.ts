// The bounded event log's I/O: compaction folds the log's oldest events into
// the use tallies and deletes them, a chunk at a time; and the read a scheduler
// starts from (the tallies plus the tail after their position). What to fold
// and how is decided in memory/event-log.ts. In an encrypted store events and
// tallies are sealed, and nothing is opened or sealed inside a transaction: a
// chunk is read in one, folded outside, and written in a second that first
// checks no other compaction moved the position meanwhile.
import type { IDBPDatabase } from 'idb';
import { compactable, foldEvents, packTallies, unpackTallies, type LogFold, type PackedTallies, type Retention, type UseTally } from '../memory/event-log';
import type { MemoryEvent } from '../memory/types';
import { guard } from './idb-errors';
import type { MnemeDB } from './schema';
import type { RowCodec } from './seal';

/** Events folded per chunk: large enough to be quick, small enough not to hold the log for long. */
const CHUNK = 25_000;

/** The log as a scheduler starts from it: the tallies of compacted events, and the events after them. */
export interface HeatLog {
  tallies: UseTally[];
  tail: MemoryEvent[];
  /** The last log position folded into the tallies (0: none). */
  upTo: number;
}

interface Compaction {
  db: IDBPDatabase<MnemeDB>;
  codec: RowCodec;
  retention: Retention;
  halfLifeMs: number;
  now: number;
  /** The tallies unpacked, as of position `upTo`, kept between chunks while no one else compacts. */
  cache: { upTo: number; tallies: Map<string, UseTally> };
}

async function openTallies(codec: RowCodec, fold: LogFold | undefined): Promise<UseTally[]> {
  return unpackTallies(fold && ((await codec.openValue(fold.tallies)) as PackedTallies | undefined));
}

/** Folds one chunk of the oldest events retention lets go; returns how many it folded (0: the log is within retention). */
async function compactChunk(c: Compaction): Promise<number> {
  const read = await guard('reading the event log', async () => {
    const tx = c.db.transaction(['events', 'logState'], 'readonly');
    const fold = await tx.objectStore('logState').get('fold');
    const events = tx.objectStore('events');
    const after = IDBKeyRange.lowerBound(fold?.upTo ?? 0, true);
    const [total, first] = await Promise.all([events.count(), events.getAll(after, 1)]);
    // Times are in the clear: a log within retention is seen from its count and its oldest event, without reading the rest.
    const oldest = compactable(first, total, c.retention, c.now) > 0 ? await events.getAll(after, CHUNK) : [];
    await tx.done;
    return { fold, total, oldest };
  });
  if (read.oldest.length === 0) return 0;
  const upTo = read.fold?.upTo ?? 0;
  const oldest = await c.codec.openEvents(read.oldest);
  const n = compactable(oldest, read.total, c.retention, c.now);
  if (n === 0) return 0;
  if (c.cache.upTo !== upTo) c.cache.tallies = new Map((await openTallies(c.codec, read.fold)).map((t) => [t.id, t]));
  const folded = oldest.slice(0, n);
  const halfLifeMs = read.fold?.halfLifeMs ?? c.halfLifeMs;
  foldEvents(c.cache.tallies, folded, halfLifeMs);
  const last = folded[n - 1]!.seq!;
  const next: LogFold = { upTo: last, halfLifeMs, tallies: await c.codec.sealValue(packTallies(c.cache.tallies.values())) };
  const written = await guard('compacting the event log', async () => {
    const tx = c.db.transaction(['events', 'logState'], 'readwrite', { durability: 'strict' });
    if (((await tx.objectStore('logState').get('fold'))?.upTo ?? 0) !== upTo) {
      await tx.done;
      return false; // another compaction moved on meanwhile
    }
    await Promise.all<unknown>([tx.objectStore('events').delete(IDBKeyRange.bound(folded[0]!.seq!, last)), tx.objectStore('logState').put(next, 'fold'), tx.done]);
    return true;
  });
  c.cache.upTo = written ? last : -1;
  return n;
}

/**
 * Folds the events retention lets go into the tallies, a chunk at a time (another tab may compact
 * at the same time: each chunk starts from the position the last one stored). Returns how many
 * events it read and folded (a chunk another compaction folded first counts too).
 */
export async function compactLog(db: IDBPDatabase<MnemeDB>, codec: RowCodec, retention: Retention, halfLifeMs: number, now: number): Promise<number> {
  const c: Compaction = { db, codec, retention, halfLifeMs, now, cache: { upTo: -1, tallies: new Map() } };
  let total = 0;
  for (;;) {
    const n = await compactChunk(c);
    total += n;
    if (n === 0) return total;
  }
}

/** The tallies and the log's tail, read in one transaction (a compaction cannot fall between them), then opened. */
export async function readHeatLog(db: IDBPDatabase<MnemeDB>, codec: RowCodec): Promise<HeatLog> {
  const { fold, tail } = await guard('reading the event log', async () => {
    const tx = db.transaction(['events', 'logState'], 'readonly');
    const fold = await tx.objectStore('logState').get('fold');
    const [tail] = await Promise.all([tx.objectStore('events').getAll(IDBKeyRange.lowerBound(fold?.upTo ?? 0, true)), tx.done]);
    return { fold, tail };
  });
  return { tallies: await openTallies(codec, fold), tail: await codec.openEvents(tail), upTo: fold?.upTo ?? 0 };
}
