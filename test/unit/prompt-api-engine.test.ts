// Contract tests of the Prompt API engine against a double of `LanguageModel`
// (test/support/prompt-api-double.ts, which says what it cannot show): the base
// session and its clones, append and abort, the window budget and overflow, the
// reply at send, the names before the renaming, and the engine served on the
// shared-engine channel as the scheduler worker drives it.
import { describe, expect, it, vi } from 'vitest';
import { layoutPrompt } from '../../src/engine/layout';
import { promptLength } from '../../src/engine/ledger';
import { PromptApiEngine, servePromptApiEngine } from '../../src/engine/prompt-api';
import { MARK } from '../../src/engine/prompt-api/units';
import { connectEngine } from '../../src/engine/shared';
import type { Engine, PromptTokens, TokenChunk } from '../../src/engine/types';
import { DeviceError } from '../../src/errors';
import { LanguageModelDouble, type LanguageModelDoubleOptions, type SessionDouble } from '../support/prompt-api-double';

const SYSTEM = 'You are a helpful assistant.';
const TEA = 'The user drinks green tea every morning.';
const PEANUTS = 'The user is allergic to peanuts.';
const CAT = 'The user has a cat named Io.';
const DRAFT = 'what should I cook tonight';

async function setup(doubleOptions: LanguageModelDoubleOptions = {}, reserveTokens?: number) {
  const model = new LanguageModelDouble(doubleOptions);
  const engine = new PromptApiEngine(reserveTokens === undefined ? {} : { reserveTokens }, { api: model });
  await engine.load();
  return { model, engine, lay: layFor(engine) };
}

function layFor(engine: Engine) {
  return (working: string[], options: { final?: boolean; draft?: string } = {}) =>
    layoutPrompt({ system: SYSTEM, activated: ['The user is vegetarian.'], working, draft: options.draft ?? DRAFT }, engine.info!.template, (t) => engine.tokenize(t), { final: options.final ?? false });
}

/** The sessions the engine made beyond its measuring one (the first session). */
const made = (model: LanguageModelDouble): SessionDouble[] => model.sessions.slice(1);
/** Units of the system, activated and history segments (what the base session holds). */
const stableUnits = (prompt: PromptTokens): number => prompt.segments.filter((s) => s.kind !== 'working' && s.kind !== 'draft').reduce((n, s) => n + s.tokens.length, 0);
const liveMade = (model: LanguageModelDouble): SessionDouble[] => made(model).filter((s) => !s.destroyed);

describe('loading the Prompt API engine', () => {
  it('fails with a typed error naming the setting where there is no built-in model, or it is unavailable', async () => {
    const absent = await new PromptApiEngine().load().catch((e: unknown) => e); // Node has no LanguageModel
    expect(absent).toBeInstanceOf(DeviceError);
    expect(absent).toMatchObject({ code: 'built-in-model-unavailable', message: expect.stringMatching(/no built-in model.*Set engine to 'auto' \(or 'transformers'\)/) });
    const unavailable = await new PromptApiEngine({}, { api: new LanguageModelDouble({ availability: 'unavailable' }) }).load().catch((e: unknown) => e);
    expect(unavailable).toMatchObject({ code: 'built-in-model-unavailable', message: expect.stringMatching(/'unavailable'/) });
  });

  it('reports progress when the model is still to download, and the window as its context length', async () => {
    const progress: number[] = [];
    const engine = new PromptApiEngine({}, { api: new LanguageModelDouble({ availability: 'downloadable', contextWindow: 4096 }) });
    const info = await engine.load({ onProgress: (p) => progress.push(p.fraction) });
    expect(progress).toEqual([0, 0.99, 1]);
    expect(info).toMatchObject({ engine: 'prompt-api', device: 'browser', capabilities: { rollback: 'checkpoint', snapshots: false, contextLength: 4096 } });
  });

  it('passes the configured languages to availability() and every create(), and validates them', async () => {
    const model = new LanguageModelDouble();
    const engine = new PromptApiEngine({ languages: ['en', 'es'] }, { api: model });
    await engine.load();
    await engine.prewarm(await layFor(engine)([TEA]));
    const expected = { expectedInputs: [{ type: 'text', languages: ['en', 'es'] }], expectedOutputs: [{ type: 'text', languages: ['en', 'es'] }] };
    expect(model.asked.map((a) => a.call)).toEqual(['availability', 'create', 'create']); // the measuring session, then the base
    for (const { options } of model.asked) expect(options).toMatchObject(expected);
    expect(() => new PromptApiEngine({ languages: [] }, { api: model })).toThrow(/promptApi\.languages must be a non-empty array/);
  });

  it('tokenizes a text into its measured size: the same text always the same ids', async () => {
    const { engine } = await setup();
    const [a, again, other, empty] = await engine.tokenize(['three little words', 'three little words', 'three little pigs', '']);
    expect(a).toHaveLength(3); // the double counts words
    expect(a!.slice(1)).toEqual([MARK.continued, MARK.continued]);
    expect(again).toEqual(a);
    expect(other![0]).not.toBe(a![0]);
    expect(empty).toEqual([]);
  });
});

