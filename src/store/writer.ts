// The store's write machinery, under every write operation (store.ts): one
// transaction per write with its events (transaction.ts), a new generation
// token per committed write, listeners told after commit, and, in a sealed
// store, what a write changes sealed before its transaction opens.
import type { IDBPDatabase } from 'idb';
import { NotFoundError, type StorageError } from '../errors';
import { OPEN_GOVERNANCE } from '../memory/governance';
import { DEFAULT_LIMITS, type Limits } from '../memory/validate';
import type { MemoryEvent, MemoryRecord } from '../memory/types';
import type { Connection } from './connection';
import { Listeners } from './listeners';
import { StoreReader } from './reader';
import type { MemoryRow, MnemeDB } from './schema';
import type { RowCodec } from './seal';
import { runWrite, type Log, type WriteOutcome, type WriteTx } from './transaction';
import type { StoreChange, StoreOptions } from './types';

export class StoreWriter extends StoreReader {
  readonly limits: Limits;
  protected readonly now: () => number;
  protected readonly newId: () => string;
  private readonly listeners: Listeners;

  constructor(
    db: IDBPDatabase<MnemeDB>,
    options: StoreOptions,
    codec: RowCodec,
    private readonly connection?: Connection,
  ) {
    super(db, codec, options.governance ?? OPEN_GOVERNANCE);
    this.now = options.now ?? Date.now;
    this.listeners = new Listeners(options.onSubscriberError);
    this.newId = options.newId ?? (() => crypto.randomUUID());
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
  }

  /**
   * Why the connection ended, if it did other than by close(): StorageError('store-upgraded') after
   * another tab upgraded the database (reload the page), or 'store-closed' after the browser closed
   * it abnormally. Every later call rejects with this error. See the onConnectionEvent option.
   */
  get closedReason(): StorageError | undefined {
    return this.connection?.ended;
  }

  /**
   * Calls `listener` after every committed write. Returns a function that stops it. A listener that
   * throws never fails the write it hears, nor stops the other listeners: its error goes to the
   * `onSubscriberError` option.
   */
  subscribe(listener: (change: StoreChange) => void): () => void {
    return this.listeners.add(listener);
  }

  /** A write another tab committed: listeners hear it as if it were local, and the generation follows it. */
  receive(change: StoreChange, generation: string): void {
    this.lastGeneration = generation;
    this.listeners.notify({ ...change, remote: true });
  }

  /**
   * Runs one write transaction (transaction.ts): the generation token changes with it, and listeners
   * hear of the change once it has committed. If anything fails, nothing is kept.
   */
  protected async write<T>(doing: string, body: (tx: WriteTx, log: Log) => Promise<WriteOutcome<T>> | WriteOutcome<T>): Promise<T> {
    const generation = crypto.randomUUID();
    const { outcome, events, changed } = await runWrite(this.db, doing, generation, body, (e) => this.codec.event(e));
    if (changed) this.lastGeneration = generation;
    const change = outcome.change;
    if (change && (change.upserted?.length || change.vectors?.length || change.removed?.length || (outcome.logOnly && events.length > 0))) {
      this.listeners.notify({
        upserted: change.upserted ?? [],
        vectors: change.vectors ?? [],
        removed: change.removed ?? [],
        removedRecords: change.removedRecords ?? [],
        events,
      });
    }
    return outcome.result;
  }

  /** The rows of `ids` inside a write, as stored and as records; a missing one is a NotFoundError (`unchanged` says what that left as it was). */
  protected async loadRows(tx: WriteTx, ids: readonly string[], unchanged: string): Promise<{ stored: Map<string, MemoryRow>; current: Map<string, MemoryRecord> }> {
    const rows = await Promise.all(ids.map((id) => tx.objectStore('memories').get(id)));
    const missing = ids.find((_, i) => rows[i] === undefined);
    if (missing !== undefined) throw new NotFoundError(`No memory has id "${missing}"; it may have been removed. ${unchanged}`);
    return { stored: new Map(rows.map((row) => [row!.id, row!])), current: new Map(rows.map((row) => [row!.id, this.codec.record(row!)])) };
  }

  /**
   * In a sealed store, the rows of `ids` as they are now, with `next` of each sealed before the transaction that
   * writes it (the fields a write changes are in the ciphertext, which cannot be made inside one). Plaintext: undefined.
   */
  protected async sealNext(ids: readonly string[], next: (r: MemoryRecord) => MemoryRecord): Promise<Map<string, MemoryRecord> | undefined> {
    if (!this.codec.sealed) return undefined;
    const before = await this.unsealRows(ids);
    await this.codec.prepare([...before.values()].map(next));
    return before;
  }

  /**
   * Reads one memory, lets `change` compute its next state, and writes it with its event in one
   * transaction. When `change` throws (bad input) the transaction is aborted and nothing changes.
   */
  protected async mutate(
    id: string,
    doing: string,
    change: (r: MemoryRecord, at: number) => { next: MemoryRecord; event: MemoryEvent; dropVector: boolean },
  ): Promise<MemoryRecord> {
    return this.write(doing, async (tx, log) => {
      const row = await tx.objectStore('memories').get(id);
      if (!row) throw new NotFoundError(`No memory has id "${id}"; it may have been removed.`);
      const out = change(this.codec.record(row), this.now());
      const ops: Promise<unknown>[] = [tx.objectStore('memories').put(this.codec.row(out.next, row)), log(out.event)];
      // A rewritten text: the old vector no longer describes it, and the snapshots still hold the old text.
      if (out.dropVector) ops.push(tx.objectStore('vectors').delete(id), tx.objectStore('snapshots').clear());
      return { result: out.next, ops, change: { upserted: [out.next] } };
    });
  }
}
