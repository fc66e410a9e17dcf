import { afterEach, describe, expect, it } from 'vitest';
import { MnemeError } from '../../src/errors';
import { createMneme, type Mneme } from '../../src/mneme';
import type { StoreChange } from '../../src/store/store';
import { defaultRules, DEFAULT_LIFECYCLE, type TransformationRules } from '../../src/scheduler/lifecycle';
import { MetricsEmitter, type ContextBinding, type Governance, type MetricEvent } from '../../src/scheduler/plugins';
import { Predictor } from '../../src/scheduler/predict';
import { RESEARCH } from '../../src/scheduler/rank';
import { Scheduler, type SchedulerOptions } from '../../src/scheduler/scheduler';
import { smollmDryRun } from '../support/smollm';
import { failingWrite } from '../support/failing-write';
import dropinPage from '../fixtures/dropin-page.json';

const DAY = 86_400_000;
let now = Date.parse('2026-05-01T10:00:00Z');
const clock = () => now;
const open: { m: Mneme; s: Scheduler }[] = [];
afterEach(async () => {
  for (const { m, s } of open.splice(0)) {
    s.dispose();
    await m.close();
  }
});

async function setup(options: Partial<SchedulerOptions> = {}) {
  const m = await createMneme({ name: `sch-${crypto.randomUUID()}`, now: clock });
  const s = await Scheduler.create(m, { scope: { userId: 'u' }, clock, ...options });
  open.push({ m, s });
  return { m, s };
}

