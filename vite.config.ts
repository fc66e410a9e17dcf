/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import { playwright } from '@vitest/browser-playwright';
import { VitePWA } from 'vite-plugin-pwa';
import type { TestProjectInlineConfiguration } from 'vitest/config';
import { CHROMIUM_ARGS } from './scripts/chromium.mjs';
import { browserCommands } from './test/commands';

function browserProject(name: string, include: string[], extra: { exclude?: string[]; parallel: boolean; args?: string[] }): TestProjectInlineConfiguration {
  return {
    extends: true,
    test: {
      name,
      root: '.',
      include,
      exclude: extra.exclude ?? [],
      testTimeout: 60_000,
      fileParallelism: extra.parallel,
      browser: {
        enabled: true,
        headless: true,
        screenshotFailures: false,
        provider: playwright({
          launchOptions: { executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: [...CHROMIUM_ARGS, ...(extra.args ?? [])] },
        }),
        instances: [{ browser: 'chromium' as const }],
        commands: browserCommands,
      },
    },
  };
}

// The PWA: a manifest, and a service worker precaching the app shell. Model
// files are cached by the engines' own caches; the runtime's WebAssembly and
// the lazily loaded WebLLM worker are cached the first time they are used.
const pwa = VitePWA({
  registerType: 'autoUpdate',
  injectRegister: false,
  manifest: {
    name: 'Mneme: chat with memory that stays on this device',
    short_name: 'Mneme',
    description: 'A chat whose memory lives in your browser, and works offline.',
    start_url: '.',
    display: 'standalone',
    background_color: '#f6f5f2',
    theme_color: '#3d5afe',
    icons: [
      { src: 'icon-192.png', sizes: '192x192', type: 'image/png' },
      { src: 'icon-512.png', sizes: '512x512', type: 'image/png' },
      { src: 'icon.svg', sizes: 'any', type: 'image/svg+xml' },
    ],
  },
  workbox: {
    globPatterns: ['**/*.{js,css,html,svg,png}'],
    globIgnores: ['**/webllm.worker-*'],
    maximumFileSizeToCacheInBytes: 2 * 1024 * 1024,
    navigateFallback: 'index.html',
    clientsClaim: true,
    skipWaiting: true,
    runtimeCaching: [{ urlPattern: ({ url, sameOrigin }) => sameOrigin && url.pathname.includes('/assets/'), handler: 'CacheFirst', options: { cacheName: 'mneme-app-runtime' } }],
  },
});

// The demo is the dev server's root (npm run dev) and the PWA build (npm start builds and serves dist/app,
// which no other command writes: `npm run build` spares it, the e2e tests build the demo into .e2e-dist/app);
// tests and benchmarks run from the repo root.
export default defineConfig({
  root: 'demo',
  plugins: [pwa],
  build: { outDir: '../dist/app', emptyOutDir: true, target: 'es2022' },
  preview: { port: 5173, host: '127.0.0.1' },
  server: { fs: { allow: ['..'] } },
  worker: { format: 'es' },
  // The fresh app of the package test imports the packed package, which only its own install resolves: not a page to scan.
  optimizeDeps: {
    entries: ['**/*.html', '!test/e2e/fresh-app/**', '!dist/**', '!.e2e-dist/**'],
    include: ['idb', 'comlink', '@mlc-ai/web-llm', 'ai', 'ai/test'],
    exclude: ['@huggingface/transformers', 'onnxruntime-web'],
  },
  test: {
    root: '.',
    projects: [
      {
        extends: true,
        test: { name: 'unit', root: '.', include: ['test/unit/**/*.test.ts'], environment: 'node' },
      },
      browserProject('browser', ['test/browser/**/*.test.ts'], { exclude: ['test/browser/isolated/**'], parallel: true }),
      // Tests that change browser-wide state (storage quota) get their own browser, one file at a time.
      browserProject('browser-isolated', ['test/browser/isolated/**/*.test.ts'], { parallel: false }),
      // WebGPU on Chromium's software adapter; every host but localhost is unresolvable, so no model is ever fetched from the internet.
      // End to end: plain Playwright against the built drop-in and PWA served on 127.0.0.1 (built once, in globalSetup).
      {
        extends: true,
        test: { name: 'e2e', root: '.', include: ['test/e2e/**/*.test.ts'], environment: 'node', globalSetup: ['test/e2e/build.ts'], fileParallelism: false, testTimeout: 120_000, hookTimeout: 300_000 },
      },
      browserProject('browser-webgpu', ['test/browser-webgpu/**/*.test.ts'], {
        parallel: false,
        args: ['--enable-unsafe-webgpu', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1'],
      }),
    ],
  },
});
