// The prediction core on its own: events in, commands out, no engine, store or
// clock. Races are replayed by hand, in any order, which is the point of a
// sans-I/O core.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PREDICTION_DEFAULTS, PredictionCore, stableDraft, type PredictionConfig } from '../../src/core/prediction';
import type { CoreCommand } from '../../src/core/protocol';

const core = (config: Partial<PredictionConfig> = {}) => new PredictionCore({ ...PREDICTION_DEFAULTS, ...config });
const found = (...ids: string[]) => ids.map((id) => ({ id, tokens: 10 }));
const held = (ids: string[], reused = 0, prefilled = 0, length = reused + prefilled) => ({ reused, prefilled, length, heldIds: ids });
const of = <T extends CoreCommand['type']>(commands: CoreCommand[], type: T) => commands.filter((c): c is Extract<CoreCommand, { type: T }> => c.type === type);

describe('the prediction core', () => {
  it('asks for a search per draft, and prewarms what the search predicted, up to the last whole word', () => {
    const c = core();
    expect(c.handle({ type: 'draft', seq: 1, text: 'when do the ti' })).toEqual([{ type: 'search', seq: 1, query: 'when do the ti', k: PREDICTION_DEFAULTS.budget, draft: true }]);
    const out = c.handle({ type: 'searched', seq: 1, found: found('a', 'b') });
    expect(of(out, 'predicted')).toEqual([{ type: 'predicted', seq: 1, ids: ['a', 'b'], prewarm: true }]);
    expect(of(out, 'prewarm')[0]!.layout).toMatchObject({ working: ['a', 'b'], draft: 'when do the ', final: false });
    expect(c.working).toEqual(['a', 'b']);
  });

  it('drops a search that comes back after a newer draft: it never replaces the newer prewarm', () => {
    const c = core();
    c.handle({ type: 'draft', seq: 1, text: 'the renovation' });
    c.handle({ type: 'draft', seq: 2, text: 'the mortgage' });
    expect(c.handle({ type: 'searched', seq: 2, found: found('m') }).map((x) => x.type)).toEqual(['predicted', 'prewarm']);
    expect(c.handle({ type: 'searched', seq: 1, found: found('r') })).toEqual([{ type: 'superseded', seq: 1 }]);
    expect(c.isCurrent(1)).toBe(false);
    expect(c.isCurrent(2)).toBe(true);
    expect(c.handle({ type: 'draft', seq: 2, text: 'replayed' })).toEqual([{ type: 'superseded', seq: 2 }]);
  });

  it('tracks what the cache held, whichever prewarm reported it, and lays out held memories first', () => {
    const c = core();
    c.handle({ type: 'draft', seq: 1, text: 'a ' });
    c.handle({ type: 'searched', seq: 1, found: found('a', 'b', 'c') });
    // The prewarm was cut short: only 'a' made it into the cache.
    c.handle({ type: 'prewarmed', seq: 1, outcome: held(['a'], 0, 40) });
    expect(c.held).toEqual(['a']);
    c.handle({ type: 'draft', seq: 2, text: 'a d ' });
    const out = c.handle({ type: 'searched', seq: 2, found: found('d', 'a') });
    expect(of(out, 'prewarm')[0]!.layout.working).toEqual(['a', 'd']);
  });

  it('while the prediction barely moves, keeps the prewarmed memories and only appends the words typed since', () => {
    const c = core({ refreshAbove: 0.5 });
    c.handle({ type: 'draft', seq: 1, text: 'x ' });
    c.handle({ type: 'searched', seq: 1, found: found('a', 'b') });
    c.handle({ type: 'draft', seq: 2, text: 'x y' });
    expect(c.handle({ type: 'searched', seq: 2, found: found('a', 'b', 'c') })).toEqual([{ type: 'predicted', seq: 2, ids: ['a', 'b', 'c'], prewarm: false }]);
    c.handle({ type: 'draft', seq: 3, text: 'x y z' });
    const out = c.handle({ type: 'searched', seq: 3, found: found('b', 'a', 'c') });
    expect(of(out, 'prewarm')[0]!.layout).toMatchObject({ working: ['a', 'b'], draft: 'x y ' });
  });

  it('prewarms again when a reordering would cut the prefix the send reuses, though the predicted set is the same', () => {
    const c = core({ finalK: 2, send: { kind: 'held-plus-new', tokens: 20 } });
    c.handle({ type: 'draft', seq: 1, text: 'x ' });
    c.handle({ type: 'searched', seq: 1, found: found('a', 'b', 'c') });
    c.handle({ type: 'prewarmed', seq: 1, outcome: held(['a', 'b', 'c'], 0, 30) });
    c.handle({ type: 'draft', seq: 2, text: 'x y ' });
    const out = c.handle({ type: 'searched', seq: 2, found: found('c', 'a', 'b') });
    // The whole sets are equal, but the send's top 2 moved from {a, b} to {c, a}, and with no room left for 'b' a
    // send would lay out 'a', 'c': 'a' keeps its place, 'c' comes next, and the held 'b' goes behind them.
    expect(of(out, 'prewarm')[0]!.layout.working).toEqual(['a', 'c', 'b']);
  });

  it('with the final layout, prewarms only the send\'s top k: a memory behind it could never be in the prefix the send reuses', () => {
    const c = core({ finalK: 2, send: { kind: 'final' } });
    c.handle({ type: 'draft', seq: 1, text: 'x ' });
    const out = c.handle({ type: 'searched', seq: 1, found: found('a', 'b', 'c') });
    expect(of(out, 'predicted')[0]!.ids).toEqual(['a', 'b', 'c']);
    expect(of(out, 'prewarm')[0]!.layout.working).toEqual(['a', 'b']);
  });

  it('keeps the prewarm while the send\'s top k holds, whatever moves behind it', () => {
    const c = core({ finalK: 2 });
    c.handle({ type: 'draft', seq: 1, text: 'x ' });
    c.handle({ type: 'searched', seq: 1, found: found('a', 'b', 'c', 'd') });
    c.handle({ type: 'draft', seq: 2, text: 'x y' });
    expect(c.handle({ type: 'searched', seq: 2, found: found('b', 'a', 'e', 'f') })).toEqual([{ type: 'predicted', seq: 2, ids: ['b', 'a', 'e', 'f'], prewarm: false }]);
  });

  it('refreshes when the first prewarmed memory drops out, though nine in ten remain, and not when only the last one changes', () => {
    const c = core({ finalK: 10, refreshAbove: 0.2 });
    const ids = Array.from({ length: 10 }, (_, i) => `m${i}`);
    c.handle({ type: 'draft', seq: 1, text: 'x ' });
    expect(of(c.handle({ type: 'searched', seq: 1, found: found(...ids) }), 'prewarm')[0]!.layout.working).toEqual(ids);
    c.handle({ type: 'prewarmed', seq: 1, outcome: held(ids, 0, 100) });
    c.handle({ type: 'draft', seq: 2, text: 'x y' });
    // A new last memory: a send would prefill 10 of 100 tokens, and a refresh could save no more.
    expect(of(c.handle({ type: 'searched', seq: 2, found: found(...ids.slice(0, 9), 'n') }), 'prewarm')).toEqual([]);
    c.handle({ type: 'draft', seq: 3, text: 'x yz' });
    // The first one gone: a send would prefill all 100 (the cache reuses a prefix), so the prewarm starts now.
    expect(of(c.handle({ type: 'searched', seq: 3, found: found(...ids.slice(1), 'n') }), 'prewarm')[0]!.layout.working).toEqual([...ids.slice(1), 'n']);
  });

  it('prewarms again when another call cut the last prewarm short, though the prediction and the words are the same', () => {
    const c = core({ send: { kind: 'final' } });
    c.handle({ type: 'draft', seq: 1, text: 'x ' });
    c.handle({ type: 'searched', seq: 1, found: found('a', 'b', 'c') });
    c.handle({ type: 'prewarmed', seq: 1, outcome: held(['a'], 0, 15) }); // the stable prefix's prefill superseded it
    c.handle({ type: 'draft', seq: 2, text: 'x y' });
    expect(of(c.handle({ type: 'searched', seq: 2, found: found('a', 'b', 'c') }), 'prewarm')[0]!.layout).toMatchObject({ working: ['a', 'b', 'c'], draft: 'x ' });
    c.handle({ type: 'prewarmed', seq: 2, outcome: held(['a', 'b', 'c'], 15, 20) });
    c.handle({ type: 'draft', seq: 3, text: 'x yz' });
    expect(of(c.handle({ type: 'searched', seq: 3, found: found('a', 'b', 'c') }), 'prewarm')).toEqual([]);
  });

  it('while a prewarm is in flight, lays out a send in its order: the cache holds a prefix of it, not what was last reported', () => {
    const c = core({ send: { kind: 'final' } });
    c.handle({ type: 'draft', seq: 1, text: 'x ' });
    c.handle({ type: 'searched', seq: 1, found: found('a', 'b', 'c') });
    c.handle({ type: 'prewarmed', seq: 1, outcome: held(['a', 'b', 'c'], 0, 30) });
    c.handle({ type: 'draft', seq: 2, text: 'x y ' });
    expect(of(c.handle({ type: 'searched', seq: 2, found: found('b', 'c', 'd') }), 'prewarm')[0]!.layout.working).toEqual(['b', 'c', 'd']);
    // The send comes before that prewarm reports: the engine has already cut 'a' and is prefilling 'b', 'c', 'd'.
    c.handle({ type: 'send', seq: 3, text: 'x y z', k: 4, answer: true });
    expect(of(c.handle({ type: 'searched', seq: 3, found: found('a', 'b', 'c', 'd') }), 'generate')[0]!.layout.working).toEqual(['b', 'c', 'd', 'a']);
  });

  it('forgets a prewarm that never reached the engine: the next prediction prewarms, in the order the cache still holds', () => {
    const c = core({ send: { kind: 'final' } });
    c.handle({ type: 'draft', seq: 1, text: 'x ' });
    c.handle({ type: 'searched', seq: 1, found: found('a', 'b') });
    c.handle({ type: 'prewarmed', seq: 1, outcome: held(['a', 'b'], 0, 20) });
    c.handle({ type: 'draft', seq: 2, text: 'x ' });
    expect(of(c.handle({ type: 'searched', seq: 2, found: found('c', 'b') }), 'prewarm')[0]!.layout.working).toEqual(['b', 'c']);
    c.handle({ type: 'draft', seq: 3, text: 'x ' });
    expect(c.handle({ type: 'prewarm-skipped', seq: 1 })).toEqual([]); // an older one: nothing changes
    expect(c.handle({ type: 'prewarm-skipped', seq: 2 })).toEqual([]);
    // The same prediction as seq 2, which alone would not prewarm again; the cache still holds 'a', 'b'.
    expect(of(c.handle({ type: 'searched', seq: 3, found: found('c', 'b') }), 'prewarm')[0]!.layout.working).toEqual(['b', 'c']);
    expect(c.held).toEqual(['a', 'b']);
  });

  it('prepares the drafts for the k the last send took', () => {
    const c = core({ finalK: 1, send: { kind: 'final' } });
    c.handle({ type: 'send', seq: 1, text: 'x?', k: 2, answer: false });
    c.handle({ type: 'searched', seq: 1, found: found('a', 'b') });
    c.handle({ type: 'draft', seq: 2, text: 'y ' });
    c.handle({ type: 'searched', seq: 2, found: found('a', 'b', 'c') });
    c.handle({ type: 'draft', seq: 3, text: 'y z ' });
    // With k 1, {a} = {a} would keep the prewarm; the send took 2, and {a, c} is not {a, b}.
    expect(of(c.handle({ type: 'searched', seq: 3, found: found('a', 'c', 'b') }), 'prewarm')[0]!.layout.working).toEqual(['a', 'c']);
  });

  it('at send, held-plus-new keeps held memories within the token budget and adds the new ones', () => {
    const c = core({ send: { kind: 'held-plus-new', tokens: 35 } });
    c.handle({ type: 'draft', seq: 1, text: 'x ' });
    c.handle({ type: 'searched', seq: 1, found: found('a', 'b', 'c') });
    c.handle({ type: 'prewarmed', seq: 1, outcome: held(['a', 'b', 'c'], 50, 30) });
    c.handle({ type: 'send', seq: 2, text: 'x?', k: 2, answer: true });
    const out = c.handle({ type: 'searched', seq: 2, found: found('c', 'e') });
    // 20 tokens of final memories leave room for one 10-token held one: 'a', then 'c' (final), then 'e' (new).
    expect(of(out, 'generate')[0]).toMatchObject({ final: ['c', 'e'], layout: { working: ['a', 'c', 'e'], draft: 'x?', final: true } });
  });

  it('at send, the final policy lays out exactly the final set, held ones first', () => {
    const c = core({ send: { kind: 'final' } });
    c.handle({ type: 'draft', seq: 1, text: 'x ' });
    c.handle({ type: 'searched', seq: 1, found: found('a', 'b') });
    c.handle({ type: 'prewarmed', seq: 1, outcome: held(['a', 'b'], 50, 30) });
    c.handle({ type: 'send', seq: 2, text: 'x?', k: 2, answer: true });
    expect(of(c.handle({ type: 'searched', seq: 2, found: found('e', 'b') }), 'generate')[0]!.layout.working).toEqual(['b', 'e']);
  });

  it('reports the send from what the cache held: final memories held, tokens prefilled at send, and typing prefill wasted', () => {
    const c = core({ send: { kind: 'final' } });
    // After an earlier exchange the cache holds 100 tokens.
    c.handle({ type: 'send', seq: 1, text: 'hi there', k: 1, answer: true });
    c.handle({ type: 'searched', seq: 1, found: [] });
    c.handle({ type: 'generated', seq: 1, reply: 'hello', outcome: held([], 0, 90, 100) });
    expect(c.history).toEqual([{ role: 'user', text: 'hi there' }, { role: 'assistant', text: 'hello' }]);
    // Typing: the first prewarm keeps 80 of them and adds 50; a second rolls back to 100 and adds 30.
    c.handle({ type: 'draft', seq: 2, text: 'x ' });
    c.handle({ type: 'searched', seq: 2, found: found('a', 'b') });
    c.handle({ type: 'prewarmed', seq: 2, outcome: held(['a', 'b'], 80, 50) });
    c.handle({ type: 'draft', seq: 3, text: 'x y ' });
    c.handle({ type: 'searched', seq: 3, found: found('c') });
    c.handle({ type: 'prewarmed', seq: 3, outcome: held(['c'], 100, 30) });
    c.handle({ type: 'send', seq: 4, text: 'x y z', k: 1, answer: true });
    c.handle({ type: 'searched', seq: 4, found: found('c') });
    const out = c.handle({ type: 'generated', seq: 4, reply: 'ok', outcome: held(['c'], 125, 9) });
    // Of the 80 typing tokens, the send reused 125 − 80 = 45: 35 were wasted.
    expect(of(out, 'sent')[0]!.report).toEqual({ final: ['c'], seen: ['c'], heldFinal: ['c'], tokensReused: 125, tokensPrefilledAtSend: 9, typingPrefilled: 80, wastedPrefill: 35 });
    expect(of(out, 'record-uses')).toEqual([{ type: 'record-uses', ids: ['c'], use: 'retrieval' }]);
  });

  it('counts what the cache held before its first call as not prefilled by typing', () => {
    const c = core();
    c.handle({ type: 'draft', seq: 1, text: 'x ' });
    c.handle({ type: 'searched', seq: 1, found: found('a') });
    c.handle({ type: 'prewarmed', seq: 1, outcome: held(['a'], 100, 50) }); // 100 tokens were there already (another conversation's prefix)
    c.handle({ type: 'send', seq: 2, text: 'x y', k: 1, answer: true });
    c.handle({ type: 'searched', seq: 2, found: found('a') });
    const out = c.handle({ type: 'generated', seq: 2, reply: 'r', outcome: held(['a'], 150, 5) });
    expect(of(out, 'sent')[0]!.report).toMatchObject({ typingPrefilled: 50, wastedPrefill: 0, heldFinal: ['a'] });
  });

  it('a draft typed while the engine answers is predicted, then prewarmed once the answer is done', () => {
    const c = core();
    c.handle({ type: 'send', seq: 1, text: 'first', k: 1, answer: true });
    c.handle({ type: 'draft', seq: 2, text: 'next one ' });
    expect(c.handle({ type: 'searched', seq: 2, found: found('n') })).toEqual([{ type: 'predicted', seq: 2, ids: ['n'], prewarm: false }]);
    expect(of(c.handle({ type: 'searched', seq: 1, found: found('f') }), 'generate')).toHaveLength(1);
    const out = c.handle({ type: 'generated', seq: 1, reply: 'r', outcome: held([], 0, 20) });
    expect(of(out, 'search')).toEqual([{ type: 'search', seq: 2, query: 'next one ', k: PREDICTION_DEFAULTS.budget, draft: true, context: 'first\nr' }]);
    expect(of(c.handle({ type: 'searched', seq: 2, found: found('n') }), 'prewarm')[0]!.layout.history).toHaveLength(2);
  });

  it('picks memories for another model without generating (augment), and records them', () => {
    const c = core();
    const out = c.handle({ type: 'send', seq: 1, text: 'x', k: 2, answer: false });
    expect(out[0]!.type).toBe('search');
    expect(c.handle({ type: 'searched', seq: 1, found: found('a', 'b') }).map((x) => x.type)).toEqual(['record-uses', 'sent']);
  });

  it('adopts the caller’s conversation at send, and forgets everything when the user or role changes', () => {
    const c = core();
    c.handle({ type: 'context', key: 'alice' });
    const history = [{ role: 'user' as const, text: 'q' }, { role: 'assistant' as const, text: 'a' }];
    c.handle({ type: 'send', seq: 1, text: 'next', k: 1, answer: true, history, system: 'Be brief.' });
    expect(of(c.handle({ type: 'searched', seq: 1, found: [] }), 'generate')[0]!.layout).toMatchObject({ system: 'Be brief.', history });
    expect(c.handle({ type: 'context', key: 'bob' })).toEqual([{ type: 'cancel-prewarm' }]);
    expect(c.history).toEqual([]);
    expect(c.held).toEqual([]);
  });

  it('takes the conversation a page restored, and prewarms it again rather than trust the old prefix', () => {
    const c = core();
    c.handle({ type: 'draft', seq: 1, text: 'x ' });
    c.handle({ type: 'searched', seq: 1, found: found('a') });
    const history = [{ role: 'user' as const, text: 'earlier' }, { role: 'assistant' as const, text: 'reply' }];
    expect(c.handle({ type: 'conversation', history })).toEqual([]);
    expect(c.history).toEqual(history);
    c.handle({ type: 'draft', seq: 2, text: 'x ' });
    // The same prediction, but the prefix before it changed: prewarmed again, with the history.
    expect(of(c.handle({ type: 'searched', seq: 2, found: found('a') }), 'prewarm')[0]!.layout.history).toEqual(history);
  });

  it('refuses a second send while one is answered, and takes nothing from it', () => {
    const c = core();
    c.handle({ type: 'send', seq: 1, text: 'first', k: 1, answer: true });
    expect(c.handle({ type: 'send', seq: 2, text: 'second', k: 1, answer: true, history: [{ role: 'user', text: 'other' }], system: 'Other.' })).toEqual([{ type: 'superseded', seq: 2 }]);
    expect(c.history).toEqual([]);
    expect(of(c.handle({ type: 'searched', seq: 1, found: [] }), 'generate')[0]!.layout.system).toBe(PREDICTION_DEFAULTS.system);
  });

  it('a send whose search failed is over: the next send goes ahead', () => {
    const c = core();
    c.handle({ type: 'send', seq: 1, text: 'first', k: 1, answer: true });
    c.handle({ type: 'search-failed', seq: 1 });
    expect(c.handle({ type: 'send', seq: 2, text: 'second', k: 1, answer: true })).toEqual([{ type: 'search', seq: 2, query: 'second', k: 1, draft: false }]);
  });

  it('searches with the last turns as context: the caller\'s conversation, then each send and its reply', () => {
    const c = core();
    expect(of(c.handle({ type: 'draft', seq: 1, text: 'what else ' }), 'search')[0]).not.toHaveProperty('context');
    c.handle({ type: 'conversation', history: [{ role: 'user', text: 'Flights to Lisbon are booked.' }, { role: 'assistant', text: 'Noted.' }, { role: 'user', text: 'We need a hotel there.' }] });
    expect(of(c.handle({ type: 'draft', seq: 2, text: 'what else ' }), 'search')[0]).toMatchObject({ context: 'Noted.\nWe need a hotel there.' });
    c.handle({ type: 'send', seq: 3, text: 'What else is left?', k: 1, answer: true });
    c.handle({ type: 'searched', seq: 3, found: [] });
    c.handle({ type: 'generated', seq: 3, reply: 'Travel insurance.', outcome: held([], 0, 20) });
    expect(of(c.handle({ type: 'send', seq: 4, text: 'and then?', k: 1, answer: false }), 'search')[0]).toMatchObject({ context: 'What else is left?\nTravel insurance.' });
    const none = core({ contextTurns: 0 });
    none.handle({ type: 'conversation', history: [{ role: 'user', text: 'Flights to Lisbon are booked.' }] });
    expect(of(none.handle({ type: 'draft', seq: 1, text: 'what else ' }), 'search')[0]).not.toHaveProperty('context');
  });

  it('a send ranks with the context its drafts had; after another model answered, the turns are not searched', () => {
    const c = core();
    c.handle({ type: 'conversation', history: [{ role: 'user', text: 'Flights to Lisbon are booked.' }] });
    expect(of(c.handle({ type: 'draft', seq: 1, text: 'what else ' }), 'search')[0]).toMatchObject({ context: 'Flights to Lisbon are booked.' });
    // The page sends another conversation than the worker knew: the send still ranks as its drafts did.
    const sent = of(c.handle({ type: 'send', seq: 2, text: 'what else is left?', k: 1, answer: false, history: [] }), 'search')[0];
    expect(sent).toMatchObject({ context: 'Flights to Lisbon are booked.' });
    c.handle({ type: 'searched', seq: 2, found: [] });
    // Another model answered that send: the conversation now is unknown, so drafts and their send search no turns.
    c.handle({ type: 'conversation', history: [{ role: 'user', text: 'Tiles arrive Tuesday.' }] });
    c.handle({ type: 'send', seq: 3, text: 'ok', k: 1, answer: false });
    c.handle({ type: 'searched', seq: 3, found: [] });
    expect(of(c.handle({ type: 'draft', seq: 4, text: 'and the ' }), 'search')[0]).not.toHaveProperty('context');
    expect(of(c.handle({ type: 'send', seq: 5, text: 'and the plumber?', k: 1, answer: true }), 'search')[0]).not.toHaveProperty('context');
  });

  it('cuts a draft at its last whole word', () => {
    expect(stableDraft('when do the ti')).toBe('when do the ');
    expect(stableDraft('when')).toBe('');
  });
});

