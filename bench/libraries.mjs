// `npm run bench:libraries`: where we write by hand what a library could do,
// is the library at least as good? Two jobs, each contender bundled alone
// (esbuild, minified, gzip -9):
// - Validation. The scenario format (src/scenario/format.ts: nested, fed by
//   other people's files) written three ways with the same rules and messages:
//   ours, valibot, and zod's tree-shakable zod/mini (bench/libraries/scenario-*).
//   Each runs in Node's V8 on the household scenario (valid) and on broken
//   copies of it (invalid), and each broken copy's message is checked for the
//   path of the fault. Node, not Chromium: pure JavaScript on the same engine.
// - Tab coordination. Leader election plus a change channel: ours (a Web Lock
//   and a BroadcastChannel) against the `broadcast-channel` package, which
//   elects on the same Web Lock where one exists; bytes only, as the behaviour
//   rests on the same browser primitive (bench/libraries/tabs-*).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const VALIDATORS = ['ours', 'valibot', 'zod'];
const TAB_LIBRARIES = ['ours', 'broadcast-channel'];

/** Broken copies of a scenario, each with the path its message must name. */
function brokenCopies(scenario) {
  const copy = () => structuredClone(scenario);
  const at = (i, patch) => { const s = copy(); Object.assign(s.events[i], patch); return s; };
  const query = scenario.events.findIndex((e) => e.type === 'query');
  return [
    { path: 'name', value: { ...copy(), name: '' } },
    { path: 'events', value: { ...copy(), events: 'none' } },
    { path: 'events.3.at', value: at(3, { at: 'tomorrow' }) },
    { path: 'events.2.role', value: at(2, { role: 'robot' }) },
    { path: 'events.4.type', value: at(4, { type: 'poke' }) },
    { path: `events.${query}.k`, value: at(query, { k: 0.5 }) },
    { path: 'events', value: (() => { const s = copy(); s.events.reverse(); return s; })() },
  ];
}

/**
 * Operations per second of each job, in interleaved rounds (so a busy machine
 * slows every contender alike); the median round of each.
 */
function opsPerSecond(jobs, rounds = 7, ms = 100) {
  const rates = jobs.map(() => []);
  for (const job of jobs) for (let i = 0; i < 200; i++) job();
  for (let r = 0; r < rounds; r++) {
    jobs.forEach((job, j) => {
      let n = 0;
      const start = performance.now();
      while (performance.now() - start < ms) { job(); n++; }
      rates[j].push(n / ((performance.now() - start) / 1000));
    });
  }
  return rates.map((r) => Math.round(r.sort((a, b) => a - b)[r.length >> 1]));
}

/** Bundles bench/libraries/NAME.ts alone; returns the file and its gzipped bytes. */
async function bundle(name, dir) {
  const out = join(dir, `${name}.mjs`);
  await build({ entryPoints: [join(root, `bench/libraries/${name}.ts`)], bundle: true, minify: true, format: 'esm', platform: 'browser', outfile: out, logLevel: 'error' });
  return { out, bytes: gzipSync(readFileSync(out), { level: 9 }).length };
}

/** Bundles each validator, and checks what it says of every broken copy. */
async function load(name, dir, broken) {
  const { out, bytes } = await bundle(`scenario-${name}`, dir);
  const { parse } = await import(pathToFileURL(out).href);
  const messages = broken.map(({ value }) => { try { parse(value); return null; } catch (e) { return String(e.message); } });
  messages.forEach((m, i) => console.log(`${name.padEnd(8)} ${broken[i].path.padEnd(14)} ${m ?? '(accepted!)'}`));
  return {
    parse,
    results: {
      [`validation.${name}.gzip_bytes`]: bytes,
      [`validation.${name}.faults_caught`]: messages.filter((m) => m !== null).length / broken.length,
      [`validation.${name}.faults_located`]: messages.filter((m, i) => m !== null && pathNamed(m, broken[i].path)).length / broken.length,
    },
  };
}

async function validation(dir) {
  const scenario = JSON.parse(readFileSync(join(root, 'test/scenarios/household.json'), 'utf8'));
  const broken = brokenCopies(scenario);
  const loaded = [];
  for (const name of VALIDATORS) loaded.push(await load(name, dir, broken));
  const valid = opsPerSecond(loaded.map(({ parse }) => () => parse(scenario)));
  const invalid = opsPerSecond(loaded.map(({ parse }) => () => broken.forEach(({ value }) => { try { parse(value); } catch {} })));
  const results = {};
  VALIDATORS.forEach((name, i) => Object.assign(results, loaded[i].results, {
    [`validation.${name}.valid_ops_per_s`]: valid[i],
    [`validation.${name}.invalid_ops_per_s`]: invalid[i] * broken.length,
  }));
  for (const name of VALIDATORS.slice(1)) {
    results[`validation.${name}.bytes_ratio_vs_ours`] = results[`validation.${name}.gzip_bytes`] / results['validation.ours.gzip_bytes'];
    results[`validation.${name}.valid_speed_ratio_vs_ours`] = results[`validation.${name}.valid_ops_per_s`] / results['validation.ours.valid_ops_per_s'];
  }
  return results;
}

/** Whether a message names the path, as `events.3.at` or `events[3].at`. */
function pathNamed(message, path) {
  return message.includes(path) || message.includes(path.replace(/\.(\d+)/g, '[$1]'));
}

export async function run() {
  const dir = mkdtempSync(join(tmpdir(), 'mneme-libraries-'));
  try {
    const results = {};
    for (const name of TAB_LIBRARIES) results[`tabs.${name}.gzip_bytes`] = (await bundle(`tabs-${name}`, dir)).bytes;
    results['tabs.broadcast-channel.bytes_ratio_vs_ours'] = results['tabs.broadcast-channel.gzip_bytes'] / results['tabs.ours.gzip_bytes'];
    return { ...results, ...(await validation(dir)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
