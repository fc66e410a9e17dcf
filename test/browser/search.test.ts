import { afterEach, describe, expect, it } from 'vitest';
import { createMneme, type Mneme, type MnemeOptions } from '../../src/mneme';
import { HashingEmbedder } from '../support/hashing-embedder';

const alice = { userId: 'alice' };
const bob = { userId: 'bob' };
const open: Mneme[] = [];

async function mneme(options: MnemeOptions = {}) {
  const m = await createMneme({ name: `s-${crypto.randomUUID()}`, ...options });
  open.push(m);
  await m.ready;
  return m;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((m) => m.close()));
});

const household = [
  'Tiles for the bathroom arrive on Tuesday',
  'The electrician rewires the kitchen on Friday',
  'Plumber moves the water pipes next week',
  'Sofa and bed delivery on Saturday morning',
  'Mortgage rate offer from the bank is 3.1 percent',
  'Viewing of the flat on Elm Street at 5pm',
  'Average second-hand housing price in the community',
  'Buy milk and bread',
];

describe('searchMemory', () => {
  it('ranks by fused dense and lexical evidence and explains each score', async () => {
    const m = await mneme({ embedder: new HashingEmbedder() });
    await m.addMany(household.map((text) => ({ text, scope: alice })));
    const results = await m.searchMemory('when do the tiles arrive', { scope: alice, k: 3 });
    expect(results[0]!.memory.text).toBe('Tiles for the bathroom arrive on Tuesday');
    const top = results[0]!;
    expect(top.parts).toMatchObject({ denseRank: 1, lexicalRank: 1 });
    expect(top.parts.dense).toBeGreaterThan(0.3);
    expect(top.parts.lexical).toBeGreaterThan(0);
    expect(top.score).toBeCloseTo(1);
    expect(results.map((r) => r.score)).toEqual([...results.map((r) => r.score)].sort((a, b) => b - a));
  });

  it('works lexically when there is no model, and says so in the parts', async () => {
    const m = await mneme();
    expect(m.modelStatus).toBe('none');
    await m.addMany(household.map((text) => ({ text, scope: alice })));
    const [hit] = await m.searchMemory('mortgage', { scope: alice });
    expect(hit!.memory.text).toMatch(/Mortgage rate/);
    expect(hit!.parts.dense).toBeUndefined();
    expect(await m.searchMemory('zebra', { scope: alice })).toEqual([]);
  });

  it('never returns a memory outside the caller scope, and filters before ranking', async () => {
    const m = await mneme({ embedder: new HashingEmbedder() });
    await m.addMany([
      { text: 'alice tiles order', scope: alice, tags: ['renovation'] },
      { text: 'alice tiles invoice', scope: alice, tags: ['money'], tier: 'archived' },
      { text: 'bob tiles order', scope: bob },
      { text: 'doctor note about tiles allergy', scope: { userId: 'alice', role: 'doctor' } },
      { text: 'shared tiles catalogue', scope: { shared: true } },
    ]);
    const texts = async (scope: { userId: string; role?: string }, filter = {}) =>
      (await m.searchMemory('tiles', { scope, k: 10, filter })).map((r) => r.memory.text).sort();
    expect(await texts(alice)).toEqual(['alice tiles invoice', 'alice tiles order', 'shared tiles catalogue']);
    expect(await texts(bob)).toEqual(['bob tiles order', 'shared tiles catalogue']);
    expect(await texts({ userId: 'alice', role: 'doctor' })).toContain('doctor note about tiles allergy');
    expect(await texts(alice, { tags: ['renovation'] })).toEqual(['alice tiles order']);
    expect(await texts(alice, { tiers: ['archived'] })).toEqual(['alice tiles invoice']);
    // k=1 with a filter still finds the one allowed memory, however many better ones are hidden.
    const [only] = await m.searchMemory('tiles order', { scope: bob, k: 1, filter: { tiers: ['plaintext'] } });
    expect(only!.memory.text).toBe('bob tiles order');
  });

  it('follows every write without a rebuild, and reloads the same index on reopen', async () => {
    const name = `s-${crypto.randomUUID()}`;
    const embedder = new HashingEmbedder();
    const m = await createMneme({ name, embedder });
    const [tiles, sofa] = await m.addMany([
      { text: 'Tiles arrive Tuesday', scope: alice },
      { text: 'Sofa delivery Saturday', scope: alice },
    ]);
    await m.update(tiles!.id, { text: 'Tiles arrive Thursday' });
    expect((await m.searchMemory('thursday', { scope: alice }))[0]!.memory.id).toBe(tiles!.id);
    expect(await m.searchMemory('tuesday', { scope: alice })).toEqual([]);
    expect((await m.store.get(tiles!.id, { scope: alice }))!.embedding).toEqual({ model: 'test/hashing', dim: 64 });
    await m.remove(sofa!.id);
    expect(await m.searchMemory('sofa', { scope: alice })).toEqual([]);
    const before = await m.searchMemory('tiles arrive', { scope: alice });
    await m.close();
    const again = await createMneme({ name, embedder });
    open.push(again);
    expect(await again.searchMemory('tiles arrive', { scope: alice })).toEqual(before);
  });

  it('re-embeds in the background a store whose vectors came from another model, keeping text', async () => {
    const name = `s-${crypto.randomUUID()}`;
    const first = await createMneme({ name, embedder: new HashingEmbedder('test/old', 32) });
    await first.addMany(household.map((text) => ({ text, scope: alice })));
    await first.close();
    const next = new HashingEmbedder('test/new', 48, false);
    const progress: number[] = [];
    const m = await createMneme({ name, embedder: next });
    open.push(m);
    m.on('reembed-progress', (p) => progress.push(p.done));
    expect(m.modelStatus).toBe('loading');
    expect((await m.searchMemory('tiles', { scope: alice }))[0]!.memory.text).toMatch(/Tiles/); // lexical meanwhile
    expect(await m.ready).toEqual({ model: 'test/new', dim: 48 });
    expect(progress.at(-1)).toBe(household.length);
    const stored = await m.list({ scope: alice });
    expect(stored.map((r) => r.text).sort()).toEqual([...household].sort());
    for (const r of stored) {
      expect(r.embedding).toEqual({ model: 'test/new', dim: 48 });
      expect((await m.store.getVector(r.id))!.data).toHaveLength(48);
    }
    const [hit] = await m.searchMemory('sofa bed delivery', { scope: alice });
    expect(hit!.parts.denseRank).toBe(1);
  });

  it('rejects bad queries with typed errors and changes nothing', async () => {
    const m = await mneme({ embedder: new HashingEmbedder() });
    await m.add({ text: 'one memory', scope: alice });
    await expect(m.searchMemory('', { scope: alice })).rejects.toMatchObject({ code: 'text-empty' });
    await expect(m.searchMemory(42 as never, { scope: alice })).rejects.toMatchObject({ code: 'invalid-input' });
    await expect(m.searchMemory('x', { scope: alice, k: 0 })).rejects.toMatchObject({ code: 'invalid-input' });
    await expect(m.searchMemory('x', { scope: alice, k: 2.5 })).rejects.toMatchObject({ code: 'invalid-input' });
    await expect(m.searchMemory('x', {} as never)).rejects.toMatchObject({ code: 'bad-scope' });
    await expect(m.searchMemory('x', { scope: alice, vector: new Float32Array(3) })).rejects.toMatchObject({ code: 'invalid-input' });
    await expect(m.searchMemory('x', { scope: alice, filter: { when: 1 } as never })).rejects.toMatchObject({ code: 'invalid-input' });
    await expect(m.addMany([{ text: 'fine', scope: alice }, { text: '', scope: alice }])).rejects.toMatchObject({ code: 'text-empty' });
    expect(await m.count({ scope: alice })).toBe(1);
  });
});
