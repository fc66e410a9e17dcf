// Vitest global setup of the e2e project: builds what the tests serve, once
// per run: the library and drop-in script (dist/), then the PWA demo (dist/app/).
import { build } from 'vite';
import { buildAll } from '../../scripts/build.mjs';

export default async function setup(): Promise<void> {
  await buildAll({ types: false });
  await build({ configFile: 'vite.config.ts', logLevel: 'warn' });
}
