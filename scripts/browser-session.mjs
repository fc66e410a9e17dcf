// One Vite server and one headless Chromium for the command-line tools
// (benchmarks, scenarios): each step runs on a fresh page of bench/index.html,
// which exposes the page-side modules as window.mnemeBench[module][step].
import { spawnSync } from 'node:child_process';
import { chromium } from 'playwright';
import { createServer } from 'vite';
import { CHROMIUM_ARGS, HOW_TO_GET_ONE, findChromium } from './chromium.mjs';

/**
 * Generates the stand-in models (`bench` adds the realistic-width LM) and the GloVe static model, starts the
 * server and the browser; `webgpu` lets the browser use WebGPU (a software adapter where there is no GPU).
 */
export async function openBrowserSession({ bench = false, webgpu = false } = {}) {
  const executablePath = await findChromium();
  if (!executablePath) {
    console.error(HOW_TO_GET_ONE);
    process.exit(1);
  }
  for (const args of [['scripts/gen-standin-models.mjs', ...(bench ? ['--bench'] : [])], ['scripts/gen-static-glove.mjs']]) {
    const gen = spawnSync(process.execPath, args, { stdio: ['ignore', process.stderr, 'inherit'] });
    if (gen.status !== 0) process.exit(gen.status ?? 1);
  }

  const server = await createServer({ configFile: 'vite.config.ts', root: '.', logLevel: 'error', server: { port: 0, host: '127.0.0.1' } });
  await server.listen();
  const url = `http://127.0.0.1:${server.httpServer.address().port}/bench/index.html`;
  const args = webgpu ? [...CHROMIUM_ARGS.filter((a) => a !== '--disable-gpu'), '--enable-unsafe-webgpu'] : CHROMIUM_ARGS;
  const browser = await chromium.launch({ executablePath, args });
  const context = await browser.newContext();

  return {
    /** Runs window.mnemeBench[module][step](input) on a fresh page; the page's errors go to stderr. */
    async run(module, step, input) {
      const page = await context.newPage();
      page.on('pageerror', (e) => console.error(`[${module}.${step}] ${e.message}`));
      page.on('console', (m) => m.type() === 'error' && console.error(`[${module}.${step}] ${m.text()}`));
      try {
        await page.goto(url);
        await page.waitForFunction(() => window.mnemeBenchReady === true, null, { timeout: 60_000 });
        page.setDefaultTimeout(0);
        return await page.evaluate(([m, s, arg]) => window.mnemeBench[m][s](arg), [module, step, input]);
      } finally {
        await page.close();
      }
    },
    async close() {
      await browser.close();
      await server.close();
    },
  };
}
