// `npm run build`: the library for bundlers (ES modules + TypeScript types) and
// the drop-in classic script dist/mneme.js with the files it loads lazily
// (mneme-worker.js, which owns the scheduler and the one engine, and its chunks), and the
// memory-only drop-in dist/memory/ (the same mneme.js, a worker with no engine code and no tokenizer, its chunks).
// Prints the drop-in's gzipped size and the memory-only folder's bytes; `dropinGzipBytes()` and
// `memoryFolderBytes()` are what the bench records.
// dist/app is the demo that `npm start` builds and serves: this build never
// deletes or writes it, so a running `npm start` keeps working through
// `npm run build` and `npm test`.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));
const GOAL_BYTES = 30 * 1024;
/** The memory-only drop-in: served alone, it needs no other file. */
const MEMORY_FOLDER = 'dist/memory';
const MEMORY_GOAL_BYTES = 300 * 1024;
/** What `npm start` serves, in dist/: left alone by this build. */
const DEMO_FOLDER = 'app';

/**
 * Keeps each `new Worker(new URL('…/x.worker.ts', import.meta.url))` a worker that an app's bundler can follow:
 * the worker becomes a chunk of this build (assets/x.worker-[hash].js, sharing chunks with the rest) and the call
 * stays `new Worker(new URL('./x.worker-[hash].js', import.meta.url), …)`. Vite's own handling pre-builds each worker
 * into an asset, which an app's bundler copies under a new name without seeing the files it loads in turn (the
 * engine's worker, ONNX Runtime's WebAssembly). Served as it is (the drop-in), the folder works either way.
 */
function workersAsChunks() {
  const refs = new Set();
  return {
    name: 'mneme:workers-as-chunks',
    enforce: 'pre',
    transform(code, id) {
      if (!code.includes('.worker.ts') || id.includes('node_modules')) return null;
      const out = code.replace(/new URL\('([^']+\.worker\.ts)', import\.meta\.url\)/g, (_, spec) => {
        const ref = this.emitFile({ type: 'chunk', id: resolve(dirname(id), spec), name: basename(spec, '.ts') });
        refs.add(ref);
        return `import.meta.ROLLUP_FILE_URL_${ref}`;
      });
      return out === code ? null : { code: out, map: null };
    },
    resolveFileUrl({ referenceId, relativePath }) {
      if (!refs.has(referenceId)) return null;
      const path = relativePath.startsWith('.') ? relativePath : `./${relativePath}`;
      return `new URL(${JSON.stringify(path)}, import.meta.url)`;
    },
  };
}

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

/** Every byte of the memory-only folder (what a site copies to have memory without an engine). */
export function memoryFolderBytes(dir = `${root}${MEMORY_FOLDER}`) {
  let bytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    bytes += entry.isDirectory() ? memoryFolderBytes(path) : statSync(path).size;
  }
  return bytes;
}

/** dist/memory/: the classic script beside a scheduler worker built without engine code (workers/scheduler-memory.worker.ts). */
async function buildMemoryFolder(common) {
  await build({
    ...common,
    build: {
      outDir: MEMORY_FOLDER,
      emptyOutDir: false, // cleanDist() did
      target: 'es2022',
      rollupOptions: { input: { 'mneme-worker': 'workers/scheduler-memory.worker.ts' }, output: { format: 'es', entryFileNames: '[name].js' } },
    },
  });
  copyFileSync(`${root}dist/mneme.js`, `${root}${MEMORY_FOLDER}/mneme.js`);
}

/** `types: false` skips the declarations (the drop-in bench needs only the scripts). */
export async function buildAll({ types = true } = {}) {
  // Relative URLs: the files work wherever the folder is served from.
  const common = { root, base: './', configFile: false, logLevel: 'warn', worker: { format: 'es' } };
  cleanDist();
  await build({
    ...common,
    plugins: [workersAsChunks()],
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
  await buildMemoryFolder(common);
  if (!types) return;
  const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  if (tsc.status !== 0) throw new Error('type declarations failed');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildAll();
  const bytes = dropinGzipBytes();
  console.log(`dist/mneme.js: ${(bytes / 1024).toFixed(1)} KB gzipped (goal ≤ ${GOAL_BYTES / 1024} KB)${bytes > GOAL_BYTES ? ' — OVER THE GOAL' : ''}`);
  const memory = memoryFolderBytes();
  console.log(`${MEMORY_FOLDER}/: ${(memory / 1024).toFixed(1)} KB (goal ≤ ${MEMORY_GOAL_BYTES / 1024} KB)${memory > MEMORY_GOAL_BYTES ? ' — OVER THE GOAL' : ''}`);
}
