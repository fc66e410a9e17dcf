// The bounded event log in real IndexedDB: compaction folds old events into
// use tallies under the retention and deletes them; a scheduler started from
// tallies plus the tail holds the heat a full replay gave; a removal's event
// drops the memory's tally when folded; retrievals append events only, several calls sharing one
// transaction; and a schema-5 database opens with its whole log as the tail.
import { openDB } from 'idb';
import { afterEach, describe, expect, it } from 'vitest';
import { createMneme, type Mneme } from '../../src/mneme';
import { Scheduler } from '../../src/scheduler/scheduler';
import { MIGRATIONS, SCHEMA_VERSION, upgrade, type MnemeDB } from '../../src/store/schema';
import { openMemoryStore, type MemoryStore, type StoreChange } from '../../src/store/store';

const DAY = 86_400_000;
const u = { userId: 'u' };
let now = Date.parse('2026-06-01T10:00:00Z');
const clock = () => now;
const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function mneme(name: string, eventLog = { maxEvents: 20 }): Promise<Mneme> {
  const m = await createMneme({ name, now: clock, eventLog, snapshotDelayMs: 60_000 });
  closers.push(() => m.close());
  return m;
}

/** Memories used over two months, so the log outgrows the retention. */
async function history(m: Mneme): Promise<string[]> {
  const ids = (await m.addMany(Array.from({ length: 6 }, (_, i) => ({ text: `renovation note ${i}`, scope: u })))).map((r) => r.id);
  for (let day = 0; day < 60; day++) {
    now += DAY;
    await m.store.recordAccess([ids[day % 6]!, ids[(day * 5) % 6]!], day % 3 === 0 ? 'retrieval' : 'mention');
  }
  return ids;
}

