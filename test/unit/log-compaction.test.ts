// The bounded log's pure parts: what retention lets compaction fold, how events
// fold into use tallies, and that a scheduler restored from tallies plus the
// tail holds the same heat as one that replayed the whole log.
import { describe, expect, it } from 'vitest';
import { compactable, DEFAULT_RETENTION, foldEvents, packTallies, parseRetention, unpackTallies, type UseTally } from '../../src/memory/event-log';
import type { MemoryEvent, MemoryRecord, UseKind } from '../../src/memory/types';
import { DEFAULT_SIGNALS, addUse, heatAt, heatFromTally } from '../../src/scheduler/signals';
import { SchedulerState } from '../../src/scheduler/state';
import { DEFAULT_THEMES } from '../../src/scheduler/themes';

const H = DEFAULT_SIGNALS.heatHalfLifeMs;
const DAY = 86_400_000;
const created = (id: string, at: number, seq: number): MemoryEvent => ({ seq, at, memoryId: id, type: 'created', source: 'user', origin: 'add' });
const used = (id: string, use: UseKind, at: number, seq: number): MemoryEvent => ({ seq, at, memoryId: id, type: 'accessed', use });
const removed = (id: string, at: number, seq: number): MemoryEvent => ({ seq, at, memoryId: id, type: 'removed', reason: 'removed' });

describe('compactable', () => {
  const log = Array.from({ length: 10 }, (_, i) => used('a', 'mention', i * DAY, i + 1));

  it('folds the oldest events beyond the newest maxEvents', () => {
    expect(compactable(log, 10, { maxEvents: 4, maxAgeMs: Infinity }, 10 * DAY)).toBe(6);
    expect(compactable(log, 10, { maxEvents: 10, maxAgeMs: Infinity }, 10 * DAY)).toBe(0);
    expect(compactable(log.slice(0, 3), 10, { maxEvents: 4, maxAgeMs: Infinity }, 10 * DAY)).toBe(3); // a chunk of a longer log
    expect(compactable(log, 10, { maxEvents: 0, maxAgeMs: Infinity }, 10 * DAY)).toBe(10);
  });

  it('folds events older than maxAgeMs even within maxEvents, stopping at the first one it keeps', () => {
    expect(compactable(log, 10, { maxEvents: 100, maxAgeMs: 3.5 * DAY }, 10 * DAY)).toBe(7);
    const outOfOrder = [log[0]!, used('a', 'mention', 9.9 * DAY, 2), log[2]!];
    expect(compactable(outOfOrder, 3, { maxEvents: 100, maxAgeMs: DAY }, 10 * DAY)).toBe(1);
  });

  it('validates the retention option, defaulting what is left out', () => {
    expect(parseRetention(undefined)).toEqual(DEFAULT_RETENTION);
    expect(parseRetention({ maxEvents: 5 })).toEqual({ ...DEFAULT_RETENTION, maxEvents: 5 });
    for (const bad of [{ maxEvents: -1 }, { maxEvents: 1.5 }, { maxAgeMs: 'x' }, { maxAgeMs: -1 }, 'all']) {
      expect(() => parseRetention(bad)).toThrow(/eventLog/);
    }
  });
});

describe('foldEvents', () => {
  it('counts each kind of use and keeps the last use that was not a retrieval', () => {
    const tallies = foldEvents(new Map(), [created('a', 0, 1), used('a', 'retrieval', DAY, 2), used('a', 'access', 2 * DAY, 3), used('a', 'retrieval', 3 * DAY, 4)], H);
    expect([...tallies.values()]).toEqual([expect.objectContaining({ id: 'a', createdAt: 0, createdSeq: 1, at: 3 * DAY, counts: { mention: 1, retrieval: 2, access: 1 }, lastUsedAt: 2 * DAY })]);
  });

  it('continues the tallies it is given, drops removed memories, and ignores uses of memories it has no tally for', () => {
    const tallies = foldEvents(new Map(), [created('a', 0, 1), created('b', 0, 2)], H);
    foldEvents(tallies, [used('a', 'mention', DAY, 3), removed('b', DAY, 4), used('ghost', 'access', DAY, 5)], H);
    expect([...tallies.values()].map((t) => [t.id, t.counts.mention])).toEqual([['a', 2]]);
  });

  it('starts a re-created memory afresh', () => {
    const tallies = foldEvents(new Map(), [created('a', 0, 1), used('a', 'access', 1, 2), created('a', 5, 3)], H);
    expect([...tallies.values()]).toEqual([expect.objectContaining({ createdAt: 5, createdSeq: 3, counts: { mention: 1, retrieval: 0, access: 0 } })]);
  });
});

