// The store's read side: lookups, scoped pages, lists and counts (governance
// applied in the query path), the full load for the search index, the index
// snapshot and what changed since it, and the event log. Sealed rows are opened
// after each read transaction.
import type { IDBPDatabase } from 'idb';
import { InvalidInputError } from '../errors';
import { compilePredicate, parseQueryScope, type MemoryFilter } from '../memory/filter';
import type { Governance } from '../memory/governance';
import { parseId } from '../memory/validate';
import type { CallerScope, MemoryEvent, MemoryRecord } from '../memory/types';
import { readHeatLog, type HeatLog } from './compaction';
import { guard } from './idb-errors';
import { SHARED_OWNER, type IndexSnapshot, type MemoryRow, type MnemeDB, type SnapshotKey, type VectorRow } from './schema';
import type { RowCodec } from './seal';

export interface ReadOptions {
  scope: CallerScope;
  filter?: MemoryFilter;
}

export interface ListOptions extends ReadOptions {
  limit?: number;
  /** Skips this many visible memories (read and dropped: prefer `cursor` for deep pages). */
  offset?: number;
  /** Continues after the page that returned it (see `page`). */
  cursor?: string;
}

/** One page of a list, and the cursor of the next page (absent after the last). */
export interface MemoryPage {
  memories: MemoryRecord[];
  cursor?: string;
}

/** Rows read per owner and transaction while paging: what the page still needs (and one more), within these bounds. */
const BATCH = 500;
const MIN_BATCH = 16;

/** A position in the newest-first order: a memory's createdAt and id. */
type Position = [number, string];

function encodeCursor([at, id]: Position): string {
  return `${at}:${id}`;
}

function decodeCursor(cursor: unknown): Position | undefined {
  if (cursor === undefined) return undefined;
  const colon = typeof cursor === 'string' ? cursor.indexOf(':') : -1;
  const at = colon > 0 ? Number((cursor as string).slice(0, colon)) : Number.NaN;
  if (!Number.isFinite(at) || colon === (cursor as string).length - 1) throw new InvalidInputError('invalid-input', 'cursor is the string a previous page returned as its cursor.');
  return [at, (cursor as string).slice(colon + 1)];
}

/** Newest first; a tie in time goes by id, descending (the order of the by-owner-time index read backwards). */
const newestFirst = (a: MemoryRecord, b: MemoryRecord) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

export class StoreReader {
  protected lastGeneration: string | undefined;

  constructor(
    protected readonly db: IDBPDatabase<MnemeDB>,
    protected readonly codec: RowCodec,
    /** Applied in every read (list, count, export): what it denies is never returned. */
    readonly governance: Governance,
  ) {}

  /** Seals bytes kept outside the database (the KV snapshot) as the store seals its rows: under its key when encrypted, as they are otherwise. */
  get bytesSealer(): Pick<RowCodec, 'sealed' | 'sealBytes' | 'openBytes'> {
    return this.codec;
  }

  /** The generation token of the last write this instance committed (or read at open). */
  get generation(): string | undefined {
    return this.lastGeneration;
  }

  /** A memory by id, only if the caller may see it (scope and governance), as they may see it. */
  async get(id: string, options: { scope: CallerScope }): Promise<MemoryRecord | undefined> {
    const key = parseId(id);
    const { scope } = parseQueryScope(options);
    const row = await guard('reading a memory', () => this.db.get('memories', key));
    if (!row) return undefined;
    await this.codec.open([row]);
    const record = this.codec.record(row);
    return compilePredicate(scope, {}, this.governance)(record) ? this.governance.redact(record, scope) : undefined;
  }

  async getVector(id: string): Promise<VectorRow | undefined> {
    return (await this.getVectors([parseId(id)]))[0];
  }

  /** The stored vectors of `ids` (those that have one), read in one transaction. */
  async getVectors(ids: readonly string[]): Promise<VectorRow[]> {
    const rows = await guard('reading vectors', async () => {
      const tx = this.db.transaction('vectors', 'readonly');
      const found = await Promise.all(ids.map((id) => tx.store.get(id)));
      await tx.done;
      return found.filter((v): v is VectorRow => v !== undefined);
    });
    return this.codec.openVectors(rows);
  }

