// Validation of everything a caller hands the store. Each function either
// returns a clean copy or throws an InvalidInputError that says what was wrong
// and how to fix it; nothing is written before validation passes.
import { InvalidInputError } from '../errors';
import { describe, isPlainObject, parseMemoryScope } from './scope';
import { SOURCES, STORED_TIERS, USE_KINDS, type EmbeddingRef, type MemoryEvent, type MemoryInput, type MemoryPatch, type MemoryRecord, type PatchField, type Source, type StoredTier, type TierChange, type UseKind } from './types';

export interface Limits {
  /** Longest text accepted, in UTF-16 code units. */
  maxTextLength: number;
  maxTags: number;
  maxTagLength: number;
}

export const DEFAULT_LIMITS: Limits = { maxTextLength: 16_384, maxTags: 32, maxTagLength: 64 };

const MAX_ID_LENGTH = 128;
const INPUT_FIELDS = new Set(['text', 'scope', 'id', 'tags', 'importance', 'source', 'tier', 'validFrom', 'validUntil', 'expiresAt']);
export const PATCH_FIELDS: ReadonlySet<PatchField> = new Set<PatchField>(['text', 'tags', 'importance', 'validFrom', 'validUntil', 'expiresAt']);

export function parseText(value: unknown, limits: Limits): string {
  if (typeof value !== 'string') {
    throw new InvalidInputError('invalid-input', `A memory's text must be a string (got ${describe(value)}).`);
  }
  const text = value.trim();
  if (text === '') throw new InvalidInputError('text-empty', "A memory's text is empty; give it at least one visible character.");
  if (text.length > limits.maxTextLength) {
    throw new InvalidInputError(
      'text-too-long',
      `A memory's text has ${text.length} characters, over the limit of ${limits.maxTextLength}; split it into smaller memories or raise limits.maxTextLength.`,
    );
  }
  return text;
}

export function parseId(value: unknown): string {
  if (typeof value !== 'string' || value === '' || value.length > MAX_ID_LENGTH) {
    throw new InvalidInputError('invalid-input', `A memory id is a non-empty string of at most ${MAX_ID_LENGTH} characters (got ${describe(value)}).`);
  }
  return value;
}

/** A tier a memory can be stored in. `working` is refused: the working set is transient. */
export function parseTier(value: unknown): StoredTier {
  if (value === 'working') {
    throw new InvalidInputError(
      'invalid-input',
      `tier 'working' cannot be stored: the working set is transient (the scheduler shows it for the message being typed, and never stores it). Store one of ${STORED_TIERS.join(', ')}.`,
    );
  }
  if (!STORED_TIERS.includes(value as StoredTier)) {
    throw new InvalidInputError('invalid-input', `tier must be one of ${STORED_TIERS.join(', ')} (got ${describe(value)}).`);
  }
  return value as StoredTier;
}

/** A batch of tier changes, each with a reason, validated whole before anything is written. A memory may appear more than once: a batch applies in order. */
export function parseTierChanges(value: unknown): TierChange[] {
  if (!Array.isArray(value)) throw new InvalidInputError('invalid-input', `Tier changes are an array of { id, tier, reason } (got ${describe(value)}).`);
  return value.map((change: unknown, i) => {
    try {
      if (!isPlainObject(change)) throw new InvalidInputError('invalid-input', `A tier change is { id, tier, reason } (got ${describe(change)}).`);
      const { id, tier, reason } = change;
      if (typeof reason !== 'string' || reason.trim() === '') {
        throw new InvalidInputError('invalid-input', 'A tier change needs a reason, e.g. "promoted: theme t3 heat 4.2 ≥ 3.0".');
      }
      return { id: parseId(id), tier: parseTier(tier), reason };
    } catch (error) {
      if (error instanceof InvalidInputError && value.length > 1) error.message = `changes[${i}]: ${error.message}`;
      throw error;
    }
  });
}

/** A kind of use, as `recordAccess` logs it. */
export function parseUse(value: unknown): UseKind {
  if (!USE_KINDS.includes(value as UseKind)) {
    throw new InvalidInputError('invalid-input', `A use is one of ${USE_KINDS.join(', ')} (got ${describe(value)}).`);
  }
  return value as UseKind;
}

