// Upgrades with old tabs open (issue 12): a schema bump in a new tab completes while
// an old tab's store is open, the old store closes for it, says so, and fails every
// later call typed; an old connection that ignores versionchange is reported as
// `blocked` and bounds the wait; an abnormal close (`terminated`) is reported and typed.
// "Another tab" is played from this page by a raw indexedDB.open at a higher version.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StorageError } from '../../src/errors';
import { createMneme, type Mneme } from '../../src/mneme';
import { SCHEMA_VERSION } from '../../src/store/schema';
import { openMemoryStore, type ConnectionEvent, type MemoryStore } from '../../src/store/store';

const u = { userId: 'u' };
const stores: MemoryStore[] = [];
const mnemes: Mneme[] = [];
const raws: IDBDatabase[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const store of stores.splice(0)) store.close();
  for (const m of mnemes.splice(0)) await m.close();
  for (const db of raws.splice(0)) db.close();
});

/** `promise`, or a rejection naming what hung after `ms`. */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  return Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} hung for ${ms} ms`)), ms))]);
}

/** Another tab: a raw open of `name` at `version`, with an optional upgrade. */
function rawOpen(name: string, version: number, upgrade?: (db: IDBDatabase) => void): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(name, version);
    request.onupgradeneeded = () => upgrade?.(request.result);
    request.onsuccess = () => {
      raws.push(request.result);
      resolve(request.result);
    };
    request.onerror = () => reject(request.error);
  });
}

function rawGetAll(db: IDBDatabase, store: string): Promise<{ id: string; text: string }[]> {
  return new Promise((resolve, reject) => {
    const request = db.transaction(store, 'readonly').objectStore(store).getAll();
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function expectTyped(call: Promise<unknown>, code: string): Promise<StorageError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StorageError);
  expect((error as StorageError).code).toBe(code);
  return error as StorageError;
}

describe('an upgrade with an old tab open', () => {
  it('completes; the old store closes for it, reports it, fails later calls typed, and loses no resolved write', async () => {
    const name = `upgrade-${crypto.randomUUID()}`;
    const events: ConnectionEvent[] = [];
    const a = await openMemoryStore({ name, onConnectionEvent: (e) => events.push(e) });
    stores.push(a);
    const written = await a.addMany(Array.from({ length: 20 }, (_, i) => ({ text: `fact ${i}`, scope: u })));
    const last = await a.add({ text: 'the last fact before the upgrade', scope: u });
    // A write still in flight when the other tab asks: it commits, or it rejects typed; never half.
    const inFlight = a.add({ text: 'in flight at the version change', scope: u }).then(
      (r) => ({ ok: true as const, id: r.id }),
      (e: unknown) => ({ ok: false as const, error: e }),
    );

    const t0 = performance.now();
    const newer = await within(3000, 'the new tab’s open', rawOpen(name, SCHEMA_VERSION + 1, (db) => db.createObjectStore('added-in-next-version')));
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(newer.version).toBe(SCHEMA_VERSION + 1);

    expect(events).toHaveLength(1);
    const event = events[0]!;
    expect(event.type).toBe('closed-for-upgrade');
    if (event.type !== 'closed-for-upgrade') return;
    expect(event.newVersion).toBe(SCHEMA_VERSION + 1);
    expect(event.error.code).toBe('store-upgraded');
    expect(event.error.message).toMatch(/Reload the page/);
    expect(a.closedReason?.code).toBe('store-upgraded');

    // Every later call on the old tab rejects typed, and says to reload.
    const error = await expectTyped(a.add({ text: 'after the upgrade', scope: u }), 'store-upgraded');
    expect(error.message).toMatch(/Reload the page/);
    await expectTyped(a.get(last.id, { scope: u }), 'store-upgraded');
    await expectTyped(a.list({ scope: u }), 'store-upgraded');
    await expectTyped(a.count({ scope: u }), 'store-upgraded');

    // Nothing that resolved is lost: the new version holds every one of them.
    const stored = new Map((await rawGetAll(newer, 'memories')).map((r) => [r.id, r.text]));
    for (const r of [...written, last]) expect(stored.get(r.id)).toBe(r.text);
    const flight = await inFlight;
    if (flight.ok) expect(stored.has(flight.id)).toBe(true);
    else expect(flight.error).toBeInstanceOf(StorageError);
  });

  it('through createMneme: the option hears it, calls reject typed, and close() still works', async () => {
    const name = `upgrade-mneme-${crypto.randomUUID()}`;
    const events: ConnectionEvent[] = [];
    const m = await createMneme({ name, syncTabs: false, onConnectionEvent: (e) => events.push(e) });
    mnemes.push(m);
    const kept = await m.add({ text: 'kept across the upgrade', scope: u });
    const newer = await within(3000, 'the new tab’s open', rawOpen(name, SCHEMA_VERSION + 1));
    expect(events.map((e) => e.type)).toEqual(['closed-for-upgrade']);
    await expectTyped(m.add({ text: 'after', scope: u }), 'store-upgraded');
    expect((await rawGetAll(newer, 'memories')).map((r) => r.id)).toEqual([kept.id]);
  });
});

describe('a connection that ignores versionchange', () => {
  /** An old tab at version 1 (memories and vectors, as migration 1 made them) with no versionchange handler. */
  const oldTab = (name: string) =>
    rawOpen(name, 1, (db) => {
      db.createObjectStore('memories', { keyPath: 'id' }).createIndex('by-owner', 'owner');
      db.createObjectStore('vectors', { keyPath: 'id' });
    });

  it('is reported as blocked, and the open rejects typed after a bounded wait instead of hanging', async () => {
    const name = `blocked-${crypto.randomUUID()}`;
    const old = await oldTab(name);
    const events: ConnectionEvent[] = [];
    const t0 = performance.now();
    const error = await expectTyped(within(3000, 'the blocked open', openMemoryStore({ name, openTimeoutMs: 300, onConnectionEvent: (e) => events.push(e) })), 'store-blocked');
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(error.message).toMatch(/openTimeoutMs/);
    expect(events).toEqual([{ type: 'blocked', name, currentVersion: 1, requestedVersion: SCHEMA_VERSION }]);

    // Once the old tab goes, the store opens (the abandoned open closed itself, blocking no one).
    old.close();
    const store = await within(3000, 'the open after the old tab closed', openMemoryStore({ name, openTimeoutMs: 300 }));
    stores.push(store);
    expect(await store.add({ text: 'after the old tab closed', scope: u })).toBeDefined();
  });

  it('is reported as blocked, and the open completes once the old tab closes', async () => {
    const name = `blocked-then-open-${crypto.randomUUID()}`;
    const old = await oldTab(name);
    const events: ConnectionEvent[] = [];
    const store = await within(
      3000,
      'the open',
      openMemoryStore({
        name,
        onConnectionEvent: (e) => {
          events.push(e);
          if (e.type === 'blocked') setTimeout(() => old.close(), 50);
        },
      }),
    );
    stores.push(store);
    expect(events.map((e) => e.type)).toEqual(['blocked']);
    const record = await store.add({ text: 'stored at the current version', scope: u });
    expect(await store.get(record.id, { scope: u })).toEqual(record);
  });
});

describe('a connection the browser closes abnormally', () => {
  it('is reported as terminated, and later calls reject typed', async () => {
    const name = `terminated-${crypto.randomUUID()}`;
    // Catch the connection the store opens, to fire the `close` event the browser fires on an abnormal close.
    const requests: IDBOpenDBRequest[] = [];
    const open = IDBFactory.prototype.open;
    vi.spyOn(IDBFactory.prototype, 'open').mockImplementation(function (this: IDBFactory, ...args: [string, number?]) {
      const request = open.apply(this, args);
      requests.push(request);
      return request;
    });
    const events: ConnectionEvent[] = [];
    const store = await openMemoryStore({ name, onConnectionEvent: (e) => events.push(e) });
    stores.push(store);
    const kept = await store.add({ text: 'written before the crash', scope: u });
    requests[0]!.result.dispatchEvent(new Event('close'));

    expect(events.map((e) => e.type)).toEqual(['terminated']);
    expect(store.closedReason?.code).toBe('store-closed');
    const error = await expectTyped(store.get(kept.id, { scope: u }), 'store-closed');
    expect(error.message).toMatch(/abnormally/);
    await expectTyped(store.add({ text: 'after', scope: u }), 'store-closed');
  });
});
