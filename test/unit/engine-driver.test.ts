// The cache driver over a reference cache (test/support/sim-cache.ts): random
// typing, edits, memory changes and sends, for each rollback capability, must
// leave the cache exactly as recorded and reply exactly as a cold model would.
// Then preemption, cancellation, chunking and failure recovery.
import { describe, expect, test } from 'vitest';
import { InvalidInputError, ModelError } from '../../src/errors';
import { CacheDriver, sliceRuns } from '../../src/engine/driver';
import { flatten, KvLedger, promptLength } from '../../src/engine/ledger';
import type { ChatTemplatePieces, EnginePrimitives, PromptTokens, RollbackKind, TokenSegment } from '../../src/engine/types';
import { coldReply, seeded, SimCache, SIM_VOCAB } from '../support/sim-cache';

const TEMPLATE: ChatTemplatePieces = {
  prefix: [],
  turnStart: { system: [1, 40], user: [1, 41], assistant: [1, 42] },
  turnEnd: [2, 3],
  stopTokens: [2],
  specialTexts: [],
};
const decode = (tokens: readonly number[]) => tokens.map((t) => String.fromCharCode(97 + (t % 26))).join('');
const driverFor = (sim: SimCache, sliceTokens = 16) => new CacheDriver(sim, { decode, template: TEMPLATE, sliceTokens });

/** A conversation that random edits walk through; `prompt(final)` lays it out. */
class Conversation {
  system: number[];
  activated: number[];
  history: number[] = [];
  working: number[];
  draft: number[] = [];
  constructor(private readonly random: () => number) {
    this.system = this.tokens(12);
    this.activated = this.tokens(20);
    this.working = this.tokens(10);
  }
  tokens(n: number): number[] {
    return Array.from({ length: n }, () => 4 + Math.floor(this.random() * (SIM_VOCAB - 4)));
  }
  prompt(final: boolean): PromptTokens {
    const segments: TokenSegment[] = [
      { kind: 'system', tokens: this.system },
      { kind: 'activated', tokens: this.activated },
      { kind: 'history', tokens: this.history },
      { kind: 'working', tokens: [1, 41, ...this.working] },
      { kind: 'draft', tokens: final ? [...this.draft, 2, 3, 1, 42] : this.draft },
    ];
    return { segments: segments.filter((s) => s.tokens.length > 0) };
  }
}

function check(driver: CacheDriver, sim: SimCache) {
  expect(flatten(driver.ledger.held())).toEqual(sim.tokens);
}