function parseSource(value: unknown): Source {
  if (!SOURCES.includes(value as Source)) {
    throw new InvalidInputError('invalid-input', `source must be one of ${SOURCES.join(', ')} (got ${describe(value)}).`);
  }
  return value as Source;
}

function parseTags(value: unknown, limits: Limits): string[] {
  if (!Array.isArray(value) || value.length > limits.maxTags) {
    throw new InvalidInputError('invalid-input', `tags must be an array of at most ${limits.maxTags} strings (got ${describe(value)}).`);
  }
  const tags = new Set<string>();
  for (const tag of value) {
    if (typeof tag !== 'string' || tag.trim() === '' || tag.length > limits.maxTagLength) {
      throw new InvalidInputError('invalid-input', `Each tag is a non-empty string of at most ${limits.maxTagLength} characters (got ${describe(tag)}).`);
    }
    tags.add(tag.trim());
  }
  return [...tags];
}

function parseImportance(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new InvalidInputError('invalid-input', `importance is a number from 0 to 1 (got ${describe(value)}).`);
  }
  return value;
}

/** A time is a finite number of milliseconds since the epoch. */
export function parseTime(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidInputError('invalid-input', `${field} is a time in milliseconds since the epoch, e.g. Date.now() (got ${describe(value)}).`);
  }
  return value;
}

function checkUnknown(value: Record<string, unknown>, allowed: ReadonlySet<string>, what: string): void {
  const unknown = Object.keys(value).filter((k) => !allowed.has(k));
  if (unknown.length > 0) {
    throw new InvalidInputError('invalid-input', `${what} has unknown field(s): ${unknown.join(', ')}. Allowed: ${[...allowed].join(', ')}.`);
  }
}

function checkValidity(r: { validFrom?: number; validUntil?: number }): void {
  if (r.validFrom !== undefined && r.validUntil !== undefined && r.validFrom > r.validUntil) {
    throw new InvalidInputError('invalid-input', 'validFrom is after validUntil; a memory must be valid for some time.');
  }
}

/** Turns a caller's input into a new record, stamped at `now`. */
export function createRecord(input: unknown, limits: Limits, now: number, newId: () => string): MemoryRecord {
  if (!isPlainObject(input)) {
    throw new InvalidInputError('invalid-input', `A memory is an object { text, scope, … } (got ${describe(input)}).`);
  }
  checkUnknown(input, INPUT_FIELDS, 'A memory');
  const i = input as Partial<Record<keyof MemoryInput, unknown>>;
  const record: MemoryRecord = {
    id: i.id === undefined ? newId() : parseId(i.id),
    text: parseText(i.text, limits),
    scope: parseMemoryScope(i.scope),
    tags: i.tags === undefined ? [] : parseTags(i.tags, limits),
    importance: i.importance === undefined ? 0.5 : parseImportance(i.importance),
    source: i.source === undefined ? 'manual' : parseSource(i.source),
    tier: i.tier === undefined ? 'plaintext' : parseTier(i.tier),
    createdAt: now,
    updatedAt: now,
    lastAccessedAt: now,
    accessCount: 0,
  };
  for (const f of ['validFrom', 'validUntil', 'expiresAt'] as const) {
    if (i[f] !== undefined) record[f] = parseTime(i[f], f);
  }
  checkValidity(record);
  return record;
}

/** Applies a validated patch to a copy of `record`. Returns the copy, the fields the patch named, and whether the text changed. */
export function applyPatch(record: MemoryRecord, patch: unknown, limits: Limits, now: number): { next: MemoryRecord; fields: PatchField[]; textChanged: boolean } {
  if (!isPlainObject(patch)) {
    throw new InvalidInputError('invalid-input', `A patch is an object of the fields to change (got ${describe(patch)}).`);
  }
  checkUnknown(patch, PATCH_FIELDS, 'A patch');
  const p = patch as Partial<Record<keyof MemoryPatch, unknown>>;
  const next: MemoryRecord = { ...record, tags: [...record.tags], updatedAt: now };
  if (p.text !== undefined) next.text = parseText(p.text, limits);
  if (p.tags !== undefined) next.tags = parseTags(p.tags, limits);
  if (p.importance !== undefined) next.importance = parseImportance(p.importance);
  for (const f of ['validFrom', 'validUntil', 'expiresAt'] as const) {
    if (p[f] === null) delete next[f];
    else if (p[f] !== undefined) next[f] = parseTime(p[f], f);
  }
  checkValidity(next);
  const textChanged = next.text !== record.text;
  if (textChanged) delete next.embedding;
  const fields = [...PATCH_FIELDS].filter((f) => p[f] !== undefined);
  return { next, fields, textChanged };
}

