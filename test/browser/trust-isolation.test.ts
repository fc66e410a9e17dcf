// Isolation: scope and governance hold in every read path (list, count, search, export,
// scheduler search, the prompt and the prewarmed cache, metrics), under random mixed-scope use.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryElement } from '../../src/engine/layout';
import type { Engine, PrewarmOptions, PromptTokens } from '../../src/engine/types';
import { composeGovernance, medicalForDoctors, sensitiveStaysInDomain } from '../../src/memory/governance';
import type { CallerScope, MemoryRecord, MemoryScope } from '../../src/memory/types';
import { createMneme, type Mneme } from '../../src/mneme';
import { GuardedEngine, contains } from '../../src/scheduler/cache-guard';
import { MetricsEmitter, type MetricEvent } from '../../src/scheduler/plugins';
import { Predictor } from '../../src/scheduler/predict';
import { Scheduler } from '../../src/scheduler/scheduler';
import { HashingEmbedder } from '../support/hashing-embedder';
import { smollmDryRun } from '../support/smollm';

const RULES = composeGovernance(medicalForDoctors(), sensitiveStaysInDomain());
const open: Mneme[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((m) => m.close()));
});

async function setup() {
  const m = await createMneme({ name: `iso-${crypto.randomUUID()}`, embedder: new HashingEmbedder(), governance: RULES, snapshotDelayMs: 60_000 });
  open.push(m);
  let caller: CallerScope = { userId: 'u0' };
  const metricEvents: MetricEvent[] = [];
  const metrics = new MetricsEmitter();
  metrics.on((e) => metricEvents.push(e));
  // The session reads as whoever `caller` is now.
  const scheduler = await Scheduler.create(m, { scope: { userId: 'u0' }, metrics, binding: { readScope: () => caller, preload: () => [] } });
  await scheduler.startSession();
  const engine = new GuardedEngine(await smollmDryRun(), m.store, { context: () => caller });
  const predictor = new Predictor(scheduler, { engine, metrics, recordRetrieval: false });
  return { m, scheduler, engine, predictor, metricEvents, as: (c: CallerScope) => (caller = c) };
}

/** What the reference rules say a caller may see, written out independently of src/. */
function maySee(m: MemoryRecord, c: CallerScope): boolean {
  const s = m.scope as { shared?: true; userId?: string; role?: string; agentId?: string; sessionId?: string };
  if (!s.shared) {
    if (s.userId !== c.userId) return false;
    if (s.role !== undefined && s.role !== c.role) return false;
    if (s.agentId !== undefined && s.agentId !== c.agentId) return false;
    if (s.sessionId !== undefined && s.sessionId !== c.sessionId) return false;
  }
  if (m.tags.includes('medical') && c.role !== 'doctor') return false;
  if (m.tags.includes('sensitive')) {
    const domainTag = m.tags.find((t) => t.startsWith('domain:'));
    const domain = domainTag ? domainTag.slice(7) : s.agentId;
    if (domain !== c.agentId) return false;
  }
  return true;
}

async function heldTokens(engine: Engine): Promise<number[]> {
  return (await engine.held()).segments.flatMap((s) => [...s.tokens]);
}

