import { describe, expect, it } from 'vitest';
import type { MemoryRecord } from '../../src/memory/types';
import { extractSentences } from '../../src/scheduler/extract';
import { jaccard } from '../../src/util/jaccard';
import { DEFAULT_LIFECYCLE, defaultRules, type MemoryState } from '../../src/scheduler/lifecycle';
import { stableDraft } from '../../src/scheduler/predict';
import { CONVERSATION, RESEARCH, matchConfidence, rank, type MemorySignals } from '../../src/scheduler/rank';
import { DEFAULT_SIGNALS, addUse, heatAt, inferImportance, isStale, timeliness } from '../../src/scheduler/signals';
import { SchedulerState } from '../../src/scheduler/state';
import { ThemeIndex, DEFAULT_THEMES } from '../../src/scheduler/themes';

const DAY = 86_400_000;
const HOUR = 3_600_000;
function memory(id: string, over: Partial<MemoryRecord> = {}): MemoryRecord {
  return { id, text: id, scope: { userId: 'u' }, tags: [], importance: 0.5, source: 'user', tier: 'plaintext', createdAt: 0, updatedAt: 0, lastAccessedAt: 0, accessCount: 0, ...over };
}

describe('signals', () => {
  it('heat adds per use and halves every half-life', () => {
    let h = addUse(undefined, 'mention', 0, DEFAULT_SIGNALS);
    h = addUse(h, 'access', 0, DEFAULT_SIGNALS);
    expect(heatAt(h, 0, DEFAULT_SIGNALS)).toBe(2);
    expect(heatAt(h, 14 * DAY, DEFAULT_SIGNALS)).toBeCloseTo(1);
    expect(heatAt(h, 28 * DAY, DEFAULT_SIGNALS)).toBeCloseTo(0.5);
    h = addUse(h, 'retrieval', 14 * DAY, DEFAULT_SIGNALS);
    expect(heatAt(h, 14 * DAY, DEFAULT_SIGNALS)).toBeCloseTo(1.5);
    expect(h.lastUsedAt).toBe(0); // retrievals are Mneme's doing, not the user's
  });
  it('replays heat off the typed event log, never off a reason', () => {
    const state = new SchedulerState(DEFAULT_SIGNALS, DEFAULT_THEMES);
    state.replay(new Map([['a', memory('a')], ['b', memory('b')]]), [
      { at: 0, memoryId: 'a', type: 'created', source: 'user', origin: 'add' },
      { at: 0, memoryId: 'b', type: 'created', source: 'user', origin: 'add' },
      { at: 0, memoryId: 'a', type: 'accessed', use: 'retrieval' },
      { at: 0, memoryId: 'a', type: 'accessed', use: 'mention' },
      { at: 0, memoryId: 'b', type: 'accessed', use: 'access' },
      // Reasons are for people: words like these in one change nothing.
      { at: 0, memoryId: 'b', type: 'tier-changed', from: 'plaintext', to: 'activated', reason: 'accessed, mentioned, retrieved into prompt' },
      { at: 0, memoryId: 'b', type: 'updated', fields: ['tags'] },
      { at: 0, memoryId: 'gone', type: 'accessed', use: 'mention' },
    ]);
    expect(state.heatOf('a', 0)).toBe(1 + 0.5 + 1);
    expect(state.heatOf('b', 0)).toBe(1 + 1);
    expect(state.lastUsedAt(memory('a'))).toBe(0);
    expect(state.heatOf('gone', 0)).toBe(0);
  });
  it('timeliness decays with recency and is 0 once validity has passed', () => {
    expect(timeliness(memory('a'), undefined, 0, DEFAULT_SIGNALS)).toBe(1);
    expect(timeliness(memory('a'), undefined, 30 * DAY, DEFAULT_SIGNALS)).toBeCloseTo(0.5);
    expect(isStale(memory('a', { validUntil: 10 }), 11)).toBe(true);
    expect(isStale(memory('a', { expiresAt: 10 }), 9)).toBe(false);
    expect(timeliness(memory('a', { expiresAt: 10 }), undefined, 11, DEFAULT_SIGNALS)).toBe(0);
  });
  it('infers importance from reminders, dates and amounts', () => {
    expect(inferImportance('nice weather')).toBe(0.3);
    expect(inferImportance('Remind me to pay the deposit of $500 by Friday')).toBeGreaterThanOrEqual(0.75);
  });
});

