// The drop-in on pages as they are built: test/pages/xhr-chat.html posts with
// XMLHttpRequest (as axios does) and has no inline script, so it also runs under
// a strict Content-Security-Policy, sent as a real response header on every file
// (the page, mneme.js, its worker and chunks).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright';
import { launch } from './browser';
import { serve, type Served } from '../../scripts/serve.mjs';

/** A strict policy: nothing but this origin, no eval, no blob:. */
const STRICT = "default-src 'self'; script-src 'self'; worker-src 'self'; connect-src 'self'";
/** The additions the on-device engine needs (ONNX Runtime imports its factory from a blob: URL and compiles WebAssembly). */
const ENGINE = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' blob:; worker-src 'self'; connect-src 'self'";

let server: Served;
/** The policy every response carries; none when undefined. */
let policy: string | undefined;
let browser: Browser;
beforeAll(async () => {
  server = await serve({ '/': '.' }, undefined, { headers: () => (policy ? { 'content-security-policy': policy } : undefined) });
  browser = await launch();
});
afterAll(async () => {
  await browser.close();
  await server.close();
});

interface Session {
  page: Page;
  /** Every body the page posted to /api/chat. */
  requests: { messages: { role: string; content: string }[] }[];
  warnings: string[];
  errors: string[];
}

async function open(): Promise<Session> {
  const page = await (await browser.newContext()).newPage();
  const session: Session = { page, requests: [], warnings: [], errors: [] };
  page.on('console', (m) => (m.type() === 'warning' || m.type() === 'error') && session[m.type() === 'warning' ? 'warnings' : 'errors'].push(m.text()));
  page.on('pageerror', (e) => session.errors.push(e.message));
  await page.route('**/api/chat', async (route) => {
    session.requests.push(JSON.parse(route.request().postData() ?? '{}'));
    await route.fulfill({ json: { reply: `reply ${session.requests.length}` } });
  });
  await page.goto(`${server.origin}/test/pages/xhr-chat.html`);
  await page.waitForFunction(() => window.Mneme?.attached !== undefined);
  return session;
}

async function say(page: Page, text: string): Promise<void> {
  const before = await page.locator('#log li.assistant').count();
  await page.locator('#message').fill(text);
  await page.locator('#message').press('Enter');
  await page.locator('#log li.assistant').nth(before).waitFor();
}

/** Tells a memory, then asks about it: the host chat answers both, and the question's XMLHttpRequest body carries the memory. */
async function chatWithMemory(session: Session): Promise<void> {
  const { page, requests } = session;
  expect(await page.evaluate(() => window.Mneme.attached!.ready)).toBe(true);
  await say(page, 'My sister Ana lives in Porto and works as an architect.');
  await expect.poll(() => page.evaluate(() => window.Mneme.attached!.searchMemory('Ana').then((r) => r.length))).toBe(1);
  await say(page, 'Where does my sister Ana live?');
  expect(await page.locator('#log li').allTextContents()).toEqual(['My sister Ana lives in Porto and works as an architect.', 'reply 1', 'Where does my sister Ana live?', 'reply 2']);
  const last = requests.at(-1)!.messages;
  expect(last[0]!.role).toBe('system');
  expect(last[0]!.content).toContain('<memory>My sister Ana lives in Porto and works as an architect.</memory>');
  expect(last.at(-1)).toEqual({ role: 'user', content: 'Where does my sister Ana live?' });
}

const loadStandin = (page: Page, cacheName: string) =>
  page.evaluate(
    async ({ base, cacheName }) => {
      const degraded: string[] = [];
      window.Mneme.attached!.on('degraded', (d) => degraded.push(d.reason));
      try {
        const transformers = { modelBaseUrl: base, model: 'mneme/standin-smollm-tiny', allowRemote: false, dtype: 'fp32' as const, cacheName };
        const loaded = await window.Mneme.attached!.loadEngine({ engine: 'transformers', transformers });
        const reply = await window.Mneme.attached!.chat.completions.create({ messages: [{ role: 'user', content: 'Where does Ana live?' }], max_tokens: 3 });
        return { loaded, answer: 'choices' in reply ? reply.choices[0]!.message.content : undefined, degraded };
      } catch (e) {
        const error = e as { name: string; code: string; message: string };
        return { error: { name: error.name, code: error.code, message: error.message }, degraded };
      }
    },
    { base: `${server.origin}/test/fixtures/generated/models`, cacheName },
  );

describe('test/pages/xhr-chat.html: a page that sends with XMLHttpRequest', () => {
  it('gets the memories in its request bodies, as a fetch page does, and its chat works', async () => {
    policy = undefined;
    const session = await open();
    await chatWithMemory(session);
    expect(session.errors).toEqual([]);
    expect(session.warnings).toEqual([]);
  });

  it('a synchronous XMLHttpRequest goes out as the page made it, with one warning that only fetch and async XHR are covered', async () => {
    policy = undefined;
    const { page, requests, warnings } = await open();
    await page.evaluate(() => window.Mneme.attached!.observe('My sister Ana lives in Porto.'));
    const sent = { messages: [{ role: 'user', content: 'Where does Ana live?' }] };
    const status = await page.evaluate((body) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', '/api/chat', false);
      xhr.send(JSON.stringify(body));
      return xhr.status;
    }, sent);
    expect(status).toBe(200);
    expect(requests).toEqual([sent]);
    expect(warnings).toEqual([expect.stringMatching(/^Mneme: only fetch and asynchronous XMLHttpRequest .*synchronous/)]);
  });

  it('detach() puts back the page’s own XMLHttpRequest', async () => {
    policy = undefined;
    const { page } = await open();
    expect(await page.evaluate(() => XMLHttpRequest.prototype.send.toString().includes('[native code]'))).toBe(false);
    await page.evaluate(() => window.Mneme.attached!.detach());
    expect(await page.evaluate(() => [XMLHttpRequest.prototype.open, XMLHttpRequest.prototype.send].every((f) => f.toString().includes('[native code]')))).toBe(true);
  });
});

describe('under a strict Content-Security-Policy header', () => {
  it(`memory only needs nothing added to ${STRICT}`, async () => {
    policy = STRICT;
    const session = await open();
    await chatWithMemory(session);
    expect(session.errors).toEqual([]);
  });

  for (const [missing, without, fix] of [
    ['both additions', STRICT, /script-src refused blob.*add blob: to script-src/],
    ["'wasm-unsafe-eval'", ENGINE.replace(" 'wasm-unsafe-eval'", ''), /script-src refused wasm-eval.*add 'wasm-unsafe-eval' to script-src/],
  ] as const) {
    it(`the engine without ${missing}: loading fails with the typed CSP error naming the directive, said on the degraded path`, async () => {
      policy = without;
      const { page } = await open();
      const result = await loadStandin(page, 'csp-blocked');
      expect(result.error).toMatchObject({ name: 'DeviceError', code: 'csp-blocked', message: expect.stringMatching(/The Content-Security-Policy blocked /) });
      expect(result.error!.message).toMatch(fix);
      expect(result.error!.message).not.toMatch(/Check that .* serves config\.json/); // not blamed on the model files
      expect(result.degraded).toEqual([result.error!.message]);
    });
  }

  it(`the engine with 'wasm-unsafe-eval' and blob: in script-src loads and answers`, async () => {
    policy = ENGINE;
    const { page, errors } = await open();
    const result = await loadStandin(page, 'csp-allowed');
    expect(result).toMatchObject({ loaded: { model: 'mneme/standin-smollm-tiny', engine: 'transformers' }, answer: expect.any(String), degraded: [] });
    expect(errors).toEqual([]);
  });
});
