// Durability against the whole browser dying: Chromium on a persistent profile
// bulk-adds memories through the built library (test/pages/bulk-add-dist.html),
// is SIGKILLed mid-way (its whole process group: browser, zygotes, renderers,
// utilities), then started again on the same profile; the same origin (the
// static server stays up, so the port is the same) finds every batch whose
// addMany had resolved, and no batch half-written.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext } from 'playwright';
import { CHROMIUM_ARGS } from '../../scripts/chromium.mjs';
import { serve, type Served } from '../../scripts/serve.mjs';

const SIZE = 50;
/** Resolved batches to wait for before the kill. */
const AFTER = 20;
const LOCAL_ONLY = '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1';

let server: Served;
const profiles: string[] = [];
beforeAll(async () => {
  server = await serve({ '/': '.' });
});
afterAll(async () => {
  await server.close();
  for (const dir of profiles) rmSync(dir, { recursive: true, force: true });
});

function launchOn(userDataDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS, LOCAL_ONLY],
  });
}

interface Proc {
  pid: number;
  ppid: number;
  pgid: number;
  stat: string;
  args: string;
}

function processes(): Proc[] {
  const out = execFileSync('ps', ['-eo', 'pid=,ppid=,pgid=,stat=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((line) => line.trim().match(/^(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/))
    .filter((m): m is RegExpMatchArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), pgid: Number(m[3]), stat: m[4]!, args: m[5]! }));
}

/** The browser process: the child of this process that Playwright started on this profile. */
function browserProcess(userDataDir: string): Proc {
  const found = processes().filter((p) => p.ppid === process.pid && p.args.includes(`--user-data-dir=${userDataDir}`));
  if (found.length !== 1) throw new Error(`expected one browser process on ${userDataDir}, found ${found.length}`);
  return found[0]!;
}

/** Every process of that browser: its process group, its descendants, and anything else on the profile. */
function browserTree(browser: Proc, userDataDir: string): number[] {
  const all = processes();
  const tree = new Set([browser.pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of all) {
      if (!tree.has(p.pid) && (tree.has(p.ppid) || p.pgid === browser.pgid || p.args.includes(userDataDir))) {
        tree.add(p.pid);
        grew = true;
      }
    }
  }
  return [...tree].filter((pid) => all.some((p) => p.pid === pid && !p.args.startsWith('ps ')));
}

/** Running, not a zombie waiting to be reaped (a zombie holds no files open and runs no code). */
function alive(pid: number, now = processes()): boolean {
  return now.some((p) => p.pid === pid && !p.stat.startsWith('Z'));
}

