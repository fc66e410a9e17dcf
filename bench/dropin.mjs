// `npm run bench:dropin`: time to first token through the shipped drop-in, as a
// user meets it. The built dist/mneme.js runs on examples/plain-chat.html in
// headless Chromium, with the transformers.js engine (WASM) on the stand-in
// SmolLM-360M-width model (4 layers, random weights, real tokenizer) loaded
// in Mneme's worker. A question is typed key by key into the attached input at
// 120 ms a key, then sent through chat.completions.create({ stream: true });
// against it, in the same run, the same question is pasted and sent at once
// (cold). TTFT is timed on the page, from the create call to the first
// streamed token: retrieval, layout, tokenizing and every worker hop included.
// Token figures are what the engine's cache held (usage.extra).
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright';
import { buildAll } from '../scripts/build.mjs';
import { CHROMIUM_ARGS, findChromium } from '../scripts/chromium.mjs';
import { serve } from '../scripts/serve.mjs';

const REPS = 3;
const MS_PER_KEY = 120;
const MODEL = 'mneme/standin-smollm-360m-4l';

/** What the user told the assistant before (observed through the page's own send), and the question typed. */
const { told: TOLD, question: QUESTION } = JSON.parse(readFileSync(new URL('../test/fixtures/dropin-page.json', import.meta.url), 'utf8'));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A fresh page with the user's memories and the stand-in engine loaded in Mneme's worker. */
async function ready(browser, origin) {
  const context = await browser.newContext();
  await context.route('**/api/chat', (route) => route.fulfill({ json: { reply: 'noted' } }));
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[dropin] ${e.message}`));
  await page.goto(`${origin}/examples/plain-chat.html`);
  await page.waitForFunction(() => window.Mneme?.attached !== undefined);
  for (const text of TOLD) {
    const before = await page.locator('#log li.assistant').count();
    await page.locator('#message').fill(text);
    await page.locator('#message').press('Enter');
    await page.locator('#log li.assistant').nth(before).waitFor();
  }
  await page.evaluate(
    ({ base, model }) => window.Mneme.attached.loadEngine({ engine: 'transformers', transformers: { modelBaseUrl: base, model, allowRemote: false, dtype: 'fp32', cacheName: 'bench-dropin' } }),
    { base: `${origin}/test/fixtures/generated/models`, model: MODEL },
  );
  return { context, page };
}

/** Starts counting main-thread frames longer than 50 ms (a requestAnimationFrame probe). */
const probeFrames = (page) =>
  page.evaluate(() => {
    window.benchFrames = { long: 0, worst: 0, running: true };
    let last = performance.now();
    const tick = (now) => {
      const gap = now - last;
      last = now;
      if (gap > 50) window.benchFrames.long += 1;
      window.benchFrames.worst = Math.max(window.benchFrames.worst, gap);
      if (window.benchFrames.running) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });

/** chat.completions.create({ stream: true }) for the question, timed on the page. */
const ask = (page) =>
  page.evaluate(async (question) => {
    window.benchFrames && (window.benchFrames.running = false);
    const started = performance.now();
    const stream = await window.Mneme.attached.chat.completions.create({ messages: [{ role: 'user', content: question }], stream: true, stream_options: { include_usage: true }, max_tokens: 8 });
    let ttft;
    let usage;
    for await (const chunk of stream) {
      if (ttft === undefined && chunk.choices[0]?.delta?.content) ttft = performance.now() - started;
      usage = chunk.usage ?? usage;
    }
    return { ttft, usage };
  }, QUESTION);

async function once(browser, origin, typed) {
  const { context, page } = await ready(browser, origin);
  try {
    const input = page.locator('#message');
    if (typed) {
      await input.focus();
      await probeFrames(page);
      await page.keyboard.type(QUESTION, { delay: MS_PER_KEY });
    } else {
      await input.fill(QUESTION);
    }
    const { ttft, usage } = await ask(page);
    const frames = typed ? await page.evaluate(() => window.benchFrames) : undefined;
    return { ttft, promptTokens: usage.prompt_tokens, prefilled: usage.extra.tokens_prefilled, wasted: usage.extra.tokens_wasted_while_typing, memories: usage.extra.memories, held: usage.extra.memories_held, frames };
  } finally {
    await context.close();
  }
}

export async function run() {
  await buildAll({ types: false });
  const server = await serve({ '/': '.' });
  const browser = await chromium.launch({ executablePath: await findChromium(), args: CHROMIUM_ARGS });
  try {
    const cold = [];
    const warm = [];
    for (let i = 0; i < REPS; i++) {
      cold.push(await once(browser, server.origin, false));
      warm.push(await once(browser, server.origin, true));
    }
    const coldMs = median(cold.map((r) => r.ttft));
    const warmMs = median(warm.map((r) => r.ttft));
    return {
      'dropin.model': `${MODEL} (random weights, SmolLM-360M width, 4 layers), transformers.js WASM in Mneme's worker`,
      'dropin.reps': REPS,
      'dropin.ms_per_key': MS_PER_KEY,
      'dropin.ttft.cold_ms': coldMs,
      'dropin.ttft.prewarmed_ms': warmMs,
      'dropin.ttft.ratio': warmMs / coldMs,
      'dropin.prompt_tokens': median(warm.map((r) => r.promptTokens)),
      'dropin.prefill_share_at_send': median(warm.map((r) => r.prefilled / r.promptTokens)),
      'dropin.prefill_share_at_send.cold': median(cold.map((r) => r.prefilled / r.promptTokens)),
      'dropin.memories_in_prompt': median(warm.map((r) => r.memories)),
      'dropin.memories_held_at_send': median(warm.map((r) => r.held)),
      'dropin.wasted_prefill_tokens': median(warm.map((r) => r.wasted)),
      'dropin.frames_over_50ms': Math.max(...warm.map((r) => r.frames.long)),
      'dropin.worst_frame_ms': Math.max(...warm.map((r) => r.frames.worst)),
    };
  } finally {
    await browser.close();
    await server.close();
  }
}