describe('themes', () => {
  it('groups by a salient shared word and by co-occurrence, online', () => {
    const t = new ThemeIndex(DEFAULT_THEMES);
    const a = t.assign({ id: 'tiles', text: 'For the renovation, the bathroom tiles arrive next Tuesday', at: 0 });
    const b = t.assign({ id: 'water', text: 'The renovation water and electricity work starts Monday', at: 5 * DAY });
    expect(b.theme).toBe(a.theme);
    expect(t.assign({ id: 'dentist', text: 'Dentist appointment next Thursday', at: 20 * DAY }).created).toBe(true);
    // No shared word, but said in the same sitting: co-occurrence alone is not enough…
    expect(t.assign({ id: 'milk', text: 'Buy milk and bread', at: 5 * DAY + HOUR }).created).toBe(true);
    // …while co-occurrence plus a shared word is.
    expect(t.assign({ id: 'sofa', text: 'Sofa delivery for the bathroom', at: 5 * DAY + 2 * HOUR }).theme).toBe(a.theme);
    const label = t.label(t.of('tiles')!).split(' ');
    expect(label).toContain('renovation');
    // Words as written ("tiles", "arrive"), never stems ("til", "arriv").
    const written = new Set('for the renovation the bathroom tiles arrive next tuesday the renovation water and electricity work starts monday sofa delivery for the bathroom'.split(' '));
    for (const w of label) expect(written).toContain(w);
  });
  it('forgets removed members and drops empty themes', () => {
    const t = new ThemeIndex(DEFAULT_THEMES);
    t.assign({ id: 'a', text: 'garden hedge trimming', at: 0 });
    t.assign({ id: 'b', text: 'garden hedge fertilizer', at: DAY * 9 });
    expect(t.all()).toHaveLength(1);
    t.remove('a');
    t.remove('b');
    expect(t.all()).toHaveLength(0);
    expect(t.of('a')).toBeUndefined();
  });
  it('uses vector similarity, against the background of the other vectors, only for a semantic model', () => {
    const dim = 12;
    const axis = (i: number) => Float32Array.from({ length: dim }, (_, j) => (j === i ? 1 : 0.2));
    const index = (semantic: boolean) => {
      const t = new ThemeIndex({ ...DEFAULT_THEMES, semantic });
      // Ten unrelated memories, each on its own axis: the background a similarity is measured against.
      for (let i = 0; i < 10; i++) t.assign({ id: `bg${i}`, text: `background${i}`, at: -i * 30 * DAY, vector: axis(i) });
      t.assign({ id: 'a', text: 'alpha', at: 0, vector: axis(11) });
      return t;
    };
    expect(index(false).assign({ id: 'b', text: 'omega', at: 30 * DAY, vector: axis(11) }).created).toBe(true);
    const semantic = index(true);
    const b = semantic.assign({ id: 'b', text: 'omega', at: 30 * DAY, vector: axis(11) });
    expect(b).toMatchObject({ created: false, theme: semantic.of('a')!.id });
  });
});

describe('lifecycle', () => {
  const rules = defaultRules({ ...DEFAULT_LIFECYCLE, activatedBudget: 100 });
  const state = (id: string, over: Partial<MemoryState> & { tier?: MemoryRecord['tier'] } = {}): MemoryState => ({
    memory: memory(id, { tier: over.tier ?? 'plaintext' }),
    heat: 0,
    lastUsedAt: 0,
    stale: false,
    tokens: 30,
    ...over,
  });
  const theme = (heat: number) => ({ id: 't1', label: 'renovation', heat });

  it('promotes a hot theme within the token budget, with the reason', () => {
    const d = rules.decide([state('a', { heat: 2, theme: theme(4.2) }), state('b', { heat: 1, theme: theme(4.2) }), state('c', { theme: theme(4.2) }), state('d', { theme: theme(4.2) })], [], 0);
    expect(d.transitions.map((t) => t.id)).toEqual(['a', 'b', 'c']); // 3 × 30 tokens fit in 100
    expect(d.transitions[0]!.reason).toBe('promoted: theme t1 heat 4.2 ≥ 3.0');
    expect(d.activated).toEqual(['a', 'b', 'c']);
  });
  it('holds between the thresholds (hysteresis) and demotes below the lower one', () => {
    expect(rules.decide([state('a', { tier: 'activated', theme: theme(2) })], ['a'], 0).transitions).toEqual([]);
    expect(rules.decide([state('a', { theme: theme(2) })], [], 0).transitions).toEqual([]);
    const d = rules.decide([state('a', { tier: 'activated', theme: theme(0.8) })], ['a'], 0);
    expect(d.transitions).toEqual([{ id: 'a', from: 'activated', to: 'plaintext', reason: 'demoted: theme t1 heat 0.8 < 1.0' }]);
  });
  it('keeps the activated block in a stable order, appending new members', () => {
    const d = rules.decide(
      [state('x', { tier: 'activated', heat: 5 }), state('y', { tier: 'activated', heat: 0.1 }), state('z', { tier: 'activated', heat: 5 }), state('n', { heat: 9 })],
      ['x', 'y', 'z'],
      0,
    );
    expect(d.activated).toEqual(['x', 'z', 'n']);
  });
  it('archives what is cold and long unused, and restores it when it heats up again', () => {
    const old = rules.decide([state('a', { heat: 0.01, lastUsedAt: 0 })], [], 100 * DAY);
    expect(old.transitions[0]).toMatchObject({ to: 'archived', reason: 'archived: heat 0.01 < 0.05 and unused for 100 days ≥ 90' });
    expect(rules.decide([state('a', { heat: 0.01, lastUsedAt: 50 * DAY })], [], 100 * DAY).transitions).toEqual([]);
    expect(rules.decide([state('a', { tier: 'archived', heat: 1.5 })], [], 0).transitions[0]).toMatchObject({ to: 'plaintext', reason: 'restored: heat 1.5 ≥ 1.0' });
  });
});

