import { afterEach, describe, expect, it } from 'vitest';
import { createMneme, type Mneme } from '../../src/mneme';
import { openMemoryStore } from '../../src/store/store';
import { HashingEmbedder } from '../support/hashing-embedder';

const alice = { userId: 'alice' };
const open: Mneme[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((m) => m.close()));
});

async function reopen(name: string, embedder = new HashingEmbedder()) {
  const m = await createMneme({ name, embedder, snapshotDelayMs: 10 });
  open.push(m);
  return m;
}

describe('index snapshot', () => {
  it('reopens from the snapshot with exactly the same results as a full rebuild', async () => {
    const name = `snap-${crypto.randomUUID()}`;
    const first = await createMneme({ name, embedder: new HashingEmbedder(), snapshotDelayMs: 10 });
    expect(first.openedFrom).toBe('records');
    const added = await first.addMany(Array.from({ length: 300 }, (_, i) => ({ text: `note ${i} about tiles ${i % 7} and pipes ${i % 11}`, scope: alice })));
    await first.remove(added[5]!.id);
    await first.update(added[6]!.id, { text: 'rewritten: sofa delivery' });
    await first.close(); // saves the pending snapshot before closing

    const fromSnapshot = await reopen(name);
    expect(fromSnapshot.openedFrom).toBe('snapshot');
    const queries = ['tiles 3', 'pipes 10 note', 'sofa delivery', 'note 5'];
    // Every match with its evidence. Ties may rank in another order after a rebuild (and so fuse
    // differently), so compare each memory's dense and lexical scores rather than the order.
    const scores = async (m: Mneme, q: string) =>
      new Map((await m.searchMemory(q, { scope: alice, k: 1000 })).map((r) => [r.memory.id, [r.memory.text, r.parts.dense?.toFixed(5), r.parts.lexical?.toFixed(5)]]));
    const results = await Promise.all(queries.map((q) => scores(fromSnapshot, q)));
    expect(results[0]!.size).toBeGreaterThan(40);
    await fromSnapshot.close();

    // Throw the snapshot away and rebuild from every record.
    const store = await openMemoryStore({ name });
    await store.writeSnapshot('index', store.generation ?? (await store.loadAll(), store.generation!), null);
    store.close();
    const rebuilt = await reopen(name);
    expect(rebuilt.openedFrom).toBe('records');
    for (const [i, q] of queries.entries()) expect(await scores(rebuilt, q)).toEqual(results[i]);
    // The snapshot keeps following writes: a memory added after reopening is found after the next reopen.
    const curtains = await rebuilt.add({ text: 'brand new memory about curtains', scope: alice });
    const followed = [...queries, 'curtains'];
    const before = await Promise.all(followed.map((q) => scores(rebuilt, q)));
    expect(before.at(-1)!.has(curtains.id)).toBe(true);
    const size = rebuilt.size;
    await rebuilt.close(); // saves the snapshot that now holds it

    const again = await reopen(name);
    expect(again.openedFrom).toBe('snapshot');
    expect(again.size).toBe(size);
    expect((await again.searchMemory('curtains', { scope: alice }))[0]!.memory.id).toBe(curtains.id);
    for (const [i, q] of followed.entries()) expect(await scores(again, q)).toEqual(before[i]);
  });

  it('catches up from the log after another connection wrote behind it, and matches a full rebuild', async () => {
    const name = `snap-${crypto.randomUUID()}`;
    const first = await reopen(name);
    const [kept, rewritten] = await first.addMany([{ text: 'first memory', scope: alice }, { text: 'tiles arrive monday', scope: alice }]);
    await first.close();
    const other = await openMemoryStore({ name }); // e.g. another tab that closed before saving its snapshot
    const hashing = new HashingEmbedder();
    const behind = await other.add({ text: 'written behind the snapshot', scope: alice }, { vector: hashing.vector('written behind the snapshot'), embedding: hashing.ref! });
    await other.setTier(kept!.id, 'archived', 'cold');
    await other.update(rewritten!.id, { tags: ['renovation'] });
    other.close();
    const again = await reopen(name);
    expect(again.openedFrom).toBe('snapshot-and-log');
    expect(again.size).toBe(3);
    expect(again.peek(kept!.id)!.tier).toBe('archived');
    expect(again.peek(rewritten!.id)!.tags).toEqual(['renovation']);
    const hit = (await again.searchMemory('behind', { scope: alice }))[0]!;
    expect(hit.memory.id).toBe(behind.id);
    expect(hit.parts.dense).toBeGreaterThan(0.4); // its vector came with it (one word of four in common)
    await again.close(); // saves a current snapshot
    expect((await reopen(name)).openedFrom).toBe('snapshot');
  });

  it('rebuilds from every record once compaction folded the events after it', async () => {
    const name = `snap-${crypto.randomUUID()}`;
    const first = await reopen(name);
    await first.add({ text: 'first memory', scope: alice });
    await first.close();
    const other = await openMemoryStore({ name, eventLog: { maxEvents: 0 } });
    await other.add({ text: 'written behind the snapshot', scope: alice });
    await other.compactLog();
    other.close();
    const again = await reopen(name);
    expect(again.openedFrom).toBe('records');
    expect((await again.searchMemory('behind', { scope: alice }))[0]!.memory.text).toBe('written behind the snapshot');
  });

  it('is ignored when the embedding model changed', async () => {
    const name = `snap-${crypto.randomUUID()}`;
    const first = await reopen(name);
    await first.add({ text: 'a memory', scope: alice });
    await first.close();
    expect((await reopen(name, new HashingEmbedder('test/other', 32))).openedFrom).toBe('records');
  });
});
