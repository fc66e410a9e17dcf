/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import { playwright } from '@vitest/browser-playwright';
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

// The demo is the dev server's root; tests and benchmarks run from the repo root.
export default defineConfig({
  root: 'demo',
  server: { fs: { allow: ['..'] } },
  worker: { format: 'es' },
  optimizeDeps: { include: ['idb', 'comlink', '@mlc-ai/web-llm'], exclude: ['@huggingface/transformers', 'onnxruntime-web'] },
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
