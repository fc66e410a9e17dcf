// The bounded event log, sans I/O: which old events compaction may fold away
// under a retention, and how they fold into one use tally per memory (its use
// counts and its decayed use sums as of a time, with the log position the
// tallies cover). The store does the reads and writes (store/compaction.ts);
// the scheduler turns a tally into heat (scheduler/signals.ts).
import { InvalidInputError } from '../errors';
import { describe, isPlainObject } from './scope';
import { USE_KINDS, type MemoryEvent, type UseKind } from './types';

/** How much of the log stays as events; older events live on only in the tallies. */
export interface Retention {
  /** The log keeps at most this many events. Default 10,000. */
  maxEvents: number;
  /** Events older than this (ms) are folded even within maxEvents. Default 90 days. */
  maxAgeMs: number;
}

export const DEFAULT_RETENTION: Retention = { maxEvents: 10_000, maxAgeMs: 90 * 86_400_000 };

/** Heat halves every this many ms unless a scheduler says otherwise (the scheduler's default). */
export const DEFAULT_FOLD_HALF_LIFE_MS = 14 * 86_400_000;

/**
 * One memory's uses, folded from the events compaction removed from the log. `decayed[kind]` is
 * the sum over its uses of that kind of 2^(-(at - t) / halfLife), so heat under any use weights is
 * Σ weight[kind] × decayed[kind] as of `at`, exactly (for the half-life the tallies were folded with).
 */
export interface UseTally {
  id: string;
  /** When the memory's `created` event was logged, and its place in the log (the order themes are assigned in). */
  createdAt: number;
  createdSeq: number;
  at: number;
  decayed: Record<UseKind, number>;
  counts: Record<UseKind, number>;
  /** The last mention or access (retrievals are Mneme's own doing and do not count). */
  lastUsedAt: number;
}

/** The tallies as stored: one value, ids as one JSON string and numbers in typed arrays (reading 100k small values costs seconds; this costs milliseconds). */
export interface PackedTallies {
  ids: string;
  /** Per tally: createdAt, createdSeq, at, lastUsedAt, then decayed and counts for each use kind. */
  numbers: Float64Array;
}

/** Where the tallies stand: every event up to `upTo` (a log position) is folded into them. */
export interface LogFold {
  upTo: number;
  halfLifeMs: number;
  /** PackedTallies, sealed whole in an encrypted store. */
  tallies: unknown;
}

/** Numbers per use kind, as a literal: every tally gets the same object shape (Object.fromEntries made dictionary objects, slow at 100k). */
const perKind = (mention: number, retrieval: number, access: number): Record<UseKind, number> => ({ mention, retrieval, access });
const zeros = () => perKind(0, 0, 0);
const STRIDE = 4 + 2 * 3; // four numbers, then decayed and counts per use kind

export function packTallies(tallies: Iterable<UseTally>): PackedTallies {
  const list = [...tallies];
  const numbers = new Float64Array(list.length * STRIDE);
  list.forEach((t, i) => {
    let o = i * STRIDE;
    numbers[o++] = t.createdAt;
    numbers[o++] = t.createdSeq;
    numbers[o++] = t.at;
    numbers[o++] = t.lastUsedAt;
    for (const per of [t.decayed, t.counts]) {
      numbers[o++] = per.mention;
      numbers[o++] = per.retrieval;
      numbers[o++] = per.access;
    }
  });
  return { ids: JSON.stringify(list.map((t) => t.id)), numbers };
}

export function unpackTallies(packed: PackedTallies | undefined): UseTally[] {
  if (!packed) return [];
  const ids = JSON.parse(packed.ids) as string[];
  const n = packed.numbers;
  return ids.map((id, i) => {
    const o = i * STRIDE;
    return { id, createdAt: n[o]!, createdSeq: n[o + 1]!, at: n[o + 2]!, lastUsedAt: n[o + 3]!, decayed: perKind(n[o + 4]!, n[o + 5]!, n[o + 6]!), counts: perKind(n[o + 7]!, n[o + 8]!, n[o + 9]!) };
  });
}

export function parseRetention(value: unknown): Retention {
  if (value === undefined) return DEFAULT_RETENTION;
  if (!isPlainObject(value)) throw new InvalidInputError('invalid-input', `eventLog is { maxEvents?, maxAgeMs? } (got ${describe(value)}).`);
  const maxEvents = value.maxEvents ?? DEFAULT_RETENTION.maxEvents;
  const maxAgeMs = value.maxAgeMs ?? DEFAULT_RETENTION.maxAgeMs;
  if (!Number.isInteger(maxEvents) || (maxEvents as number) < 0) throw new InvalidInputError('invalid-input', `eventLog.maxEvents is a whole number ≥ 0 (got ${describe(maxEvents)}).`);
  if (typeof maxAgeMs !== 'number' || !(maxAgeMs >= 0)) throw new InvalidInputError('invalid-input', `eventLog.maxAgeMs is a number of ms ≥ 0 (got ${describe(maxAgeMs)}).`);
  return { maxEvents: maxEvents as number, maxAgeMs };
}

/**
 * How many of `oldest` (the log's oldest events, in order) compaction folds: the leading run of
 * those beyond the newest `maxEvents` of the `total` in the log, or older than `maxAgeMs` at `now`.
 * It stops at the first event retention keeps, so the log stays a contiguous tail.
 */
export function compactable(oldest: readonly Pick<MemoryEvent, 'at'>[], total: number, retention: Retention, now: number): number {
  const cutoff = now - retention.maxAgeMs;
  let n = 0;
  while (n < oldest.length && (total - n > retention.maxEvents || oldest[n]!.at < cutoff)) n++;
  return n;
}

/** The tally after one more use at `at` (a creation is the first mention). */
export function addToTally(tally: UseTally, kind: UseKind, at: number, halfLifeMs: number): UseTally {
  const factor = at > tally.at ? 2 ** (-(at - tally.at) / halfLifeMs) : 1;
  const decayed = zeros();
  for (const k of USE_KINDS) decayed[k] = tally.decayed[k] * factor + (k === kind ? 1 : 0);
  const lastUsedAt = kind === 'retrieval' ? tally.lastUsedAt : Math.max(tally.lastUsedAt, at);
  return { ...tally, at: Math.max(at, tally.at), decayed, counts: { ...tally.counts, [kind]: tally.counts[kind] + 1 }, lastUsedAt };
}

/** A memory's first tally: its creation, a mention. */
export function newTally(id: string, at: number, seq: number): UseTally {
  return { id, createdAt: at, createdSeq: seq, at, decayed: { ...zeros(), mention: 1 }, counts: { ...zeros(), mention: 1 }, lastUsedAt: at };
}

/**
 * Folds events (in log order) into `tallies` (by memory id, updated in place). A creation starts a
 * tally afresh (an import may re-create an id), a use adds to it, a removal drops it; a use of a
 * memory with no tally (removed meanwhile) is dropped.
 */
export function foldEvents(tallies: Map<string, UseTally>, events: readonly MemoryEvent[], halfLifeMs: number): Map<string, UseTally> {
  for (const e of events) {
    if (e.type === 'created') tallies.set(e.memoryId, newTally(e.memoryId, e.at, e.seq ?? 0));
    else if (e.type === 'removed') tallies.delete(e.memoryId);
    else if (e.type === 'accessed') {
      const t = tallies.get(e.memoryId);
      if (t) tallies.set(e.memoryId, addToTally(t, e.use, e.at, halfLifeMs));
    }
  }
  return tallies;
}
