// What neighbouring memories lend a match: the timeline's neighbours within a
// window, up to a reach, and the shares summed over every match nearby.
import { describe, expect, it } from 'vitest';
import type { MemoryRecord } from '../../src/memory/types';
import { NEIGHBOUR_DECAY, neighbourShares } from '../../src/scheduler/query-match';
import { DEFAULT_SIGNALS } from '../../src/scheduler/signals';
import { SchedulerState } from '../../src/scheduler/state';
import { DEFAULT_THEMES } from '../../src/scheduler/themes';

const MINUTE = 60_000;
const record = (id: string): MemoryRecord => ({ id, text: `note ${id}`, scope: { userId: 'u' }, tags: [], importance: 0.5, source: 'user', tier: 'plaintext', createdAt: 0, updatedAt: 0, lastAccessedAt: 0, accessCount: 0 });

describe('SchedulerState.neighbours', () => {
  // a b c d said a minute apart; e a day later.
  const state = new SchedulerState(DEFAULT_SIGNALS, DEFAULT_THEMES);
  ['a', 'b', 'c', 'd'].forEach((id, i) => state.created(record(id), i * MINUTE));
  state.created(record('e'), 24 * 60 * MINUTE);

  it('gives the memories just before and after, and further ones up to the reach, with their distance', () => {
    expect(state.neighbours('b', 10 * MINUTE)).toEqual([{ id: 'a', distance: 1 }, { id: 'c', distance: 1 }]);
    expect(state.neighbours('b', 10 * MINUTE, 2)).toEqual([{ id: 'a', distance: 1 }, { id: 'c', distance: 1 }, { id: 'd', distance: 2 }]);
  });

  it('leaves out what was said outside the window', () => {
    expect(state.neighbours('d', 10 * MINUTE, 2)).toEqual([{ id: 'c', distance: 1 }, { id: 'b', distance: 2 }]);
    expect(state.neighbours('c', 1.5 * MINUTE, 2)).toEqual([{ id: 'b', distance: 1 }, { id: 'd', distance: 1 }]);
    expect(state.neighbours('nothing', 10 * MINUTE)).toEqual([]);
  });
});

describe('neighbourShares', () => {
  const line = ['a', 'b', 'c', 'd', 'e'];
  const around = (id: string) => {
    const i = line.indexOf(id);
    return [1, 2].flatMap((d) => [line[i - d], line[i + d]].filter((n): n is string => n !== undefined).map((n) => ({ id: n, distance: d })));
  };

  it('lends the weight next to a match and NEIGHBOUR_DECAY of it two away', () => {
    const lent = neighbourShares(new Map([['c', 1]]), around, 0.5);
    expect(Object.fromEntries(lent)).toEqual({ b: 0.5, d: 0.5, a: 0.5 * NEIGHBOUR_DECAY, e: 0.5 * NEIGHBOUR_DECAY });
  });

  it('sums what every match nearby lends, hits included', () => {
    const lent = neighbourShares(new Map([['b', 1], ['d', 0.4]]), around, 0.5);
    expect(lent.get('c')).toBeCloseTo(0.5 * 1 + 0.5 * 0.4, 12);
    expect(lent.get('b')).toBeCloseTo(0.5 * NEIGHBOUR_DECAY * 0.4, 12);
    expect(lent.get('a')).toBeCloseTo(0.5, 12);
  });

  it('lends nothing at weight 0', () => {
    expect(neighbourShares(new Map([['c', 1]]), around, 0).size).toBe(0);
  });
});
