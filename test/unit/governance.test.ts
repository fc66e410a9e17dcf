// The pure parts of trust: the reference governance rules, their composition inside the
// query predicate, the cache guard's token search, and typed rejection of bad options.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/errors';
import { compilePredicate } from '../../src/memory/filter';
import { composeGovernance, domainOf, medicalForDoctors, sensitiveStaysInDomain } from '../../src/memory/governance';
import { DEFAULT_LIMITS, checkVectors, createRecord, parseOptions } from '../../src/memory/validate';
import type { MemoryScope } from '../../src/memory/types';
import { contains } from '../../src/scheduler/cache-guard';

const memory = (tags: string[], scope: MemoryScope = { userId: 'u' }) => createRecord({ text: 'x', scope, tags }, DEFAULT_LIMITS, 0, () => 'id');
const rules = composeGovernance(medicalForDoctors(), sensitiveStaysInDomain());

describe('governance', () => {
  it('shows medical memories to the doctor role only', () => {
    expect(rules.allow(memory(['medical']), { userId: 'u', role: 'doctor' })).toBe(true);
    expect(rules.allow(memory(['medical']), { userId: 'u', role: 'nurse' })).toBe(false);
    expect(rules.allow(memory(['medical']), { userId: 'u' })).toBe(false);
    expect(rules.allow(memory([]), { userId: 'u' })).toBe(true);
  });
  it('keeps sensitive memories in their domain: a domain tag, else the agent they were stored for', () => {
    expect(domainOf(memory(['domain:health'], { userId: 'u', agentId: 'work' }))).toBe('health');
    expect(domainOf(memory([], { userId: 'u', agentId: 'work' }))).toBe('work');
    expect(domainOf(memory([], { shared: true }))).toBeUndefined();
    expect(rules.allow(memory(['sensitive', 'domain:health']), { userId: 'u', agentId: 'health' })).toBe(true);
    expect(rules.allow(memory(['sensitive', 'domain:health']), { userId: 'u', agentId: 'work' })).toBe(false);
    expect(rules.allow(memory(['sensitive']), { userId: 'u', agentId: 'work' })).toBe(false);
    expect(rules.allow(memory(['sensitive']), { userId: 'u' })).toBe(true);
  });
  it('applies inside the query predicate, after scope', () => {
    const keep = compilePredicate({ userId: 'u', role: 'nurse' }, {}, rules);
    expect(keep(memory(['medical']))).toBe(false);
    expect(keep(memory([]))).toBe(true);
    expect(keep(memory([], { userId: 'other' }))).toBe(false);
  });
  it('composes redactions in order', () => {
    const mask = (tag: string) => ({ allow: () => true, redact: (m: ReturnType<typeof memory>) => ({ ...m, text: `${m.text}${tag}` }) });
    expect(composeGovernance(mask('1'), mask('2')).redact(memory([]), { userId: 'u' }).text).toBe('x12');
  });
});

describe('cache guard token search', () => {
  it('finds a run exactly when it occurs contiguously (checked against a string search)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 30 }), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 }), (tokens, run) => {
        expect(contains(tokens, run)).toBe(`,${tokens.join(',')},`.includes(`,${run.join(',')},`));
      }),
      { seed: 5, numRuns: 2000 },
    );
    expect(contains([1, 2], [])).toBe(false);
  });
});

describe('options and vectors', () => {
  it('rejects options that are not an object, and vectors given as null, with typed errors', () => {
    expect(parseOptions(undefined, 'search')).toEqual({});
    for (const bad of [null, 3, 'k', [], () => 1]) expect(() => parseOptions(bad as never, 'search')).toThrow(InvalidInputError);
    expect(() => checkVectors(1, null as never)).toThrow(InvalidInputError);
  });
});
