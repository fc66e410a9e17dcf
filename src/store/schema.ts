// The IndexedDB layout and its migration history. Each step moves a database
// from one version to the next; `upgrade` runs the steps a database lacks.
import type { DBSchema, IDBPDatabase, IDBPTransaction, StoreNames } from 'idb';
import type { MemoryEvent, MemoryRecord } from '../memory/types';
import { isShared } from '../memory/scope';
import type { KeyParams, Sealed } from './seal';

export const SCHEMA_VERSION = 4;

/** A memory as stored: the record plus `owner`, an indexable key for its scope; when encrypted, `text` is empty and `sealed` holds it. */
export type MemoryRow = MemoryRecord & { owner: string; sealed?: Sealed };

/** A vector, stored apart from the text. */
export interface VectorRow {
  id: string;
  model: string;
  dim: number;
  /** Empty when encrypted: `sealed` holds the bytes. */
  data: Float32Array;
  sealed?: Sealed;
}

/**
 * A cache of the built search index, so opening skips re-reading and re-indexing every record.
 * It is valid only while `generation` equals the one in `meta`, which every write changes.
 */
export interface IndexSnapshot {
  generation: string;
  /** The search index, serialized by the search module; opaque to the store. */
  data: unknown;
}

export interface MnemeDB extends DBSchema {
  memories: { key: string; value: MemoryRow; indexes: { 'by-owner': string; 'by-tier': string } };
  vectors: { key: string; value: VectorRow };
  events: { key: number; value: MemoryEvent; indexes: { 'by-memory': string } };
  meta: { key: 'generation'; value: string };
  snapshots: { key: 'index'; value: IndexSnapshot };
  keyring: { key: 'params'; value: KeyParams };
}

export const SHARED_OWNER = 's';

export function ownerOf(record: MemoryRecord): string {
  return isShared(record.scope) ? SHARED_OWNER : `u:${record.scope.userId}`;
}

export function toRow(record: MemoryRecord): MemoryRow {
  return { ...record, owner: ownerOf(record) };
}

export function fromRow(row: MemoryRow): MemoryRecord {
  const { owner: _owner, sealed: _sealed, ...record } = row;
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
 */
export const MIGRATIONS: readonly Step[] = [
  (db) => {
    db.createObjectStore('memories', { keyPath: 'id' }).createIndex('by-owner', 'owner');
    db.createObjectStore('vectors', { keyPath: 'id' });
  },
  (db, tx) => {
    db.createObjectStore('events', { keyPath: 'seq', autoIncrement: true }).createIndex('by-memory', 'memoryId');
    const memories = tx.objectStore('memories');
    memories.createIndex('by-tier', 'tier');
    const events = tx.objectStore('events');
    // Cursor callbacks stay inside the upgrade transaction; nothing else is awaited.
    memories.openCursor().then(function backfill(cursor): Promise<void> | void {
      if (!cursor) return;
      const m = cursor.value;
      void events.add({ at: m.createdAt, memoryId: m.id, type: 'created', reason: 'backfilled by the schema 2 migration' });
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
];

export function upgrade(db: IDBPDatabase<MnemeDB>, oldVersion: number, newVersion: number, tx: UpgradeTx): void {
  for (let v = oldVersion; v < newVersion; v++) MIGRATIONS[v]!(db, tx);
}
