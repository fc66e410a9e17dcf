import { afterEach, describe, expect, it } from 'vitest';
import { MalformedImportError } from '../../src/errors';
import { createMneme, type Mneme } from '../../src/mneme';
import { HashingEmbedder } from '../support/hashing-embedder';

const alice = { userId: 'alice' };
const open: Mneme[] = [];
async function mneme(embedder = new HashingEmbedder()) {
  const m = await createMneme({ name: `x-${crypto.randomUUID()}`, embedder });
  open.push(m);
  await m.ready;
  return m;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((m) => m.close()));
});

describe('export and import', () => {
  it('round-trips memories with their vectors, times and tiers', async () => {
    const a = await mneme();
    await a.addMany([
      { text: 'Tiles arrive Tuesday', scope: alice, tags: ['renovation'], importance: 0.9 },
      { text: 'Mortgage rate 3.1%', scope: alice, tier: 'archived', validUntil: 2_000_000_000_000 },
    ]);
    const doc = await a.exportMemories({ scope: alice });
    expect(doc).toMatchObject({ format: 'mneme-export', version: 1 });
    const json = JSON.parse(JSON.stringify(doc));

    const embedder = new HashingEmbedder();
    const b = await mneme(embedder);
    const calls = embedder.calls;
    expect(await b.importMemories(json)).toEqual({ imported: 2, skipped: 0, rejected: [] });
    expect(await b.list({ scope: alice })).toEqual(await a.list({ scope: alice }));
    const [first] = await b.list({ scope: alice });
    expect([...(await b.store.getVector(first!.id))!.data]).toEqual([...(await a.store.getVector(first!.id))!.data]);
    expect(embedder.calls).toBe(calls); // vectors came with the export
    expect((await b.searchMemory('tiles', { scope: alice }))[0]!.parts.denseRank).toBe(1);
  });

  it('reports each rejected memory and imports the rest', async () => {
    const m = await mneme();
    const good = { id: 'g1', text: 'good memory', scope: alice, createdAt: 1 };
    const report = await m.importMemories({
      format: 'mneme-export',
      version: 1,
      exportedAt: 0,
      memories: [
        good,
        { id: 'b1', text: '', scope: alice, createdAt: 1 },
        { id: 'b2', text: 'no scope', createdAt: 1 },
        { id: 'b3', text: 'bad time', scope: alice, createdAt: 'yesterday' },
        { id: 'b4', text: 'bad vector', scope: alice, createdAt: 1, vector: { model: 'm', dim: 4, data: 'AAAA' } },
        'not an object',
        { ...good, text: 'same id again' },
      ],
    });
    expect(report.imported).toBe(1);
    expect(report.rejected.map((r) => r.index)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(report.rejected[0]!.reason).toMatch(/empty/);
    expect(report.rejected[1]!.reason).toMatch(/scope/);
    expect(report.rejected[5]!.reason).toMatch(/twice/);
    expect((await m.get('g1', { scope: alice }))!.text).toBe('good memory');
  });

  it('refuses a document that is not an export, leaving the store as it was', async () => {
    const m = await mneme();
    await m.add({ text: 'precious', scope: alice });
    for (const bad of [null, [], { memories: [] }, { format: 'mneme-export', version: 99, memories: [] }, { format: 'mneme-export', version: 1 }]) {
      await expect(m.importMemories(bad)).rejects.toBeInstanceOf(MalformedImportError);
    }
    expect((await m.list({ scope: alice })).map((r) => r.text)).toEqual(['precious']);
  });

  it('skips or replaces existing ids as asked, and can re-home into another scope', async () => {
    const m = await mneme();
    await m.add({ id: 'same', text: 'original', scope: alice });
    const doc = { format: 'mneme-export', version: 1, exportedAt: 0, memories: [{ id: 'same', text: 'incoming', scope: alice, createdAt: 5 }] };
    expect(await m.importMemories(doc)).toMatchObject({ imported: 0, skipped: 1 });
    expect((await m.get('same', { scope: alice }))!.text).toBe('original');
    expect(await m.importMemories(doc, { onConflict: 'replace', scope: { userId: 'carol' } })).toMatchObject({ imported: 1, skipped: 0 });
    expect(await m.get('same', { scope: { userId: 'carol' } })).toMatchObject({ text: 'incoming', scope: { userId: 'carol' } });
    expect(await m.count({ scope: alice })).toBe(0);
  });
});