describe('prewarming on the Prompt API', () => {
  it('holds the system text and activated block in a base session, the memories in a clone, never the typed text', async () => {
    const { model, engine, lay } = await setup();
    const prefix = await lay([TEA, PEANUTS]);
    const result = await engine.prewarm(prefix);
    expect(result.held).toBe(prefix.workingEnds.at(-1));
    expect(result).toMatchObject({ complete: true, stats: { tokensReused: 0, tokensPrefilled: result.held, tokensRolledBack: 0 } });
    const [base, clone] = made(model);
    expect(base!.initial).toEqual([{ role: 'system', content: expect.stringContaining('vegetarian') }]);
    expect(base!.initial[0]!.content).toContain(SYSTEM);
    expect(clone!.later).toEqual([{ role: 'user', content: expect.stringMatching(/green tea[\s\S]*peanuts/) }]);
    expect(JSON.stringify(clone!.messages())).not.toContain('cook tonight');
    expect(engine.usage()).toEqual({ contextUsage: clone!.contextUsage, contextWindow: 6144, overflows: 0 });
    expect(promptLength(await engine.held())).toBe(result.held);
  });

  it('appends added memories to the same clone, clones afresh when they change, and does nothing when they hold', async () => {
    const { model, engine, lay } = await setup();
    const first = await engine.prewarm(await lay([TEA]));
    const grown = await lay([TEA, CAT]);
    const second = await engine.prewarm(grown);
    expect(model.log.filter((c) => c === 'clone')).toHaveLength(1);
    expect(second.stats).toMatchObject({ tokensReused: first.held, tokensPrefilled: second.held - first.held, tokensRolledBack: 0 });
    expect(made(model)[1]!.later).toHaveLength(2);

    const calls = model.log.length;
    const same = await engine.prewarm(await lay([TEA, CAT], { draft: 'what should I cook tonight, quickly' }));
    expect(same.stats).toMatchObject({ tokensReused: second.held, tokensPrefilled: 0 });
    expect(model.log.slice(calls).filter((c) => c === 'clone' || c === 'append' || c === 'create')).toEqual([]);

    const changed = await lay([PEANUTS]);
    const third = await engine.prewarm(changed);
    expect(third.stats.tokensRolledBack).toBe(second.held - third.stats.tokensReused);
    expect(liveMade(model)).toHaveLength(2); // the base and the new clone; the old clone is destroyed
    expect(liveMade(model)[1]!.later).toEqual([{ role: 'user', content: expect.stringContaining('peanuts') }]);
  });

  it('a newer draft aborts the superseded clone: nothing of it stays', async () => {
    const { model, engine, lay } = await setup({ msPerToken: 5 });
    const [old, next] = await Promise.all([lay([TEA, PEANUTS]), lay([CAT])]);
    await engine.prewarm(await lay([])); // the base exists, so the stale prewarm is soon inside its clone's append
    const stale = engine.prewarm(old);
    await vi.waitFor(() => expect(model.log.at(-1)).toBe('append'), { interval: 1 }); // it takes 5 ms a token
    const fresh = engine.prewarm(next);
    const [staleResult, freshResult] = await Promise.all([stale, fresh]);
    expect(staleResult.complete).toBe(false);
    expect(freshResult.complete).toBe(true);
    const holding = liveMade(model).flatMap((s) => s.later.map((m) => m.content)).join('\n');
    expect(holding).toContain('cat named Io');
    expect(holding).not.toMatch(/green tea|peanuts/);
    // Not merely dropped afterwards: the stale clone or its append was cut short, so no session ever held them.
    expect(made(model).flatMap((s) => s.later.map((m) => m.content)).join('\n')).not.toMatch(/green tea|peanuts/);
  });

  it('an empty prefix (the cache guard clearing) drops every session but the measuring one', async () => {
    const { model, engine, lay } = await setup();
    const warm = await engine.prewarm(await lay([TEA]));
    const cleared = await engine.prewarm({ segments: [] });
    expect(cleared).toMatchObject({ held: 0, complete: true, stats: { tokensRolledBack: warm.held } });
    expect(liveMade(model)).toEqual([]);
    expect(await engine.held()).toEqual({ segments: [] });
  });
});

