// One write transaction of the store: every object store it may touch,
// strict durability, requests queued by a body that awaits nothing but them,
// the log's events collected as they are queued, and a new generation token
// written with any write that changed something. A body that throws aborts it:
// nothing is kept.
import type { IDBPDatabase, IDBPTransaction } from 'idb';
import type { MemoryEvent, MemoryRecord } from '../memory/types';
import { guard } from './idb-errors';
import type { MemoryRow, MnemeDB, StoredEvent, VectorRow } from './schema';
import type { StoreChange } from './store';

const WRITE = { durability: 'strict' } as const;
const WRITABLE = ['memories', 'vectors', 'events', 'meta', 'snapshots'] as const;
export type WriteTx = IDBPTransaction<MnemeDB, typeof WRITABLE, 'readwrite'>;
/** Queues an event on the log (and remembers it for the change). */
export type Log = (event: MemoryEvent) => Promise<unknown>;

/** What a write's body hands back: its result, the requests it queued, and what changed. */
export interface WriteOutcome<T> {
  result: T;
  ops: Promise<unknown>[];
  change?: Partial<StoreChange>;
  /** Set by a write that only appends to the log (retrievals): no row changed, so the generation (and the index snapshot) stays. */
  logOnly?: true;
}

/** Runs `body` in one transaction; `generation` is stored with it when it queued anything. Resolves once committed. */
export async function runWrite<T>(
  db: IDBPDatabase<MnemeDB>,
  doing: string,
  generation: string,
  body: (tx: WriteTx, log: Log) => Promise<WriteOutcome<T>> | WriteOutcome<T>,
  /** How an event is stored (sealed, in an encrypted store). */
  store: (event: MemoryEvent) => StoredEvent,
): Promise<{ outcome: WriteOutcome<T>; events: MemoryEvent[]; changed: boolean }> {
  const events: MemoryEvent[] = [];
  const outcome = await guard(doing, async () => {
    const tx = db.transaction(WRITABLE, 'readwrite', WRITE);
    const log: Log = (event) => {
      const stored = store(event); // throws (and so aborts) when an encrypted store did not seal it first
      events.push(event);
      return tx.objectStore('events').add(stored);
    };
    let out: WriteOutcome<T>;
    try {
      out = await body(tx, log);
    } catch (error) {
      tx.abort();
      await tx.done.catch(() => undefined);
      throw error;
    }
    // A write that changed nothing (e.g. removing an id that is not there) keeps the generation, and so the snapshot.
    const stamp = out.ops.length > 0 && !out.logOnly ? [tx.objectStore('meta').put(generation, 'generation')] : [];
    await Promise.all<unknown>([...out.ops, ...stamp, tx.done]);
    return out;
  });
  return { outcome, events, changed: outcome.ops.length > 0 && !outcome.logOnly };
}

/** The event that logs a memory's creation. */
export function createdEvent(r: MemoryRecord, at: number, origin: 'add' | 'import'): MemoryEvent {
  return { at, memoryId: r.id, type: 'created', source: r.source, origin };
}

/** Queues the writes of new records, their `created` events and their (sealed) vectors. */
export function queueAdditions(tx: WriteTx, log: Log, records: readonly MemoryRecord[], vectors: readonly VectorRow[], at: number, row: (r: MemoryRecord) => MemoryRow): Promise<unknown>[] {
  const ops: Promise<unknown>[] = [];
  for (const r of records) ops.push(tx.objectStore('memories').add(row(r)), log(createdEvent(r, at, 'add')));
  for (const v of vectors) ops.push(tx.objectStore('vectors').put(v));
  return ops;
}