describe('isolation', () => {
  it('reference rules: medical memories reach only the doctor role; sensitive ones never cross domains', async () => {
    const { m, scheduler, engine, predictor, as } = await setup();
    await m.addMany([
      { text: 'Blood pressure medication lisinopril dose 10mg', scope: { userId: 'u0' }, tags: ['medical'] },
      { text: 'Salary negotiation notes for the work review', scope: { userId: 'u0', agentId: 'work' }, tags: ['sensitive'] },
      { text: 'Therapy notes kept for the health review', scope: { userId: 'u0' }, tags: ['sensitive', 'domain:health'] },
      { text: 'Favourite review colour is green', scope: { userId: 'u0' } },
    ]);
    const texts = (rs: { text: string }[]) => rs.map((r) => r.text.split(' ')[0]).sort();
    const views = async (c: CallerScope, query: string) => {
      as(c);
      const listed = texts(await m.list({ scope: c }));
      const searched = texts((await m.searchMemory(query, { scope: c, k: 10 })).map((r) => r.memory));
      const exported = texts((await m.exportMemories({ scope: c })).memories);
      const scheduled = texts((await scheduler.search(query, { k: 10 })).map((r) => r.memory));
      expect(await m.count({ scope: c })).toBe(listed.length);
      for (const found of [...searched, ...scheduled]) expect(listed).toContain(found);
      expect(exported).toEqual(listed);
      return listed;
    };
    expect(await views({ userId: 'u0', role: 'doctor' }, 'blood medication review')).toEqual(['Blood', 'Favourite']);
    expect(await views({ userId: 'u0', role: 'nurse' }, 'blood medication review')).toEqual(['Favourite']);
    expect(await views({ userId: 'u0' }, 'lisinopril dose')).toEqual(['Favourite']);
    expect(await views({ userId: 'u0', agentId: 'work' }, 'salary therapy review')).toEqual(['Favourite', 'Salary']);
    expect(await views({ userId: 'u0', agentId: 'health' }, 'salary therapy review')).toEqual(['Favourite', 'Therapy']);
    expect(await views({ userId: 'u0', agentId: 'health', role: 'doctor' }, 'salary therapy review medication')).toEqual(['Blood', 'Favourite', 'Therapy']);
    // By id too, when the caller says who they are.
    const blood = (await m.list({ scope: { userId: 'u0', role: 'doctor' } })).find((r) => r.text.startsWith('Blood'))!;
    expect((await m.get(blood.id, { scope: { userId: 'u0', role: 'doctor' } }))?.text).toBe(blood.text);
    expect(await m.get(blood.id, { scope: { userId: 'u0', role: 'nurse' } })).toBeUndefined();
    expect(await m.get(blood.id, { scope: { userId: 'u1', role: 'doctor' } })).toBeUndefined();
    // Nor does the prompt: a nurse's prewarm holds no medical memory.
    as({ userId: 'u0', role: 'nurse' });
    await (await predictor.draft('what medication dose lisinopril blood pressure ')).settled;
    const medical = (await engine.tokenize([memoryElement('Blood pressure medication lisinopril dose 10mg', engine.info!.template.specialTexts)]))[0]!;
    expect(contains(await heldTokens(engine), medical)).toBe(false);
    as({ userId: 'u0', role: 'doctor' });
    await (await predictor.draft('what medication dose lisinopril blood pressure ')).settled;
    expect(contains(await heldTokens(engine), medical)).toBe(true);
  });

  it('empties the engine cache of the previous user or role before anything else is prefilled', async () => {
    const { m, scheduler, as } = await setup();
    const calls: string[] = [];
    const inner = await smollmDryRun();
    const recording: Engine = { ...inner, info: inner.info, prewarm: (p: PromptTokens, o?: PrewarmOptions) => (calls.push(p.segments.length === 0 ? 'clear' : 'prefill'), inner.prewarm(p, o)) };
    let caller: CallerScope = { userId: 'u0', role: 'doctor' };
    const engine = new GuardedEngine(recording, m.store, { context: () => caller });
    const p = new Predictor(scheduler, { engine });
    await m.add({ text: 'Doctor only lisinopril memory', scope: { userId: 'u0', role: 'doctor' } });
    as(caller);
    await (await p.draft('lisinopril memory ')).settled;
    expect(calls).toEqual(['prefill']);
    caller = { userId: 'u0', role: 'nurse' };
    as(caller);
    await (await p.draft('anything else ')).settled;
    expect(calls).toEqual(['prefill', 'clear', 'prefill']);
    caller = { userId: 'u1' };
    as(caller);
    await (await p.draft('something new ')).settled;
    expect(calls.slice(3)).toEqual(['clear', 'prefill']);
    expect(engine.resets).toBe(2);
  });

  it('property: 10,000 random mixed-scope operations and queries leak nothing', async () => {
    const users = ['u0', 'u1', 'u2'];
    const word = fc.constantFrom('tiles', 'salary', 'dose', 'review', 'garden', 'flight');
    const scopeArb: fc.Arbitrary<MemoryScope> = fc.oneof(
      { weight: 1, arbitrary: fc.constant({ shared: true as const }) },
      {
        weight: 5,
        arbitrary: fc.record(
          { userId: fc.constantFrom(...users), role: fc.constantFrom('doctor', 'nurse'), agentId: fc.constantFrom('work', 'health'), sessionId: fc.constantFrom('s1', 's2') },
          { requiredKeys: ['userId'] },
        ),
      },
    );
    const callerArb: fc.Arbitrary<CallerScope> = fc.record(
      { userId: fc.constantFrom(...users), role: fc.constantFrom('doctor', 'nurse'), agentId: fc.constantFrom('work', 'health'), sessionId: fc.constantFrom('s1', 's2') },
      { requiredKeys: ['userId'] },
    );
    const tagsArb = fc.subarray(['medical', 'sensitive', 'domain:work', 'domain:health', 'misc']);
    const opArb = fc.oneof(
      { weight: 3, arbitrary: fc.record({ op: fc.constant('add' as const), scope: scopeArb, tags: tagsArb, word }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('remove' as const), pick: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('retag' as const), pick: fc.nat(), tags: tagsArb }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('list' as const), caller: callerArb }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('page' as const), caller: callerArb, limit: fc.integer({ min: 1, max: 9 }) }) },
      { weight: 3, arbitrary: fc.record({ op: fc.constant('search' as const), caller: callerArb, pick: fc.nat(), word }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('export' as const), caller: callerArb }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('get' as const), caller: callerArb, pick: fc.nat() }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('scheduled' as const), caller: callerArb, pick: fc.nat(), word }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('prewarm' as const), caller: callerArb, pick: fc.nat(), word }) },
    );
    const tally = { runs: 0, operations: 0, queries: 0, returned: 0, leaks: 0, missing: 0 };
    const report = () =>
      console.log(`isolation property: ${tally.runs} runs, ${tally.operations} operations (${tally.queries} queries, ${tally.returned} memories returned), ${tally.leaks} leaks, ${tally.missing} missing`);
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 500, maxLength: 500 }), async (ops) => {
        const { m, scheduler, engine, predictor, metricEvents, as } = await setup();
        const live = new Map<string, MemoryRecord>();
        let n = 0;
        const pickId = (i: number) => [...live.keys()][i % Math.max(1, live.size)];
        const check = (caller: CallerScope, ids: Iterable<string>, exact: boolean) => {
          const allowed = new Set([...live.values()].filter((r) => maySee(r, caller)).map((r) => r.id));
          let count = 0;
          for (const id of ids) {
            count++;
            if (!allowed.has(id)) {
              tally.leaks++;
              console.log('LEAK', JSON.stringify(caller), JSON.stringify(live.get(id)));
            }
          }
          tally.returned += count;
          if (exact && count !== allowed.size) tally.missing += Math.abs(allowed.size - count);
          tally.queries++;
        };
        for (const o of ops) {
          tally.operations++;
          if (o.op === 'add') {
            const r = await m.add({ text: `note zq${n++}q about ${o.word}`, scope: o.scope, tags: o.tags });
            live.set(r.id, r);
          } else if (o.op === 'remove' || o.op === 'retag') {
            const id = pickId(o.pick);
            if (id === undefined) continue;
            if (o.op === 'remove') {
              await m.remove(id);
              live.delete(id);
            } else live.set(id, await m.update(id, { tags: o.tags }));
          } else if (o.op === 'list') {
            const listed = await m.list({ scope: o.caller });
            check(o.caller, listed.map((r) => r.id), true);
          } else if (o.op === 'page') {
            const paged: string[] = [];
            let cursor: string | undefined;
            do {
              const page = await m.page({ scope: o.caller, limit: o.limit, ...(cursor !== undefined && { cursor }) });
              paged.push(...page.memories.map((r) => r.id));
              cursor = page.cursor;
            } while (cursor !== undefined);
            check(o.caller, paged, true);
          } else if (o.op === 'get') {
            const id = pickId(o.pick);
            if (id === undefined) continue;
            const got = await m.get(id, { scope: o.caller });
            check(o.caller, got ? [got.id] : [], false);
            if (!got && maySee(live.get(id)!, o.caller)) tally.missing++;
          } else if (o.op === 'export') {
            check(o.caller, (await m.exportMemories({ scope: o.caller })).memories.map((r) => r.id), true);
          } else {
            // Ask for a memory by its unique marker, whether or not the caller may see it.
            const target = live.get(pickId(o.pick) ?? '');
            const query = `${o.word} ${target ? target.text.split(' ')[1] : ''}`;
            if (o.op === 'search') check(o.caller, (await m.searchMemory(query, { scope: o.caller, k: 20 })).map((r) => r.memory.id), false);
            else {
              as(o.caller);
              if (o.op === 'scheduled') check(o.caller, (await scheduler.search(query, { k: 20 })).map((r) => r.memory.id), false);
              else {
                await (await predictor.draft(`${query} `)).settled;
                const held = await heldTokens(engine);
                const denied = [...live.values()].filter((r) => !maySee(r, o.caller));
                const runs = await engine.tokenize(denied.map((r) => memoryElement(r.text, engine.info!.template.specialTexts)));
                tally.queries++;
                tally.leaks += runs.filter((run) => contains(held, run)).length;
                if (runs.some((run) => contains(held, run))) console.log('LEAK prewarm', JSON.stringify(o.caller), JSON.stringify(denied.filter((_, i) => contains(held, runs[i]!))));
              }
            }
          }
        }
        // Metrics carry numbers, ids and reasons, never a memory's text.
        tally.leaks += metricEvents.filter((e) => JSON.stringify(e).includes('zq')).length;
        for (const e of metricEvents) if (JSON.stringify(e).includes('zq')) console.log('LEAK metric', JSON.stringify(e));
        tally.runs++;
        await m.close();
        open.splice(open.indexOf(m), 1);
        if (tally.leaks + tally.missing > 0) report();
        return tally.leaks === 0 && tally.missing === 0;
      }),
      { seed: 20261125, numRuns: 20, endOnFailure: true },
    );
    report();
    expect(tally.operations).toBe(10_000);
    expect(tally.leaks).toBe(0);
    expect(tally.missing).toBe(0);
  }, 240_000);
});