describe('CacheDriver against a reference cache', () => {
  test.each(['popn', 'checkpoint', 'reset'] as RollbackKind[])('random typing, edits and sends (%s)', async (rollback) => {
    for (let seed = 1; seed <= 12; seed++) {
      const random = seeded(seed * 7919);
      const sim = new SimCache(rollback);
      const driver = driverFor(sim, 1 + Math.floor(random() * 20));
      const chat = new Conversation(random);
      for (let step = 0; step < 40; step++) {
        const r = random();
        if (r < 0.45) chat.draft.push(...chat.tokens(1 + Math.floor(random() * 3)));
        else if (r < 0.55) chat.draft.splice(Math.floor(random() * (chat.draft.length + 1)));
        else if (r < 0.65) chat.working = chat.tokens(5 + Math.floor(random() * 10));
        else if (r < 0.7) chat.activated = chat.tokens(20);
        if (r < 0.85) {
          const prefix = chat.prompt(false);
          const before = new KvLedger();
          driver.ledger.held().segments.forEach((s) => before.append(s));
          const result = await driver.prewarm(prefix);
          expect(result.complete).toBe(true);
          expect(sim.tokens).toEqual(flatten(prefix));
          expect(result.stats.tokensReused + result.stats.tokensPrefilled).toBe(promptLength(prefix));
          if (rollback === 'popn') expect(result.stats.tokensPrefilled).toBe(promptLength(prefix) - before.commonPrefix(prefix));
        } else {
          const prompt = chat.prompt(true);
          const result = await driver.generate(prompt, { maxTokens: 6 });
          const expected = coldReply(flatten(prompt), 6, TEMPLATE.stopTokens);
          expect(result.tokens).toEqual(expected);
          expect(result.finishReason).toBe(expected.length < 6 ? 'stop' : 'length');
          expect(sim.tokens).toEqual([...flatten(prompt), ...expected, ...TEMPLATE.turnEnd]);
          expect(result.stats.tokensPrefilled).toBeGreaterThanOrEqual(1);
          chat.history.push(1, 41, ...chat.draft, 2, 3, 1, 42, ...expected, ...TEMPLATE.turnEnd);
          chat.draft = [];
        }
        check(driver, sim);
      }
    }
  });

  test('a prewarmed send prefills only the tail; a cold one everything', async () => {
    const chat = new Conversation(seeded(3));
    const question = chat.tokens(25);
    chat.draft = question;
    const full = chat.prompt(true);
    const coldResult = await driverFor(new SimCache('popn')).generate(full, { maxTokens: 1 });
    const driver = driverFor(new SimCache('popn'));
    chat.draft = question.slice(0, 18);
    await driver.prewarm(chat.prompt(false));
    const warmResult = await driver.generate(full, { maxTokens: 1 });
    expect(warmResult.tokens).toEqual(coldResult.tokens);
    expect(coldResult.stats.tokensPrefilled).toBe(promptLength(full));
    expect(warmResult.stats.tokensPrefilled).toBe(25 - 18 + 4);
    expect(warmResult.stats.tokensReused).toBe(promptLength(full) - 11);
  });

  test('a checkpoint engine snapshots the end of the stable part and restores it when the working set changes', async () => {
    const sim = new SimCache('checkpoint');
    const driver = driverFor(sim, 8);
    const chat = new Conversation(seeded(5));
    chat.draft = chat.tokens(5);
    await driver.prewarm(chat.prompt(false));
    expect(driver.ledger.snapshotIds()).toHaveLength(1);
    const fedBefore = sim.fed;
    chat.working = chat.tokens(10);
    const result = await driver.prewarm(chat.prompt(false));
    expect(result.stats.tokensReused).toBe(32);
    expect(sim.fed - fedBefore).toBe(2 + 10 + 5);
    check(driver, sim);
  });
});

