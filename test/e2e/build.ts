// Vitest global setup of the e2e project: builds what the tests serve, once
// per run: the library with its types and the drop-in scripts (dist/, which the
// example pages load by relative paths and the package test packs), then the PWA demo into a folder of the tests' own
// (.e2e-dist/app), never into dist/app, which a running `npm start` serves.
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { buildAll } from '../../scripts/build.mjs';

/** The demo as the e2e tests serve it (relative to the repo root). */
export const E2E_DEMO_DIR = '.e2e-dist/app';

export default async function setup(): Promise<void> {
  await buildAll(); // with the type declarations: test/e2e/package.test.ts packs this build
  await build({ configFile: 'vite.config.ts', logLevel: 'warn', build: { outDir: fileURLToPath(new URL(`../../${E2E_DEMO_DIR}`, import.meta.url)), emptyOutDir: true } });
}