/** A seeded log over a few memories: creations, uses of every kind, a removal, times not always in order. */
function seededLog(): MemoryEvent[] {
  let x = 7;
  const next = () => ((x = (x * 48271) % 2147483647) / 2147483647);
  const log: MemoryEvent[] = [];
  let at = 0;
  for (let i = 0; i < 6; i++) log.push(created(`m${i}`, (at += DAY / 3), log.length + 1));
  for (let i = 0; i < 300; i++) {
    at += next() * DAY;
    const id = `m${Math.floor(next() * 6)}`;
    const kind = (['mention', 'retrieval', 'access'] as const)[Math.floor(next() * 3)]!;
    log.push(used(id, kind, at - (i % 17 === 0 ? DAY : 0), log.length + 1));
  }
  log.push(removed('m5', at, log.length + 1));
  return log;
}

describe('packed tallies', () => {
  it('read back as they were written', () => {
    const tallies = [...foldEvents(new Map(), seededLog(), H).values()];
    expect(unpackTallies(packTallies(tallies))).toEqual(tallies);
    expect(unpackTallies(undefined)).toEqual([]);
  });
});

describe('a scheduler restored from tallies and the tail', () => {
  const log = seededLog();
  const records = new Map(
    Array.from({ length: 5 }, (_, i): [string, MemoryRecord] => [`m${i}`, { id: `m${i}`, text: `note ${i} tiles`, scope: { userId: 'u' }, tags: [], importance: 0.5, source: 'user', tier: 'plaintext', createdAt: 0, updatedAt: 0, lastAccessedAt: 0, accessCount: 0 }]),
  );
  const now = log.at(-1)!.at + DAY;

  it('holds the heat of a full replay, at any split of the log', () => {
    const full = new SchedulerState(DEFAULT_SIGNALS, DEFAULT_THEMES);
    full.replay(records, log);
    for (const split of [0, 1, 6, 50, 200, log.length]) {
      const tallies = unpackTallies(packTallies(foldEvents(new Map(), log.slice(0, split), H).values())); // as stored
      const restored = new SchedulerState(DEFAULT_SIGNALS, DEFAULT_THEMES);
      restored.replay(records, log.slice(split), tallies);
      for (const id of records.keys()) {
        expect(restored.heatOf(id, now)).toBeCloseTo(full.heatOf(id, now), 9);
        expect(restored.lastUsedAt(records.get(id)!)).toBe(full.lastUsedAt(records.get(id)!));
      }
      expect(restored.neighbours('m2', 10 * DAY)).toEqual(full.neighbours('m2', 10 * DAY));
    }
  });

  it('turns a tally into the heat its uses add up to, under any use weights', () => {
    const weights = { ...DEFAULT_SIGNALS, useWeights: { mention: 3, retrieval: 0.1, access: 2 } };
    const events = log.filter((e) => e.memoryId === 'm1');
    const tally = foldEvents(new Map(), events, H).get('m1') as UseTally;
    let heat = addUse(undefined, 'mention', events[0]!.at, weights);
    for (const e of events.slice(1)) if (e.type === 'accessed') heat = addUse(heat, e.use, e.at, weights);
    expect(heatAt(heatFromTally(tally, weights), now, weights)).toBeCloseTo(heatAt(heat, now, weights), 9);
  });
});