describe('CacheDriver scheduling', () => {
  /** A model whose calls each wait for `step()`. */
  function gated(sim: SimCache) {
    const waiting: (() => void)[] = [];
    sim.gate = () => new Promise<void>((resolve) => waiting.push(resolve));
    return {
      async step() {
        while (waiting.length === 0) await new Promise((r) => setTimeout(r, 0));
        waiting.shift()!();
        await new Promise((r) => setTimeout(r, 0));
      },
    };
  }

  test('a generate stops a running prewarm at its next slice; the send waits for at most one slice', async () => {
    const sim = new SimCache('popn');
    const driver = driverFor(sim, 10);
    const gate = gated(sim);
    const chat = new Conversation(seeded(9));
    chat.draft = chat.tokens(60);
    const prewarm = driver.prewarm(chat.prompt(false)); // 105 tokens: 11 slices
    await gate.step();
    await gate.step();
    const send = driver.generate(chat.prompt(true), { maxTokens: 3 });
    const callsAtSend = sim.calls;
    const stepping = (async () => {
      for (let i = 0; i < 30; i++) await gate.step().catch(() => undefined);
    })();
    const warm = await prewarm;
    expect(warm.complete).toBe(false);
    expect(sim.calls - callsAtSend).toBeLessThanOrEqual(1); // the slice under way when the send came
    sim.gate = undefined;
    const reply = await send;
    void stepping;
    expect(reply.tokens).toEqual(coldReply(flatten(chat.prompt(true)), 3, TEMPLATE.stopTokens));
    expect(reply.stats.tokensReused).toBe(warm.held);
  });

  test('an AbortSignal or a newer prewarm stops a prewarm; what it prefilled stays recorded', async () => {
    const sim = new SimCache('popn');
    const driver = driverFor(sim, 5);
    const chat = new Conversation(seeded(11));
    const controller = new AbortController();
    controller.abort();
    const aborted = await driver.prewarm(chat.prompt(false), { signal: controller.signal });
    expect(aborted).toMatchObject({ complete: false, held: 0 });

    const gate = gated(sim);
    const first = driver.prewarm(chat.prompt(false));
    await gate.step();
    chat.draft = chat.tokens(4);
    const second = driver.prewarm(chat.prompt(false));
    sim.gate = undefined;
    await gate.step().catch(() => undefined);
    expect((await first).complete).toBe(false);
    expect(await second).toMatchObject({ complete: true, held: promptLength(chat.prompt(false)) });
    check(driver, sim);
  });

  test('a prewarm superseded while queued rolls nothing back', async () => {
    const sim = new SimCache('popn');
    const driver = driverFor(sim);
    const chat = new Conversation(seeded(12));
    chat.draft = chat.tokens(10);
    const sent = chat.prompt(true);
    await driver.prewarm(chat.prompt(false));
    const stale = chat.prompt(false);
    const otherSystem = { segments: [{ kind: 'system' as const, tokens: [9, 9, 9] }, ...stale.segments.slice(1)] };
    const superseded = driver.prewarm(otherSystem); // would roll back to 0
    const reply = await driver.generate(sent, { maxTokens: 2 });
    expect(await superseded).toMatchObject({ complete: false, stats: { tokensPrefilled: 0 } });
    expect(reply.stats.tokensReused).toBe(promptLength(chat.prompt(false)));
    check(driver, sim);
  });

  test('replies stream in chunks, not per token, and the chunks add up to the reply', async () => {
    const sim = new SimCache('popn');
    const driver = driverFor(sim);
    const chat = new Conversation(seeded(2));
    // A stop-free stretch: pick a draft whose cold reply runs to maxTokens.
    for (let i = 0; coldReply(flatten(chat.prompt(true)), 40, TEMPLATE.stopTokens).length < 40; i++) chat.draft = chat.tokens(3 + i);
    const chunks: { tokens: readonly number[]; text: string }[] = [];
    const result = await driver.generate(chat.prompt(true), { maxTokens: 40, chunkTokens: 8, chunkMs: 1e9, onChunk: (c) => chunks.push(c) });
    expect(result.tokens).toHaveLength(40);
    expect(chunks[0]!.tokens).toHaveLength(1); // the first token goes out at once
    expect(chunks.length).toBeLessThanOrEqual(1 + Math.ceil(39 / 8));
    expect(chunks.flatMap((c) => c.tokens)).toEqual(result.tokens);
    expect(chunks.map((c) => c.text).join('')).toBe(result.text);
  });

  test('an aborted generate stops decoding and records exactly what was fed', async () => {
    const sim = new SimCache('popn');
    const driver = driverFor(sim);
    const chat = new Conversation(seeded(4));
    const prompt = chat.prompt(true);
    const maxTokens = 50;
    const abortAfter = 3;
    // The uninterrupted reply runs past the abort point, so only the abort can end it there.
    const full = coldReply(flatten(prompt), maxTokens, TEMPLATE.stopTokens);
    expect(full.length).toBeGreaterThan(abortAfter);
    const controller = new AbortController();
    const received: number[] = [];
    const onChunk = (chunk: { tokens: readonly number[] }) => {
      received.push(...chunk.tokens);
      if (received.length === abortAfter) controller.abort();
    };
    const result = await driver.generate(prompt, { maxTokens, onChunk, signal: controller.signal, chunkTokens: 1 });
    expect(result.finishReason).toBe('aborted');
    expect(result.tokens).toEqual(full.slice(0, abortAfter));
    expect(result.tokens.length).toBeLessThan(maxTokens);
    expect(received).toEqual(result.tokens);
    // Decoding stopped: the cache holds the prompt and the reply tokens fed before the abort
    // (the last one was sampled, never fed), and no turn end.
    expect(sim.tokens).toEqual([...flatten(prompt), ...full.slice(0, abortAfter - 1)]);
    check(driver, sim);
  });

  test('a failing model call rejects as ModelError, resets cache and record, and the next call works', async () => {
    const sim = new SimCache('popn');
    const driver = driverFor(sim);
    const chat = new Conversation(seeded(6));
    await driver.prewarm(chat.prompt(false));
    sim.gate = async () => {
      throw new Error('device lost');
    };
    await expect(driver.generate(chat.prompt(true))).rejects.toThrow(ModelError);
    sim.gate = undefined;
    expect(sim.tokens).toEqual([]);
    check(driver, sim);
    const reply = await driver.generate(chat.prompt(true), { maxTokens: 3 });
    expect(reply.tokens).toEqual(coldReply(flatten(chat.prompt(true)), 3, TEMPLATE.stopTokens));
  });

  test('bad input is rejected with InvalidInputError before anything runs', async () => {
    const sim = new SimCache('popn', 10);
    const driver = driverFor(sim);
    await expect(driver.generate({ segments: [] })).rejects.toThrow(/at least one token/);
    await expect(driver.prewarm({ segments: [{ kind: 'system', tokens: new Array(11).fill(5) }] })).rejects.toThrow(InvalidInputError);
    await expect(driver.generate({ segments: [{ kind: 'system', tokens: [5] }] }, { maxTokens: 0 })).rejects.toThrow(/maxTokens/);
    expect(() => new CacheDriver(sim, { decode, template: TEMPLATE, sliceTokens: 0 })).toThrow(/sliceTokens/);
    expect(sim.calls).toBe(0);
  });

  test('sliceRuns cuts across segments and keeps kinds', () => {
    const slices = sliceRuns([{ kind: 'system', tokens: [1, 2, 3] }, { kind: 'draft', tokens: [4, 5] }], 2);
    expect(slices).toEqual([[{ kind: 'system', tokens: [1, 2] }], [{ kind: 'system', tokens: [3] }, { kind: 'draft', tokens: [4] }], [{ kind: 'draft', tokens: [5] }]]);
  });
});

