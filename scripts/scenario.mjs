// `npm run scenario -- FILE.json`: replays a scenario (see src/scenario/format.ts)
// through the real store, scheduler and CPU engine in headless Chromium, and
// prints the result as JSON on stdout. Progress and errors go to stderr.
import { readFileSync } from 'node:fs';
import { openBrowserSession } from './browser-session.mjs';

const file = process.argv[2];
if (!file) {
  console.error('usage: npm run scenario -- FILE.json');
  process.exit(2);
}
const scenario = JSON.parse(readFileSync(file, 'utf8'));
const session = await openBrowserSession();
try {
  process.stdout.write(`${JSON.stringify(await session.run('scenario', 'run', { scenario }), null, 2)}\n`);
} catch (error) {
  console.error(error.message);
  process.exitCode = 1;
} finally {
  await session.close();
}