describe('rank', () => {
  const hot: MemorySignals = { heat: 4, timeliness: 1, importance: 0.5, activated: true, theme: { id: 't', label: 'renovation', heat: 6 } };
  const cold: MemorySignals = { heat: 0, timeliness: 0.1, importance: 0.5, activated: false };
  const tiles = memory('tiles');
  const mortgage = memory('mortgage');
  const signals = (m: MemoryRecord) => (m.id === 'tiles' ? hot : cold);
  const hit = (m: MemoryRecord, coverage: number) => ({ memory: m, score: 1, parts: { fused: 1, lexical: 3, lexicalRank: 1, coverage } });

  it('lets heat decide a vague request', () => {
    const hits = [hit(mortgage, 0.1)];
    const out = rank({ hits, extra: [tiles], signals, confidence: matchConfidence(hits, false), k: 2 }, CONVERSATION);
    expect(out.map((r) => r.memory.id)).toEqual(['tiles', 'mortgage']);
    expect(out[0]!.reasons).toContain('in the activated tier');
  });
  it('puts what a specific request names first, however cold', () => {
    const hits = [hit(mortgage, 1)];
    const out = rank({ hits, extra: [tiles], signals, confidence: matchConfidence(hits, false), k: 2 }, CONVERSATION);
    expect(out.map((r) => r.memory.id)).toEqual(['mortgage', 'tiles']);
    expect(out[0]!.parts).toMatchObject({ confidence: 1, match: 1, coverage: 1 });
  });
  it('trusts a match that covers 30% of the query\'s terms fully, as a sentence answering a question does', () => {
    expect(matchConfidence([hit(mortgage, 0.3)], false)).toBe(1);
    expect(matchConfidence([hit(mortgage, 0.15)], false)).toBeCloseTo(0.5);
    const hits = [hit(mortgage, 0.3)];
    expect(rank({ hits, extra: [tiles], signals, confidence: matchConfidence(hits, false), k: 2 }, CONVERSATION)[0]!.memory.id).toBe('mortgage');
  });
  it('trusts dense similarity only from a semantic model', () => {
    const hits = [{ memory: mortgage, score: 1, parts: { fused: 1, dense: 0.9, denseRank: 1 } }];
    expect(matchConfidence(hits, false)).toBe(0);
    expect(matchConfidence(hits, true)).toBe(1);
  });
  it('swaps strategy: research favours the newest over the hottest', () => {
    const fresh = memory('fresh');
    const sig = (m: MemoryRecord): MemorySignals => (m.id === 'fresh' ? { ...cold, timeliness: 1 } : { ...hot, timeliness: 0.2 });
    const input = { hits: [], extra: [tiles, fresh], signals: sig, confidence: 0, k: 2 };
    expect(rank(input, CONVERSATION)[0]!.memory.id).toBe('tiles');
    expect(rank(input, RESEARCH)[0]!.memory.id).toBe('fresh');
  });
});

describe('extraction', () => {
  it('keeps sentences worth remembering and skips small talk and plain questions', () => {
    const out = extractSentences('Hi! The bank quoted a mortgage rate of 3.1% for the loan. Thanks. Tiles arrive Tuesday! How is the renovation going? Can you remind me on Friday to pay the plumber?');
    expect(out.map((e) => e.text)).toEqual(['The bank quoted a mortgage rate of 3.1% for the loan.', 'Tiles arrive Tuesday!', 'Can you remind me on Friday to pay the plumber?']);
  });
  it('measures overlap for near-duplicates', () => {
    expect(jaccard(['a', 'b'], ['a', 'b', 'a'])).toBe(1);
    expect(jaccard(['a', 'b'], ['b', 'c'])).toBeCloseTo(1 / 3);
    expect(jaccard([], [])).toBe(1);
  });
  it('prewarms only the words typing will not change', () => {
    expect(stableDraft('help me orga')).toBe('help me ');
    expect(stableDraft('help')).toBe('');
    expect(stableDraft('help me ')).toBe('help me ');
  });
});