describe('the bounded event log', () => {
  it('folds events beyond the retention into tallies, and a scheduler started after it holds the same heat', async () => {
    const m = await mneme(`log-${crypto.randomUUID()}`);
    const ids = await history(m);
    const full = await Scheduler.create(m, { scope: u, clock });
    closers.push(() => full.dispose());
    const before = ids.map((id) => full.state.heatOf(id, now));
    expect((await m.store.events()).length).toBe(126);

    expect(await m.store.compactLog()).toBe(106);
    const tail = await m.store.events();
    expect(tail).toHaveLength(20);
    const { tallies, upTo } = await m.store.heatLog();
    expect(upTo).toBe(tail[0]!.seq! - 1);
    expect(tallies.map((t) => t.id).sort()).toEqual([...ids].sort());
    expect(tallies.reduce((n, t) => n + t.counts.mention + t.counts.retrieval + t.counts.access, 0)).toBe(106);
    expect(await m.store.compactLog()).toBe(0); // within retention now

    const restored = await Scheduler.create(m, { scope: u, clock });
    closers.push(() => restored.dispose());
    ids.forEach((id, i) => expect(restored.state.heatOf(id, now)).toBeCloseTo(before[i]!, 9));
  });

  it('folds by age too, and Mneme compacts once writes settle', async () => {
    const name = `log-${crypto.randomUUID()}`;
    const m = await createMneme({ name, now: clock, eventLog: { maxEvents: 1000, maxAgeMs: 10 * DAY }, snapshotDelayMs: 10 });
    closers.push(() => m.close());
    await history(m);
    await expect.poll(async () => (await m.store.events()).length, { timeout: 5000 }).toBe(22); // the last ten days and the cutoff day: 2 events a day
    expect((await m.store.events()).every((e) => e.at >= now - 10 * DAY)).toBe(true);
  });

  it('keeps one consistent fold when two tabs compact at once', async () => {
    const name = `log-${crypto.randomUUID()}`;
    const m = await mneme(name, { maxEvents: 0 });
    const ids = await history(m);
    const full = await Scheduler.create(m, { scope: u, clock });
    closers.push(() => full.dispose());
    const other = await openMemoryStore({ name, now: clock, eventLog: { maxEvents: 0 } });
    closers.push(() => other.close());
    await Promise.all([m.store.compactLog(), other.compactLog(), m.store.compactLog()]);
    const { tallies, tail } = await m.store.heatLog();
    expect(tail).toEqual([]);
    expect(tallies.reduce((n, t) => n + t.counts.mention + t.counts.retrieval + t.counts.access, 0)).toBe(126); // each event folded once
    const restored = await Scheduler.create(m, { scope: u, clock });
    closers.push(() => restored.dispose());
    for (const id of ids) expect(restored.state.heatOf(id, now)).toBeCloseTo(full.state.heatOf(id, now), 9);
  });

  it('drops a removed memory’s tally when its removal is folded, and keeps no text in the tallies', async () => {
    const name = `log-${crypto.randomUUID()}`;
    const m = await mneme(name, { maxEvents: 0 });
    const [a, b] = await m.addMany([{ text: 'kept tiles note', scope: u }, { text: 'removed secret note', scope: u }]);
    await m.store.compactLog();
    expect((await m.store.heatLog()).tallies.map((t) => t.id).sort()).toEqual([a!.id, b!.id].sort());
    await m.remove(b!.id);
    expect(await m.store.compactLog()).toBe(1);
    expect((await m.store.heatLog()).tallies.map((t) => t.id)).toEqual([a!.id]);
    const db = await openDB<MnemeDB>(name);
    expect(await db.count('events')).toBe(0);
    const fold = await db.get('logState', 'fold');
    db.close();
    expect((fold!.tallies as { ids: string }).ids).not.toMatch(/note|tiles|secret/);
  });

  it('records retrievals without rewriting rows, several calls in one transaction', async () => {
    const store: MemoryStore = await openMemoryStore({ name: `log-${crypto.randomUUID()}`, now: clock });
    closers.push(() => store.close());
    const [a, b] = await store.addMany([{ text: 'a', scope: u }, { text: 'b', scope: u }]);
    const generation = store.generation;
    const heard: StoreChange[] = [];
    store.subscribe((c) => heard.push(c));
    await Promise.all([store.recordAccess([a!.id], 'retrieval'), store.recordAccess([b!.id, 'not-there'], 'retrieval'), store.recordAccess([a!.id], 'retrieval')]);
    expect(heard.length).toBeLessThanOrEqual(2); // the first call's write, and one shared by the calls made while it ran
    expect(heard.flatMap((c) => c.events).map((e) => e.memoryId)).toEqual([a!.id, b!.id, a!.id]);
    expect(heard.flatMap((c) => c.upserted)).toEqual([]);
    expect(await store.get(a!.id, { scope: u })).toEqual(a); // accessCount and lastAccessedAt count the user's uses only
    expect(store.generation).toBe(generation); // no row changed: the index snapshot stays current
    await store.recordAccess([a!.id], 'mention');
    expect((await store.get(a!.id, { scope: u }))!.accessCount).toBe(1);
  });

  it('opens a schema-5 database with its whole log as the tail, and folds it', async () => {
    const name = `log-${crypto.randomUUID()}`;
    const old = await openDB<MnemeDB>(name, 5, { upgrade: (db, from, to, tx) => upgrade(db, from, to!, tx) });
    const row = { id: 'm1', text: 'old note', scope: u, tags: [], importance: 0.5, source: 'user' as const, tier: 'plaintext' as const, createdAt: 1, updatedAt: 1, lastAccessedAt: 1, accessCount: 0, owner: 'u:u' };
    await old.put('memories', row);
    await old.add('events', { at: 1, memoryId: 'm1', type: 'created', source: 'user', origin: 'add' });
    await old.add('events', { at: 2, memoryId: 'm1', type: 'accessed', use: 'mention' });
    old.close();
    expect(MIGRATIONS).toHaveLength(SCHEMA_VERSION);
    const m = await mneme(name, { maxEvents: 0 });
    expect((await m.store.heatLog()).tail).toHaveLength(2);
    const s = await Scheduler.create(m, { scope: u, clock });
    closers.push(() => s.dispose());
    const heat = s.state.heatOf('m1', now);
    expect(await m.store.compactLog()).toBe(2);
    const { tallies, tail } = await m.store.heatLog();
    expect(tail).toEqual([]);
    expect(tallies).toEqual([expect.objectContaining({ id: 'm1', counts: { mention: 2, retrieval: 0, access: 0 } })]);
    const again = await Scheduler.create(m, { scope: u, clock });
    closers.push(() => again.dispose());
    expect(again.state.heatOf('m1', now)).toBeCloseTo(heat, 9);
  });
});