  /** The memories a caller may see, newest first (`offset` and `limit` applied). */
  async list(options: ListOptions): Promise<MemoryRecord[]> {
    parseQueryScope(options);
    const limit = options.limit ?? Infinity;
    const offset = options.offset ?? 0;
    if (typeof limit !== 'number' || !(limit >= 0) || !Number.isInteger(offset) || offset < 0) {
      throw new InvalidInputError('invalid-input', 'limit is a number ≥ 0 and offset a whole number ≥ 0.');
    }
    return (await this.page({ ...options, limit: offset + Math.floor(limit) })).memories.slice(offset);
  }

  /**
   * A page of the memories a caller may see, newest first, after `cursor` (a previous page's). Rows
   * are read a batch per transaction along the by-owner-time index, so a page costs what it reads,
   * not the whole scope. The cursor is absent once the last page is returned.
   */
  async page(options: ListOptions): Promise<MemoryPage> {
    const { scope, filter } = parseQueryScope(options);
    const limit = options.limit ?? 100;
    if (typeof limit !== 'number' || !(limit >= 0) || !(Number.isInteger(limit) || limit === Infinity)) throw new InvalidInputError('invalid-input', 'limit is a whole number ≥ 0.');
    const keep = compilePredicate(scope, filter, this.governance);
    const start = decodeCursor(options.cursor);
    const streams = [`u:${scope.userId}`, SHARED_OWNER].map((owner) => ({ owner, after: start, buffer: [] as MemoryRecord[], done: false }));
    const memories: MemoryRecord[] = [];
    let last: MemoryRecord | undefined;
    while (memories.length < limit) {
      const want = Math.min(BATCH, Math.max(MIN_BATCH, limit - memories.length + 1));
      await Promise.all(streams.filter((s) => !s.done && s.buffer.length === 0).map((s) => this.refill(s, want)));
      const next = streams.filter((s) => s.buffer.length > 0).sort((a, b) => newestFirst(a.buffer[0]!, b.buffer[0]!))[0];
      if (!next) return { memories };
      last = next.buffer.shift()!;
      if (keep(last)) memories.push(this.governance.redact(last, scope));
    }
    return { memories, ...(last && { cursor: encodeCursor([last.createdAt, last.id]) }) };
  }

  /** Reads an owner's next `want` rows (newest first, after its position) in one transaction, then opens them. */
  private async refill(stream: { owner: string; after: Position | undefined; buffer: MemoryRecord[]; done: boolean }, want: number): Promise<void> {
    const { owner, after } = stream;
    const rows = await guard('listing memories', async () => {
      const tx = this.db.transaction('memories', 'readonly');
      const range = IDBKeyRange.bound([owner], after ? [owner, ...after] : [owner, Infinity], false, after !== undefined);
      const out: MemoryRow[] = [];
      let cursor = await tx.store.index('by-owner-time').openCursor(range, 'prev');
      while (cursor && out.length < want) {
        out.push(cursor.value);
        cursor = out.length < want ? await cursor.continue() : null;
      }
      await tx.done;
      return out;
    });
    await this.codec.open(rows);
    stream.buffer = rows.map((r) => this.codec.record(r));
    stream.done = rows.length < want;
    const tail = rows.at(-1);
    if (tail) stream.after = [tail.createdAt, tail.id];
  }

