// Bad input, fuzzed: every public method of Mneme, MemoryStore, Scheduler and import, fed
// seeded random arguments (huge, empty, control characters, lone surrogates, wrong types,
// NaN dates, deep objects, malformed exports). Each call must resolve, or reject with a typed
// MnemeError and leave the database exactly as it was; nothing may go unhandled.
import fc from 'fast-check';
import { openDB } from 'idb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MnemeError } from '../../src/errors';
import { createMneme, type Mneme } from '../../src/mneme';
import { Scheduler } from '../../src/scheduler/scheduler';
import type { EncryptionOption } from '../../src/store/seal';

const SEED = 6;
const RUNS = 100;

function deep(depth: number, leaf: unknown = 'x'): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { text: v, scope: v };
  return v;
}

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const control = fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c));
const nastyString = fc.oneof(
  fc.string(),
  fc.string({ unit: fc.oneof(loneSurrogate, control, fc.constantFrom('<|im_end|>', '\u0000', '\u202e', '🧠', ' ', '\n')) }),
  fc.constantFrom('', ' ', '\t\n', 'x'.repeat(16_385), 'y'.repeat(1_000_000), '__proto__', 'constructor', 'toString'),
);
const nastyNumber = fc.oneof(fc.double(), fc.constantFrom(NaN, Infinity, -Infinity, -0, Number.MAX_SAFE_INTEGER + 2, 1e308), fc.integer());
const nastyDate = fc.oneof(nastyNumber, fc.constant(new Date(NaN)), fc.date({ noInvalidDate: false }), nastyString);
const scalar = fc.oneof(nastyString, nastyNumber, fc.boolean(), fc.constantFrom(null, undefined), fc.bigInt(), fc.constant(Symbol('s')), fc.constant(() => 1));
const goodScope = fc.constantFrom({ userId: 'u' }, { userId: 'u', role: 'doctor' }, { shared: true as const });
const scopeLike = fc.oneof(goodScope, fc.record({ userId: nastyString, role: fc.option(scalar) }), fc.dictionary(nastyString, scalar), scalar, fc.constant({ shared: 'yes' }));
const junk = fc.oneof(
  { weight: 3, arbitrary: scalar },
  { weight: 2, arbitrary: fc.anything({ maxDepth: 4, withMap: true, withSet: true, withDate: true, withTypedArray: true, withNullPrototype: true, withBigInt: true }) },
  { weight: 1, arbitrary: fc.constantFrom(deep(20), deep(3000), deep(3000, NaN), Object.freeze({ text: 'frozen', scope: { userId: 'u' } })) },
);
const memoryInput = fc.oneof(
  { weight: 2, arbitrary: fc.record({ text: nastyString, scope: goodScope }) },
  {
    weight: 3,
    arbitrary: fc.record(
      { text: fc.oneof(nastyString, junk), scope: scopeLike, tags: fc.oneof(fc.array(nastyString, { maxLength: 40 }), junk), importance: fc.oneof(nastyNumber, junk), source: fc.oneof(fc.constantFrom('user', 'manual'), junk), tier: fc.oneof(fc.constantFrom('working', 'archived'), junk), validFrom: nastyDate, validUntil: nastyDate, expiresAt: nastyDate, id: fc.oneof(nastyString, junk) },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: junk },
);
const callerScope = fc.oneof(goodScope.filter((s) => !('shared' in s)), scopeLike);
const readOptions = fc.oneof(
  fc.record({ scope: callerScope, filter: fc.oneof(fc.constant(undefined), fc.record({ tags: fc.oneof(fc.array(nastyString), junk), tiers: fc.oneof(fc.array(fc.constantFrom('working', 'nope')), junk), createdFrom: nastyDate, createdTo: nastyDate }, { requiredKeys: [] }), junk), limit: fc.oneof(nastyNumber, junk), offset: fc.oneof(nastyNumber, junk), k: fc.oneof(nastyNumber, junk), vector: fc.oneof(fc.constant(new Float32Array(64)), fc.constant(new Float32Array(3)), junk), prefix: junk }, { requiredKeys: [] }),
  junk,
);
const idLike = fc.oneof(nastyString, junk);
const exportDoc = fc.oneof(
  junk,
  fc.record({ format: fc.oneof(fc.constant('mneme-export'), nastyString), version: fc.oneof(fc.constant(1), nastyNumber), exportedAt: nastyDate, memories: fc.oneof(fc.array(fc.oneof(memoryInput, fc.record({ id: nastyString, text: nastyString, scope: goodScope, createdAt: nastyDate, vector: fc.oneof(fc.record({ model: nastyString, dim: nastyNumber, data: nastyString }), junk) })), { maxLength: 8 }), junk) }, { requiredKeys: [] }),
);

/** Counts and the generation token, read over a connection of its own: any committed write changes them. */
async function fingerprint(name: string): Promise<string> {
  const db = await openDB(name);
  try {
    const tx = db.transaction(['memories', 'vectors', 'events', 'meta'], 'readonly');
    const parts = await Promise.all([tx.objectStore('memories').count(), tx.objectStore('vectors').count(), tx.objectStore('events').count(), tx.objectStore('meta').get('generation'), tx.done]);
    return JSON.stringify(parts.slice(0, 4));
  } finally {
    db.close();
  }
}

let m: Mneme;
let scheduler: Scheduler;
let name: string;
const unhandled: unknown[] = [];
const onUnhandled = (e: PromiseRejectionEvent) => unhandled.push(e.reason);
const tally = { cases: 0, resolved: 0, typed: 0 };

beforeAll(() => addEventListener('unhandledrejection', onUnhandled));
afterAll(() => {
  removeEventListener('unhandledrejection', onUnhandled);
  console.log(`fuzz: ${tally.cases} cases, ${tally.resolved} resolved, ${tally.typed} rejected with a typed error, 0 crashes, ${unhandled.length} unhandled rejections`);
});

/** A database with two memories; no embedder, so nothing writes in the background and a rejected call is the only thing that could change it. */
function openFuzzed(encryption: EncryptionOption | undefined): void {
  beforeAll(async () => {
    name = `fuzz-${crypto.randomUUID()}`;
    m = await createMneme({ name, snapshotDelayMs: 60_000, ...(encryption && { encryption }) });
    await m.addMany([{ text: 'a memory to find about tiles', scope: { userId: 'u' } }, { text: 'shared memory about tiles', scope: { shared: true } }]);
    scheduler = await Scheduler.create(m, { scope: { userId: 'u' } });
  });
  afterAll(async () => {
    scheduler.dispose();
    await m.close();
  });
}

/** Calls `call` on each generated argument list; a rejection must be a MnemeError and must leave the database untouched. */
async function fuzz<A extends unknown[]>(args: fc.Arbitrary<A>, call: (...a: A) => Promise<unknown> | unknown): Promise<void> {
  await fc.assert(
    fc.asyncProperty(args, async (a) => {
      tally.cases++;
      const before = await fingerprint(name);
      let outcome: unknown;
      try {
        await call(...a);
        tally.resolved++;
        return;
      } catch (error) {
        outcome = error;
      }
      if (!(outcome instanceof MnemeError)) throw new Error(`untyped failure: ${(outcome as Error)?.stack ?? String(outcome)}`, { cause: outcome });
      tally.typed++;
      expect(await fingerprint(name)).toBe(before);
    }),
    { seed: SEED, numRuns: RUNS, endOnFailure: true },
  );
  await new Promise((r) => setTimeout(r, 0));
  expect(unhandled).toEqual([]);
}

describe.each([
  { at: 'plaintext', encryption: undefined },
  { at: 'encrypted', encryption: { passphrase: 'fuzz', iterations: 1000 } },
])('fuzzed public API ($at)', ({ encryption }) => {
  openFuzzed(encryption);
  it('Mneme', async () => {
    await fuzz(fc.tuple(memoryInput), (i) => m.add(i as never));
    await fuzz(fc.tuple(fc.oneof(fc.array(memoryInput, { maxLength: 5 }), junk)), (i) => m.addMany(i as never));
    await fuzz(fc.tuple(idLike, fc.oneof(fc.record({ scope: callerScope }), junk)), (id, options) => m.get(id as never, options as never));
    await fuzz(fc.tuple(idLike, fc.oneof(fc.record({ text: nastyString, tags: junk, importance: nastyNumber, validFrom: nastyDate, expiresAt: fc.constant(null) }, { requiredKeys: [] }), junk)), async (id, patch) => {
      const target = (await m.list({ scope: { userId: 'u' } }))[0]!;
      await m.update(typeof id === 'string' && id.length % 2 ? id : target.id, patch as never);
    });
    await fuzz(fc.tuple(idLike), (id) => m.remove(id as never));
    await fuzz(fc.tuple(readOptions), (o) => m.list(o as never));
    await fuzz(fc.tuple(readOptions), (o) => m.count(o as never));
    await fuzz(fc.tuple(readOptions, fc.oneof(fc.constant(undefined), nastyString, junk)), (o, cursor) => m.page({ ...(o as object), cursor } as never));
    await fuzz(fc.tuple(fc.oneof(nastyString, junk), readOptions), (q, o) => m.searchMemory(q as never, o as never));
    await fuzz(fc.tuple(fc.oneof(scopeLike, fc.constant({ userId: 'nobody' }))), (s) => m.clear(s as never));
    await fuzz(fc.tuple(idLike, fc.oneof(fc.constantFrom('working', 'plaintext', 'activated'), junk), fc.oneof(nastyString, junk)), (id, tier, reason) => m.setTier(id as never, tier as never, reason as never));
    const tierChange = fc.oneof(fc.record({ id: idLike, tier: fc.oneof(fc.constantFrom('working', 'archived', 'activated'), junk), reason: fc.oneof(nastyString, junk) }, { requiredKeys: [] }), junk);
    await fuzz(fc.tuple(fc.oneof(fc.array(tierChange, { maxLength: 4 }), junk)), async (changes) => {
      const target = (await m.list({ scope: { userId: 'u' } }))[0]!;
      const batch = Array.isArray(changes) ? changes.map((c, i) => (i === 0 && typeof c === 'object' && c !== null ? { ...c, id: target.id } : c)) : changes;
      await m.setTiers(batch as never);
    });
    await fuzz(fc.tuple(readOptions), (o) => m.exportMemories(o as never));
  });

  it('import', async () => {
    await fuzz(fc.tuple(exportDoc, fc.oneof(fc.constant(undefined), fc.record({ onConflict: fc.oneof(fc.constantFrom('skip', 'replace'), junk), scope: scopeLike }, { requiredKeys: [] }), junk)), (doc, o) => m.importMemories(doc, o as never));
  });

  it('MemoryStore', async () => {
    const store = m.store;
    await fuzz(fc.tuple(memoryInput, junk), (i, v) => store.add(i as never, v as never));
    await fuzz(fc.tuple(fc.oneof(fc.array(memoryInput, { maxLength: 4 }), junk), junk), (i, v) => store.addMany(i as never, v as never));
    await fuzz(fc.tuple(idLike), (id) => store.getVector(id as never));
    await fuzz(fc.tuple(fc.oneof(fc.array(idLike, { maxLength: 4 }), junk), fc.oneof(fc.constantFrom('mention', 'retrieval', 'retrieved into prompt'), nastyString, junk)), (ids, use) => store.recordAccess(ids as never, use as never));
    await fuzz(fc.tuple(fc.oneof(fc.array(fc.record({ id: idLike, vector: fc.oneof(fc.constant(new Float32Array(64)), junk), text: junk }), { maxLength: 3 }), junk), fc.oneof(fc.constant({ model: 'test/hashing', dim: 64 }), junk)), (e, ref) =>
      store.putVectors(e as never, ref as never),
    );
    await fuzz(fc.tuple(fc.oneof(idLike, fc.constant(undefined))), (id) => store.events(id as never));
    await fuzz(fc.tuple(fc.oneof(fc.array(idLike, { maxLength: 4 }), junk)), (ids) => store.has(ids as never));
  });

  it('Scheduler', async () => {
    await fuzz(fc.tuple(fc.oneof(fc.record({ text: fc.oneof(nastyString, junk), role: fc.oneof(fc.constantFrom('user', 'assistant'), junk) }, { requiredKeys: [] }), junk)), (msg) => scheduler.observe(msg as never));
    await fuzz(fc.tuple(fc.oneof(nastyString, junk), fc.oneof(fc.record({ k: fc.oneof(nastyNumber, junk), filter: junk, draft: junk }, { requiredKeys: [] }), junk)), (q, o) => scheduler.search(q as never, o as never));
    await fuzz(fc.tuple(fc.oneof(fc.array(idLike, { maxLength: 3 }), junk), fc.oneof(fc.constantFrom('access', 'pin'), junk)), (ids, kind) => scheduler.access(ids as never, kind as never));
    await fuzz(fc.tuple(fc.oneof(fc.array(idLike, { maxLength: 3 }), junk)), (ids) => scheduler.retrieved(ids as never));
    await fuzz(fc.tuple(fc.oneof(fc.record({ sessionId: idLike, role: idLike, agentId: idLike }, { requiredKeys: [] }), junk)), (o) => scheduler.startSession(o as never));
    await fuzz(fc.tuple(fc.oneof(scopeLike, junk)), (scope) => Scheduler.create(m, { scope } as never).then((s) => s.dispose()));
  });
});