describe('the core is sans-I/O', () => {
  const root = resolve(dirname(new URL(import.meta.url).pathname), '../../src');
  const files = readdirSync(join(root, 'core')).map((f) => join(root, 'core', f));
  /** Every module the core reaches, following relative imports. */
  const reached = new Set<string>();
  let imports = 0;
  const visit = (file: string) => {
    if (reached.has(file)) return;
    reached.add(file);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(/^(?:import|export)[^'"]*from\s+'([^']+)'/gm)) {
      expect(spec!.startsWith('.'), `${file} imports the package '${spec}'`).toBe(true);
      imports++;
      visit(`${resolve(dirname(file), spec!)}.ts`);
    }
  };
  for (const file of files) visit(file);

  it('imports nothing from store/, engine/, rpc/, embed/ or search/', () => {
    const bad = [...reached].filter((f) => /\/src\/(store|engine|rpc|embed|search|client|scheduler)\//.test(f));
    expect(bad).toEqual([]);
    expect(imports).toBeGreaterThan(0); // it does import (prediction.ts imports protocol.ts), so the walk is checked
  });

  it('touches no browser global, timer or clock', () => {
    const globals = /\b(window|self|document|navigator|indexedDB|localStorage|caches|fetch|Worker|setTimeout|setInterval|performance|Date\.now|crypto)\b/;
    for (const file of reached) {
      const code = readFileSync(file, 'utf8').replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '');
      expect(globals.exec(code)?.[0], file).toBeUndefined();
    }
  });
});
