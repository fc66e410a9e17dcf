// The schema-5 migration's event conversion: schema-4 events carried their use,
// their changed fields and sometimes the transient working tier only in strings.
import { describe, expect, it } from 'vitest';
import { upgradeEvent, type LegacyEvent } from '../../src/store/schema';
import type { Source } from '../../src/memory/types';

const sources: Record<string, Source> = { a: 'assistant' };
const sourceOf = (id: string) => sources[id];
const up = (e: Omit<LegacyEvent, 'at' | 'memoryId'> & { memoryId?: string }) => upgradeEvent({ at: 5, memoryId: 'a', ...e }, sourceOf);

describe('upgradeEvent (schema 4 → 5)', () => {
  it('reads the use of an access out of its old reason', () => {
    expect(up({ seq: 3, type: 'accessed', reason: 'retrieved into prompt' })).toEqual({ seq: 3, at: 5, memoryId: 'a', type: 'accessed', use: 'retrieval' });
    expect(up({ type: 'accessed', reason: 'mentioned' })).toMatchObject({ use: 'mention' });
    expect(up({ type: 'accessed', reason: 'accessed' })).toMatchObject({ use: 'access' });
    expect(up({ type: 'accessed' })).toMatchObject({ use: 'access' });
  });

  it('names the updated fields, dropping anything that is not a patch field', () => {
    expect(up({ type: 'updated', reason: 'text, tags' })).toEqual({ at: 5, memoryId: 'a', type: 'updated', fields: ['text', 'tags'] });
    expect(up({ type: 'updated', reason: 'importance, bogus' })).toMatchObject({ fields: ['importance'] });
    expect(up({ type: 'updated' })).toMatchObject({ fields: [] });
  });

  it('gives each creation its source and origin', () => {
    expect(up({ type: 'created', reason: 'source user' })).toEqual({ at: 5, memoryId: 'a', type: 'created', source: 'user', origin: 'add' });
    expect(up({ type: 'created', reason: 'imported' })).toMatchObject({ source: 'assistant', origin: 'import' });
    expect(up({ type: 'created', reason: 'imported', memoryId: 'removed-since' })).toMatchObject({ source: 'imported', origin: 'import' });
    expect(up({ type: 'created', reason: 'backfilled by the schema 2 migration' })).toMatchObject({ source: 'assistant', origin: 'migration' });
    expect(up({ type: 'created', reason: 'backfilled by the schema 2 migration', memoryId: 'removed-since' })).toMatchObject({ source: 'manual', origin: 'migration' });
  });

  it('stores the working tier as plaintext, and keeps every reason for people', () => {
    expect(up({ type: 'tier-changed', from: 'plaintext', to: 'activated', reason: 'promoted: theme t3 heat 4.2 ≥ 3.0' })).toBeUndefined();
    expect(up({ type: 'tier-changed', from: 'plaintext', to: 'working', reason: 'test' })).toMatchObject({ from: 'plaintext', to: 'plaintext', reason: expect.stringMatching(/^test \(.*working.*plaintext/) });
    expect(up({ type: 'tier-changed', from: 'working', to: 'archived', reason: 'cold' })).toMatchObject({ from: 'plaintext', to: 'archived' });
    expect(up({ type: 'removed', reason: 'scope cleared' })).toBeUndefined();
    expect(up({ type: 'removed' })).toMatchObject({ type: 'removed', reason: 'removed' });
  });

  it('leaves an event already in the typed shape as it is (the conversion can run twice)', () => {
    for (const e of [
      { at: 1, memoryId: 'a', type: 'created', source: 'user', origin: 'migration' },
      { at: 1, memoryId: 'a', type: 'updated', fields: ['text'] },
      { at: 1, memoryId: 'a', type: 'accessed', use: 'retrieval' },
    ] as const) {
      expect(upgradeEvent(e as unknown as LegacyEvent, sourceOf)).toBeUndefined();
    }
  });
});
