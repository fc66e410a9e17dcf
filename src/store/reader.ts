// The store's read side: lookups, scoped lists and counts (governance applied
// in the query path), the full load for the search index, the index snapshot
// and the event log. Sealed rows are opened after each read transaction.
import type { IDBPDatabase } from 'idb';
import { InvalidInputError } from '../errors';
import { compilePredicate, parseQueryScope, type MemoryFilter } from '../memory/filter';
import type { Governance } from '../memory/governance';
import { parseId } from '../memory/validate';
import type { CallerScope, MemoryEvent, MemoryRecord } from '../memory/types';
import { readHeatLog, type HeatLog } from './compaction';
import { guard } from './idb-errors';
import { SHARED_OWNER, type IndexSnapshot, type MemoryRow, type MnemeDB, type VectorRow } from './schema';
import type { RowCodec } from './seal';

export interface ReadOptions {
  scope: CallerScope;
  filter?: MemoryFilter;
}

export interface ListOptions extends ReadOptions {
  limit?: number;
  offset?: number;
}

export class StoreReader {
  protected lastGeneration: string | undefined;

  constructor(
    protected readonly db: IDBPDatabase<MnemeDB>,
    protected readonly codec: RowCodec,
    /** Applied in every read (list, count, export): what it denies is never returned. */
    readonly governance: Governance,
  ) {}

  /** The generation token of the last write this instance committed (or read at open). */
  get generation(): string | undefined {
    return this.lastGeneration;
  }

  /** A memory by id; given a caller scope, only if that caller may see it (scope and governance), as they may see it. */
  async get(id: string, options?: { scope: CallerScope }): Promise<MemoryRecord | undefined> {
    const key = parseId(id);
    const scope = options === undefined ? undefined : parseQueryScope(options).scope;
    const row = await guard('reading a memory', () => this.db.get('memories', key));
    if (!row) return undefined;
    await this.codec.open([row]);
    const record = this.codec.record(row);
    if (scope === undefined) return record;
    return compilePredicate(scope, {}, this.governance)(record) ? this.governance.redact(record, scope) : undefined;
  }

  async getVector(id: string): Promise<VectorRow | undefined> {
    const key = parseId(id);
    const row = await guard('reading a vector', () => this.db.get('vectors', key));
    return row && (await this.codec.openVectors([row]))[0];
  }

  /** The memories a caller may see, newest first. */
  async list(options: ListOptions): Promise<MemoryRecord[]> {
    const { scope, filter } = parseQueryScope(options);
    const limit = options.limit ?? Infinity;
    const offset = options.offset ?? 0;
    if (typeof limit !== 'number' || !(limit >= 0) || !Number.isInteger(offset) || offset < 0) {
      throw new InvalidInputError('invalid-input', 'limit is a number ≥ 0 and offset a whole number ≥ 0.');
    }
    const visible = await this.visible(scope, filter);
    visible.sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : 1));
    return visible.slice(offset, offset + limit);
  }

  async count(options: ReadOptions): Promise<number> {
    const { scope, filter } = parseQueryScope(options);
    return (await this.visible(scope, filter)).length;
  }

  private async visible(scope: CallerScope, filter: MemoryFilter): Promise<MemoryRecord[]> {
    const keep = compilePredicate(scope, filter, this.governance);
    const rows = await guard('listing memories', async () => {
      const tx = this.db.transaction('memories', 'readonly');
      const index = tx.store.index('by-owner');
      const [own, shared] = await Promise.all([index.getAll(`u:${scope.userId}`), index.getAll(SHARED_OWNER), tx.done]);
      return [...own, ...shared];
    });
    await this.codec.open(rows);
    return rows
      .map((r) => this.codec.record(r))
      .filter(keep)
      .map((r) => this.governance.redact(r, scope));
  }

  /** Every memory and vector, for building the in-memory search index at open. */
  async loadAll(): Promise<{ records: MemoryRecord[]; vectors: VectorRow[] }> {
    return guard('loading the store', async () => {
      const tx = this.db.transaction(['memories', 'vectors', 'meta'], 'readonly');
      const [rows, vectors, generation] = await Promise.all([
        tx.objectStore('memories').getAll(),
        tx.objectStore('vectors').getAll(),
        tx.objectStore('meta').get('generation'),
        tx.done,
      ]);
      this.lastGeneration = generation;
      return { rows, vectors };
    }).then(async ({ rows, vectors }) => {
      await this.codec.open(rows);
      return { records: rows.map((r) => this.codec.record(r)), vectors: await this.codec.openVectors(vectors) };
    });
  }

  /** Reads and opens these rows before a transaction that writes them back (sealed rows only), sealing `text` for the first if given. */
  protected async unsealRows(ids: readonly string[], text?: string): Promise<void> {
    const rows = await guard('reading memories', () => Promise.all(ids.map((id) => this.db.get('memories', id))));
    await this.codec.open(rows.filter((r): r is MemoryRow => r !== undefined));
    if (text !== undefined && ids[0] !== undefined) await this.codec.prepare([{ id: ids[0], text }]);
  }

  /** The cached search index, if it is as new as the store; undefined otherwise. */
  async readSnapshot(): Promise<unknown> {
    if (this.codec.sealed) return undefined;
    return guard('reading the index snapshot', async () => {
      const tx = this.db.transaction(['meta', 'snapshots'], 'readonly');
      const [generation, snapshot] = await Promise.all([tx.objectStore('meta').get('generation'), tx.objectStore('snapshots').get('index'), tx.done]);
      if (snapshot === undefined || generation === undefined || snapshot.generation !== generation) return undefined;
      this.lastGeneration = generation;
      return snapshot.data;
    });
  }

  /** Caches the search index as of `generation`; skipped (false) if any write has happened since. */
  async writeSnapshot(generation: string, data: unknown): Promise<boolean> {
    if (this.codec.sealed) return false; // the snapshot would hold every text in the clear
    return guard('writing the index snapshot', async () => {
      const tx = this.db.transaction(['meta', 'snapshots'], 'readwrite');
      if ((await tx.objectStore('meta').get('generation')) !== generation) {
        await tx.done;
        return false;
      }
      const snapshot: IndexSnapshot = { generation, data };
      await Promise.all([tx.objectStore('snapshots').put(snapshot, 'index'), tx.done]);
      return true;
    });
  }

  /** Every stored vector. */
  async allVectors(): Promise<VectorRow[]> {
    return this.codec.openVectors(await guard('loading vectors', () => this.db.getAll('vectors')));
  }

  /** What a scheduler starts from: the use tallies of compacted events and the log's tail after them. */
  heatLog(): Promise<HeatLog> {
    return readHeatLog(this.db);
  }

  /** The event log as retention keeps it (older events live on in the tallies), oldest first; of one memory when `memoryId` is given. */
  async events(memoryId?: string): Promise<MemoryEvent[]> {
    if (memoryId === undefined) return guard('reading the event log', () => this.db.getAll('events'));
    const key = parseId(memoryId);
    return guard('reading the event log', () => this.db.getAllFromIndex('events', 'by-memory', key));
  }

  async has(ids: readonly string[]): Promise<Set<string>> {
    const keys = await guard('checking ids', async () => {
      const tx = this.db.transaction('memories', 'readonly');
      const found = await Promise.all(ids.map((id) => tx.store.getKey(id)));
      await tx.done;
      return found;
    });
    return new Set(keys.filter((k): k is string => k !== undefined));
  }

  close(): void {
    this.db.close();
  }
}
