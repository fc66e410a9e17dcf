// The PWA demo, built and served on 127.0.0.1, used as a person would: chat
// that makes memories, a prediction while typing, the inspector, a model
// downloaded by choice (the stand-in, served locally), reloads, offline use,
// and a log of every request the session made.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright';
import { launch } from './browser';
import { E2E_DEMO_DIR } from './build';
import { serve, type Served } from '../../scripts/serve.mjs';

const SCREENSHOTS = process.env.SCREENSHOTS === '1'; // `npm run screenshots` refreshes docs/*.png
let server: Served;
let browser: Browser;
beforeAll(async () => {
  server = await serve({ '/': E2E_DEMO_DIR, '/models/': 'test/fixtures/generated/models' });
  browser = await launch();
});
afterAll(async () => {
  await browser.close();
  await server.close();
});

async function start(viewport = { width: 1200, height: 760 }): Promise<{ context: BrowserContext; page: Page; requests: string[]; errors: string[] }> {
  const context = await browser.newContext({ viewport });
  const requests: string[] = [];
  const errors: string[] = [];
  context.on('request', (r) => requests.push(r.url()));
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(server.origin);
  await page.locator('.status').filter({ hasText: /memor(y|ies)/ }).waitFor();
  return { context, page, requests, errors };
}

/** Sends `text` and waits for the whole answer: a streamed reply ends with its meta line, a memory-only one with its note. */
async function say(page: Page, text: string): Promise<void> {
  const answers = page.locator('.msg.assistant');
  const before = await answers.count();
  await page.locator('textarea[name=message]').fill(text);
  await page.locator('textarea[name=message]').press('Enter');
  await expect.poll(() => answers.count()).toBe(before + 1);
  await expect.poll(() => answers.last().locator('.ttft, .note, .error').count(), { timeout: 60_000 }).toBeGreaterThan(0);
}

/** The answer's meta line: TTFT timed on the page, tokens prefilled at send, final memories the cache held, typing prefill wasted. */
const META = /^TTFT (\d+) ms \(on this page\) · (\d+) of (\d+) prompt tokens prefilled at send · (\d+) of (\d+) memories held in the cache · (\d+) prefilled while typing wasted$/;

interface Observed {
  at: number;
  reply: string;
  meta: boolean;
}

/** Records, from now on, every change of the next answer bubble: its reply text so far and whether its meta line is there. */
async function watchAnswers(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { observed: Observed[]; sendStart: number };
    w.observed = [];
    const log = document.querySelector('.messages')!;
    const earlier = log.querySelectorAll('.msg.assistant').length;
    new MutationObserver(() => {
      const answers = log.querySelectorAll('.msg.assistant');
      const last = answers[answers.length - 1];
      if (last && answers.length > earlier) w.observed.push({ at: performance.now(), reply: last.querySelector('.reply')?.textContent ?? '', meta: last.querySelector('.ttft') !== null });
    }).observe(log, { childList: true, subtree: true, characterData: true });
    w.sendStart = performance.now(); // just before the test presses send
  });
}

const memoryTexts = (page: Page) => page.locator('.memories li:not(.empty) .text').allTextContents();
const shot = async (page: Page, name: string) => {
  if (!SCREENSHOTS) return;
  mkdirSync('docs', { recursive: true });
  await page.screenshot({ path: `docs/${name}.png` });
};

