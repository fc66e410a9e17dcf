// Writes never half-fail (issue 12): a committed write resolves whatever its
// subscribers do, and an LLM extraction is written whole or not at all, never
// retried by the heuristic after a write failed.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidInputError, MnemeError, NotFoundError } from '../../src/errors';
import { createMneme, type Mneme } from '../../src/mneme';
import type { ExtractionDecision, Extractor } from '../../src/scheduler/llm-extract';
import { Scheduler } from '../../src/scheduler/scheduler';
import { openMemoryStore, type MemoryStore, type StoreChange } from '../../src/store/store';
import { failingWrite } from '../support/failing-write';

const u = { userId: 'u' };
let now = Date.parse('2026-09-01T10:00:00Z');
const clock = () => now;
const stores: MemoryStore[] = [];
const open: { m: Mneme; s: Scheduler }[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const store of stores.splice(0)) store.close();
  for (const { m, s } of open.splice(0)) {
    s.dispose();
    await m.close();
  }
});

describe('a throwing subscriber', () => {
  it('never turns a committed write into a rejected call: the record is stored, later listeners run, the error is reported', async () => {
    const reported: { error: unknown; change: StoreChange }[] = [];
    const store = await openMemoryStore({ name: `sub-${crypto.randomUUID()}`, now: clock, onSubscriberError: (error, change) => reported.push({ error, change }) });
    stores.push(store);
    const boom = new Error('subscriber bug');
    const heard: StoreChange[] = [];
    store.subscribe(() => {
      throw boom;
    });
    store.subscribe(() => Promise.reject(new Error('async subscriber bug')) as never);
    store.subscribe((change) => heard.push(change));

    const record = await store.add({ text: 'The boiler is serviced in March', scope: u });
    expect(await store.get(record.id, { scope: u })).toEqual(record);
    expect(heard).toHaveLength(1);
    expect(heard[0]!.upserted.map((r) => r.id)).toEqual([record.id]);
    await expect.poll(() => reported.length).toBe(2);
    expect(reported[0]!.error).toBe(boom);
    expect(reported[0]!.change).toBe(heard[0]);
    expect((reported[1]!.error as Error).message).toBe('async subscriber bug');

    // Other writes resolve too, and so does a change heard from another tab.
    await expect(store.update(record.id, { importance: 0.9 })).resolves.toMatchObject({ importance: 0.9 });
    await expect(store.remove(record.id)).resolves.toBeUndefined();
    expect(() => store.receive({ upserted: [], vectors: [], removed: ['x'], removedRecords: [], events: [] }, 'g')).not.toThrow();
    expect(heard).toHaveLength(4);
  });

  it('goes to console.error by default, naming the option that handles it', async () => {
    const store = await openMemoryStore({ name: `sub-${crypto.randomUUID()}`, now: clock });
    stores.push(store);
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    store.subscribe(() => {
      throw new Error('subscriber bug');
    });
    await expect(store.add({ text: 'Bins go out on Thursday', scope: u })).resolves.toMatchObject({ text: 'Bins go out on Thursday' });
    expect(logged).toHaveBeenCalledTimes(1);
    expect(String(logged.mock.calls[0]![0])).toContain('onSubscriberError');
    expect(await store.count({ scope: u })).toBe(1);
  });
});

