// The saved KV snapshot of the stable prefix (system prompt and activated
// block), in Chromium, on the tiny stand-in SmolLM (real tokenizer, random
// weights) in its worker, with OPFS: a restored cache answers exactly as a cold
// one, a changed block restores only its matching prefix, a deleted or edited
// memory cuts the snapshot on disk, and with encryption at rest it is sealed
// under the store's key. A "reload" here is a new engine worker and a new
// keeper on the same database and folder: what a fresh page does.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { layoutPrompt, type PromptParts } from '../../src/engine/layout';
import { flatten } from '../../src/engine/ledger';
import { SnapshotDirectory } from '../../src/engine/snapshot/directory';
import type { Engine, PromptTokens } from '../../src/engine/types';
import type { MemoryRecord } from '../../src/memory/types';
import { createMneme, type Mneme } from '../../src/mneme';
import { createSchedulerWorker } from '../../src/scheduler/client';
import { KvKeeper } from '../../src/scheduler/kv-keeper';
import { smollmDryRun } from '../support/smollm';
import { coldGenerate, standinEngine } from '../support/standin-engine';

const LOAD_MS = 120_000;
const REPLY = 10;
const CACHE = 'mneme-test-engine-main';
const SYSTEM = 'You are a helpful assistant that remembers what the user tells you.';
const alice = { userId: 'alice' };

const engines: Engine[] = [];
const mnemes: Mneme[] = [];
const start = async (): Promise<Engine> => {
  const engine = standinEngine('wasm', CACHE);
  engines.push(engine);
  await engine.load();
  return engine;
};
let reference: Engine;

beforeAll(async () => {
  reference = await start();
}, LOAD_MS);
afterEach(async () => {
  await Promise.all(mnemes.splice(0).map((m) => m.close()));
});
afterAll(async () => {
  await Promise.all(engines.map((e) => e.dispose()));
});

const question = (activated: readonly string[]): PromptParts => ({
  system: SYSTEM,
  activated,
  history: [{ role: 'user', text: 'I am redoing the bathroom.' }, { role: 'assistant', text: 'Nice! Tiles or paint?' }],
  working: ['The tiles arrive on Tuesday.'],
  draft: 'When do the tiles for the bathroom arrive?',
});
const lay = (engine: Engine, parts: PromptParts, final = true) => layoutPrompt(parts, engine.info!.template, (t) => engine.tokenize(t), { final });
const cold = async (prompt: PromptTokens) => (await coldGenerate(reference, prompt, REPLY)).tokens;

describe('exporting and importing a held prefix (transformers.js engine)', () => {
  test('a prefix read from one engine and written into a fresh one answers exactly as a cold engine, whole or cut', async () => {
    const parts = question(['Alice lives in Lyon.', 'Alice is vegetarian.', 'Alice has a cat named Miso.']);
    const first = await start();
    const prompt = await lay(first, parts);
    const stable = { segments: prompt.segments.filter((s) => s.kind === 'system' || s.kind === 'activated') };
    await first.prewarm(stable);
    const whole = await first.exportPrefix!(flatten(stable).length);
    expect(flatten(whole)).toEqual(flatten(stable));
    expect(whole).toMatchObject({ model: 'mneme/standin-smollm-tiny', revision: 'main', dtype: 'fp32', kv: { length: flatten(stable).length } });
    const expected = await cold(prompt);

    const second = await start();
    await second.importPrefix!(whole);
    expect(flatten(await second.held())).toEqual(flatten(stable));
    const restored = await second.generate(prompt, { maxTokens: REPLY });
    expect(restored.stats.tokensReused).toBe(flatten(stable).length);
    expect(restored.tokens).toEqual(expected);

    const part = await first.exportPrefix!(stable.segments[0]!.tokens.length); // the system prompt only
    await second.importPrefix!(part);
    const partial = await second.generate(prompt, { maxTokens: REPLY });
    expect(partial.stats.tokensReused).toBe(part.kv.length);
    expect(partial.tokens).toEqual(expected);
  });

  test('a prefix made by another model or dtype is refused and the cache stays usable', async () => {
    const engine = reference;
    await engine.prewarm({ segments: [{ kind: 'system', tokens: [1, 2, 3] }] });
    const prefix = await engine.exportPrefix!(3);
    await expect(engine.importPrefix!({ ...prefix, dtype: 'q8' })).rejects.toMatchObject({ code: 'snapshot-mismatch' });
    await expect(engine.importPrefix!({ ...prefix, kv: { ...prefix.kv, headDim: prefix.kv.headDim + 1 } })).rejects.toMatchObject({ code: 'snapshot-mismatch' });
    await engine.importPrefix!(prefix);
    expect(flatten(await engine.held())).toEqual([1, 2, 3]);
  });
});

