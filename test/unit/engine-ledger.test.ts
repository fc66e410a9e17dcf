// The KV ledger: plans by hand for each rollback capability, recording, prompt
// validation, and a seeded property test against a reference cache.
import { describe, expect, test } from 'vitest';
import { InvalidInputError } from '../../src/errors';
import { flatten, KvLedger, promptLength, sliceSegments, validatePrompt } from '../../src/engine/ledger';
import type { EngineCapabilities, PromptTokens, RollbackKind, SegmentKind } from '../../src/engine/types';

const caps = (rollback: RollbackKind, contextLength = 1000): EngineCapabilities => ({ rollback, snapshots: rollback === 'checkpoint', contextLength });
const prompt = (...parts: [SegmentKind, number[]][]): PromptTokens => ({ segments: parts.map(([kind, tokens]) => ({ kind, tokens })) });
const hold = (ledger: KvLedger, p: PromptTokens) => p.segments.forEach((s) => ledger.append(s));

const SYS = [1, 10, 11, 12, 2];
const base = prompt(['system', SYS], ['activated', [1, 20, 21, 2]], ['history', [1, 30, 2, 1, 31, 2]], ['working', [1, 40, 41]], ['draft', [50, 51]]);

describe('KvLedger.plan', () => {
  test('an empty cache prefills everything, keeping segment kinds', () => {
    const plan = new KvLedger().plan(base, caps('popn'), { sample: false });
    expect(plan).toMatchObject({ common: 0, keep: 0, rewind: { op: 'none' }, dropped: 0 });
    expect(plan.prefill).toEqual(base.segments);
  });

  test('a prewarm of exactly what is held does nothing; a generate of it re-feeds one token for its logits', () => {
    const ledger = new KvLedger();
    hold(ledger, base);
    const prewarm = ledger.plan(base, caps('popn'), { sample: false });
    expect(prewarm).toMatchObject({ common: 20, keep: 20, rewind: { op: 'none' }, prefill: [], dropped: 0 });
    const generate = ledger.plan(base, caps('popn'), { sample: true });
    expect(generate).toMatchObject({ common: 19, keep: 19, rewind: { op: 'rollback', to: 19 }, dropped: 1 });
    expect(generate.prefill).toEqual([{ kind: 'draft', tokens: [51] }]);
  });

  test('a longer draft extends the held prefix without rollback', () => {
    const ledger = new KvLedger();
    hold(ledger, base);
    const longer = prompt(...base.segments.map((s) => [s.kind, [...s.tokens]] as [SegmentKind, number[]]));
    (longer.segments[4]!.tokens as number[]).push(52, 53);
    const plan = ledger.plan(longer, caps('popn'), { sample: false });
    expect(plan).toMatchObject({ common: 20, keep: 20, rewind: { op: 'none' }, prefill: [{ kind: 'draft', tokens: [52, 53] }] });
  });

  test('a changed working set rolls back to where it differs (popn), to a checkpoint, or to empty (reset)', () => {
    const changed = prompt(['system', SYS], ['activated', [1, 20, 21, 2]], ['history', [1, 30, 2, 1, 31, 2]], ['working', [1, 40, 99]], ['draft', [50, 51]]);
    const popn = new KvLedger();
    hold(popn, base);
    expect(popn.plan(changed, caps('popn'), { sample: false })).toMatchObject({
      common: 17,
      keep: 17,
      rewind: { op: 'rollback', to: 17 },
      dropped: 3,
      prefill: [{ kind: 'working', tokens: [99] }, { kind: 'draft', tokens: [50, 51] }],
    });

    const checkpoint = new KvLedger();
    hold(checkpoint, prompt(['system', SYS]));
    checkpoint.recordSnapshot(7);
    hold(checkpoint, prompt(['activated', [1, 20, 21, 2]], ['history', [1, 30, 2, 1, 31, 2]]));
    checkpoint.recordSnapshot(8);
    hold(checkpoint, prompt(['working', [1, 40, 41]], ['draft', [50, 51]]));
    const plan = checkpoint.plan(changed, caps('checkpoint'), { sample: false });
    expect(plan).toMatchObject({ common: 17, keep: 15, rewind: { op: 'restore', snapshot: 8, to: 15 }, dropped: 5 });
    expect(promptLength({ segments: plan.prefill })).toBe(5);

    const reset = new KvLedger();
    hold(reset, base);
    expect(reset.plan(changed, caps('reset'), { sample: false })).toMatchObject({ keep: 0, rewind: { op: 'reset' }, dropped: 20 });
    // Nothing to drop: even a reset-only engine just appends.
    expect(reset.plan({ segments: [...base.segments, { kind: 'draft', tokens: [7] }] }, caps('reset'), { sample: false }).rewind).toEqual({ op: 'none' });
  });

  test('a checkpoint engine with no usable snapshot resets; a snapshot that is not a prefix of the prompt is never used', () => {
    const ledger = new KvLedger();
    hold(ledger, prompt(['system', [1, 2, 3]]));
    ledger.recordSnapshot(1);
    const other = prompt(['system', [1, 9, 3]]);
    expect(ledger.plan(other, caps('checkpoint'), { sample: false }).rewind).toEqual({ op: 'reset' });
  });

  test('a checkpoint that matches the prompt beats what the cache holds now', () => {
    const ledger = new KvLedger();
    hold(ledger, prompt(['system', [1, 2, 3, 4]]));
    ledger.recordSnapshot(5);
    ledger.reset();
    hold(ledger, prompt(['system', [9, 9]]));
    const plan = ledger.plan(prompt(['system', [1, 2, 3, 4, 5]]), caps('checkpoint'), { sample: true });
    expect(plan).toMatchObject({ common: 0, keep: 4, rewind: { op: 'restore', snapshot: 5, to: 4 }, prefill: [{ kind: 'system', tokens: [5] }] });
  });
});

