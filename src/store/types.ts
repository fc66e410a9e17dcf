// The write side's shapes: how a store is opened, what a batch of changes
// returns, and the change every committed write announces to its followers.
import type { Governance } from '../memory/governance';
import type { Retention } from '../memory/event-log';
import type { Limits } from '../memory/validate';
import type { MemoryEvent, MemoryRecord } from '../memory/types';
import type { ConnectionOptions } from './connection';
import type { SubscriberErrorHandler } from './listeners';
import type { VectorRow } from './schema';
import type { EncryptionOption } from './seal';

export interface StoreOptions extends ConnectionOptions {
  /** IndexedDB database name. Default 'mneme'. */
  name?: string;
  /** The clock, in ms since the epoch. Default Date.now. */
  now?: () => number;
  limits?: Partial<Limits>;
  newId?: () => string;
  /** Applied in every read (list, count, export): what it denies is never returned. Default: scope rules only. */
  governance?: Governance;
  /**
   * Encrypt texts and vectors at rest (AES-GCM) under a passphrase (PBKDF2) or a host-provided
   * AES-GCM key. Needed to open a database created with it; a wrong one is an EncryptionError.
   * Off by default. The index snapshot is then sealed whole, so encrypted stores open as fast as plain ones.
   */
  encryption?: EncryptionOption;
  /**
   * Hears what a subscriber threw (or its promise rejected with), and the change it was hearing.
   * The write has committed and resolves all the same; the other subscribers still run.
   * Default: console.error.
   */
  onSubscriberError?: SubscriberErrorHandler;
  /**
   * How much of the event log stays as events (see `compactLog`): at most `maxEvents` (default
   * 10,000), none older than `maxAgeMs` (default 90 days). Older events fold into per-memory use
   * tallies (counts and heat) and are deleted.
   */
  eventLog?: Partial<Retention>;
  /** The heat half-life tallies are folded with; give a scheduler's `signals.heatHalfLifeMs` when it differs. Default 14 days. */
  heatHalfLifeMs?: number;
}

/** What `applyChanges` wrote: the added memories in order, and each patched memory as the batch left it, in order of first patch. */
export interface AppliedChanges {
  created: MemoryRecord[];
  updated: MemoryRecord[];
}

/** What changed in one committed write; the search index and the scheduler follow these. */
export interface StoreChange {
  upserted: MemoryRecord[];
  vectors: VectorRow[];
  removed: string[];
  /**
   * The removed memories as they were, in memory only (never stored): caches outside the store
   * that may hold their text (an engine's KV cache) drop it.
   */
  removedRecords: MemoryRecord[];
  /** The events the write appended to the log, in order. */
  events: MemoryEvent[];
  /** Set when another tab committed the write (see tab-sync.ts). */
  remote?: true;
}
