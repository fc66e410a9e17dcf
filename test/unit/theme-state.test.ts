// Saved themes: a restored index places, labels and scores the way the index
// it was saved from does (through the product's packing, as the store keeps
// it), a replay over a saved state matches a full replay, members rewritten or
// removed since are placed again, and a damaged or foreign state is refused.
import { describe, expect, it } from 'vitest';
import type { MemoryEvent, MemoryRecord } from '../../src/memory/types';
import { DEFAULT_SIGNALS } from '../../src/scheduler/signals';
import { SchedulerState } from '../../src/scheduler/state';
import { isThemeState, themeConfigKey, type ThemeState } from '../../src/scheduler/theme-state';
import { DEFAULT_THEMES, ThemeIndex } from '../../src/scheduler/themes';
import { packValue, unpackValue } from '../../src/util/pack';
import { everydayMemories } from '../support/everyday-memories';

const HOUR = 3_600_000;
const AT = Date.UTC(2026, 10, 1);
const CONFIG = themeConfigKey(DEFAULT_THEMES);
const memories = everydayMemories(200).map((m, i) => ({ id: `m${i}`, text: m.text, at: AT + Math.floor(i / 7) * 5 * HOUR }));

/** Each memory's theme, as the sets of members that share one (theme ids are names, not meaning). */
function partition(index: ThemeIndex): string[] {
  return index
    .all()
    .map((t) => [...t.members].sort().join(','))
    .sort();
}

const asStored = (state: ThemeState): unknown => unpackValue(packValue(state));
const lengths = new Map(memories.map((m) => [m.id, m.text.length]));

function placed(list = memories): ThemeIndex {
  const index = new ThemeIndex();
  for (const m of list) index.assign(m);
  return index;
}

describe('a saved theme index', () => {
  it('restores the same themes, labels and later placements', () => {
    const original = placed(memories.slice(0, 150));
    const state = asStored(original.save((id) => lengths.get(id)!));
    expect(isThemeState(state, CONFIG)).toBe(true);
    const restored = new ThemeIndex();
    restored.restore(state as ThemeState);
    expect(partition(restored)).toEqual(partition(original));
    for (const theme of original.all()) expect(restored.label(restored.get(theme.id)!)).toBe(original.label(theme));
    // What comes next lands where it would have: the term counts, document frequencies and mention times came back.
    for (const m of memories.slice(150)) expect(restored.assign(m)).toEqual(original.assign(m));
    restored.remove('m3');
    original.remove('m3');
    expect(partition(restored)).toEqual(partition(original));
  });

  it('is refused when damaged, of another version or placed under other settings', () => {
    const state = placed().save((id) => lengths.get(id)!);
    expect(isThemeState(state, themeConfigKey({ ...DEFAULT_THEMES, joinAt: 0.5 }))).toBe(false);
    expect(isThemeState({ ...state, version: 2 }, CONFIG)).toBe(false);
    expect(isThemeState({ ...state, memberTheme: state.memberTheme.map(() => state.themes.length) }, CONFIG)).toBe(false);
    expect(isThemeState({ ...state, termEnds: state.termEnds.slice(1) }, CONFIG)).toBe(false);
    expect(isThemeState({ ...state, memberTerms: state.memberTerms.map(() => state.vocabulary.length) }, CONFIG)).toBe(false);
    expect(isThemeState({ ...state, members: state.members.map(() => 7) }, CONFIG)).toBe(false);
    expect(isThemeState(null, CONFIG)).toBe(false);
  });
});

describe('a scheduler state replayed over saved themes', () => {
  const record = (m: { id: string; text: string; at: number }): MemoryRecord => ({
    id: m.id,
    text: m.text,
    scope: { userId: 'u' },
    tags: [],
    importance: 0.5,
    source: 'user',
    tier: 'plaintext',
    createdAt: m.at,
    updatedAt: m.at,
    lastAccessedAt: m.at,
    accessCount: 0,
  });
  const log: MemoryEvent[] = memories.flatMap((m, i): MemoryEvent[] => [
    { seq: 2 * i + 1, at: m.at, memoryId: m.id, type: 'created', source: 'user', origin: 'add' },
    { seq: 2 * i + 2, at: m.at + HOUR, memoryId: memories[(i * 37) % (i + 1)]!.id, type: 'accessed', use: 'mention' },
  ]);

  function replayed(records: Map<string, MemoryRecord>, events: MemoryEvent[], saved?: ThemeState): SchedulerState {
    const state = new SchedulerState(DEFAULT_SIGNALS, DEFAULT_THEMES);
    state.replay(records, events, [], saved);
    return state;
  }

  it('holds the themes of a full replay, whatever part of the log the saved state covers', () => {
    const records = new Map(memories.map((m) => [m.id, record(m)]));
    const full = replayed(records, log);
    for (const split of [0, 61, 250, log.length]) {
      const head = new Map([...records].filter(([id]) => log.slice(0, split).some((e) => e.type === 'created' && e.memoryId === id)));
      const saved = asStored(replayed(head, log.slice(0, split)).themes.save((id) => records.get(id)!.text.length)) as ThemeState;
      expect(partition(replayed(records, log, saved).themes)).toEqual(partition(full.themes));
    }
  });

  it('places again members that were rewritten or removed since the save', () => {
    const records = new Map(memories.map((m) => [m.id, record(m)]));
    const saved = replayed(records, log).themes.save((id) => records.get(id)!.text.length);
    const gym = memories.find((m) => m.text.startsWith('The gym bill is'))!;
    const changed = new Map(records);
    changed.set(gym.id, { ...records.get(gym.id)!, text: 'Renovation: the plumber fixes the kitchen sink on Monday.' });
    changed.delete('m0');
    const restored = replayed(changed, log, saved).themes;
    expect(restored.of('m0')).toBeUndefined();
    const before = new ThemeIndex();
    before.restore(saved);
    // Placed again by its new text: it left the gym's theme; every other memory kept its place.
    expect(restored.of(gym.id)!.terms.has('gym')).toBe(false);
    for (const index of [restored, before]) for (const id of [gym.id, 'm0']) index.remove(id);
    expect(partition(restored)).toEqual(partition(before));
  });
});
