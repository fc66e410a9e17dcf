// The memory record: the unit every tier holds.

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
  tier: Tier;
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
  tier?: Tier;
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

export type MemoryEventType = 'created' | 'updated' | 'accessed' | 'tier-changed' | 'removed';

/** One entry of the append-only event log. */
export interface MemoryEvent {
  seq?: number;
  at: number;
  memoryId: string;
  type: MemoryEventType;
  from?: Tier;
  to?: Tier;
  reason?: string;
}
