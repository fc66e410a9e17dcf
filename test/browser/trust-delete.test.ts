// Delete means delete: after remove() or clear(), a memory's text is nowhere at rest
// (records, vectors, event log, the cached index snapshot, the saved themes, the saved
// KV snapshot in OPFS) and not in the engine's cache.
import { afterEach, describe, expect, it } from 'vitest';
import { memoryElement } from '../../src/engine/layout';
import type { Engine } from '../../src/engine/types';
import { createMneme, type Mneme } from '../../src/mneme';
import { SnapshotDirectory } from '../../src/engine/snapshot/directory';
import { GuardedEngine, contains } from '../../src/scheduler/cache-guard';
import { KvKeeper } from '../../src/scheduler/kv-keeper';
import { Predictor } from '../../src/scheduler/predict';
import { Scheduler } from '../../src/scheduler/scheduler';
import { HashingEmbedder } from '../support/hashing-embedder';
import { dumpDatabase, dumpOpfs, occurrences } from '../support/raw-idb';
import { smollmDryRun } from '../support/smollm';
import { standinEngine } from '../support/standin-engine';

const alice = { userId: 'alice' };
const bob = { userId: 'bob' };
const open: Mneme[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((m) => m.close()));
});

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function heldTokens(engine: Engine): Promise<number[]> {
  return (await engine.held()).segments.flatMap((s) => [...s.tokens]);
}

