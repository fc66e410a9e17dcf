// One IndexedDB connection and how it ends. Mneme keeps several tabs open on one
// database, so a schema bump in a new tab must not hang on the old ones:
// - an old connection closes itself on `versionchange` (idb's `blocking`), and every
//   later call on it fails with StorageError('store-upgraded'): this code only knows
//   SCHEMA_VERSION, and a versionchange means a newer one (or a deleted database), so
//   the page must reload;
// - an open that another tab's connection blocks reports `blocked` and, if that tab
//   never lets go, rejects after `openTimeoutMs` with StorageError('store-blocked');
// - a connection the browser closes abnormally (`terminated`) fails every later call
//   with StorageError('store-closed').
// Each of these is also told to `onConnectionEvent`.
import { openDB, type IDBPDatabase } from 'idb';
import { StorageError } from '../errors';
import { SCHEMA_VERSION, upgrade, type MnemeDB } from './schema';

export type ConnectionEvent =
  /** This open waits for another connection (an old tab) at `currentVersion` to close. */
  | { type: 'blocked'; name: string; currentVersion: number; requestedVersion: number }
  /** Another tab asked for `newVersion` (null: it deletes the database); this connection closed so it can proceed. `error` is what every later call rejects with. */
  | { type: 'closed-for-upgrade'; name: string; newVersion: number | null; error: StorageError }
  /** The browser closed the connection abnormally (storage cleared, a disk error). `error` is what every later call rejects with. */
  | { type: 'terminated'; name: string; error: StorageError };

export interface ConnectionOptions {
  /** Hears a blocked open, a close for another tab's upgrade, and an abnormal close. Default: console.warn. */
  onConnectionEvent?: (event: ConnectionEvent) => void;
  /**
   * How long an open that another tab blocks waits for it, in ms, before it rejects with
   * StorageError('store-blocked'). The wait starts when the open is blocked, not before, so a long
   * migration is never cut short. Default 10000; Infinity waits for as long as it takes.
   */
  openTimeoutMs?: number;
}

/** An open connection whose handle fails every call with a typed error once the connection has ended. */
export interface Connection {
  /** The database; after the connection ended, touching it throws `ended`. */
  readonly db: IDBPDatabase<MnemeDB>;
  /** Why the connection ended, if it did (other than by close()). */
  readonly ended: StorageError | undefined;
}

/** Opens `name` at SCHEMA_VERSION, migrating it as needed, with the handlers above. Rejects with StorageError('store-blocked') after a bounded wait. */
export function openConnection(name: string, options: ConnectionOptions = {}): Promise<Connection> {
  const report = options.onConnectionEvent ?? reportToConsole;
  const timeoutMs = options.openTimeoutMs ?? 10_000;
  let ended: StorageError | undefined;
  let raw: IDBPDatabase<MnemeDB> | undefined;
  const end = (error: StorageError, event: ConnectionEvent) => {
    if (ended) return;
    ended = error;
    raw?.close();
    tell(report, event);
  };
  return new Promise((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let abandoned = false;
    openDB<MnemeDB>(name, SCHEMA_VERSION, {
      upgrade: (db, oldV, newV, tx) => upgrade(db, oldV, newV ?? SCHEMA_VERSION, tx),
      blocked: (currentVersion) => {
        tell(report, { type: 'blocked', name, currentVersion, requestedVersion: SCHEMA_VERSION });
        if (timer !== undefined || !Number.isFinite(timeoutMs)) return;
        timer = setTimeout(() => {
          abandoned = true;
          reject(blockedError(name, currentVersion, timeoutMs));
        }, Math.max(0, timeoutMs));
      },
      blocking: (_current, newVersion) => {
        const error = upgradedError(name, newVersion);
        end(error, { type: 'closed-for-upgrade', name, newVersion, error });
      },
      terminated: () => {
        const error = new StorageError('store-closed', `The browser closed database "${name}" abnormally (its storage was cleared, or a disk error); open the store again with openMemoryStore(), or reload the page.`);
        end(error, { type: 'terminated', name, error });
      },
    }).then(
      (db) => {
        clearTimeout(timer);
        raw = db;
        // Given up on: close at once, so this late connection blocks no one. An upgrade it ran stays valid.
        if (abandoned || ended) return db.close();
        resolve({ db: guarded(db, () => ended), get ended() { return ended; } });
      },
      (error: unknown) => {
        clearTimeout(timer);
        if (!abandoned) reject(error);
      },
    );
  });
}

export function upgradedError(name: string, newVersion: number | null): StorageError {
  const what = newVersion === null ? 'deleted database' : `opened database`;
  const to = newVersion === null ? '' : ` at schema version ${newVersion}`;
  return new StorageError(
    'store-upgraded',
    `Another tab ${what} "${name}"${to}; this tab runs schema version ${SCHEMA_VERSION} and closed its connection so that it could proceed. Reload the page to use the new version.`,
  );
}

function blockedError(name: string, currentVersion: number, timeoutMs: number): StorageError {
  return new StorageError(
    'store-blocked',
    `Opening database "${name}" at schema version ${SCHEMA_VERSION} waited ${timeoutMs} ms for another connection at version ${currentVersion} (an older tab, or code without a versionchange handler) that did not close. Close or reload the other tabs of this site, or raise openTimeoutMs.`,
  );
}

/** Properties that stay usable after the connection ended (close() is idempotent; `then` keeps the handle from looking like a promise). */
const ALWAYS = new Set<PropertyKey>(['close', 'name', 'version', 'then']);

/** A handle on `db` whose every use throws a fresh copy of the reason once `ended()` returns one; functions are bound to `db`. */
function guarded(db: IDBPDatabase<MnemeDB>, ended: () => StorageError | undefined): IDBPDatabase<MnemeDB> {
  const bound = new WeakMap<object, unknown>();
  return new Proxy(db, {
    get(target, prop) {
      const reason = ended();
      if (reason && !ALWAYS.has(prop)) throw new StorageError(reason.code as never, reason.message, { cause: reason });
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      if (!bound.has(value)) bound.set(value, (value as (...args: unknown[]) => unknown).bind(target));
      return bound.get(value);
    },
  });
}

function tell(report: (event: ConnectionEvent) => void, event: ConnectionEvent): void {
  try {
    report(event);
  } catch (error) {
    reportToConsole(event);
    console.error('Mneme: onConnectionEvent threw', error);
  }
}

function reportToConsole(event: ConnectionEvent): void {
  if (event.type === 'blocked') {
    console.warn(`Mneme: opening "${event.name}" at version ${event.requestedVersion} waits for another tab holding version ${event.currentVersion}; close or reload it. Pass onConnectionEvent to handle this.`);
  } else {
    console.warn(`Mneme: ${event.error.message} Pass onConnectionEvent to handle this.`);
  }
}