describe('KvLedger records', () => {
  test('append merges a kind, truncate cuts across segments, restore brings back the kinds', () => {
    const ledger = new KvLedger();
    ledger.append({ kind: 'system', tokens: [1, 2] });
    ledger.append({ kind: 'system', tokens: [3] });
    ledger.append({ kind: 'history', tokens: [4, 5, 6] });
    ledger.recordSnapshot(1);
    expect(ledger.held()).toEqual(prompt(['system', [1, 2, 3]], ['history', [4, 5, 6]]));
    ledger.truncate(4);
    expect(ledger.held()).toEqual(prompt(['system', [1, 2, 3]], ['history', [4]]));
    ledger.truncate(2);
    expect(ledger.held()).toEqual(prompt(['system', [1, 2]]));
    ledger.restoreSnapshot(1);
    expect(ledger.held()).toEqual(prompt(['system', [1, 2, 3]], ['history', [4, 5, 6]]));
    expect(() => ledger.truncate(7)).toThrow(InvalidInputError);
    expect(() => ledger.restoreSnapshot(2)).toThrow(/No snapshot 2/);
    ledger.dropSnapshot(1);
    expect(ledger.snapshotIds()).toEqual([]);
  });

  test('held() is a copy', () => {
    const ledger = new KvLedger();
    ledger.append({ kind: 'system', tokens: [1] });
    (ledger.held().segments[0]!.tokens as number[]).push(2);
    expect(ledger.length).toBe(1);
  });
});

describe('validatePrompt', () => {
  test('accepts kinds in layout order, skipped kinds included, and returns the length', () => {
    expect(validatePrompt(prompt(['system', [1]], ['draft', [2, 3]]), 10)).toBe(3);
    expect(validatePrompt(prompt(), 10)).toBe(0);
  });
  test.each([
    ['an unknown kind', prompt(['system', [1]], ['memo' as SegmentKind, [2]]), /Unknown segment kind "memo"/],
    ['kinds out of order', prompt(['history', [1]], ['system', [2]]), /comes after 'history'/],
    ['a negative token', prompt(['system', [-1]]), /not a non-negative integer/],
    ['a fractional token', prompt(['system', [1.5]]), /not a non-negative integer/],
    ['no segments', { segments: 'x' } as unknown as PromptTokens, /layoutPrompt/],
  ])('rejects %s', (_name, bad, message) => {
    expect(() => validatePrompt(bad, 10)).toThrow(message);
    expect(() => validatePrompt(bad, 10)).toThrow(InvalidInputError);
  });
  test('rejects a prompt longer than the context with context-overflow', () => {
    try {
      validatePrompt(prompt(['system', [1, 2, 3]]), 2);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).code).toBe('context-overflow');
    }
  });
  test('sliceSegments and flatten', () => {
    expect(sliceSegments(base, 4, 7)).toEqual([{ kind: 'system', tokens: [2] }, { kind: 'activated', tokens: [1, 20] }]);
    expect(flatten(base)).toHaveLength(20);
  });
});
