// Durability: a tab closed or crashed in the middle of a long bulk add loses no
// write that had resolved and leaves no half batch; a memory stored without its
// vector is healed by re-embedding on open.
import { commands } from 'vitest/browser';
import { afterEach, describe, expect, it } from 'vitest';
import { createMneme, type Mneme } from '../../src/mneme';
import { openMemoryStore } from '../../src/store/store';
import { HashingEmbedder } from '../support/hashing-embedder';
import { dumpDatabase } from '../support/raw-idb';

const open: Mneme[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((m) => m.close()));
});

const SIZE = 50;

/** Runs the bulk-add page, ends it once `after` batches have resolved, and counts what the database kept. */
async function bulkAddThenEnd(how: 'close' | 'crash', after: number) {
  const name = `durable-${how}-${crypto.randomUUID()}`;
  const channel = new BroadcastChannel(`bulk-add:${name}`);
  const started = new Set<number>();
  const resolved = new Set<number>();
  const enough = new Promise<void>((done) => {
    channel.onmessage = (e: MessageEvent<{ type: string; batch: number }>) => {
      if (e.data.type === 'started') started.add(e.data.batch);
      if (e.data.type === 'resolved') resolved.add(e.data.batch);
      if (resolved.size >= after) done();
    };
  });
  const page = await commands.openPage(`/test/pages/bulk-add.html?db=${name}&batches=1000&size=${SIZE}`);
  await enough;
  await commands.closePage(page, how); // mid-way: a batch is in flight
  const heardResolved = new Set(resolved); // anything heard later was resolved before the close, too
  channel.close();

  const store = await openMemoryStore({ name });
  const all = await store.list({ scope: { userId: 'bulk' } });
  store.close();
  const perBatch = new Map<number, number>();
  for (const r of all) {
    const b = Number(r.tags[0]!.slice(1));
    perBatch.set(b, (perBatch.get(b) ?? 0) + 1);
  }
  const lost = [...heardResolved].filter((b) => perBatch.get(b) !== SIZE).length * SIZE;
  const half = [...perBatch.values()].filter((n) => n !== SIZE).length;
  const attempted = started.size * SIZE;
  console.log(`durability (${how}): ${attempted} writes attempted in ${started.size} batches, ${heardResolved.size * SIZE} resolved, ${all.length} kept, ${lost} lost, ${half} half batches`);
  return { attempted, resolved: heardResolved.size, kept: all.length, lost, half, batches: perBatch.size };
}

describe('durability', () => {
  it.each(['close', 'crash'] as const)('a tab ended (%s) mid bulk add loses no resolved write and leaves no half batch', async (how) => {
    const r = await bulkAddThenEnd(how, 20);
    expect(r.resolved).toBeGreaterThanOrEqual(20);
    expect(r.lost).toBe(0);
    expect(r.half).toBe(0);
    expect(r.kept).toBe(r.batches * SIZE);
  });

  it('heals a memory stored without its vector by re-embedding it on open', async () => {
    const name = `heal-${crypto.randomUUID()}`;
    const store = await openMemoryStore({ name });
    // As a tab that died between storing texts and embedding them leaves it: texts, no vectors.
    await store.addMany(Array.from({ length: 30 }, (_, i) => ({ text: `unembedded note ${i} about tiles`, scope: { userId: 'u' } })));
    store.close();
    expect((await dumpDatabase(name)).vectors).toHaveLength(0);

    const embedder = new HashingEmbedder();
    const m = await createMneme({ name, embedder });
    open.push(m);
    await m.ready;
    const raw = await dumpDatabase(name);
    expect(raw.vectors).toHaveLength(30);
    expect(raw.memories!.every((r) => (r.value as { embedding?: { model: string } }).embedding?.model === 'test/hashing')).toBe(true);
    const hits = await m.searchMemory('note about tiles', { scope: { userId: 'u' }, k: 5 });
    expect(hits[0]!.parts.dense).toBeGreaterThan(0);
  });
});
