// The package as a user gets it: `npm pack` of the build the e2e set-up made
// (test/e2e/build.ts: `npm run build`'s buildAll, which is what prepack runs), the tarball installed into a fresh Vite app (test/e2e/fresh-app, which knows
// Mneme only by its package name and public API), the app type-checked and
// built, then used in Chromium: memories added, found, kept across a reload,
// and the drop-in client adding them to the page's chat requests.
// No network: the app is installed with `npm ci --offline` from a lockfile
// whose entries for the package's dependencies are the repository's own, so
// npm's cache (filled by the repository's `npm ci`) has every tarball.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright';
import type { AttachedClient, create } from '../../src/client';
import { build } from 'vite';
import { launch } from './browser';
import { serve, type Served } from '../../scripts/serve.mjs';

declare global {
  interface Window {
    /** The fresh app's attached client (test/e2e/fresh-app/main.ts). */
    chat?: AttachedClient;
    /** The package's `create` (test/e2e/fresh-app/main.ts). */
    createClient?: typeof create;
  }
}

const root = process.cwd();
const NAME = '@mneme-ai/mneme';

/** Runs a command; throws with its output when it fails. Returns seconds taken. */
function run(command: string, args: string[], cwd: string): number {
  const start = performance.now();
  const out = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
  if (out.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${out.status}):\n${out.stdout}\n${out.stderr}`);
  return (performance.now() - start) / 1000;
}

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

/** The app's package.json and lockfile: the tarball, and the package's dependencies as the repository's lockfile pins them. */
function writeAppManifest(app: string, tarball: string, manifest: Manifest): void {
  const repoLock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dependencies?: Record<string, string> }> };
  const spec = `file:${tarball}`;
  const packages: Record<string, unknown> = {
    '': { name: 'fresh-app', dependencies: { [NAME]: spec } },
    [`node_modules/${NAME}`]: {
      version: manifest.version,
      resolved: spec,
      integrity: `sha512-${createHash('sha512').update(readFileSync(join(app, tarball))).digest('base64')}`,
      dependencies: manifest.dependencies,
      peerDependencies: manifest.peerDependencies,
      peerDependenciesMeta: manifest.peerDependenciesMeta,
    },
  };
  const pending = Object.keys(manifest.dependencies ?? {});
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    const entry = repoLock.packages[`node_modules/${name}`];
    if (!entry) throw new Error(`${name}, a dependency of the package, is not in package-lock.json`);
    if (packages[`node_modules/${name}`]) continue;
    packages[`node_modules/${name}`] = entry;
    pending.push(...Object.keys(entry.dependencies ?? {}));
  }
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'fresh-app', private: true, type: 'module', dependencies: { [NAME]: spec } }));
  writeFileSync(join(app, 'package-lock.json'), JSON.stringify({ name: 'fresh-app', lockfileVersion: 3, requires: true, packages }));
}

let work: string;
let app: string;
let files: string[];
let manifest: Manifest;
const seconds: Record<string, number> = {};
let server: Served;
const requested: string[] = [];
let browser: Browser;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'mneme-pack-'));
  app = join(work, 'app');
  cpSync(join(root, 'test/e2e/fresh-app'), app, { recursive: true });
  seconds.pack = run('npm', ['pack', '--ignore-scripts', '--pack-destination', app, '--silent'], root);
  const tarball = readdirSync(app).find((f) => f.endsWith('.tgz'))!;
  files = spawnSync('tar', ['-tzf', join(app, tarball)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  manifest = JSON.parse(spawnSync('tar', ['-xzOf', join(app, tarball), 'package/package.json'], { encoding: 'utf8' }).stdout) as Manifest;
  writeAppManifest(app, tarball, manifest);
  seconds.install = run('npm', ['ci', '--offline', '--no-audit', '--no-fund'], app);
  seconds.typecheck = run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', app], app);
  const start = performance.now();
  // Not minified: minifying the engines' workers (WebLLM's is 6 MB) takes half a minute here and says nothing about the package.
  await build({ root: app, configFile: false, logLevel: 'error', build: { outDir: join(app, 'dist'), emptyOutDir: true, minify: false } });
  seconds.build = (performance.now() - start) / 1000;
  server = await serve({ '/': join(app, 'dist'), '/models/': join(root, 'test/fixtures/generated/models') }, (path) => requested.push(path));
  browser = await launch();
  console.log(`package test set-up (s): ${Object.entries(seconds).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe(`${NAME}, packed and installed into a fresh Vite app`, () => {
  it('is publishable and carries the library, its types and both drop-in folders, not the demo or the sources', () => {
    expect(manifest.name).toBe(NAME);
    expect(manifest.private).toBeUndefined();
    for (const file of ['dist/index.js', 'dist/client.js', 'dist/types/index.d.ts', 'dist/types/client/index.d.ts', 'dist/mneme.js', 'dist/mneme-worker.js', 'dist/memory/mneme.js', 'dist/memory/mneme-worker.js']) {
      expect(files).toContain(`package/${file}`);
    }
    expect(files.filter((f) => !/^package\/(dist\/|package\.json$|README\.md$|LICENSE$)/.test(f) || f.startsWith('package/dist/app/'))).toEqual([]);
    // The engines' libraries are bundled into dist/assets: a memory-only app installs nothing more than the package and its two small dependencies.
    expect(readdirSync(join(app, 'node_modules')).filter((f) => !f.startsWith('.')).sort()).toEqual(['@mneme-ai', 'comlink', 'idb']);
  });

  it('keeps memories in the app: added, found, and still there after a reload', async () => {
    const page = await (await browser.newContext()).newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.route('**/api/chat', (route) => route.fulfill({ json: { reply: 'ok' } }));
    await page.goto(`${server.origin}/`);
    await page.locator('body[data-ready="true"]').waitFor();
    for (const text of ['The tiles for the bathroom arrive on Tuesday.', 'My sister Ana lives in Porto.']) {
      await page.locator('#text').fill(text);
      await page.locator('#remember button').click();
    }
    await expect.poll(() => page.locator('#count').textContent()).toBe('2');
    const search = async (query: string) => {
      await page.locator('#query').fill(query);
      await page.locator('#search button').click();
      return page.locator('#results li').first().textContent();
    };
    expect(await search('when do the tiles come?')).toBe('The tiles for the bathroom arrive on Tuesday.');

    await page.reload();
    await page.locator('body[data-ready="true"]').waitFor();
    expect(await page.locator('#count').textContent()).toBe('2');
    expect(await search('where does Ana live')).toBe('My sister Ana lives in Porto.');
    expect(errors).toEqual([]);
  });

  it('adds what the user told before to the page\'s chat requests (the drop-in client from the package)', async () => {
    const page = await (await browser.newContext()).newPage();
    const bodies: { messages: { role: string; content: string }[] }[] = [];
    await page.route('**/api/chat', async (route) => {
      bodies.push(JSON.parse(route.request().postData() ?? '{}'));
      await route.fulfill({ json: { reply: 'ok' } });
    });
    await page.goto(`${server.origin}/`);
    await page.locator('body[data-ready="true"]').waitFor();
    const say = async (text: string) => {
      const before = bodies.length;
      await page.locator('#message').fill(text);
      await page.locator('#message').press('Enter');
      await expect.poll(() => bodies.length).toBe(before + 1);
    };
    await say('My brother Tom works at the harbour in Lisbon.');
    await expect.poll(() => page.evaluate(() => window.chat!.searchMemory('Tom').then((r) => r.length))).toBe(1);
    await say('Where does my brother Tom work?');
    const last = bodies.at(-1)!.messages;
    expect(last[0]).toMatchObject({ role: 'system', content: expect.stringContaining('<memory>My brother Tom works at the harbour in Lisbon.</memory>') });
    expect(last.at(-1)).toEqual({ role: 'user', content: 'Where does my brother Tom work?' });
  });

  it('answers on the device through the client: the engine worker and ONNX Runtime found in the app\'s own build', async () => {
    const page = await (await browser.newContext()).newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.origin}/`);
    await page.locator('body[data-ready="true"]').waitFor();
    const answer = await page.evaluate(async () => {
      const chat = window.chat!;
      await chat.observe('My brother Tom works at the harbour in Lisbon.');
      const transformers = { modelBaseUrl: '/models', model: 'mneme/standin-smollm-tiny', dtype: 'fp32' as const, allowRemote: false, cacheName: 'fresh-app' };
      const loaded = await chat.loadEngine({ engine: 'transformers', transformers });
      const reply = await chat.chat.completions.create({ messages: [{ role: 'user', content: 'Where does Tom work?' }], max_tokens: 3 });
      return { loaded, content: 'choices' in reply ? reply.choices[0]!.message.content : undefined, memories: 'usage' in reply ? (reply.usage?.extra as Record<string, number> | undefined)?.memories : undefined };
    });
    expect(answer.loaded).toMatchObject({ model: 'mneme/standin-smollm-tiny', engine: 'transformers' });
    expect(answer.content).toEqual(expect.any(String));
    expect(answer.memories).toBe(1);
    expect(errors).toEqual([]);
    // Everything the app asked for, but the model files, was in its own build: nothing from the package's folder.
    const built = requested.filter((path) => !path.startsWith('/models/'));
    expect(built.some((path) => path.endsWith('.wasm'))).toBe(true);
    expect(built.filter((path) => !existsSync(join(app, 'dist', path === '/' ? 'index.html' : path)))).toEqual([]);
  });

  it.skipIf(!existsSync(join(root, 'test/fixtures/generated/models/mneme/glove-6b-100d-50k/model.safetensors')))(
    "searches by meaning through the client: the static embedder in the scheduler worker of the app's own build",
    async () => {
      const page = await (await browser.newContext()).newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${server.origin}/`);
      await page.locator('body[data-ready="true"]').waitFor();
      const found = await page.evaluate(async () => {
        const embedder = { model: 'mneme/glove-6b-100d-50k', modelBaseUrl: '/models', allowRemote: false, cacheName: 'fresh-app-static' };
        const client = window.createClient!({ user: 'carol', dbName: 'fresh-app-meaning', embedder });
        const ref = await client.embedderReady();
        for (const text of ['I saw the doctor about my knee.', 'I am learning to play the guitar on weekends.', 'Our flight to Lisbon leaves on Friday morning.']) await client.observe(text);
        const predicted = new Promise<string[]>((resolve) => client.on('prediction', (p) => p.length > 0 && resolve(p.map((m) => m.text))));
        client.draft('my physician said');
        return { ref, predicted: await predicted };
      });
      expect(found.ref).toEqual({ model: 'mneme/glove-6b-100d-50k', dim: 100 });
      expect(found.predicted[0]).toBe('I saw the doctor about my knee.');
      expect(errors).toEqual([]);
    },
  );
});