/** A keeper on `engine` for alice's activated block `records()`, saving into `folder`. */
function keeper(engine: Engine, mneme: Mneme, folder: string, records: () => readonly MemoryRecord[]): KvKeeper {
  const directory = new SnapshotDirectory({ folder, sealer: mneme.store.bytesSealer });
  return new KvKeeper(engine, mneme.store, { directory, scope: () => alice, stable: () => ({ system: SYSTEM, activated: records() }), settleMs: 60_000 });
}

async function fileBytes(folder: string): Promise<Uint8Array[]> {
  const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle(folder, { create: true });
  const out: Uint8Array[] = [];
  for await (const [, handle] of (dir as unknown as { entries(): AsyncIterable<[string, FileSystemFileHandle]> }).entries()) out.push(new Uint8Array(await (await handle.getFile()).arrayBuffer()));
  return out;
}

async function setUp(encryption?: { passphrase: string; iterations: number }) {
  const name = `kv-${crypto.randomUUID()}`;
  const mneme = await createMneme({ name, ...(encryption && { encryption }) });
  mnemes.push(mneme);
  const records = await mneme.addMany(['Alice lives in Lyon.', 'Alice is vegetarian.', 'Alice has a cat named Miso.'].map((text) => ({ text, scope: alice })));
  return { name, mneme, records, folder: `mneme-kv-${name}` };
}

describe('the keeper: saved after the block settles, restored on load', () => {
  test('a reload restores the whole prefix (nothing prefilled) and answers exactly as cold', async () => {
    const { mneme, records, folder } = await setUp();
    const before = await start();
    const first = keeper(before, mneme, folder, () => records);
    expect((await first.restore().done).restoredTokens).toBe(0); // nothing saved yet: prefilled
    const saved = await first.save();
    expect(saved).toMatchObject({ tokens: expect.any(Number), bytes: expect.any(Number) });
    expect(await first.save()).toBeUndefined(); // unchanged: not written again
    expect(await first.list()).toEqual([expect.objectContaining({ current: true, bytes: saved!.bytes })]);
    first.dispose();

    const after = await start();
    const second = keeper(after, mneme, folder, () => records);
    const report = await second.restore().done;
    expect(report).toMatchObject({ restoredTokens: saved!.tokens, prefilledTokens: 0 });
    const prompt = await lay(after, question(records.map((r) => r.text)));
    const reply = await after.generate(prompt, { maxTokens: REPLY });
    expect(reply.stats.tokensReused).toBe(saved!.tokens);
    expect(reply.tokens).toEqual(await cold(prompt));
    second.dispose();
  });

  test('a changed block restores its longest matching prefix and prefills the rest', async () => {
    const { mneme, records, folder } = await setUp();
    const first = keeper(await start(), mneme, folder, () => records);
    await first.restore().done;
    await first.save();
    first.dispose();

    const [extra] = await mneme.addMany([{ text: 'Alice plays the cello.', scope: alice }]);
    const changed = [records[0]!, extra!, records[2]!]; // the second memory is another one now
    const after = await start();
    const second = keeper(after, mneme, folder, () => changed);
    const report = await second.restore().done;
    const prompt = await lay(after, question(changed.map((r) => r.text)));
    const systemAndFirst = (await lay(after, { system: SYSTEM, activated: [changed[0]!.text], draft: '' }, false)).activatedEnds[0]!;
    expect(report.restoredTokens).toBe(systemAndFirst);
    expect(report.prefilledTokens).toBeGreaterThan(0);
    const reply = await after.generate(prompt, { maxTokens: REPLY });
    expect(reply.tokens).toEqual(await cold(prompt));
    second.dispose();
  });

  test('deleting or editing a memory cuts every saved snapshot where its text starts; one left with no memory is deleted', async () => {
    const { mneme, records, folder } = await setUp();
    const engine = await start();
    const k = keeper(engine, mneme, folder, () => records);
    await k.restore().done;
    const whole = (await k.save())!;
    const directory = new SnapshotDirectory({ folder, sealer: mneme.store.bytesSealer });
    const name = (await directory.list())[0]!.name;

    await mneme.update(records[2]!.id, { text: 'Alice has two cats.' });
    await until(async () => (await directory.read(name))?.parts.length === 3, 'the cut after an edit');
    const cut = (await directory.read(name))!;
    expect(cut.parts.map((p) => p.id)).toEqual(['system', records[0]!.id, records[1]!.id]);
    expect(cut.prefix.kv.length).toBeLessThan(whole.tokens);

    await mneme.remove(records[0]!.id);
    await until(async () => (await directory.list()).length === 0, 'the snapshot deleted');
    k.dispose();
  });

  test('with encryption at rest the snapshot is sealed under the store’s key: no header in the clear, unreadable without the key', async () => {
    const { mneme, records, folder } = await setUp({ passphrase: 'correct horse battery staple', iterations: 1000 });
    const engine = await start();
    const k = keeper(engine, mneme, folder, () => records);
    await k.restore().done;
    const saved = (await k.save())!;
    k.dispose();
    const [bytes] = await fileBytes(folder);
    expect(bytes![0]).toBe(1);
    const text = new TextDecoder().decode(bytes);
    for (const needle of ['MKV1', '"parts"', records[0]!.id, 'mneme/standin']) expect(text).not.toContain(needle);

    // The same key restores it.
    const after = await start();
    const again = keeper(after, mneme, folder, () => records);
    expect((await again.restore().done).restoredTokens).toBe(saved.tokens);
    again.dispose();

    // A store without the key cannot open it: it is deleted, and the prefix prefilled.
    const plain = await createMneme({ name: `kv-plain-${crypto.randomUUID()}` });
    mnemes.push(plain);
    const stranger = keeper(after, plain, folder, () => records);
    expect((await stranger.restore().done).restoredTokens).toBe(0);
    expect(await fileBytes(folder)).toEqual([]);
    stranger.dispose();
  });
});

