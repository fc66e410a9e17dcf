// The static embedder in Chromium: the GloVe model (scripts/gen-static-glove.mjs,
// run by npm test) served by the test server as a self-hosted model folder,
// through the Cache API, behind createMneme and the scheduler. Its vectors carry
// meaning, so search and themes find what shares no word with the query.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createStaticEmbedder } from '../../src/embed/static';
import type { Embedder, LoadProgress } from '../../src/embed/types';
import { createMneme, type Mneme } from '../../src/mneme';
import { Scheduler } from '../../src/scheduler/scheduler';
import { everydayMemories } from '../support/everyday-memories';

const GLOVE = { model: 'mneme/glove-6b-100d-50k', modelBaseUrl: '/test/fixtures/generated/models', allowRemote: false } as const;
const present = (await fetch(`${GLOVE.modelBaseUrl}/${GLOVE.model}/model.safetensors`, { method: 'HEAD' })).ok;
const alice = { userId: 'alice' };

const MEMORIES = [
  'The physician said my blood pressure is fine.',
  'I am learning to play the guitar on weekends.',
  'Our flight to Lisbon leaves on Friday morning.',
  'The electricity bill went up again this month.',
  'Caroline painted a sunset over the lake.',
  'My sister adopted a puppy from the shelter.',
];

describe.skipIf(!present)('static embedder (GloVe) in the browser', () => {
  const cacheName = `mneme-test-static-${crypto.randomUUID()}`;
  let embedder: Embedder;
  let mneme: Mneme;
  const events: LoadProgress[] = [];

  beforeAll(async () => {
    embedder = createStaticEmbedder({ ...GLOVE, cacheName });
    await embedder.load({ onProgress: (p) => events.push(p) });
    mneme = await createMneme({ name: `static-${crypto.randomUUID()}`, embedder });
    await mneme.ready;
    await mneme.addMany(MEMORIES.map((text) => ({ text, scope: alice })));
  });

  afterAll(async () => {
    await mneme?.close();
    await embedder?.dispose();
    await caches.delete(cacheName);
  });

  it('reports load progress up to ready, and keeps the files in the Cache API', async () => {
    expect(events.at(-1)).toMatchObject({ status: 'ready', fraction: 1 });
    expect(events.some((e) => e.file === 'model.safetensors' && e.status === 'downloading')).toBe(true);
    expect(events.at(-1)!.total).toBeGreaterThan(20_000_000);
    const cached = await (await caches.open(cacheName)).keys();
    expect(cached.map((r) => new URL(r.url).pathname.split('/').at(-1)).sort()).toEqual(['model.safetensors', 'tokenizer.json']);
  });

  it('counts as semantic, and Mneme search finds by meaning what shares no word with the query', async () => {
    expect(mneme.semantic).toBe(true);
    const [top] = await mneme.searchMemory('when did I last see my doctor', { scope: alice, k: 3 });
    expect(top!.memory.text).toBe(MEMORIES[0]);
    expect(top!.parts.lexical).toBeUndefined(); // no word in common: meaning alone
    const [dog] = await mneme.searchMemory('their new dog', { scope: alice, k: 1 });
    expect(dog!.memory.text).toBe(MEMORIES[5]);
  });

  it('the scheduler ranks by meaning while the user types', async () => {
    const scheduler = await Scheduler.create(mneme, { scope: alice });
    const [top] = await scheduler.search('how is my health according to the doc', { k: 3, draft: true });
    expect(top!.memory.text).toBe(MEMORIES[0]);
    expect(top!.reasons.join(' ')).toMatch(/meaning similarity/);
    scheduler.dispose();
  });

  it('themes follow meaning through the scheduler only when the model is semantic', async () => {
    // Everyday memories a day apart, then one that shares no word with the birthday ones.
    const memories = everydayMemories(120);
    const party = 'Grandma turns ninety, we should throw her a party.';
    const themeOfParty = async (semantic: boolean) => {
      let now = Date.UTC(2026, 0, 1);
      const m = await createMneme({ name: `static-themes-${crypto.randomUUID()}`, embedder, semantic, now: () => now });
      await m.ready;
      const scheduler = await Scheduler.create(m, { scope: alice, clock: () => now });
      for (const { text } of memories) {
        now += 86_400_000;
        await m.add({ text, scope: alice });
      }
      now += 86_400_000;
      const added = await m.add({ text: party, scope: alice });
      const theme = scheduler.state.themes.of(added.id)!;
      const texts = [...theme.members].filter((id) => id !== added.id).map((id) => m.peek(id)!.text);
      scheduler.dispose();
      await m.close();
      return texts.filter((t) => memories.find((x) => x.text === t)?.kind === 'birthday').length / Math.max(1, texts.length);
    };
    expect(await themeOfParty(false)).toBe(0); // a theme of its own
    expect(await themeOfParty(true)).toBeGreaterThan(0.5);
  });

  it('loads a second time from the cache', async () => {
    const fetches = vi.spyOn(globalThis, 'fetch');
    const again = createStaticEmbedder({ ...GLOVE, cacheName });
    expect(await again.load()).toEqual({ model: GLOVE.model, dim: 100 });
    expect(fetches).not.toHaveBeenCalled();
    fetches.mockRestore();
    await again.dispose();
    await expect(again.embed(['x'])).rejects.toMatchObject({ name: 'InvalidInputError' });
  });
});
