import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/errors';
import { compilePredicate, parseFilter } from '../../src/memory/filter';
import { isVisible, isWithin, parseCallerScope, parseMemoryScope } from '../../src/memory/scope';
import { DEFAULT_LIMITS, applyPatch, createRecord } from '../../src/memory/validate';
import type { MemoryRecord } from '../../src/memory/types';

const id = () => 'fixed-id';
const make = (input: unknown) => createRecord(input, DEFAULT_LIMITS, 1000, id);

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidInputError);
    return (e as InvalidInputError).code;
  }
  return undefined;
}

describe('scope', () => {
  const alice = { userId: 'alice' };
  it('shows shared memories to everyone and personal ones to their user', () => {
    expect(isVisible({ shared: true }, alice)).toBe(true);
    expect(isVisible({ userId: 'alice' }, alice)).toBe(true);
    expect(isVisible({ userId: 'bob' }, alice)).toBe(false);
  });
  it('hides a memory narrowed to a role, agent or session from callers outside it', () => {
    expect(isVisible({ userId: 'alice', role: 'doctor' }, alice)).toBe(false);
    expect(isVisible({ userId: 'alice', role: 'doctor' }, { userId: 'alice', role: 'doctor' })).toBe(true);
    expect(isVisible({ userId: 'alice', agentId: 'a1' }, { userId: 'alice', agentId: 'a2' })).toBe(false);
    expect(isVisible({ userId: 'alice', sessionId: 's1' }, { userId: 'alice', role: 'x', sessionId: 's1' })).toBe(true);
  });
  it('clears exactly what a target scope covers', () => {
    expect(isWithin({ userId: 'alice', role: 'r' }, { userId: 'alice' })).toBe(true);
    expect(isWithin({ userId: 'alice' }, { userId: 'alice', role: 'r' })).toBe(false);
    expect(isWithin({ shared: true }, { userId: 'alice' })).toBe(false);
    expect(isWithin({ shared: true }, { shared: true })).toBe(true);
  });
  it('rejects malformed scopes with bad-scope', () => {
    for (const bad of [null, 'alice', [], {}, { userId: '' }, { userId: 3 }, { userId: 'a', extra: 1 }, { shared: false }, { shared: true, userId: 'a' }]) {
      expect(code(() => parseMemoryScope(bad))).toBe('bad-scope');
    }
    expect(code(() => parseCallerScope({ shared: true }))).toBe('bad-scope');
    expect(parseMemoryScope({ userId: 'a', role: 'r' })).toEqual({ userId: 'a', role: 'r' });
  });
});

describe('createRecord', () => {
  it('fills defaults and stamps times', () => {
    const r = make({ text: '  buy tiles  ', scope: { userId: 'u' } });
    expect(r).toEqual({
      id: 'fixed-id', text: 'buy tiles', scope: { userId: 'u' }, tags: [], importance: 0.5, source: 'manual', tier: 'plaintext',
      createdAt: 1000, updatedAt: 1000, lastAccessedAt: 1000, accessCount: 0,
    });
  });
  it('names what is wrong', () => {
    const scope = { userId: 'u' };
    expect(code(() => make({ text: '   ', scope }))).toBe('text-empty');
    expect(code(() => make({ text: 42, scope }))).toBe('invalid-input');
    expect(code(() => make({ text: 'x'.repeat(DEFAULT_LIMITS.maxTextLength + 1), scope }))).toBe('text-too-long');
    expect(code(() => make({ text: 'x' }))).toBe('bad-scope');
    expect(code(() => make({ text: 'x', scope, importance: 1.5 }))).toBe('invalid-input');
    expect(code(() => make({ text: 'x', scope, importance: Number.NaN }))).toBe('invalid-input');
    expect(code(() => make({ text: 'x', scope, tier: 'hot' }))).toBe('invalid-input');
    expect(code(() => make({ text: 'x', scope, source: 'web' }))).toBe('invalid-input');
    expect(code(() => make({ text: 'x', scope, tags: ['ok', ''] }))).toBe('invalid-input');
    expect(code(() => make({ text: 'x', scope, validFrom: 5, validUntil: 4 }))).toBe('invalid-input');
    expect(code(() => make({ text: 'x', scope, expiresAt: Number.POSITIVE_INFINITY }))).toBe('invalid-input');
    expect(code(() => make({ text: 'x', scope, colour: 'red' }))).toBe('invalid-input');
  });
  it('says how to fix an over-long text', () => {
    expect(() => make({ text: 'x'.repeat(20_000), scope: { userId: 'u' } })).toThrow(/limits\.maxTextLength/);
  });
});

describe('applyPatch', () => {
  const base: MemoryRecord = { ...make({ text: 'old', scope: { userId: 'u' }, expiresAt: 50 }), embedding: { model: 'm', dim: 3 } };
  it('drops the vector reference only when the text changes', () => {
    expect(applyPatch(base, { text: 'new' }, DEFAULT_LIMITS, 2000)).toMatchObject({ textChanged: true, next: { text: 'new', updatedAt: 2000 } });
    expect(applyPatch(base, { text: 'new' }, DEFAULT_LIMITS, 2000).next.embedding).toBeUndefined();
    expect(applyPatch(base, { importance: 0.9 }, DEFAULT_LIMITS, 2000).next.embedding).toEqual({ model: 'm', dim: 3 });
  });
  it('clears an optional time with null and leaves the original untouched', () => {
    const { next } = applyPatch(base, { expiresAt: null }, DEFAULT_LIMITS, 2000);
    expect(next.expiresAt).toBeUndefined();
    expect(base.expiresAt).toBe(50);
  });
  it('rejects fields a patch cannot change', () => {
    expect(code(() => applyPatch(base, { tier: 'activated' }, DEFAULT_LIMITS, 0))).toBe('invalid-input');
    expect(code(() => applyPatch(base, { id: 'x' }, DEFAULT_LIMITS, 0))).toBe('invalid-input');
  });
});

describe('filters', () => {
  const r = (over: Partial<MemoryRecord>): MemoryRecord => ({ ...make({ text: 't', scope: { userId: 'u' } }), ...over });
  it('combine scope, tiers, tags and time range', () => {
    const keep = compilePredicate({ userId: 'u' }, parseFilter({ tags: ['home'], tiers: ['plaintext'], createdFrom: 100, createdTo: 200 }));
    expect(keep(r({ tags: ['home'], createdAt: 150 }))).toBe(true);
    expect(keep(r({ tags: ['work'], createdAt: 150 }))).toBe(false);
    expect(keep(r({ tags: ['home'], createdAt: 200 }))).toBe(false);
    expect(keep(r({ tags: ['home'], createdAt: 150, tier: 'archived' }))).toBe(false);
    expect(keep(r({ tags: ['home'], createdAt: 150, scope: { userId: 'v' } }))).toBe(false);
  });
  it('reject unknown fields and bad values', () => {
    expect(code(() => parseFilter({ tier: ['plaintext'] }))).toBe('invalid-input');
    expect(code(() => parseFilter({ tiers: ['hot'] }))).toBe('invalid-input');
    expect(code(() => parseFilter({ createdFrom: 'yesterday' }))).toBe('invalid-input');
  });
});
