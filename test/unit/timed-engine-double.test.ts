// The timed engine double (test/support/timed-engine-double.ts) over a dry-run
// engine: work lands only as its virtual clock moves, a superseded prewarm
// keeps exactly the slices that finished (and the wrapped ledger says so), a
// generate waits for the slice in flight, and its TTFT and typing figures add
// up.
import { describe, expect, test } from 'vitest';
import { createDryRunEngine } from '../../src/engine/dry-run';
import { promptLength } from '../../src/engine/ledger';
import type { ChatTemplatePieces, PromptTokens } from '../../src/engine/types';
import { sliceEnds, TimedEngineDouble } from '../support/timed-engine-double';

const TEMPLATE: ChatTemplatePieces = { prefix: [], turnStart: { system: [1, 40], user: [1, 41], assistant: [1, 42] }, turnEnd: [2, 3], stopTokens: [2], specialTexts: [] };
const run = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

/** 1000 tokens/s: one token is one virtual ms. */
function double(): TimedEngineDouble {
  return new TimedEngineDouble(createDryRunEngine({ template: TEMPLATE, tokenize: (texts) => texts.map((t) => [...t].map((c) => c.charCodeAt(0))) }), { rate: 1000 });
}

/** 10 system tokens, then `working` tokens (from `base`), then a draft. */
function prompt(base: number, working: number, draft: number[] = []): PromptTokens {
  return { segments: [{ kind: 'system', tokens: run(100, 10) }, { kind: 'working', tokens: run(base, working) }, ...(draft.length > 0 ? [{ kind: 'draft' as const, tokens: draft }] : [])] };
}

const heldLength = async (e: TimedEngineDouble) => promptLength(await e.held());

describe('TimedEngineDouble', () => {
  test('slices are cut as the driver cuts them: the stable part on its own', () => {
    expect(sliceEnds(prompt(1000, 90), 0, 32)).toEqual([10, 42, 74, 100]);
    expect(sliceEnds(prompt(1000, 90), 20, 32)).toEqual([52, 84, 100]);
  });

  test('a prewarm lands slice by slice as the clock moves, and only then', async () => {
    const e = double();
    let done = false;
    const warming = e.prewarm(prompt(1000, 90)).then((r) => ((done = true), r));
    await e.called(1);
    await e.advanceTo(9);
    expect(await heldLength(e)).toBe(0);
    await e.advanceTo(10);
    expect(await heldLength(e)).toBe(10);
    await e.advanceTo(73);
    expect(await heldLength(e)).toBe(42);
    expect(done).toBe(false);
    await e.advanceTo(100);
    const r = await warming;
    expect(r).toMatchObject({ held: 100, complete: true, stats: { tokensReused: 0, tokensPrefilled: 100 } });
  });

  test('a newer prewarm stops the old one at its next slice boundary; only finished slices are held', async () => {
    const e = double();
    const first = e.prewarm(prompt(1000, 90));
    await e.advanceTo(20); // the slice 10..42 is in flight
    const second = e.prewarm(prompt(2000, 40));
    await e.advanceTo(41);
    expect(await heldLength(e)).toBe(10);
    await e.advanceTo(42);
    expect(await first).toMatchObject({ held: 42, complete: false, stats: { tokensPrefilled: 42 } });
    // The second starts at 42, keeps the system prompt, rolls back 32 tokens and prefills 40.
    await e.runUntilIdle();
    expect(e.now).toBe(82);
    expect(await second).toMatchObject({ held: 50, complete: true, stats: { tokensReused: 10, tokensRolledBack: 32, tokensPrefilled: 40 } });
  });

  test('an aborted prewarm keeps its finished slices', async () => {
    const e = double();
    const control = new AbortController();
    const warming = e.prewarm(prompt(1000, 90), { signal: control.signal });
    await e.advanceTo(50);
    control.abort();
    await e.runUntilIdle();
    expect(await warming).toMatchObject({ held: 74, complete: false });
    expect(e.now).toBe(74);
  });

  test('a prewarm superseded while queued changes nothing, and reports its common prefix as reused (as the driver does)', async () => {
    const e = double();
    const first = e.prewarm(prompt(1000, 90));
    await e.advanceTo(20); // the slice 10..42 is in flight
    const second = e.prewarm(prompt(1000, 20, [5])); // queued behind it
    const third = e.prewarm(prompt(3000, 10)); // supersedes the second before it starts
    await e.runUntilIdle();
    expect(await first).toMatchObject({ held: 42, complete: false });
    // The cache held 42 tokens of the first prompt; the second shares 30 of them and prefilled none.
    expect(await second).toMatchObject({ held: 42, complete: false, stats: { tokensReused: 30, tokensPrefilled: 0 } });
    expect(await third).toMatchObject({ held: 20, complete: true, stats: { tokensReused: 10 } });
  });

  test('a generate waits for the slice in flight; TTFT is the wait, the prefill and one decode step', async () => {
    const e = double();
    const final = prompt(1000, 90, [7, 8, 9]);
    void e.prewarm(prompt(1000, 90));
    await e.advanceTo(50); // 42..74 in flight
    const answering = e.generate(final);
    await e.called(2);
    await e.runUntilIdle();
    const result = await answering;
    expect(result.stats).toMatchObject({ tokensReused: 74, tokensPrefilled: 29, ttftMs: 24 + 29 + 5 });
    expect(e.lastGenerate).toMatchObject({ arrivedAt: 50, startedAt: 74, waitMs: 24, ttftMs: 58, reused: 74, prefilled: 29, typingPrefilled: 74, typingReused: 74 });
    // After the generate the cache holds the prompt and the turn end, none of it typing's.
    expect(await heldLength(e)).toBe(promptLength(final) + TEMPLATE.turnEnd.length);
  });

  test('a cold generate prefills everything; clear() empties the cache', async () => {
    const e = double();
    void e.generate(prompt(1000, 20, [5]));
    await e.runUntilIdle();
    expect(e.lastGenerate).toMatchObject({ reused: 0, prefilled: 31, ttftMs: 36, typingPrefilled: 0 });
    await e.clear();
    expect(await heldLength(e)).toBe(0);
    await e.advanceTo(e.now + 100);
    void e.generate(prompt(1000, 20, [5]));
    await e.runUntilIdle();
    expect(e.lastGenerate).toMatchObject({ reused: 0, prefilled: 31 });
  });

  test('the clock only moves forward', async () => {
    const e = double();
    await e.advanceTo(10);
    await expect(e.advanceTo(5)).rejects.toThrow(/only moves forward/);
  });
});
