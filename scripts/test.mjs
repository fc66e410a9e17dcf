// `npm test`: finds a browser, generates the stand-in models and the GloVe static model, type-checks, and
// runs every test (Node unit tests and Chromium browser tests) in one Vitest run.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { findChromium, HOW_TO_GET_ONE } from './chromium.mjs';

const chromium = await findChromium();
if (!chromium) {
  console.error(HOW_TO_GET_ONE);
  process.exit(1);
}

for (const script of ['scripts/gen-standin-models.mjs', 'scripts/gen-static-glove.mjs']) {
  const gen = spawnSync(process.execPath, [script], { stdio: 'inherit' });
  if (gen.status !== 0) process.exit(gen.status ?? 1);
}

// Types first: the type tests (test/unit/*types*) only hold if the compiler checks them.
const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', '.'], { stdio: 'inherit' });
if (tsc.status !== 0) {
  console.log('tests: 0 passed, 1 failed (type check)');
  process.exit(tsc.status ?? 1);
}

const report = '.vitest-report.json';
rmSync(report, { force: true });
const run = spawnSync(
  process.execPath,
  ['node_modules/vitest/vitest.mjs', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)],
  { stdio: 'inherit', env: { ...process.env, CHROMIUM_PATH: chromium } },
);

try {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
} catch {
  console.log('tests: no report was written');
}
process.exit(run.status ?? 1);
