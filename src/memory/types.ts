// The memory record: the unit every tier holds.

/** The tiers a memory can be stored in. */
export const STORED_TIERS = ['plaintext', 'activated', 'archived'] as const;
export type StoredTier = (typeof STORED_TIERS)[number];

/**
 * The tiers a memory can be shown in: the stored ones plus `working`, the set the scheduler picked
 * for the message being typed. The working set is transient: shown, never stored.
 */
export const TIERS = ['plaintext', 'working', 'activated', 'archived'] as const;
export type Tier = (typeof TIERS)[number];

export const SOURCES = ['user', 'assistant', 'imported', 'manual'] as const;
export type Source = (typeof SOURCES)[number];

/**
 * Who a memory belongs to. A personal memory names its user and may narrow
 * itself to a role, an agent or a session; a shared memory is visible to all.
 */
export type MemoryScope = PersonalScope | SharedScope;

export interface PersonalScope {
  userId: string;
  role?: string;
  agentId?: string;
  sessionId?: string;
}

export interface SharedScope {
  shared: true;
}

/** The context a caller reads from: always a user, optionally a role, agent and session. */
export type CallerScope = PersonalScope;

/** Which model produced a memory's vector. */
export interface EmbeddingRef {
  model: string;
  dim: number;
}

export interface MemoryRecord {
  id: string;
  text: string;
  scope: MemoryScope;
  tags: string[];
  /** 0..1 */
  importance: number;
  source: Source;
  tier: StoredTier;
  createdAt: number;
  updatedAt: number;
  lastAccessedAt: number;
  accessCount: number;
  validFrom?: number;
  validUntil?: number;
  expiresAt?: number;
  /** Absent while the memory has no vector (no embedder, or waiting to be embedded). */
  embedding?: EmbeddingRef;
}

/** What a caller supplies to add a memory; the store fills in the rest. */
export interface MemoryInput {
  text: string;
  scope: MemoryScope;
  id?: string;
  tags?: string[];
  importance?: number;
  source?: Source;
  tier?: StoredTier;
  validFrom?: number;
  validUntil?: number;
  expiresAt?: number;
}

/** The fields `update` may change. `null` clears an optional time. */
export interface MemoryPatch {
  text?: string;
  tags?: string[];
  importance?: number;
  validFrom?: number | null;
  validUntil?: number | null;
  expiresAt?: number | null;
}

/** One change of a tier batch: the memory, the tier it moves to, and why (for people, e.g. "promoted: theme t3 heat 4.2 ≥ 3.0"). */
export interface TierChange {
  id: string;
  tier: StoredTier;
  reason: string;
}

/** A use of a memory: mentioned in conversation, retrieved into a prompt, or opened explicitly. */
export const USE_KINDS = ['mention', 'retrieval', 'access'] as const;
export type UseKind = (typeof USE_KINDS)[number];

/** The patch fields an `updated` event can name. */
export type PatchField = keyof MemoryPatch;

/** What every logged event carries: its place in the log, its time and the memory it is about. */
interface EventBase {
  /** Assigned by the log when the event is stored. */
  seq?: number;
  at: number;
  memoryId: string;
}

/**
 * One entry of the append-only event log, a union keyed by `type`. Code decides on the typed fields
 * (`use`, `fields`, `from`/`to`); a `reason` is for people and is never parsed. Events name memories
 * and themes by id and never hold a memory's text.
 */
export type MemoryEvent =
  /** `origin`: how the record came in (`add`, `import`, or backfilled by a schema migration). */
  | (EventBase & { type: 'created'; source: Source; origin: 'add' | 'import' | 'migration' })
  | (EventBase & { type: 'updated'; fields: PatchField[] })
  | (EventBase & { type: 'accessed'; use: UseKind })
  | (EventBase & { type: 'tier-changed'; from: StoredTier; to: StoredTier; reason: string })
  | (EventBase & { type: 'removed'; reason: string });

export type MemoryEventType = MemoryEvent['type'];

/** The event of one type. */
export type MemoryEventOf<T extends MemoryEventType> = Extract<MemoryEvent, { type: T }>;