describe('delete means delete', () => {
  it('removes a memory from records, vectors, events, the index snapshot and the engine cache; clearing a user removes all of theirs', async () => {
    const name = `delete-${crypto.randomUUID()}`;
    const m = await createMneme({ name, embedder: new HashingEmbedder(), snapshotDelayMs: 5 });
    open.push(m);
    const secret = 'My bank okapi7731 code is kept under the renovation tiles';
    const [kept, gone] = await m.addMany([
      { text: 'The renovation tiles arrive Tuesday', scope: alice },
      { text: secret, scope: alice, tags: ['finance'] },
    ]);
    await m.update(gone!.id, { importance: 0.9 });
    await m.setTier(gone!.id, 'archived', 'test: archived');
    await m.setTier(gone!.id, 'plaintext', 'test: restored');
    await m.addMany([{ text: 'Bob walrus5521 likes tea', scope: bob }, { text: 'alice narrow heron4410 note', scope: { userId: 'alice', role: 'doctor' } }]);
    // The secret is everywhere a memory lives: the record, its vector, and the saved index snapshot.
    await until(async () => (occurrences(await dumpDatabase(name), 'okapi7731').snapshots ?? 0) > 0, 'the index snapshot');
    const before = await dumpDatabase(name);
    expect(occurrences(before, 'okapi7731')).toMatchObject({ memories: 1, snapshots: expect.any(Number) });
    expect(before.vectors!.some((r) => r.key === gone!.id)).toBe(true);
    expect(before.events!.filter((r) => (r.value as { memoryId: string }).memoryId === gone!.id)).toHaveLength(4);

    // The engine prewarms a prompt that holds the secret.
    const scheduler = await Scheduler.create(m, { scope: alice, saveThemesAfterMs: 5 });
    // The scheduler saves its themes, whose vocabulary holds the secret's words.
    const savedThemes = async () => (await dumpDatabase(name)).snapshots!.filter((r) => r.key === 'themes:alice' && occurrences({ s: [r] }, 'okapi7731').s).length;
    await until(async () => (await savedThemes()) === 1, 'the saved themes');
    const preloaded = await scheduler.startSession(); // an important memory: preloaded into the activated tier, with its theme in the reason
    expect(preloaded.map((t) => t.id)).toContain(gone!.id);
    const engine = new GuardedEngine(await smollmDryRun(), m.store, { context: () => scheduler.session?.scope ?? scheduler.scope });
    const predictor = new Predictor(scheduler, { engine });
    await (await predictor.draft('where is my bank code kept ')).settled;
    const secretRun = (await engine.tokenize([memoryElement(secret, engine.info!.template.specialTexts)]))[0]!;
    expect(contains(await heldTokens(engine), secretRun)).toBe(true);

    await m.remove(gone!.id);
    await engine.settled();

    const after = await dumpDatabase(name);
    expect(occurrences(after, 'okapi7731')).toEqual({});
    expect(after.vectors!.some((r) => r.key === gone!.id)).toBe(false);
    // The log stays append-only and names the memory by id only: no event anywhere carries a memory's text.
    expect(after.events!.filter((r) => (r.value as { memoryId: string }).memoryId === gone!.id).map((r) => (r.value as { type: string }).type)).toEqual(['created', 'updated', 'tier-changed', 'tier-changed', 'tier-changed', 'removed']);
    for (const word of ['okapi7731', 'walrus5521', 'heron4410', 'renovation', 'tiles']) expect(occurrences({ events: after.events! }, word)).toEqual({});
    // The engine dropped the cache that held it, and re-prefills without it.
    expect(engine.resets).toBe(1);
    expect(contains(await heldTokens(engine), secretRun)).toBe(false);
    await (await predictor.draft('where is my bank code kept now ')).settled;
    const held = await heldTokens(engine);
    expect(held.length).toBeGreaterThan(0);
    expect(contains(held, secretRun)).toBe(false);
    expect((await m.searchMemory('okapi7731 bank', { scope: alice })).map((r) => r.memory.id)).not.toContain(gone!.id);
    // Only that memory went: the other one added with it keeps its record and its vector.
    expect((await m.get(kept!.id, { scope: alice }))?.text).toBe('The renovation tiles arrive Tuesday');
    expect(after.vectors!.some((r) => r.key === kept!.id)).toBe(true);

    // Removing a memory the cache does not hold keeps the cache.
    const tea = (await m.list({ scope: bob }))[0]!;
    await m.remove(tea.id);
    await engine.settled();
    expect(engine.resets).toBe(1);

    // A reopen (from records, or from a snapshot saved since) does not bring it back.
    await until(async () => (occurrences(await dumpDatabase(name), 'renovation').snapshots ?? 0) > 0, 'the next snapshot');
    expect(occurrences(await dumpDatabase(name), 'okapi7731')).toEqual({});

    // Clearing alice removes every memory of hers, whatever its role, and nothing of anyone else.
    await m.add({ text: 'Bob second otter8080 note', scope: bob });
    const cleared = await m.clear(alice);
    expect(cleared).toBe(2);
    await engine.settled();
    const final = await dumpDatabase(name);
    for (const word of ['renovation', 'heron4410']) expect(occurrences(final, word)).toEqual({});
    expect(final.memories!.map((r) => (r.value as { text: string }).text)).toEqual(['Bob second otter8080 note']);
    expect(final.vectors!.map((r) => r.key)).toEqual(final.memories!.map((r) => r.key));
    expect(contains(await heldTokens(engine), secretRun)).toBe(false);
    expect(await m.get(kept!.id, { scope: alice })).toBeUndefined();
    await engine.dispose();
  });

  it('removes a memory’s tokens, id and text hash from the saved KV snapshots in OPFS; clearing the user deletes them', async () => {
    const name = `delete-kv-${crypto.randomUUID()}`;
    const m = await createMneme({ name });
    open.push(m);
    const secret = 'My bank okapi7731 code is kept under the renovation tiles';
    const [kept, gone] = await m.addMany([
      { text: 'The renovation tiles arrive Tuesday', scope: alice },
      { text: secret, scope: alice },
    ]);
    const engine = standinEngine('wasm', 'mneme-test-engine-main');
    await engine.load();
    const folder = `mneme-kv-${name}`;
    const keeper = new KvKeeper(engine, m.store, {
      directory: new SnapshotDirectory({ folder, sealer: m.store.bytesSealer }),
      scope: () => alice,
      stable: () => ({ system: 'You are a helpful assistant.', activated: [kept!, gone!] }),
      settleMs: 60_000,
    });
    try {
      await keeper.restore().done;
      expect(await keeper.save()).toBeDefined();
      const run = (await engine.tokenize([memoryElement(secret, engine.info!.template.specialTexts)]))[0]!.join(',');
      const hash = Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(secret))), (b) => b.toString(16).padStart(2, '0')).join('');
      const onDisk = async (needle: string) => (await dumpOpfs()).filter((f) => f.path.startsWith(`${folder}/`) && new TextDecoder().decode(f.bytes).includes(needle)).length;
      for (const needle of [run, gone!.id, hash]) expect(await onDisk(needle)).toBe(1);

      await m.remove(gone!.id);
      await until(async () => (await onDisk(run)) === 0, 'the snapshot cut');
      for (const needle of [run, gone!.id, hash]) expect(await onDisk(needle)).toBe(0);
      expect(await onDisk(kept!.id)).toBe(1); // what came before it stays

      await m.clear(alice);
      await until(async () => (await dumpOpfs()).every((f) => !f.path.startsWith(`${folder}/`)), 'the snapshot deleted');
    } finally {
      keeper.dispose();
      await engine.dispose();
    }
  }, 120_000);
});
