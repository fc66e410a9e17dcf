// `npm run build`: the library for bundlers (ES modules + TypeScript types) and
// the drop-in classic script dist/mneme.js with the files it loads lazily
// (mneme-worker.js, which owns the scheduler and the one engine, and its chunks). Prints the drop-in's
// gzipped size; `dropinGzipBytes()` is what the bench records.
// dist/app is the demo that `npm start` builds and serves: this build never
// deletes or writes it, so a running `npm start` keeps working through
// `npm run build` and `npm test`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));
const GOAL_BYTES = 30 * 1024;
/** What `npm start` serves, in dist/: left alone by this build. */
const DEMO_FOLDER = 'app';

/** Empties dist/ of an earlier library build, leaving the demo `npm start` serves. */
function cleanDist() {
  const dist = `${root}dist`;
  if (!existsSync(dist)) return;
  for (const entry of readdirSync(dist)) if (entry !== DEMO_FOLDER) rmSync(`${dist}/${entry}`, { recursive: true, force: true });
}

/** The gzipped size of the classic script (all a page loads before memory is used). */
export function dropinGzipBytes() {
  return gzipSync(readFileSync(`${root}dist/mneme.js`), { level: 9 }).length;
}

/** `types: false` skips the declarations (the e2e tests need only the scripts). */
export async function buildAll({ types = true } = {}) {
  // Relative URLs: the files work wherever the folder is served from.
  const common = { root, base: './', configFile: false, logLevel: 'warn', worker: { format: 'es' } };
  cleanDist();
  await build({
    ...common,
    build: {
      outDir: 'dist',
      emptyOutDir: false, // cleanDist() did, sparing dist/app
      // Not lib mode, which would inline ONNX Runtime's WebAssembly into the workers as base64.
      target: 'es2022',
      rollupOptions: {
        input: { index: 'src/index.ts', client: 'src/client/index.ts', 'ai-sdk': 'src/ai-sdk/index.ts', 'mneme-worker': 'workers/scheduler.worker.ts' },
        preserveEntrySignatures: 'exports-only',
        output: { format: 'es', entryFileNames: '[name].js' },
      },
    },
  });
  await build({
    ...common,
    build: { outDir: 'dist', emptyOutDir: false, lib: { entry: 'src/client/script.ts', formats: ['iife'], name: 'MnemeScript', fileName: () => 'mneme.js' } },
  });
  if (!types) return;
  const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  if (tsc.status !== 0) throw new Error('type declarations failed');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildAll();
  const bytes = dropinGzipBytes();
  console.log(`dist/mneme.js: ${(bytes / 1024).toFixed(1)} KB gzipped (goal ≤ ${GOAL_BYTES / 1024} KB)${bytes > GOAL_BYTES ? ' — OVER THE GOAL' : ''}`);
}