describe('the PWA demo', () => {
  it('a session: memories through chat, the inspector, a model by choice, prewarm and TTFT, a reload; no request leaves 127.0.0.1', async () => {
    const { context, page, requests, errors } = await start();
    // First run: no model; the card says what would be downloaded and how big.
    await expect.poll(() => page.locator('.model-card').textContent()).toMatch(/No model on this device yet.*SmolLM 360M Instruct.*about 390 MB/);

    // Memory works before any model.
    await say(page, 'My sister Ana lives in Porto and works as an architect.');
    await say(page, 'I am allergic to peanuts.');
    for (const line of ['The renovation of the bathroom starts in May.', 'The renovation budget is 12000 euros.', 'For the renovation, the plumber comes on Monday.', 'The renovation needs new tiles too.']) await say(page, line);
    await expect.poll(() => memoryTexts(page)).toContain('My sister Ana lives in Porto and works as an architect.');
    expect(await memoryTexts(page)).toContain('I am allergic to peanuts.');
    // The inspector shows tier changes: the hot renovation theme is promoted to the activated tier.
    await say(page, 'How is the renovation going?');
    await expect.poll(() => page.locator('.memories li[data-tier=activated]').count()).toBeGreaterThan(0);
    expect(await page.locator('.memories li[data-tier=activated] .text').first().textContent()).toMatch(/renovation/);
    expect(await page.locator('.counts').textContent()).toMatch(/[1-9]\d* activated/);
    expect(await page.locator('.memories li[data-tier=activated] .theme').first().textContent()).toMatch(/renovation/);

    // Typing shows the prediction.
    await page.locator('textarea[name=message]').pressSequentially('Where does my sister', { delay: 20 });
    await expect.poll(() => page.locator('.live .chip').allTextContents()).toContain('My sister Ana lives in Porto and works as an architect.');
    await shot(page, 'demo-chat');
    await page.locator('textarea[name=message]').fill('');

    // Inspector: search, edit, delete, export.
    await page.getByLabel('Search memories').fill('peanuts');
    await expect.poll(() => memoryTexts(page)).toEqual(['I am allergic to peanuts.']);
    await page.locator('.memories li').first().getByText('Edit').click();
    await page.getByLabel('Edit memory').fill('I am allergic to peanuts and cashews.');
    await page.locator('.memories li').first().getByText('Save').click();
    await expect.poll(() => memoryTexts(page)).toEqual(['I am allergic to peanuts and cashews.']);
    await page.getByLabel('Search memories').fill('');
    await expect.poll(() => memoryTexts(page)).toContain('The renovation needs new tiles too.');
    await page.locator('.memories li', { hasText: 'The renovation needs new tiles too.' }).getByText('Delete').click();
    await expect.poll(() => memoryTexts(page)).not.toContain('The renovation needs new tiles too.');
    const download = page.waitForEvent('download');
    await page.getByText('Export').click();
    const exported = JSON.parse(readFileSync((await (await download).path())!, 'utf8')) as { memories: { text: string }[] };
    expect(exported.memories.map((m) => m.text).sort()).toEqual((await memoryTexts(page)).sort());

    // Chrome's built-in model: this Chromium has the API but no model, so the card says so, typed, and memory goes on.
    await page.getByLabel('Settings').click();
    const dialog = page.locator('dialog.settings');
    await dialog.locator('select[name=engine]').selectOption('prompt-api');
    await dialog.getByText('Save').click();
    await expect.poll(() => page.locator('.model-card').textContent()).toMatch(/Chrome's built-in model \(Gemini Nano\)/);
    await page.locator('.model-card .download').click();
    await expect.poll(() => page.locator('.model-card').textContent(), { timeout: 30_000 }).toMatch(/could not load.*(built-in model|LanguageModel).*Memory, search and the inspector keep working/);

    // Settings: the stand-in model from this server; then the person chooses to download it.
    await page.getByLabel('Settings').click();
    await dialog.locator('select[name=engine]').selectOption('auto');
    await dialog.locator('input[name=model]').fill('mneme/standin-smollm-tiny');
    await dialog.locator('input[name=modelBaseUrl]').fill(`${server.origin}/models`);
    await dialog.locator('select[name=dtype]').selectOption('fp32');
    await dialog.getByText('Save').click();
    await expect.poll(() => page.locator('.model-card').textContent()).toMatch(/mneme\/standin-smollm-tiny from http:\/\/127\.0\.0\.1/);
    await page.locator('.model-card .download').click();
    await expect.poll(() => page.locator('.status').textContent(), { timeout: 60_000 }).toMatch(/standin-smollm-tiny on the CPU/);

    // With the model: typing predicts the working set (the inspector shows it as the working tier) and prewarms the cache.
    const ana = 'My sister Ana lives in Porto and works as an architect.';
    await page.locator('textarea[name=message]').pressSequentially('Where does my sister Ana', { delay: 20 });
    await expect.poll(() => page.locator('.live .chip').allTextContents()).toContain(ana);
    await expect.poll(() => page.locator('.memories li[data-tier=working] .text').allTextContents()).toContain(ana);
    expect(await page.locator('.counts').textContent()).toMatch(/[1-9]\d* working/);
    await page.locator('textarea[name=message]').pressSequentially(' live?', { delay: 20 });
    // The answer streams: its text shows up, growing, before the meta line that ends it.
    await watchAnswers(page);
    await page.locator('textarea[name=message]').press('Enter');
    await expect.poll(() => page.locator('.msg.assistant .ttft').count(), { timeout: 60_000 }).toBe(1);
    const { observed, sendStart } = await page.evaluate(() => {
      const w = window as unknown as { observed: Observed[]; sendStart: number };
      return { observed: w.observed, sendStart: w.sendStart };
    });
    const firstMeta = observed.find((o) => o.meta)!;
    const partial = observed.filter((o) => !o.meta && o.reply !== '');
    expect(partial.length).toBeGreaterThan(0); // reply text on the page before the answer was done
    const meta = (await page.locator('.msg.assistant .ttft').textContent())!;
    const [, ttft, atSend, prompt, held, final] = meta.match(META)!.map(Number);
    // The TTFT shown is timed on the page: positive, at most the time to the first streamed text, so within the whole send.
    expect(ttft).toBeGreaterThan(0);
    expect(ttft).toBeLessThanOrEqual(Math.ceil(partial[0]!.at - sendStart));
    expect(ttft).toBeLessThanOrEqual(Math.ceil(firstMeta.at - sendStart));
    // What typing prewarmed was used: most of the prompt came from the cache, and final memories were held in it.
    expect(atSend).toBeLessThan(prompt! / 2);
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThanOrEqual(final!);
    // The memories listed are exactly the ones the model saw.
    const answered = page.locator('.msg.assistant').last();
    expect(await answered.locator('.used .chip').allTextContents()).toContain(ana);
    expect((await answered.locator('.reply').textContent())!.length).toBeGreaterThan(0);
    await shot(page, 'demo-answer');

    // A reload keeps everything: memories, edits, the chosen model (from the engine's cache), and the conversation
    // as shown (every message, the answer's reply, its meta line and the memories it used).
    const before = (await memoryTexts(page)).sort();
    const conversation = await page.locator('.messages .msg').allTextContents();
    expect(conversation.length).toBe(16);
    await page.reload();
    await expect.poll(() => memoryTexts(page).then((t) => t.sort())).toEqual(before);
    await expect.poll(() => page.locator('.messages .msg').allTextContents()).toEqual(conversation);
    expect(await page.locator('.msg.assistant').last().locator('.used .chip').allTextContents()).toContain(ana);
    await expect.poll(() => page.locator('.status').textContent(), { timeout: 60_000 }).toMatch(/standin-smollm-tiny on the CPU/);

    // The engine continues the conversation shown: the same question again has the earlier turns in its prompt,
    // and what typing prewarmed (after the reload, with that history) is still what the send used.
    await page.locator('textarea[name=message]').pressSequentially('Where does my sister Ana live?', { delay: 20 });
    await expect.poll(() => page.locator('.live .label').textContent(), { timeout: 30_000 }).toMatch(/In the model's cache: [1-9]/);
    await page.locator('textarea[name=message]').press('Enter');
    await expect.poll(() => page.locator('.msg.assistant .ttft').count(), { timeout: 60_000 }).toBe(2);
    const [, , atSendAgain, promptAgain] = (await page.locator('.msg.assistant .ttft').last().textContent())!.match(META)!.map(Number);
    expect(promptAgain).toBeGreaterThan(prompt!);
    expect(atSendAgain).toBeLessThan(promptAgain! / 2);

    // Clearing the conversation empties it, shown and kept; the memories stay in the inspector.
    await page.getByRole('button', { name: 'Clear conversation' }).click();
    await expect.poll(() => page.locator('.messages .msg').count()).toBe(0);
    expect(await page.locator('.messages .hello').isVisible()).toBe(true);
    expect((await memoryTexts(page)).sort()).toEqual(before);
    await page.reload();
    await expect.poll(() => memoryTexts(page).then((t) => t.sort())).toEqual(before);
    await expect.poll(() => page.locator('.status').textContent(), { timeout: 60_000 }).toMatch(/standin-smollm-tiny on the CPU/);
    expect(await page.locator('.messages .msg').count()).toBe(0);

    // Privacy: every request of the whole session (page, workers, service worker) stayed on this machine.
    const hosts = new Set(requests.map((u) => (u.startsWith('http') ? new URL(u).host : u.split(':')[0])));
    expect([...hosts].filter((h) => h !== new URL(server.origin).host && h !== 'data' && h !== 'blob')).toEqual([]);
    expect(requests.length).toBeGreaterThan(10);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('works offline after the first load: a reload serves the app and the memories, chat keeps remembering, and a cached model answers', async () => {
    const { context, page, errors } = await start({ width: 390, height: 800 });
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
    await say(page, 'My bike is the blue one in the shed.');
    await shot(page, 'demo-phone');

    await context.setOffline(true);
    await page.reload();
    await page.locator('.tabs').getByText('Memories').click();
    await expect.poll(() => memoryTexts(page)).toEqual(['My bike is the blue one in the shed.']);
    expect(await page.locator('.badge.offline').isVisible()).toBe(true);
    await shot(page, 'demo-inspector');

    await page.locator('.tabs').getByText('Chat').click();
    await say(page, 'My passport expires in March 2027.');
    await page.reload();
    await page.locator('.tabs').getByText('Memories').click();
    await expect.poll(() => memoryTexts(page).then((t) => t.sort())).toEqual(['My bike is the blue one in the shed.', 'My passport expires in March 2027.']);

    // A model loaded once online answers offline too: its files and the runtime come from the caches.
    await context.setOffline(false);
    const models = `${server.origin}/models`;
    await page.evaluate((base) => localStorage.setItem('mneme-demo:settings', JSON.stringify({ model: 'mneme/standin-smollm-tiny', modelBaseUrl: base, dtype: 'fp32', modelChosen: true })), models);
    await page.reload();
    await expect.poll(() => page.locator('.status').textContent(), { timeout: 60_000 }).toMatch(/standin-smollm-tiny on the CPU/);
    await context.setOffline(true);
    await page.reload();
    await expect.poll(() => page.locator('.status').textContent(), { timeout: 60_000 }).toMatch(/standin-smollm-tiny on the CPU/);
    await say(page, 'When does my passport expire?');
    expect(await page.locator('.msg.assistant .ttft').count()).toBe(1);
    expect(await page.locator('.msg.assistant .ttft').textContent()).toMatch(META);
    expect(await page.locator('.msg.assistant').last().locator('.used .chip').allTextContents()).toContain('My passport expires in March 2027.');
    expect(errors).toEqual([]);
    await context.close();
  });

  it.skipIf(!existsSync('test/fixtures/generated/models/mneme/glove-6b-100d-50k/model.safetensors'))(
    'search by meaning, set in the settings and kept: the header shows the embedder failing, then ready, and a draft is predicted by meaning',
    async () => {
      const { context, page, errors } = await start();
      const dialog = page.locator('dialog.settings');
      const setEmbedder = async (model: string) => {
        await page.getByLabel('Settings').click();
        await dialog.locator('input[name=meaningSearch]').check();
        await dialog.locator('input[name=embedderModel]').fill(model);
        await dialog.locator('input[name=embedderBaseUrl]').fill('/models'); // relative to the page
        await dialog.getByText('Save').click();
      };
      const badge = page.locator('.badge.meaning');
      await setEmbedder('mneme/absent-static');
      await expect.poll(() => badge.textContent(), { timeout: 30_000 }).toBe('meaning search: off');
      expect(await page.locator('.error').textContent()).toMatch(/Search by meaning is off: Could not fetch static embedding model "mneme\/absent-static".*Memory and search by words keep working/);
      await setEmbedder('mneme/glove-6b-100d-50k');
      await expect.poll(() => badge.textContent(), { timeout: 60_000 }).toBe('meaning search: on');
      expect(JSON.parse((await page.evaluate(() => localStorage.getItem('mneme-demo:settings')))!)).toMatchObject({ meaningSearch: true, embedderModel: 'mneme/glove-6b-100d-50k', embedderBaseUrl: '/models' });
      for (const text of ['I saw the doctor about my knee.', 'I am learning to play the guitar on weekends.', 'Our flight to Lisbon leaves on Friday morning.']) await say(page, text);
      await page.locator('textarea[name=message]').fill('my physician said');
      await expect.poll(() => page.locator('.live .predicted li').first().textContent(), { timeout: 20_000 }).toBe('I saw the doctor about my knee.');
      await page.reload(); // kept: the worker loads it again, from the Cache API
      await expect.poll(() => badge.textContent(), { timeout: 60_000 }).toBe('meaning search: on');
      expect(errors).toEqual([]);
      await context.close();
    },
  );
});