/** SIGKILLs the browser's process group and every process of its tree (found beforehand) at once; waits until none is left. */
async function killBrowser(browser: Proc, userDataDir: string, tree: number[]): Promise<void> {
  // Playwright starts the browser detached, so it leads its own process group: one signal reaches all of it.
  if (browser.pgid === browser.pid) process.kill(-browser.pgid, 'SIGKILL');
  for (const pid of tree) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 10_000;
  for (;;) {
    const now = processes();
    if (!tree.some((pid) => alive(pid, now)) && !browserTree(browser, userDataDir).some((pid) => alive(pid, now))) break;
    if (Date.now() > deadline) throw new Error('browser processes survived SIGKILL');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function bulkAddThenKill(run: number) {
  const userDataDir = mkdtempSync(join(tmpdir(), 'mneme-durability-'));
  profiles.push(userDataDir);
  const name = `durable-kill-${run}`;
  const url = (mode: string) => `${server.origin}/test/pages/bulk-add-dist.html?db=${name}&mode=${mode}&batches=100000&size=${SIZE}`;

  // First life: write until AFTER batches have resolved, then kill the browser with one in flight.
  const context = await launchOn(userDataDir);
  const browser = browserProcess(userDataDir);
  const started = new Set<number>();
  const resolved = new Set<number>();
  let enough!: () => void;
  const enoughResolved = new Promise<void>((done) => (enough = done));
  await context.exposeFunction('__started', (b: number) => void started.add(b));
  await context.exposeFunction('__resolved', (b: number) => {
    resolved.add(b);
    if (resolved.size >= AFTER) enough();
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  let failed!: (e: Error) => void;
  const pageFailed = new Promise<never>((_, fail) => (failed = fail));
  page.on('pageerror', (e) => {
    errors.push(e.message);
    failed(new Error(`the bulk-add page failed before ${AFTER} batches resolved: ${e.message}`));
  });
  // A module script that fails to load is no page error: say so (dist/ is rebuilt, emptied first, by every e2e run's global setup).
  page.on('response', (r) => r.status() >= 400 && !r.url().endsWith('/favicon.ico') && failed(new Error(`${r.url()}: HTTP ${r.status()}`)));
  await page.goto(url('write'));
  const stalled = setTimeout(() => failed(new Error(`only ${resolved.size} of ${AFTER} batches resolved in 60 s (${started.size} started); page errors: ${errors.join(' | ') || 'none'}`)), 60_000);
  await Promise.race([enoughResolved, pageFailed]).finally(() => clearTimeout(stalled));
  // A few milliseconds more, varied per run, so the kill lands at a different point of the next commit.
  await new Promise((r) => setTimeout(r, run * 7));
  const closed = new Promise<void>((done) => context.once('close', () => done()));
  const tree = browserTree(browser, userDataDir);
  const killedAt = new Set(resolved); // every batch heard resolved when the signal is sent
  await killBrowser(browser, userDataDir, tree);
  await closed; // Playwright notices the pipe closed
  const heardResolved = new Set([...resolved]); // anything heard after the snapshot also resolved before the kill
  expect(errors).toEqual([]);

  // Second life: the same profile, the same origin.
  const again = await launchOn(userDataDir);
  try {
    const reader = again.pages()[0] ?? (await again.newPage());
    await reader.goto(url('read'));
    await reader.waitForFunction(() => typeof (window as unknown as { readBatches?: unknown }).readBatches === 'function', undefined, { timeout: 30_000 });
    const { total, perBatch } = await reader.evaluate(() =>
      (window as unknown as { readBatches(): Promise<{ total: number; perBatch: Record<string, number> }> }).readBatches(),
    );
    const kept = new Map(Object.entries(perBatch).map(([b, n]) => [Number(b), n]));
    const lostBatches = [...heardResolved].filter((b) => kept.get(b) !== SIZE);
    const half = [...kept.values()].filter((n) => n !== SIZE).length;
    // Messages still on their way when the browser died are lost with it: a batch kept but never heard of was attempted too.
    const attemptedBatches = new Set([...started, ...kept.keys()]).size;
    const attempted = attemptedBatches * SIZE;
    const inFlightKept = [...kept.keys()].filter((b) => !heardResolved.has(b)).length;
    console.log(
      `durability (whole-browser SIGKILL, run ${run}): ${attempted} writes attempted in ${attemptedBatches} batches, ${heardResolved.size * SIZE} resolved ` +
        `(${killedAt.size} heard before the kill), ${total} kept, ${lostBatches.length * SIZE} lost, ${half} half batches, ` +
        `${inFlightKept} unannounced batch(es) kept whole; ${tree.length} processes killed`,
    );
    return { resolved: heardResolved.size, kept: total, batches: kept.size, lost: lostBatches.length * SIZE, half };
  } finally {
    await again.close();
  }
}

describe('durability across a whole-browser SIGKILL', () => {
  it.each([1, 2, 3])('a persistent profile killed mid bulk add keeps every resolved write and no half batch (run %i)', async (run) => {
    const r = await bulkAddThenKill(run);
    expect(r.resolved).toBeGreaterThanOrEqual(AFTER);
    expect(r.lost).toBe(0);
    expect(r.half).toBe(0);
    expect(r.kept).toBe(r.batches * SIZE);
  });
});