describe('answering on the Prompt API', () => {
  it('answers on the clone the draft prewarmed, streams chunks, and keeps only the base afterwards', async () => {
    const { model, engine, lay } = await setup();
    const warm = await engine.prewarm(await lay([TEA, PEANUTS]));
    const calls = model.log.length;
    const chunks: TokenChunk[] = [];
    const prompt = await lay([TEA, PEANUTS], { final: true });
    const result = await engine.generate(prompt, { onChunk: (c) => chunks.push(c), chunkTokens: 4 });
    expect(model.log.slice(calls).filter((c) => c === 'clone' || c === 'append')).toEqual([]);
    expect(result.finishReason).toBe('stop');
    expect(result.text).toMatch(/vegetarian[\s\S]*green tea[\s\S]*peanuts[\s\S]*cook tonight/); // the double replies with what it holds
    expect(chunks.map((c) => c.text).join('')).toBe(result.text);
    expect(chunks.length).toBeGreaterThan(1);
    expect(result.stats).toMatchObject({ tokensReused: warm.held, tokensPrefilled: promptLength(prompt) - warm.held, tokensGenerated: result.tokens.length });
    expect(result.stats.ttftMs).toBeGreaterThan(0);
    expect(liveMade(model)).toHaveLength(1); // the answering clone is gone, the base stays
    expect(promptLength(await engine.held())).toBe(stableUnits(prompt));
  });

  it('without a prewarm it clones the base and appends the memories at send; maxTokens cuts the reply', async () => {
    const { model, engine, lay } = await setup();
    const result = await engine.generate(await lay([CAT], { final: true }), { maxTokens: 3 });
    expect(model.log.filter((c) => c === 'clone')).toHaveLength(1);
    expect(result.finishReason).toBe('length');
    expect(result.tokens.length).toBeGreaterThanOrEqual(3);
    expect(result.text.split(' ').length).toBeLessThan(8);
  });

  it('an aborted send reports aborted with what came so far', async () => {
    const { engine, lay } = await setup({ msPerToken: 1 });
    const control = new AbortController();
    const result = await engine.generate(await lay([TEA], { final: true }), { signal: control.signal, onChunk: () => control.abort() });
    expect(result.finishReason).toBe('aborted');
    expect(result.text).not.toBe('');
  });
});

describe('the context window', () => {
  it('memories that would not leave the reserve free are left out, so the window never overflows', async () => {
    const many = Array.from({ length: 30 }, (_, i) => `Memory number ${i} says the user likes thing ${i}.`);
    const { model, engine, lay } = await setup({ contextWindow: 200 }, 40);
    const prefix = await lay(many);
    const result = await engine.prewarm(prefix);
    expect(result.complete).toBe(false);
    const kept = prefix.workingEnds.filter((end) => end <= result.held).length;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(many.length);
    expect(result.held).toBe(prefix.workingEnds[kept - 1]);
    const clone = liveMade(model)[1]!;
    expect(clone.contextUsage!).toBeLessThanOrEqual(200 - 40);
    const answer = await engine.generate(await lay(many, { final: true }), { maxTokens: 20 });
    expect(answer.finishReason).not.toBe('aborted');
    expect(engine.usage().overflows).toBe(0);
  });

  it('an overflow the budget missed (a count that was too low) is counted, that clone is not reused, and refused memories are left out', async () => {
    const { model, engine, lay } = await setup({ contextWindow: 70, undercount: 40 }, 0);
    const all = [TEA, PEANUTS, CAT, 'The user runs on Sundays with a friend from work.'];
    const first = await engine.prewarm(await lay([TEA]));
    await engine.prewarm(await lay(all)); // appended to the clone: the double drops its first message (contextoverflow)
    expect(engine.usage().overflows).toBe(1);
    const clones = model.log.filter((c) => c === 'clone').length;
    const again = await engine.prewarm(await lay(all)); // a fresh clone, and the model refuses all four at once
    expect(model.log.filter((c) => c === 'clone').length).toBe(clones + 1);
    expect(engine.usage().overflows).toBe(2);
    expect(again).toMatchObject({ complete: false, held: stableUnits(await lay(all)) });
    expect(first.held).toBeGreaterThan(again.held);
  });

  it('works with the names before the renaming (inputUsage, inputQuota, measureInputUsage)', async () => {
    const { engine, lay } = await setup({ legacy: true, contextWindow: 5000 });
    expect(engine.info!.capabilities.contextLength).toBe(5000);
    const result = await engine.prewarm(await lay([TEA]));
    expect(result.held).toBeGreaterThan(0);
    expect(engine.usage().contextUsage).toBeGreaterThan(0);
  });
});

describe('the Prompt API engine served to the scheduler worker', () => {
  it('a connected engine (as the worker holds it) prewarms and answers on the page’s engine', async () => {
    const model = new LanguageModelDouble();
    const served = servePromptApiEngine({}, { api: model });
    const remote = connectEngine({ channelName: served.channel, timeoutMs: 5000 });
    try {
      const info = await remote.load();
      expect(info.engine).toBe('prompt-api');
      const lay = layFor(remote);
      const warm = await remote.prewarm(await lay([PEANUTS]));
      expect(warm.held).toBeGreaterThan(0);
      expect(made(model)[1]!.later[0]!.content).toContain('peanuts');
      const chunks: string[] = [];
      const answer = await remote.generate(await lay([PEANUTS], { final: true }), { onChunk: (c) => chunks.push(c.text) });
      expect(answer.stats.tokensReused).toBe(warm.held);
      expect(chunks.join('')).toBe(answer.text);
    } finally {
      await remote.dispose();
      await served.stop();
    }
    expect(model.live()).toEqual([]);
  });
});
