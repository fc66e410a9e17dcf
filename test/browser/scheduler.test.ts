import { afterEach, describe, expect, it } from 'vitest';
import { createMneme, type Mneme } from '../../src/mneme';
import { defaultRules, DEFAULT_LIFECYCLE, type TransformationRules } from '../../src/scheduler/lifecycle';
import { MetricsEmitter, type ContextBinding, type Governance, type MetricEvent } from '../../src/scheduler/plugins';
import { Predictor } from '../../src/scheduler/predict';
import { RESEARCH } from '../../src/scheduler/rank';
import { Scheduler, type SchedulerOptions } from '../../src/scheduler/scheduler';
import { smollmDryRun } from '../support/smollm';

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

  it('predicts while typing, prewarms, and at send prefills only the tail', async () => {
    const { m, s } = await setup();
    await m.addMany(['The renovation tiles arrive Tuesday', 'The renovation electrician comes Friday', 'Mortgage rate offer 3.1%'].map((text) => ({ text, scope: { userId: 'u' } })));
    const engine = await smollmDryRun();
    const p = new Predictor(s, { engine });
    const text = 'When does the renovation electrician come?';
    for (let i = 1; i <= text.length; i++) if (text[i - 1] === ' ') await (await p.draft(text.slice(0, i))).settled;
    expect(p.prewarmedIds.length).toBeGreaterThan(0);
    const sent = await p.send(text, 2);
    expect(sent.results[0]!.memory.text).toBe('The renovation electrician comes Friday');
    expect(sent.prewarmHit).toBe(1);
    expect(sent.prefillTokensAtSend).toBeLessThan(15);
    expect(sent.prefillTokensAtSend * 5).toBeLessThan(sent.prefillTokensCold);
    expect((await m.store.events()).filter((e) => e.reason === 'retrieved into prompt')).toHaveLength(2);
  });
});
