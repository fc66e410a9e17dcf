import { afterEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/types';
import { createMneme, type Mneme } from '../../src/mneme';
import { llmExtractor } from '../../src/scheduler/llm-extract';
import { Scheduler } from '../../src/scheduler/scheduler';
import { smollmDryRun } from '../support/smollm';

/** The dry-run engine (real tokenizer and cache accounting) answering with scripted replies: a test double for a model. */
async function scripted(replies: string[]): Promise<Engine> {
  const engine = await smollmDryRun();
  return { ...engine, generate: async (prompt, options) => ({ ...(await engine.generate(prompt, options)), text: replies.shift() ?? '' }) };
}

let now = Date.parse('2026-09-01T10:00:00Z');
const open: { m: Mneme; s: Scheduler }[] = [];
afterEach(async () => {
  for (const { m, s } of open.splice(0)) {
    s.dispose();
    await m.close();
  }
});

async function setup(replies: string[]) {
  const m = await createMneme({ name: `llm-${crypto.randomUUID()}`, now: () => now });
  const s = await Scheduler.create(m, { scope: { userId: 'u' }, clock: () => now, extractor: llmExtractor(await scripted(replies)) });
  open.push({ m, s });
  return { m, s };
}

describe('LLM extractor through the scheduler', () => {
  it('adds, rewrites and retires memories as the model says, after validating its JSON', async () => {
    const { m, s } = await setup([
      '{"add":[{"text":"The sofa is delivered on Saturday","importance":0.6}],"update":[],"retire":[]}',
      '{"add":[{"text":"The sofa delivery moved to Sunday","importance":0.7}],"update":[],"retire":[{"note":1,"reason":"moved"}]}',
    ]);
    const first = await s.observe({ text: 'The sofa comes on Saturday.' });
    expect(first.created.map((r) => r.text)).toEqual(['The sofa is delivered on Saturday']);
    now += 3_600_000;
    const second = await s.observe({ text: 'Actually they moved the sofa delivery to Sunday.' });
    expect(second.created.map((r) => r.text)).toEqual(['The sofa delivery moved to Sunday']);
    expect(second.retired).toEqual([first.created[0]!.id]);
    expect((await m.get(first.created[0]!.id, { scope: { userId: 'u' } }))!.validUntil).toBe(now);
    // A retired memory is stale: the lifecycle keeps it out of the activated tier.
    expect(s.state.stale((await m.get(first.created[0]!.id, { scope: { userId: 'u' } }))!, now + 1)).toBe(true);
  });

  it('falls back to the heuristic extractor when the model answers nonsense', async () => {
    const { m, s } = await setup(['I think you should buy a sofa!!']);
    const out = await s.observe({ text: 'Remind me the plumber comes on Monday at 9am.' });
    expect(out.created.map((r) => r.text)).toEqual(['Remind me the plumber comes on Monday at 9am.']);
    expect(await m.count({ scope: { userId: 'u' } })).toBe(1);
  });
});