describe('Scheduler with the store', () => {
  it('turns messages into memories and bumps heat on a repeat instead of copying', async () => {
    const { m, s } = await setup();
    const first = await s.observe({ text: 'Hi! Remind me that the plumber comes on Monday at 9am. Thanks.' });
    expect(first.created.map((r) => r.text)).toEqual(['Remind me that the plumber comes on Monday at 9am.']);
    expect(first.created[0]!.importance).toBeGreaterThan(0.5);
    now += DAY;
    const again = await s.observe({ text: 'Remind me that the plumber comes on Monday at 9am.' });
    expect(again.created).toEqual([]);
    expect(again.mentioned).toEqual([first.created[0]!.id]);
    expect(await m.count({ scope: { userId: 'u' } })).toBe(1);
    expect(s.state.heatOf(first.created[0]!.id, now)).toBeGreaterThan(1.9);
  });

  it('rebuilds heat and themes from the event log on restart', async () => {
    const { m, s } = await setup();
    await s.observe({ text: 'The renovation tiles arrive Tuesday.' });
    await s.observe({ text: 'The renovation electrician comes Friday.' });
    const ids = [...m.records()].map((r) => r.id);
    await s.access(ids);
    const before = ids.map((id) => s.state.heatOf(id, now));
    const again = await Scheduler.create(m, { scope: { userId: 'u' }, clock });
    expect(ids.map((id) => again.state.heatOf(id, now))).toEqual(before);
    expect(again.state.themes.of(ids[0]!)!.id).toBe(again.state.themes.of(ids[1]!)!.id);
    again.dispose();
  });

  it('preloads the common background at session start, with reasons in the log', async () => {
    const { m, s } = await setup();
    await m.add({ text: 'I am allergic to penicillin', scope: { userId: 'u' }, importance: 0.95 });
    await m.add({ text: 'Some passing remark', scope: { userId: 'u' } });
    const transitions = await s.startSession({ sessionId: 's1' });
    expect(transitions).toHaveLength(1);
    expect(transitions[0]!.reason).toMatch(/^preloaded: session background/);
    expect(s.activatedRecords().map((r) => r.text)).toEqual(['I am allergic to penicillin']);
    const log = await m.store.events();
    expect(log.filter((e) => e.type === 'tier-changed').map((e) => e.reason)).toEqual([transitions[0]!.reason]);
  });

  it('swaps context binding: a student session loads learning preferences', async () => {
    const binding: ContextBinding = {
      readScope: (session) => session.scope,
      preload: (candidates) => candidates.filter((c) => c.memory.tags.includes('learning')).map((c) => c.memory.id),
    };
    const { m, s } = await setup({ binding });
    await m.add({ text: 'Prefers worked examples before theory', scope: { userId: 'u' }, tags: ['learning'] });
    await m.add({ text: 'Allergic to penicillin', scope: { userId: 'u' }, importance: 0.95 });
    await s.startSession({ role: 'student' });
    expect(s.activatedRecords().map((r) => r.text)).toEqual(['Prefers worked examples before theory']);
  });

  it('swaps governance: medical memories only for the doctor role, redacted elsewhere', async () => {
    const governance: Governance = {
      allow: (memory, scope) => !memory.tags.includes('medical') || scope.role === 'doctor',
      redact: (memory) => ({ ...memory, text: memory.text.replace(/\d{3}-\d{4}/g, '***-****') }),
    };
    const { m, s } = await setup({ governance });
    await m.add({ text: 'Blood pressure medication twice daily', scope: { userId: 'u' }, tags: ['medical'] });
    await m.add({ text: 'Call the pharmacy at 555-0199 about medication', scope: { userId: 'u' } });
    await s.startSession({ role: 'assistant' });
    const texts = (await s.search('medication')).map((r) => r.memory.text);
    expect(texts).toEqual(['Call the pharmacy at ***-**** about medication']);
    await s.startSession({ role: 'doctor' });
    expect((await s.search('medication')).map((r) => r.memory.text)).toContain('Blood pressure medication twice daily');
  });

  it('swaps transformation rules and strategy, and reports metrics', async () => {
    const events: MetricEvent[] = [];
    const metrics = new MetricsEmitter();
    metrics.on((e) => events.push(e));
    const pinAll: TransformationRules = {
      decide: (states, activated) => ({
        transitions: states.filter((st) => st.memory.tier !== 'activated').map((st) => ({ id: st.memory.id, from: st.memory.tier, to: 'activated' as const, reason: 'pinned by rule' })),
        activated: [...activated, ...states.filter((st) => st.memory.tier !== 'activated').map((st) => st.memory.id)],
      }),
    };
    const { m, s } = await setup({ rules: pinAll, strategy: RESEARCH, metrics });
    await m.add({ text: 'old note', scope: { userId: 'u' } });
    now += 40 * DAY;
    await m.add({ text: 'new note', scope: { userId: 'u' } });
    await s.tick();
    expect(s.activatedRecords()).toHaveLength(2);
    expect(events.filter((e) => e.type === 'transition').map((e) => (e as { transition: { reason: string } }).transition.reason)).toEqual(['pinned by rule', 'pinned by rule']);
    expect(events.find((e) => e.type === 'tiers')).toMatchObject({ sizes: { activated: 2 } });
    expect((await s.search('note'))[0]!.memory.text).toBe('new note'); // research: newest first
    expect(defaultRules(DEFAULT_LIFECYCLE).decide([], [], 0)).toEqual({ transitions: [], activated: [] });
  });

  it('predicts while typing, prewarms, and at send prefills only the tail, reported from what the cache held', async () => {
    const { m, s } = await setup();
    const wanted = ['The renovation tiles arrive Tuesday', 'The renovation electrician comes Friday'];
    const others = Array.from({ length: 25 }, (_, i) => `Errand ${i}: pick up parcel number ${1000 + i} at the post office`);
    await m.addMany([...wanted, 'Mortgage rate offer 3.1%', ...others].map((text) => ({ text, scope: { userId: 'u' } })));
    const engine = await smollmDryRun();
    // A prewarm the size of the final set: a hit has to be earned by the prediction.
    const p = new Predictor(s, { engine, budget: 2 });
    const text = 'When does the renovation electrician come and the tiles?';
    for (let i = 1; i <= text.length; i++) if (text[i - 1] === ' ') await (await p.draft(text.slice(0, i))).settled;
    expect([...p.heldIds].sort()).toEqual(wanted.map((t) => [...m.records()].find((r) => r.text === t)!.id).sort());
    const sent = await p.send({ text, k: 2 });
    expect(sent.results.map((r) => r.memory.text).sort()).toEqual([...wanted].sort());
    expect(sent.seen.map((r) => r.text).sort()).toEqual([...wanted].sort());
    expect(sent.heldFinal).toBe(2);
    expect(sent.prefillTokensAtSend).toBeLessThan(20);
    expect(sent.prefillTokensAtSend * 5).toBeLessThan(sent.promptTokens);
    expect(sent.tokensReused + sent.prefillTokensAtSend).toBe(sent.promptTokens);
    expect(sent.wastedPrefillTokens).toBeLessThanOrEqual(sent.typingPrefillTokens);
    expect((await m.store.events()).filter((e) => e.type === 'accessed' && e.use === 'retrieval')).toHaveLength(2);
  });

  it('refuses options out of range with a typed error naming the option', async () => {
    const { s } = await setup();
    for (const [options, named] of [[{ budget: 0 }, 'budget'], [{ k: 0 }, 'k is'], [{ contextTurns: -1 }, 'contextTurns'], [{ refreshAbove: 2 }, 'refreshAbove'], [{ maxTokens: 1.5 }, 'maxTokens']] as const) {
      expect(() => new Predictor(s, options)).toThrow(expect.objectContaining({ code: 'invalid-input', message: expect.stringContaining(named) }));
    }
  });

  it('prewarms again when typing reorders the send\'s top k among memories already held (the drop-in\'s page)', async () => {
    const { s } = await setup();
    // As bench/dropin.mjs tells them: each message's memories picked for the page's model, then observed.
    const picker = new Predictor(s);
    for (const text of dropinPage.told) {
      await picker.send({ text, answer: false });
      await s.observe({ text });
    }
    // Every draft predicts nearly all 8 memories, so the predicted set barely moves while its order does.
    const p = new Predictor(s, { engine: await smollmDryRun() });
    const { question } = dropinPage;
    for (let i = 1; i <= question.length; i++) await (await p.draft(question.slice(0, i))).settled;
    const sent = await p.send({ text: question });
    expect(sent.results).toHaveLength(5);
    expect(sent.heldFinal).toBe(5);
    expect(sent.prefillTokensAtSend * 10).toBeLessThan(sent.promptTokens);
  });

  it('reports nothing held when the draft predicted other memories than the send needs', async () => {
    const { m, s } = await setup();
    await m.addMany(['The renovation tiles arrive Tuesday', 'Mortgage rate offer 3.1% from the bank', ...Array.from({ length: 10 }, (_, i) => `Errand ${i} at the post office`)].map((text) => ({ text, scope: { userId: 'u' } })));
    const p = new Predictor(s, { engine: await smollmDryRun(), budget: 1, sendLayout: { kind: 'final' } });
    await (await p.draft('renovation tiles arrive ')).settled;
    const sent = await p.send({ text: 'What mortgage rate did the bank offer?', k: 1 });
    expect(sent.seen.map((r) => r.text)).toEqual(['Mortgage rate offer 3.1% from the bank']);
    expect(sent.heldFinal).toBe(0);
    expect(sent.wastedPrefillTokens).toBeGreaterThan(0);
  });
});

