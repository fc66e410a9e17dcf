// The IndexedDB layout and its migration history. Each step moves a database
// from one version to the next; `upgrade` runs the steps a database lacks.
import type { DBSchema, IDBPDatabase, IDBPObjectStore, IDBPTransaction, StoreNames } from 'idb';
import type { LogFold } from '../memory/event-log';
import type { MemoryEvent, MemoryEventType, MemoryRecord, PatchField, Source, StoredTier, UseKind } from '../memory/types';
import { isShared } from '../memory/scope';
import { PATCH_FIELDS } from '../memory/validate';
import type { KeyParams, Sealed } from './seal';

export const SCHEMA_VERSION = 7;

/**
 * A memory as stored: the record plus `owner`, an indexable key for its scope; when encrypted,
 * `sealed` holds text, tags, importance, source, access count and embedding model, and the row
 * holds the same blanks for them in every row (`sealedMeta`; rows sealed before it kept all but
 * text and tags in the clear (`sealedTags`), and rows sealed before schema 6 sealed the text alone).
 */
export type MemoryRow = MemoryRecord & { owner: string; sealed?: Sealed; sealedTags?: true; sealedMeta?: true };

/** A vector, stored apart from the text. */
export interface VectorRow {
  id: string;
  /** Empty ('' and 0) when encrypted: `sealed` holds them with the vector. */
  model: string;
  dim: number;
  /** Empty when encrypted: `sealed` holds the bytes. */
  data: Float32Array;
  sealed?: Sealed;
}

/**
 * A cache of something built from the rows, so opening skips rebuilding it: the search index
 * ('index'), and each user's scheduler themes (`themes:${userId}`, see scheduler/theme-state.ts).
 * It is current while `generation` equals the one in `meta`, which every write changes; a stale
 * index is brought up to date from the rows the log names after its `position` (see
 * StoreReader.changesSince), and stale themes from the records. Both hold words of the texts, so
 * a write that removes or rewrites a text deletes every one in its transaction.
 */
export interface IndexSnapshot {
  generation: string;
  /** The last log position when it was saved: a stale snapshot catches up from the events after it (while the log still holds them). */
  position?: number;
  /** The cached value, serialized by its module; opaque to the store (sealed whole in an encrypted store). */
  data: unknown;
}

/** An event as an encrypted store keeps it: its place, time and memory in the clear, the rest (type, use, fields, tiers, reason) sealed. */
export interface SealedEvent {
  seq?: number;
  at: number;
  memoryId: string;
  sealed: Sealed;
}

export type StoredEvent = MemoryEvent | SealedEvent;

/** What a cached snapshot is of: the search index, or one user's themes. */
export type SnapshotKey = 'index' | `themes:${string}`;

export interface MnemeDB extends DBSchema {
  memories: { key: string; value: MemoryRow; indexes: { 'by-owner': string; 'by-owner-time': [string, number, string] } };
  vectors: { key: string; value: VectorRow };
  events: { key: number; value: StoredEvent; indexes: { 'by-memory': string } };
  meta: { key: 'generation'; value: string };
  snapshots: { key: SnapshotKey; value: IndexSnapshot };
  keyring: { key: 'params'; value: KeyParams };
  /** The use tallies folded from compacted events (ids and numbers, packed in one value), and the log position they cover. */
  logState: { key: 'fold'; value: LogFold };
}

export const SHARED_OWNER = 's';

export function ownerOf(record: MemoryRecord): string {
  return isShared(record.scope) ? SHARED_OWNER : `u:${record.scope.userId}`;
}

export function toRow(record: MemoryRecord): MemoryRow {
  return { ...record, owner: ownerOf(record) };
}

export function fromRow(row: MemoryRow): MemoryRecord {
  const { owner: _owner, sealed: _sealed, sealedTags: _sealedTags, sealedMeta: _sealedMeta, ...record } = row;
  return record;
}

type UpgradeTx = IDBPTransaction<MnemeDB, StoreNames<MnemeDB>[], 'versionchange'>;
type Step = (db: IDBPDatabase<MnemeDB>, tx: UpgradeTx) => void;

/**
 * MIGRATIONS[v - 1] takes a database from version v - 1 to v.
 * 1: memories (indexed by owner) and vectors.
 * 2: the append-only event log, backfilled with a `created` event per memory, and a tier index.
 * 3: `meta` (a generation token every write changes) and `snapshots` (the cached search index).
 * 4: `keyring` (how an encrypted database's key is derived, and a check value).
 * 5: typed events (see `upgradeEvent`); `working` rows become `plaintext` (the working set is
 *    transient, never stored); the index snapshot is dropped, since rows may have changed.
 * 6: `logState`, for a bounded log: old events fold into per-memory use tallies (store/compaction.ts).
 *    Nothing is folded yet; the first compaction after open does it. The by-owner-time index
 *    ([owner, createdAt, id]) pages lists newest first without reading a whole scope.
 * 7: the unused tier index goes (an encrypted store seals the tier with the text). Snapshots may
 *    now hold a user's themes (scheduler/theme-state.ts); the bump keeps a tab of the version before,
 *    which deletes only the index snapshot on a rewrite, from writing beside them.
 */
