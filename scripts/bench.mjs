// `npm run bench`: runs the benchmark suites in headless Chromium and writes
// bench/results/<suite>.json (a flat object) plus a readable table on stdout.
// Each step runs on a fresh page of one browser; see bench/*.ts for the steps.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { openBrowserSession } from './browser-session.mjs';

/** Reads `--conversations 1-5` (or `1,3,5`) as 1-based indices. */
function range(spec) {
  return spec.split(',').flatMap((part) => {
    const [a, b = a] = part.split('-').map(Number);
    if (!Number.isInteger(a) || !Number.isInteger(b) || a < 1 || b < a) throw new Error(`--conversations takes ranges like 1-5 or 1,3 (got "${spec}")`);
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  });
}

/** Each suite's steps, in order (every step gets a fresh page), and the input its steps receive. */
const SUITES = {
  plaintext: { steps: ['search', 'peer', 'lexical', 'ingest', 'populate', 'cold', 'rebuild', 'embed', 'staticEmbed'] },
  // `reload` runs on a fresh page after `ttft`, restoring the KV snapshot `ttft` saved; `webgpu` runs in a
  // browser with WebGPU (the software adapter here).
  engine: { steps: ['ttft', 'reload'], webgpuSteps: ['webgpu'] },
  // The store's open paths: at 10k memories, plain and encrypted; a scheduler's start at 100k memories and 1M events (bench/store.ts).
  store: { steps: ['populateOpen', 'cold', 'rebuild', 'coldEncrypted', 'rebuildEncrypted', 'populate', 'scheduler'] },
  // Node-only: builds the drop-in and measures it (the script gzipped; the memory-only folder's bytes, as copied); no browser page.
  bundle: {
    node: async () => {
      const { buildAll, dropinGzipBytes, memoryFolderBytes } = await import('./build.mjs');
      await buildAll();
      return { 'bundle.dropin_gzip_bytes': dropinGzipBytes(), 'bundle.memory_only_folder_bytes': memoryFolderBytes() };
    },
  },
  // Node-driven: the built drop-in on examples/plain-chat.html, in its own browser (bench/dropin.mjs).
  dropin: { node: async () => (await import('../bench/dropin.mjs')).run() },
  // Node-only: hand-written validation and tab coordination against libraries (bench/libraries.mjs).
  libraries: { node: async () => (await import('../bench/libraries.mjs')).run() },
  locomo: { steps: ['run'], input: (flags) => locomoInput('locomo', flags) },
  // The typing replay (bench/typing.ts): LoCoMo questions typed key by key through the Predictor, on a timed engine double.
  typing: {
    steps: ['run'],
    input: (flags) => {
      const input = locomoInput('typing', flags);
      if (flags['per-conversation'] === undefined) return input;
      const n = Number(flags['per-conversation']);
      if (!Number.isInteger(n) || n < 1) throw new Error(`--per-conversation takes a whole number of questions ≥ 1 (got "${flags['per-conversation']}")`);
      return { ...input, perConversation: n };
    },
  },
};

/** The LoCoMo conversations picked by --conversations (default the dev split, 1-5). */
function locomoInput(suite, flags) {
  if (!flags.data) throw new Error(`${suite} needs --data PATH (the LoCoMo locomo10.json)`);
  const all = JSON.parse(readFileSync(flags.data, 'utf8'));
  const picked = range(flags.conversations ?? '1-5');
  return { conversations: picked.map((i) => all[i - 1]).filter(Boolean), label: flags.conversations ?? '1-5' };
}

/** Ratios against the in-run peer or baseline, computed from the raw keys. */
const DERIVED = {
  plaintext: (r) => ({
    'search.ratio_vs_orama.n10000': r['search.p50_ms.n10000'] / r['search.orama.p50_ms.n10000'],
    'search.lexical.ratio_vs_minisearch.n10000': r['search.lexical.p50_ms.n10000'] / r['search.minisearch.p50_ms.n10000'],
  }),
  engine: (r) => ({
    'ttft.after_reload_ratio': r['ttft.after_reload_ms'] / r['ttft.prewarmed_ms'],
    'ttft.after_reload_untyped_ratio_vs_cold': r['ttft.after_reload_untyped_ms'] / r['ttft.cold_ms'],
  }),
  store: (r) => ({ 'open.scheduler_ratio_vs_full_replay.n100000': r['open.scheduler_ms.n100000'] / r['open.scheduler_full_replay_ms.n100000'] }),
};

const { values: flags, positionals: suites } = parseArgs({
  allowPositionals: true,
  options: { data: { type: 'string' }, conversations: { type: 'string' }, out: { type: 'string' }, 'per-conversation': { type: 'string' }, steps: { type: 'string' } },
});
// Suites that need input (locomo) run only when named.
const selected = suites.length > 0 ? suites : Object.keys(SUITES).filter((s) => !SUITES[s].input);
for (const s of selected) if (!(s in SUITES)) throw new Error(`unknown suite "${s}"; known: ${Object.keys(SUITES).join(', ')}`);

const session = await openBrowserSession({ bench: true });
/** A second browser, with WebGPU, for the steps that need it (started on first use). */
let gpuSession;

function table(rows) {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${typeof v === 'number' ? (Number.isInteger(v) ? v : v.toFixed(3)) : v}`).join('\n');
}

let failed = false;
try {
  for (const suite of selected) {
    const results = SUITES[suite].node ? await SUITES[suite].node() : { ...(await session.run('env', 'describe')) };
    const input = SUITES[suite].input?.(flags);
    const only = flags.steps?.split(',');
    const steps = [...(SUITES[suite].steps ?? []).map((step) => [session, step]), ...(SUITES[suite].webgpuSteps ?? []).map((step) => [undefined, step])].filter(([, step]) => !only || only.includes(step));
    for (const [on, step] of steps) {
      const started = Date.now();
      try {
        const where = on ?? (gpuSession ??= await openBrowserSession({ bench: true, webgpu: true }));
        Object.assign(results, await where.run(suite, step, input));
        console.error(`  ${suite}.${step} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      } catch (error) {
        failed = true;
        console.error(`  ${suite}.${step} failed: ${error.message}`);
      }
    }
    Object.assign(results, DERIVED[suite]?.(results) ?? {});
    mkdirSync('bench/results', { recursive: true });
    const file = `bench/results/${flags.out ?? suite}.json`;
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\n${suite} (${file})\n${table(Object.entries(results))}`);
  }
} finally {
  await session.close();
  await gpuSession?.close();
}
process.exit(failed ? 1 : 0);