describe('an atomic tick', () => {
  const u = { userId: 'u' };
  const TEXTS = ['The renovation tiles arrive Tuesday', 'The renovation electrician comes Friday', 'The renovation plumber comes Monday'];

  it("writes a tick's transitions in one transaction: a failure inside it leaves none written, and heat replays the same after reopen", async () => {
    const name = `tick-${crypto.randomUUID()}`;
    const m = await createMneme({ name, now: clock });
    const s = await Scheduler.create(m, { scope: u, clock });
    const ids = (await m.addMany(TEXTS.map((text) => ({ text, scope: u })))).map((r) => r.id);
    await s.access(ids);
    await s.access(ids); // each memory at heat 3: all three are promoted by the next tick
    const changes: StoreChange[] = [];
    m.store.subscribe((change) => changes.push(change));

    await expect(failingWrite(2, () => s.tick())).rejects.toBeInstanceOf(MnemeError);
    expect((await m.list({ scope: u })).map((r) => r.tier)).toEqual(['plaintext', 'plaintext', 'plaintext']);
    expect(ids.map((id) => m.peek(id)!.tier)).toEqual(['plaintext', 'plaintext', 'plaintext']);
    expect((await m.store.events()).filter((e) => e.type === 'tier-changed')).toEqual([]);
    expect(changes).toEqual([]);
    expect(s.activatedRecords()).toEqual([]);

    const transitions = await s.tick();
    expect(transitions.map((t) => t.to)).toEqual(['activated', 'activated', 'activated']);
    expect(changes).toHaveLength(1);
    expect(changes[0]!.events.map((e) => e.type)).toEqual(['tier-changed', 'tier-changed', 'tier-changed']);
    expect(s.activatedRecords().map((r) => r.id).sort()).toEqual([...ids].sort());

    const heat = ids.map((id) => s.state.heatOf(id, now));
    s.dispose();
    await m.close();
    const again = await createMneme({ name, now: clock });
    const replayed = await Scheduler.create(again, { scope: u, clock });
    open.push({ m: again, s: replayed });
    expect(ids.map((id) => replayed.state.heatOf(id, now))).toEqual(heat);
    expect(heat.every((h) => h >= 3)).toBe(true);
    expect(replayed.activatedRecords().map((r) => r.id).sort()).toEqual([...ids].sort());
    expect(await replayed.tick()).toEqual([]);
  });

  it('writes the lifecycle and the session preload of startSession as one transaction', async () => {
    const { m, s } = await setup();
    const [cold, important] = await m.addMany([
      { text: 'Old gym membership number', scope: u },
      { text: 'I am allergic to penicillin', scope: u, importance: 0.95 },
    ]);
    await m.setTier(cold!.id, 'archived', 'test: archived');
    await s.access([cold!.id]); // heat 2 ≥ 1: restored by the lifecycle
    const changes: StoreChange[] = [];
    m.store.subscribe((change) => changes.push(change));
    const transitions = await s.startSession();
    expect(transitions.map((t) => [t.id, t.from, t.to])).toEqual([
      [cold!.id, 'archived', 'plaintext'],
      [important!.id, 'plaintext', 'activated'],
    ]);
    expect(changes).toHaveLength(1);
    expect(changes[0]!.events.map((e) => e.type === 'tier-changed' && e.reason.split(':')[0])).toEqual(['restored', 'preloaded']);
    await expect(failingWrite(1, () => s.startSession())).resolves.toEqual([]); // nothing left to move: nothing written
  });
});