  /** How many memories a caller may see; read a page at a time. */
  async count(options: ReadOptions): Promise<number> {
    let n = 0;
    let cursor: string | undefined;
    do {
      const page = await this.page({ ...options, limit: BATCH, ...(cursor !== undefined && { cursor }) });
      n += page.memories.length;
      cursor = page.cursor;
    } while (cursor !== undefined);
    return n;
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

  /** Reads and opens these rows before a transaction that writes them back (sealed rows only); returns them as records. */
  protected async unsealRows(ids: readonly string[]): Promise<Map<string, MemoryRecord>> {
    const rows = (await guard('reading memories', () => Promise.all(ids.map((id) => this.db.get('memories', id))))).filter((r): r is MemoryRow => r !== undefined);
    await this.codec.open(rows);
    return new Map(rows.map((r) => [r.id, this.codec.record(r)]));
  }

  /**
   * A cached snapshot (the search index, or a user's themes; opened, when the store is encrypted), with
   * whether it is as new as the store and the log position it was saved at; undefined when there is none.
   */
  async readSnapshot(key: SnapshotKey): Promise<{ data: unknown; current: boolean; position: number | undefined } | undefined> {
    const stored = await guard(`reading the ${key} snapshot`, async () => {
      const tx = this.db.transaction(['meta', 'snapshots'], 'readonly');
      const [generation, snapshot] = await Promise.all([tx.objectStore('meta').get('generation'), tx.objectStore('snapshots').get(key), tx.done]);
      return snapshot && { snapshot, current: generation !== undefined && snapshot.generation === generation };
    });
    if (!stored) return undefined;
    const data = await this.codec.openValue(stored.snapshot.data);
    if (data === undefined) return undefined;
    if (stored.current) this.lastGeneration = stored.snapshot.generation;
    return { data, current: stored.current, position: stored.snapshot.position };
  }

  /**
   * What changed since a stale snapshot's log position: the rows of every memory an event after it
   * names (and of `alsoIds`), present ones upserted with their vectors, missing ones removed; read in
   * one transaction with the generation they make current. Undefined when compaction has folded
   * events after that position (then the index is rebuilt from every record).
   */
  async changesSince(position: number, alsoIds: readonly string[]): Promise<{ upserted: MemoryRecord[]; vectors: VectorRow[]; removed: string[] } | undefined> {
    const read = await guard('reading changes since the index snapshot', async () => {
      const tx = this.db.transaction(['events', 'logState', 'memories', 'vectors', 'meta'], 'readonly');
      const fold = await tx.objectStore('logState').get('fold');
      if ((fold?.upTo ?? 0) > position) {
        await tx.done;
        return undefined;
      }
      const events = await tx.objectStore('events').getAll(IDBKeyRange.lowerBound(position, true));
      const ids = [...new Set([...events.map((e) => e.memoryId), ...alsoIds])];
      const [rows, vectors, generation] = await Promise.all([
        Promise.all(ids.map((id) => tx.objectStore('memories').get(id))),
        Promise.all(ids.map((id) => tx.objectStore('vectors').get(id))),
        tx.objectStore('meta').get('generation'),
        tx.done,
      ]);
      return { ids, rows, vectors: vectors.filter((v): v is VectorRow => v !== undefined), generation };
    });
    if (!read) return undefined;
    const present = read.rows.filter((r): r is MemoryRow => r !== undefined);
    await this.codec.open(present);
    this.lastGeneration = read.generation;
    return {
      upserted: present.map((r) => this.codec.record(r)),
      vectors: await this.codec.openVectors(read.vectors),
      removed: read.ids.filter((_, i) => read.rows[i] === undefined),
    };
  }

  /**
   * Caches a snapshot as of `generation` and the log's last position, sealed whole when the store is
   * encrypted (it holds words of the texts); skipped (false) if any write has happened since, so a
   * snapshot never outlives a delete it did not see.
   */
  async writeSnapshot(key: SnapshotKey, generation: string, value: unknown): Promise<boolean> {
    const data = await this.codec.sealValue(value);
    return guard(`writing the ${key} snapshot`, async () => {
      const tx = this.db.transaction(['meta', 'snapshots', 'events'], 'readwrite');
      const [current, last] = await Promise.all([tx.objectStore('meta').get('generation'), tx.objectStore('events').openKeyCursor(null, 'prev')]);
      if (current !== generation) {
        await tx.done;
        return false;
      }
      const snapshot: IndexSnapshot = { generation, position: last?.key ?? 0, data };
      await Promise.all([tx.objectStore('snapshots').put(snapshot, key), tx.done]);
      return true;
    });
  }

  /** Every stored vector. */
  async allVectors(): Promise<VectorRow[]> {
    return this.codec.openVectors(await guard('loading vectors', () => this.db.getAll('vectors')));
  }

  /** What a scheduler starts from: the use tallies of compacted events and the log's tail after them. */
  heatLog(): Promise<HeatLog> {
    return readHeatLog(this.db, this.codec);
  }

  /** The event log as retention keeps it (older events live on in the tallies), oldest first; of one memory when `memoryId` is given. */
  async events(memoryId?: string): Promise<MemoryEvent[]> {
    const key = memoryId === undefined ? undefined : parseId(memoryId);
    const rows = await guard('reading the event log', () => (key === undefined ? this.db.getAll('events') : this.db.getAllFromIndex('events', 'by-memory', key)));
    return this.codec.openEvents(rows);
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
