import { openDB } from 'idb';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidInputError, NotFoundError } from '../../src/errors';
import { MIGRATIONS, SCHEMA_VERSION, upgrade, type MnemeDB } from '../../src/store/schema';
import { openMemoryStore, type MemoryStore, type StoreChange } from '../../src/store/store';

const alice = { userId: 'alice' };
const open: MemoryStore[] = [];
let clock = 1_000;

async function fresh(name = `t-${crypto.randomUUID()}`) {
  const store = await openMemoryStore({ name, now: () => clock });
  open.push(store);
  return { store, name };
}

afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

describe('MemoryStore in real IndexedDB', () => {
  it('adds, reads, updates, lists, counts and removes', async () => {
    const { store } = await fresh();
    const a = await store.add({ text: 'Tiles arrive Tuesday', scope: alice, tags: ['renovation'], importance: 0.8, source: 'user' });
    expect(await store.get(a.id, { scope: alice })).toEqual(a);
    clock = 2_000;
    const b = await store.add({ text: 'Mortgage rate 3.1%', scope: alice, tags: ['house'] });
    const u = await store.update(a.id, { text: 'Tiles arrive Wednesday' });
    expect(u).toMatchObject({ text: 'Tiles arrive Wednesday', updatedAt: 2_000, createdAt: 1_000 });
    expect((await store.list({ scope: alice })).map((m) => m.id)).toEqual([b.id, a.id]);
    expect(await store.count({ scope: alice, filter: { tags: ['house'] } })).toBe(1);
    await store.remove(b.id);
    expect(await store.get(b.id, { scope: alice })).toBeUndefined();
    expect(await store.count({ scope: alice })).toBe(1);
    await expect(store.remove(b.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.update('nope', { text: 'x' })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('keeps vectors apart from text, as Float32Array, and drops a vector whose text changed', async () => {
    const { store } = await fresh();
    const vector = new Float32Array([0.6, 0.8, 0]);
    const m = await store.add({ text: 'Electrician on Friday', scope: alice }, { vector, embedding: { model: 'm', dim: 3 } });
    expect(m.embedding).toEqual({ model: 'm', dim: 3 });
    const row = await store.getVector(m.id);
    expect(row?.data).toBeInstanceOf(Float32Array);
    expect([...row!.data]).toEqual([...vector]);
    expect(await store.get(m.id, { scope: alice })).not.toHaveProperty('data');
    await store.update(m.id, { importance: 1 });
    expect([...(await store.getVector(m.id))!.data]).toEqual([...vector]);
    await store.update(m.id, { text: 'Electrician on Saturday' });
    expect(await store.getVector(m.id)).toBeUndefined();
    expect((await store.get(m.id, { scope: alice }))!.embedding).toBeUndefined();
  });

  it('writes a batch whole or not at all', async () => {
    const { store } = await fresh();
    await store.add({ id: 'taken', text: 'first', scope: alice });
    const good = Array.from({ length: 50 }, (_, i) => ({ text: `memory ${i}`, scope: alice }));
    await expect(store.addMany([...good, { text: '', scope: alice }])).rejects.toMatchObject({ code: 'text-empty', message: /memories\[50\]/ });
    // This one passes validation and fails inside IndexedDB, after 50 adds were issued.
    await expect(store.addMany([...good, { id: 'taken', text: 'again', scope: alice }])).rejects.toBeInstanceOf(InvalidInputError);
    expect(await store.count({ scope: alice })).toBe(1);
    expect((await store.events()).filter((e) => e.type === 'created')).toHaveLength(1);
    await store.addMany(good);
    expect(await store.count({ scope: alice })).toBe(51);
  });

  it('keeps every resolved write across close and reopen', async () => {
    const { store, name } = await fresh();
    const ids = (await store.addMany(Array.from({ length: 200 }, (_, i) => ({ text: `note ${i}`, scope: alice })))).map((m) => m.id);
    store.close();
    const again = await openMemoryStore({ name });
    open.push(again);
    expect(await again.count({ scope: alice })).toBe(200);
    expect((await again.get(ids[123]!, { scope: alice }))!.text).toBe('note 123');
  });

  it('logs every change as a typed event, append-only', async () => {
    const { store } = await fresh();
    const m = await store.add({ text: 'Sofa delivery Saturday', scope: alice });
    await store.recordAccess([m.id], 'retrieval');
    await store.setTier(m.id, 'activated', 'promoted: theme renovation heat 4.2 ≥ 3.0');
    await store.setTier(m.id, 'activated', 'again'); // no change, no event
    await store.update(m.id, { tags: ['furniture'] });
    await store.remove(m.id);
    const log = await store.events(m.id);
    expect(log.map((e) => e.type)).toEqual(['created', 'accessed', 'tier-changed', 'updated', 'removed']);
    expect(log[0]).toMatchObject({ type: 'created', source: 'manual', origin: 'add' });
    expect(log[1]).toMatchObject({ type: 'accessed', use: 'retrieval' });
    expect(log[2]).toMatchObject({ from: 'plaintext', to: 'activated', reason: 'promoted: theme renovation heat 4.2 ≥ 3.0' });
    expect(log[3]).toMatchObject({ type: 'updated', fields: ['tags'] });
    expect(log[4]).toMatchObject({ type: 'removed', reason: 'removed' });
    expect(JSON.stringify(log)).not.toContain('Sofa');
    expect(log.map((e) => e.seq)).toEqual([...log.map((e) => e.seq)].sort((a, b) => a! - b!));
    await expect(store.setTier(m.id, 'archived', 'cold')).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.recordAccess([m.id], 'retrieved into prompt' as never)).rejects.toMatchObject({ code: 'invalid-input', message: /mention, retrieval, access/ });
  });

  it('writes a batch of tier changes as one transaction: all of them, or none', async () => {
    const { store } = await fresh();
    const [a, b, c] = await store.addMany(['tiles Tuesday', 'electrician Friday', 'sofa Saturday'].map((text) => ({ text, scope: alice })));
    const changes: StoreChange[] = [];
    store.subscribe((change) => changes.push(change));
    const generation = store.generation;
    // One memory is gone by the time the batch is written: nothing of the batch is kept.
    await store.remove(c!.id);
    changes.length = 0;
    const batch = [
      { id: a!.id, tier: 'activated' as const, reason: 'promoted: theme t1 heat 4.2 ≥ 3.0' },
      { id: b!.id, tier: 'archived' as const, reason: 'archived: cold' },
      { id: c!.id, tier: 'activated' as const, reason: 'promoted: theme t1 heat 4.2 ≥ 3.0' },
    ];
    await expect(store.setTiers(batch)).rejects.toBeInstanceOf(NotFoundError);
    expect((await store.list({ scope: alice })).map((m) => m.tier)).toEqual(['plaintext', 'plaintext']);
    expect((await store.events()).filter((e) => e.type === 'tier-changed')).toEqual([]);
    expect(changes).toEqual([]);
    expect(store.generation).not.toBe(generation); // the remove's, not the failed batch's

    const before = store.generation;
    const moved = await store.setTiers([...batch.slice(0, 2), { id: b!.id, tier: 'plaintext', reason: 'restored: heat 1.5 ≥ 1.0' }]);
    expect(moved.map((m) => m.tier)).toEqual(['activated', 'plaintext', 'plaintext']);
    expect(changes).toHaveLength(1);
    expect(changes[0]!.upserted.map((m) => [m.id, m.tier])).toEqual([[a!.id, 'activated'], [b!.id, 'plaintext']]);
    expect(changes[0]!.events.map((e) => e.type === 'tier-changed' && [e.from, e.to])).toEqual([['plaintext', 'activated'], ['plaintext', 'archived'], ['archived', 'plaintext']]);
    expect(store.generation).not.toBe(before);

    // A batch that moves nothing writes nothing: no event, no notification, the same generation.
    const settled = store.generation;
    expect((await store.setTiers([{ id: a!.id, tier: 'activated', reason: 'again' }])).map((m) => m.tier)).toEqual(['activated']);
    expect(await store.setTiers([])).toEqual([]);
    expect(changes).toHaveLength(1);
    expect(store.generation).toBe(settled);
    expect((await store.events()).filter((e) => e.type === 'tier-changed')).toHaveLength(3);
  });

  it('validates a tier batch whole before writing, and never stores the transient working tier', async () => {
    const { store } = await fresh();
    const m = await store.add({ text: 'tiles Tuesday', scope: alice });
    const good = { id: m.id, tier: 'activated' as const, reason: 'promoted' };
    const bad: [unknown, RegExp][] = [
      [[good, { id: m.id, tier: 'working', reason: 'picked' }], /changes\[1\]: .*working set is transient.*never stores it/],
      [[good, { id: m.id, tier: 'activated', reason: ' ' }], /changes\[1\]: A tier change needs a reason/],
      [[good, { id: '', tier: 'activated', reason: 'x' }], /changes\[1\]: A memory id/],
      [[good, 'nope'], /changes\[1\]: A tier change is/],
      ['nope', /an array of \{ id, tier, reason \}/],
    ];
    for (const [changes, message] of bad) await expect(store.setTiers(changes as never)).rejects.toMatchObject({ name: 'InvalidInputError', message });
    await expect(store.setTier(m.id, 'working' as never, 'picked')).rejects.toMatchObject({ code: 'invalid-input', message: /working set is transient/ });
    await expect(store.add({ text: 'x', scope: alice, tier: 'working' as never })).rejects.toMatchObject({ message: /working set is transient/ });
    await expect(store.count({ scope: alice, filter: { tiers: ['working' as never] } })).rejects.toBeInstanceOf(InvalidInputError);
    expect((await store.get(m.id, { scope: alice }))!.tier).toBe('plaintext');
    expect(await store.events()).toHaveLength(1);
  });

  it('keeps users, roles and shared memories apart', async () => {
    const { store } = await fresh();
    await store.addMany([
      { text: 'alice private', scope: alice },
      { text: 'alice as doctor', scope: { userId: 'alice', role: 'doctor' } },
      { text: 'bob private', scope: { userId: 'bob' } },
      { text: 'household wifi password is on the fridge', scope: { shared: true } },
    ]);
    const texts = async (scope: { userId: string; role?: string }) => (await store.list({ scope })).map((m) => m.text).sort();
    expect(await texts(alice)).toEqual(['alice private', 'household wifi password is on the fridge']);
    expect(await texts({ userId: 'alice', role: 'doctor' })).toEqual(['alice as doctor', 'alice private', 'household wifi password is on the fridge']);
    expect(await texts({ userId: 'bob' })).toEqual(['bob private', 'household wifi password is on the fridge']);
    expect(await store.clear({ userId: 'alice', role: 'doctor' })).toBe(1);
    expect(await store.clear(alice)).toBe(1);
    expect(await texts({ userId: 'bob' })).toHaveLength(2);
    await expect(store.list({ scope: { shared: true } as never })).rejects.toMatchObject({ code: 'bad-scope' });
    await expect(store.list(undefined as never)).rejects.toMatchObject({ code: 'bad-scope' });
  });

  it('migrates a schema-1 database to the current schema, keeping every memory', async () => {
    const name = `mig-${crypto.randomUUID()}`;
    const v1 = await openDB<MnemeDB>(name, 1, { upgrade: (db, o, _n, tx) => upgrade(db, o, 1, tx) });
    expect([...v1.objectStoreNames].sort()).toEqual(['memories', 'vectors']);
    const tx = v1.transaction(['memories', 'vectors'], 'readwrite');
    for (let i = 0; i < 300; i++) {
      const base = { id: `m${i}`, text: `old memory ${i}`, scope: alice, tags: [], importance: 0.5, source: 'manual' as const, tier: 'plaintext' as const };
      void tx.objectStore('memories').put({ ...base, createdAt: i, updatedAt: i, lastAccessedAt: i, accessCount: 0, owner: 'u:alice', embedding: { model: 'm', dim: 2 } });
      void tx.objectStore('vectors').put({ id: `m${i}`, model: 'm', dim: 2, data: new Float32Array([i, 1]) });
    }
    await tx.done;
    v1.close();

    expect(MIGRATIONS).toHaveLength(SCHEMA_VERSION);
    const store = await openMemoryStore({ name });
    open.push(store);
    expect(await store.count({ scope: alice })).toBe(300);
    expect((await store.getVector('m7'))!.data[0]).toBe(7);
    const created = await store.events();
    expect(created).toHaveLength(300);
    expect(created.find((e) => e.memoryId === 'm7')).toEqual({ seq: expect.any(Number), type: 'created', at: 7, memoryId: 'm7', source: 'manual', origin: 'migration' });
    expect(await store.count({ scope: alice, filter: { tiers: ['plaintext'] } })).toBe(300);
  });

  it('migrates a schema-4 database to typed events, and stores its working rows as plaintext', async () => {
    const name = `mig4-${crypto.randomUUID()}`;
    const v4 = await openDB<MnemeDB>(name, 4, { upgrade: (db, o, _n, tx) => upgrade(db, o, 4, tx) });
    const tx = v4.transaction(['memories', 'events', 'snapshots', 'meta'], 'readwrite');
    const row = (id: string, tier: string) => ({ id, text: `old ${id}`, scope: alice, tags: [], importance: 0.5, source: 'user' as const, tier: tier as never, createdAt: 1, updatedAt: 1, lastAccessedAt: 1, accessCount: 0, owner: 'u:alice' });
    void tx.objectStore('memories').put(row('a', 'working'));
    void tx.objectStore('memories').put(row('b', 'activated'));
    // As schema 4 logged them: the use, the fields and the working tier only in reason strings.
    const legacy = [
      { at: 1, memoryId: 'a', type: 'created', reason: 'source user' },
      { at: 1, memoryId: 'b', type: 'created', reason: 'imported' },
      { at: 2, memoryId: 'a', type: 'accessed', reason: 'retrieved into prompt' },
      { at: 3, memoryId: 'a', type: 'accessed', reason: 'mentioned' },
      { at: 3, memoryId: 'b', type: 'accessed', reason: 'accessed' },
      { at: 4, memoryId: 'a', type: 'updated', reason: 'text, tags' },
      { at: 5, memoryId: 'a', type: 'tier-changed', from: 'plaintext', to: 'working', reason: 'test' },
      { at: 5, memoryId: 'b', type: 'tier-changed', from: 'plaintext', to: 'activated', reason: 'promoted: theme t1 heat 4.2 ≥ 3.0' },
      { at: 6, memoryId: 'gone', type: 'removed', reason: 'scope cleared' },
    ];
    for (const e of legacy) void tx.objectStore('events').add(e as never);
    void tx.objectStore('snapshots').put({ generation: 'g', data: { stale: true } }, 'index');
    void tx.objectStore('meta').put('g', 'generation');
    await tx.done;
    v4.close();

    const store = await openMemoryStore({ name });
    open.push(store);
    expect(SCHEMA_VERSION).toBe(7); // through schema 5, 6 (the tallies of the bounded log: see trust-event-log.test.ts) and 7
    const raw = await openDB<MnemeDB>(name);
    expect([...raw.transaction('memories').store.indexNames].sort()).toEqual(['by-owner', 'by-owner-time']); // 7 dropped the unused tier index
    raw.close();
    expect((await store.get('a', { scope: alice }))!.tier).toBe('plaintext');
    expect((await store.get('b', { scope: alice }))!.tier).toBe('activated');
    expect(await store.readSnapshot('index')).toBeUndefined();
    const log = await store.events();
    expect(log.map(({ seq: _seq, ...e }) => e)).toEqual([
      { at: 1, memoryId: 'a', type: 'created', source: 'user', origin: 'add' },
      { at: 1, memoryId: 'b', type: 'created', source: 'user', origin: 'import' },
      { at: 2, memoryId: 'a', type: 'accessed', use: 'retrieval' },
      { at: 3, memoryId: 'a', type: 'accessed', use: 'mention' },
      { at: 3, memoryId: 'b', type: 'accessed', use: 'access' },
      { at: 4, memoryId: 'a', type: 'updated', fields: ['text', 'tags'] },
      { at: 5, memoryId: 'a', type: 'tier-changed', from: 'plaintext', to: 'plaintext', reason: expect.stringMatching(/^test \(/) },
      { at: 5, memoryId: 'b', type: 'tier-changed', from: 'plaintext', to: 'activated', reason: 'promoted: theme t1 heat 4.2 ≥ 3.0' },
      { at: 6, memoryId: 'gone', type: 'removed', reason: 'scope cleared' },
    ]);
    expect(log.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
