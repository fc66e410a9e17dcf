// The memory-only drop-in: dist/memory/ served alone (under /mneme/, and
// nothing else on the server) behind examples/plain-chat.html. Memory works
// from that folder: what the user said reaches later chat requests. Asking it
// for an engine fails typed, naming the folder that has one, and fetches no
// other file. An embedder asked of it by the script tag fails the same way,
// and memory goes on lexically.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright';
import { launch } from './browser';
import { serve, type Served } from '../../scripts/serve.mjs';

const FOLDER = 'dist/memory';
let server: Served;
/** Every path asked of the server, which serves the memory-only folder and nothing else. */
const requested: string[] = [];
let browser: Browser;
beforeAll(async () => {
  server = await serve({ '/mneme/': FOLDER }, (path) => requested.push(path));
  browser = await launch();
});
afterAll(async () => {
  await browser.close();
  await server.close();
});

/** The example chat page, with its one tag pointing at the memory-only folder (the page itself comes from the test, not the server). */
const PAGE = readFileSync('examples/plain-chat.html', 'utf8').replace('src="../dist/mneme.js"', 'src="/mneme/mneme.js"');

describe('the memory-only drop-in folder, served alone', () => {
  it('remembers what the user said and adds it to later chat requests; an engine is refused, typed', async () => {
    const page = await (await browser.newContext()).newPage();
    const bodies: { messages: { role: string; content: string }[] }[] = [];
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.route('**/chat.html', (route) => route.fulfill({ contentType: 'text/html', body: PAGE }));
    await page.route('**/api/chat', async (route) => {
      bodies.push(JSON.parse(route.request().postData() ?? '{}'));
      await route.fulfill({ json: { reply: `reply ${bodies.length}` } });
    });
    await page.goto(`${server.origin}/chat.html`);
    await page.waitForFunction(() => window.Mneme?.attached !== undefined);
    expect(await page.evaluate(() => window.Mneme.attached!.ready)).toBe(true);

    const say = async (text: string) => {
      const before = await page.locator('#log li.assistant').count();
      await page.locator('#message').fill(text);
      await page.locator('#message').press('Enter');
      await page.locator('#log li.assistant').nth(before).waitFor();
    };
    await say('My sister Ana lives in Porto and works as an architect.');
    await expect.poll(() => page.evaluate(() => window.Mneme.attached!.searchMemory('Ana').then((r) => r.map((m) => m.text)))).toEqual([
      'My sister Ana lives in Porto and works as an architect.',
    ]);
    await say('Where does my sister Ana live?');
    const last = bodies.at(-1)!.messages;
    expect(last[0]).toMatchObject({ role: 'system', content: expect.stringContaining('<memory>My sister Ana lives in Porto and works as an architect.</memory>') });
    expect(last.at(-1)).toEqual({ role: 'user', content: 'Where does my sister Ana live?' });

    const refused = await page.evaluate(() =>
      window.Mneme.attached!.loadEngine({ engine: 'transformers' }).then(
        () => undefined,
        (e: { name: string; code: string; message: string }) => ({ name: e.name, code: e.code, message: e.message }),
      ),
    );
    expect(refused).toMatchObject({ name: 'ModelError', code: 'model-load-failed', message: expect.stringContaining('memory-only') });
    expect(errors).toEqual([]);
    // Only the folder's own files were asked for: the script, its worker and the worker's chunks.
    expect(requested.filter((path) => !path.startsWith('/mneme/'))).toEqual([]);
    expect(new Set(requested)).toEqual(new Set(['/mneme/mneme.js', '/mneme/mneme-worker.js']));
  });

  it('an embedder asked for with data-embedder is refused, typed, naming the full folder; memory goes on and no model file is fetched', async () => {
    const page = await (await browser.newContext()).newPage();
    const errors: string[] = [];
    const warnings: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'warning' && warnings.push(m.text()));
    const tag = 'data-embedder="static" data-embedder-model="mneme/glove-6b-100d-50k" data-embedder-base-url="/models"';
    await page.route('**/chat.html', (route) => route.fulfill({ contentType: 'text/html', body: PAGE.replace('data-user="alice"', `data-user="alice" ${tag}`) }));
    await page.route('**/api/chat', (route) => route.fulfill({ json: { reply: 'ok' } }));
    const before = requested.length;
    await page.goto(`${server.origin}/chat.html`);
    await page.waitForFunction(() => window.Mneme?.attached !== undefined);
    expect(await page.evaluate(() => window.Mneme.attached!.ready)).toBe(true);
    const refused = await page.evaluate(() =>
      window.Mneme.attached!.embedderReady().then(
        () => undefined,
        (e: { name: string; code: string; message: string }) => ({ name: e.name, code: e.code, message: e.message }),
      ),
    );
    expect(refused).toMatchObject({ name: 'ModelError', code: 'model-load-failed', message: expect.stringMatching(/memory-only.*dist\/memory\/.*full folder/) });
    expect(warnings.join('\n')).toMatch(/Mneme: the embedding model could not load; memory and lexical search go on: .*memory-only/);
    await page.locator('#message').fill('My sister Ana lives in Porto.');
    await page.locator('#message').press('Enter');
    await expect.poll(() => page.evaluate(() => window.Mneme.attached!.searchMemory('Ana').then((r) => r.map((m) => m.text)))).toEqual(['My sister Ana lives in Porto.']);
    expect(errors).toEqual([]);
    expect(new Set(requested.slice(before))).toEqual(new Set(['/mneme/mneme.js', '/mneme/mneme-worker.js']));
  });
});