describe('an LLM extraction is one transaction', () => {
  /** An extractor (the model's seam) that answers with `decide`, given the notes it was shown. */
  const extractor = (decide: (related: readonly { id: string }[]) => ExtractionDecision): Extractor => ({ extract: async (_message, related) => decide(related) });

  async function setup(decide: (related: readonly { id: string }[]) => ExtractionDecision) {
    const m = await createMneme({ name: `extract-${crypto.randomUUID()}`, now: clock });
    const s = await Scheduler.create(m, { scope: u, clock, extractor: extractor(decide) });
    open.push({ m, s });
    const note = await m.add({ text: 'The sofa is delivered on Saturday', scope: u });
    const changes: StoreChange[] = [];
    m.store.subscribe((change) => changes.push(change));
    const before = { rows: await m.list({ scope: u }), events: await m.store.events() };
    const unchanged = async () => {
      expect(await m.list({ scope: u })).toEqual(before.rows);
      expect(await m.store.events()).toEqual(before.events);
      expect(changes).toEqual([]);
      expect([...m.records()].map((r) => r.id)).toEqual([note.id]);
    };
    return { m, s, note, changes, unchanged };
  }

  it('adds, rewrites and retires in one write that listeners hear once', async () => {
    const { m, s, note, changes } = await setup(() => ({
      add: [{ text: 'The sofa delivery moved to Sunday', importance: 0.7 }, { text: 'The courier calls an hour ahead', importance: 0.5 }],
      update: [{ id: note.id, text: 'The sofa was due on Saturday' }],
      retire: [{ id: note.id, reason: 'moved' }],
    }));
    now += 60_000;
    const out = await s.observe({ text: 'They moved the sofa delivery to Sunday; the courier calls ahead.' });
    expect(out.created.map((r) => r.text)).toEqual(['The sofa delivery moved to Sunday', 'The courier calls an hour ahead']);
    expect(out).toMatchObject({ updated: [note.id], retired: [note.id] });
    expect(await m.get(note.id, { scope: u })).toMatchObject({ text: 'The sofa was due on Saturday', validUntil: now });
    expect(changes).toHaveLength(1);
    expect(changes[0]!.events.map((e) => e.type)).toEqual(['created', 'created', 'updated', 'updated']);
    expect(await m.count({ scope: u })).toBe(3);
  });

  it('a rewrite of a missing id rejects with NotFoundError, leaves the store unchanged, and adds nothing (no heuristic retry)', async () => {
    const { s, unchanged } = await setup(() => ({
      add: [{ text: 'The sofa delivery moved to Sunday', importance: 0.7 }],
      update: [{ id: 'gone', text: 'The sofa comes on Sunday' }],
      retire: [],
    }));
    await expect(s.observe({ text: 'Remind me the sofa delivery moved to Sunday.' })).rejects.toBeInstanceOf(NotFoundError);
    await unchanged();
  });

  it('an IndexedDB failure half-way through the write keeps none of it, and adds nothing twice', async () => {
    const { m, s, note, unchanged } = await setup((related) => ({
      add: [{ text: 'The sofa delivery moved to Sunday', importance: 0.7 }],
      update: [],
      retire: [{ id: related[0]!.id, reason: 'moved' }],
    }));
    // The adds are queued first; the retire's put then fails inside the same transaction.
    await expect(failingWrite(1, () => s.observe({ text: 'Remind me the sofa delivery moved to Sunday.' }))).rejects.toBeInstanceOf(MnemeError);
    await unchanged();
    expect((await m.get(note.id, { scope: u }))!.validUntil).toBeUndefined();

    // The same extraction, once IndexedDB works, is written whole, once.
    const out = await s.observe({ text: 'Remind me the sofa delivery moved to Sunday.' });
    expect(out.created).toHaveLength(1);
    expect(await m.count({ scope: u })).toBe(2);
    expect((await m.get(note.id, { scope: u }))!.validUntil).toBe(now);
  });

  it('a model failure before any write still falls back to the heuristic', async () => {
    const { m, s } = await setup(() => {
      throw new MnemeError('generation-failed', 'the model answered nonsense');
    });
    const out = await s.observe({ text: 'Remind me the plumber comes on Monday at 9am.' });
    expect(out.created.map((r) => r.text)).toEqual(['Remind me the plumber comes on Monday at 9am.']);
    expect(await m.count({ scope: u })).toBe(2);
  });
});

describe('MemoryStore.applyChanges', () => {
  it('validates the whole batch before writing, with typed errors, and changes nothing on refusal', async () => {
    const store = await openMemoryStore({ name: `batch-${crypto.randomUUID()}`, now: clock });
    stores.push(store);
    const a = await store.add({ text: 'Tiles arrive Tuesday', scope: u });
    const events = await store.events();
    const heard: StoreChange[] = [];
    store.subscribe((change) => heard.push(change));
    await expect(store.applyChanges({ add: [{ text: 'fine', scope: u }, { text: '', scope: u }] })).rejects.toMatchObject({ code: 'text-empty', message: /add\[1\]/ });
    await expect(store.applyChanges({ add: [{ text: 'fine', scope: u }], update: [{ id: a.id, patch: { validUntil: 'soon' as never } }] })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(store.applyChanges({ update: [{ id: a.id, patch: { text: 'ok' } }, { id: 'gone', patch: { text: 'x' } }] })).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.applyChanges({ update: 'nope' as never })).rejects.toBeInstanceOf(InvalidInputError);
    expect(await store.list({ scope: u })).toEqual([a]);
    expect(await store.events()).toEqual(events);
    expect(heard).toEqual([]);
  });

  it('writes adds and rewrites sealed when the store is encrypted', async () => {
    const name = `batch-sealed-${crypto.randomUUID()}`;
    const store = await openMemoryStore({ name, now: clock, encryption: { passphrase: 'correct horse' } });
    stores.push(store);
    const a = await store.add({ text: 'Tiles arrive Tuesday', scope: u });
    const { created, updated } = await store.applyChanges({ add: [{ text: 'Grout is grey', scope: u }], update: [{ id: a.id, patch: { text: 'Tiles arrive Wednesday' } }] });
    expect(updated.map((r) => r.text)).toEqual(['Tiles arrive Wednesday']);
    store.close();
    stores.pop();
    const again = await openMemoryStore({ name, now: clock, encryption: { passphrase: 'correct horse' } });
    stores.push(again);
    expect((await again.get(a.id, { scope: u }))!.text).toBe('Tiles arrive Wednesday');
    expect((await again.get(created[0]!.id, { scope: u }))!.text).toBe('Grout is grey');
  });
});
