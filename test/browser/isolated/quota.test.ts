import { afterEach, expect, it } from 'vitest';
import { commands } from 'vitest/browser';
import { StorageQuotaError } from '../../../src/errors';
import { openMemoryStore, type MemoryStore } from '../../../src/store/store';

// Chrome applies a quota override to connections opened after it.
const alice = { userId: 'alice' };
const open: MemoryStore[] = [];
async function fresh() {
  const store = await openMemoryStore({ name: `q-${crypto.randomUUID()}` });
  open.push(store);
  return { store };
}
function randomText(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return Array.from(bytes, (b) => String.fromCharCode(97 + (b % 26))).join('');
}
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

it('reports a full quota as a typed error and stays usable', async () => {
  // Chrome reads the quota when a connection opens, so the device is "nearly full" from the start.
  const origin = location.origin;
  await commands.setStorageQuota(origin, 4 * 1024 * 1024);
  const { store } = await fresh();
  let restored = false;
  try {
    const kept = await store.add({ text: 'kept before the quota filled', scope: alice });
    // Random letters: IndexedDB compresses values, so repeated text would barely count.
    const big = Array.from({ length: 400 }, () => ({ text: randomText(16_000), scope: alice }));
    const error = await store.addMany(big).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageQuotaError);
    expect((error as StorageQuotaError).code).toBe('quota-exceeded');
    expect((error as Error).message).toMatch(/quota is full.*nothing of this write was kept/);
    expect((await store.get(kept.id, { scope: alice }))!.text).toBe('kept before the quota filled');
    expect(await store.count({ scope: alice })).toBe(1);
    // Space comes back (the user freed some, or granted persistence): the same store writes again.
    await commands.setStorageQuota(origin);
    restored = true;
    await store.addMany(Array.from({ length: 5 }, (_, i) => ({ text: `small note ${i}`, scope: alice })));
    expect(await store.count({ scope: alice })).toBe(6);
  } finally {
    if (!restored) await commands.setStorageQuota(origin);
  }
});