describe('CacheDriver: a held prefix read from one cache and written into another', () => {
  test('the written cache holds the prefix by segment, reuses it, and replies as cold', async () => {
    const chat = new Conversation(seeded(4242));
    const stable = { segments: chat.prompt(false).segments.filter((s) => s.kind === 'system' || s.kind === 'activated') };
    const first = driverFor(new SimCache('popn'));
    await first.prewarm(chat.prompt(false));
    const length = promptLength(stable);
    const { segments, kv } = await first.readPrefix(length);
    expect(segments).toEqual(stable.segments);
    expect(kv.length).toBe(length);

    const sim = new SimCache('popn');
    const second = driverFor(sim);
    await second.writePrefix(segments, kv);
    check(second, sim);
    expect(second.ledger.held()).toEqual(stable);
    const full = chat.prompt(true);
    const result = await second.generate(full, { maxTokens: 6 });
    expect(result.stats.tokensReused).toBe(length);
    expect(result.tokens).toEqual(coldReply(flatten(full), 6, TEMPLATE.stopTokens));
  });

  test('a write supersedes a pending prewarm; a prefix longer than held, or tensors of another length, are refused', async () => {
    const chat = new Conversation(seeded(99));
    const sim = new SimCache('popn');
    const driver = driverFor(sim, 4);
    await driver.prewarm({ segments: [{ kind: 'system', tokens: [5, 6, 7] }] });
    const { segments, kv } = await driver.readPrefix(3);
    await expect(driver.readPrefix(4)).rejects.toThrow(InvalidInputError);
    await expect(driver.writePrefix([{ kind: 'system', tokens: [5, 6] }], kv)).rejects.toMatchObject({ code: 'snapshot-mismatch' });
    const pending = driver.prewarm(chat.prompt(false));
    await driver.writePrefix(segments, kv);
    expect((await pending).complete).toBe(false);
    check(driver, sim);
    expect(flatten(driver.ledger.held())).toEqual([5, 6, 7]);
  });

  test('primitives that do not own their tensors refuse', async () => {
    const bare: EnginePrimitives = { capabilities: { rollback: 'reset', snapshots: false, contextLength: 100 }, length: 0, append: async () => undefined, rollback: async () => undefined, reset: async () => undefined };
    const driver = new CacheDriver(bare, { decode, template: TEMPLATE });
    await expect(driver.readPrefix(0)).rejects.toThrow(/does not own its KV tensors/);
    await expect(driver.writePrefix([], { length: 0, layers: 1, kvHeads: 1, headDim: 1, keys: [], values: [] })).rejects.toThrow(/does not own its KV tensors/);
  });
});