/** Applies tier changes in order to `current` (in place, stamped `at`); the moves they made, as events. */
export function moveTiers(current: Map<string, MemoryRecord>, batch: readonly TierChange[], at: number): MemoryEvent[] {
  const events: MemoryEvent[] = [];
  for (const c of batch) {
    const r = current.get(c.id);
    if (!r || r.tier === c.tier) continue;
    current.set(c.id, { ...r, tier: c.tier, updatedAt: at });
    events.push({ at, memoryId: c.id, type: 'tier-changed', from: r.tier, to: c.tier, reason: c.reason });
  }
  return events;
}

/** Precomputed vectors for a batch: one per memory, all from one model. */
export interface VectorInput {
  vectors: readonly Float32Array[];
  embedding: EmbeddingRef;
}

export function checkVectors(count: number, input: VectorInput | undefined): void {
  if (input === undefined) return;
  if (!isPlainObject(input)) throw new InvalidInputError('invalid-input', `Vectors are given as { vectors, embedding } (got ${describe(input)}).`);
  const { vectors, embedding } = input;
  if (!Array.isArray(vectors) || vectors.length !== count) {
    throw new InvalidInputError('invalid-input', `Pass one vector per memory: got ${Array.isArray(vectors) ? vectors.length : 'no array of'} vectors for ${count} memories.`);
  }
  if (!isPlainObject(embedding) || typeof embedding.model !== 'string' || !Number.isInteger(embedding.dim) || embedding.dim <= 0) {
    throw new InvalidInputError('invalid-input', 'Vectors need an embedding reference { model, dim } naming the model that made them.');
  }
  for (const v of vectors) {
    if (!(v instanceof Float32Array) || v.length !== embedding.dim || !v.every(Number.isFinite)) {
      throw new InvalidInputError('invalid-input', `Each vector is a Float32Array of ${embedding.dim} finite numbers, as embedding.dim says.`);
    }
  }
}

/**
 * Changes written by `applyChanges` in one transaction: memories to add (with their vectors, as
 * `addMany` takes them), then patches to existing memories (a rewritten text, a validity), in order.
 */
export interface ChangeBatch {
  add?: readonly MemoryInput[];
  /** One vector per added memory, all from one model. */
  vectors?: VectorInput;
  update?: readonly { id: string; patch: MemoryPatch }[];
}

/** The shape of a change batch (each memory and patch is validated as it is created or applied). */
export function parseChangeBatch(batch: unknown): { inputs: readonly MemoryInput[]; updates: { id: string; patch: MemoryPatch }[] } {
  if (!isPlainObject(batch)) throw new InvalidInputError('invalid-input', 'applyChanges takes { add?, vectors?, update? }.');
  const { add = [], update = [] } = batch as ChangeBatch;
  if (!Array.isArray(add)) throw new InvalidInputError('invalid-input', 'applyChanges: add is an array of memories.');
  if (!Array.isArray(update) || update.some((u) => !isPlainObject(u) || !isPlainObject(u.patch))) {
    throw new InvalidInputError('invalid-input', 'applyChanges: update is an array of { id, patch }.');
  }
  return { inputs: add, updates: update.map((u) => ({ id: parseId(u.id), patch: u.patch })) };
}

/** An options argument: undefined (all defaults) or a plain object; anything else is a typed error naming `what`. */
export function parseOptions<T extends object>(value: T | undefined, what: string): Partial<T> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) throw new InvalidInputError('invalid-input', `${what} takes an options object or nothing (got ${describe(value)}).`);
  return value;
}