describe('an engine that exposes no KV state (WebLLM)', () => {
  // The dry-run engine (a test double: real SmolLM tokenizer, no model) stands in for WebLLM here: like it, it
  // does not own its KV tensors. It cannot show what WebLLM's runtime does, only what the keeper asks of it.
  test('the stable prefix is prefilled right after load, and nothing is saved', async () => {
    const { mneme, records, folder } = await setUp();
    const engine = await smollmDryRun();
    const k = keeper(engine, mneme, folder, () => records);
    const report = await k.restore().done;
    const stable = (await lay(engine, { system: SYSTEM, activated: records.map((r) => r.text), draft: '' }, false)).segments.filter((s) => s.kind !== 'working');
    expect(report).toMatchObject({ restoredTokens: 0, prefilledTokens: flatten({ segments: stable }).length });
    expect(flatten(await engine.held())).toEqual(flatten({ segments: stable }));
    expect(await k.save()).toBeUndefined();
    expect(await fileBytes(folder)).toEqual([]);
    k.dispose();
    await engine.dispose();
  });
});

describe('through the scheduler worker (the one engine path)', () => {
  test('a fresh worker on the same database restores the saved prefix at load, and the first send reuses it', async () => {
    const dbName = `kv-worker-${crypto.randomUUID()}`;
    const engine = { modelBaseUrl: '/test/fixtures/generated/models', model: 'mneme/standin-smollm-tiny', allowRemote: false, dtype: 'fp32' as const, sliceTokens: 16, cacheName: CACHE };
    const first = createSchedulerWorker({ timeoutMs: LOAD_MS });
    let saved: number;
    try {
      await first.call('open', [{ dbName, scope: alice, engine, kvSnapshots: { settleMs: 60_000 } }]);
      const view = await first.call('kvSnapshots', [{ save: true }]);
      expect(view.restore).toMatchObject({ restoredTokens: 0 });
      expect(view.snapshots).toEqual([expect.objectContaining({ current: true })]);
      saved = view.lastSave!.tokens;
      expect(saved).toBeGreaterThan(0);
      // Another role: its own snapshot, beside the first.
      await first.call('startSession', [{ role: 'doctor' }]);
      const doctor = await first.call('kvSnapshots', [{ save: true }]);
      expect(doctor.restore).toMatchObject({ restoredTokens: 0 });
      expect(doctor.snapshots).toHaveLength(2);
      expect(doctor.snapshots.filter((s) => s.current)).toHaveLength(1);
      await first.call('close', []);
    } finally {
      first.terminate();
    }
    const second = createSchedulerWorker({ timeoutMs: LOAD_MS });
    try {
      await second.call('open', [{ dbName, scope: alice, engine, kvSnapshots: { settleMs: 60_000 } }]);
      const sent = await second.call('send', [{ text: 'Hello there', maxTokens: 4 }]);
      expect(sent.answered).toBe(true);
      expect(sent.tokensReused).toBeGreaterThanOrEqual(saved);
      const view = await second.call('kvSnapshots', []);
      expect(view.restore).toMatchObject({ restoredTokens: saved, prefilledTokens: 0 });
      await second.call('close', []);
    } finally {
      second.terminate();
    }
  });
});

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}