export const MIGRATIONS: readonly Step[] = [
  (db) => {
    db.createObjectStore('memories', { keyPath: 'id' }).createIndex('by-owner', 'owner');
    db.createObjectStore('vectors', { keyPath: 'id' });
  },
  (db, tx) => {
    db.createObjectStore('events', { keyPath: 'seq', autoIncrement: true }).createIndex('by-memory', 'memoryId');
    const memories = tx.objectStore('memories');
    (memories as unknown as IDBPObjectStore<unknown, ArrayLike<string>, string, 'versionchange'>).createIndex('by-tier', 'tier'); // dropped at 7
    const events = tx.objectStore('events');
    // Cursor callbacks stay inside the upgrade transaction; nothing else is awaited.
    memories.openCursor().then(function backfill(cursor): Promise<void> | void {
      if (!cursor) return;
      const m = cursor.value;
      void events.add({ at: m.createdAt, memoryId: m.id, type: 'created', source: m.source, origin: 'migration' });
      return cursor.continue().then(backfill);
    });
  },
  (db) => {
    db.createObjectStore('meta');
    db.createObjectStore('snapshots');
  },
  (db) => {
    db.createObjectStore('keyring');
  },
  (_db, tx) => {
    const memories = tx.objectStore('memories');
    const events = tx.objectStore('events');
    void tx.objectStore('snapshots').clear();
    // Request callbacks stay inside the upgrade transaction; nothing else is awaited.
    void memories.getAll().then((rows) => {
      const sources = new Map(rows.map((r) => [r.id, r.source]));
      for (const row of rows) if ((row.tier as string) === 'working') void memories.put({ ...row, tier: 'plaintext' });
      return events.openCursor().then(function convert(cursor): Promise<void> | void {
        if (!cursor) return;
        const typed = upgradeEvent(cursor.value as LegacyEvent, (id) => sources.get(id));
        if (typed) void cursor.update(typed);
        return cursor.continue().then(convert);
      });
    });
  },
  (db, tx) => {
    db.createObjectStore('logState');
    tx.objectStore('memories').createIndex('by-owner-time', ['owner', 'createdAt', 'id']);
  },
  (_db, tx) => {
    tx.objectStore('memories').deleteIndex('by-tier' as never);
    void tx.objectStore('snapshots').clear(); // themes saved by an older version would outlive a rewrite it did not clear them for
  },
];

/** An event as schemas 2 to 4 logged it: what kind of use, or which fields changed, was only in its reason string. */
export interface LegacyEvent {
  seq?: number;
  at: number;
  memoryId: string;
  type: MemoryEventType;
  from?: string;
  to?: string;
  reason?: string;
}

const LEGACY_USES: Readonly<Record<string, UseKind>> = { 'retrieved into prompt': 'retrieval', mentioned: 'mention' };
const storedTier = (tier: string | undefined): StoredTier => (tier === 'working' || tier === undefined ? 'plaintext' : (tier as StoredTier));

/**
 * A schema-4 event in the typed shape of schema 5, or undefined when it has that shape already.
 * `sourceOf` gives a stored memory's source, for creations logged without one.
 */
export function upgradeEvent(event: LegacyEvent, sourceOf: (id: string) => Source | undefined): MemoryEvent | undefined {
  const { seq, at, memoryId, reason } = event;
  const base = { ...(seq !== undefined && { seq }), at, memoryId };
  switch (event.type) {
    case 'created': {
      if ('origin' in event) return undefined;
      const said = /^source (\w+)$/.exec(reason ?? '')?.[1] as Source | undefined;
      const origin = said ? 'add' : reason === 'imported' ? 'import' : reason?.includes('migration') ? 'migration' : 'add';
      return { ...base, type: 'created', source: said ?? sourceOf(memoryId) ?? (origin === 'import' ? 'imported' : 'manual'), origin };
    }
    case 'updated':
      if ('fields' in event) return undefined;
      return { ...base, type: 'updated', fields: (reason ?? '').split(', ').filter((f): f is PatchField => PATCH_FIELDS.has(f as PatchField)) };
    case 'accessed':
      if ('use' in event) return undefined;
      return { ...base, type: 'accessed', use: LEGACY_USES[reason ?? ''] ?? 'access' };
    case 'tier-changed':
      if (event.from !== 'working' && event.to !== 'working' && reason !== undefined) return undefined;
      return { ...base, type: 'tier-changed', from: storedTier(event.from), to: storedTier(event.to), reason: `${reason ?? 'tier changed'} (the transient working tier is stored as plaintext since schema 5)` };
    case 'removed':
      return reason === undefined ? { ...base, type: 'removed', reason: 'removed' } : undefined;
  }
}

export function upgrade(db: IDBPDatabase<MnemeDB>, oldVersion: number, newVersion: number, tx: UpgradeTx): void {
  for (let v = oldVersion; v < newVersion; v++) MIGRATIONS[v]!(db, tx);
}
