// Several tabs, one memory: two tabs write and search concurrently, each write is
// in both tabs' in-memory views, one tab at a time owns the scheduler and engine,
// and closing the owner hands ownership over.
import { commands } from 'vitest/browser';
import { afterEach, describe, expect, it } from 'vitest';
import { createMneme, type Mneme } from '../../src/mneme';
import { claimOwnership } from '../../src/scheduler/ownership';

const open: Mneme[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((m) => m.close()));
});

describe('several tabs', () => {
  it('share every write between two tabs writing concurrently, and hand ownership over when the owner closes', async () => {
    const name = `tabs-${crypto.randomUUID()}`;
    const channel = new BroadcastChannel(`tab-test:${name}`);
    const inbox: { type: string; ids?: string[]; size?: number; owner?: boolean }[] = [];
    const waiters: (() => void)[] = [];
    channel.onmessage = (e) => {
      inbox.push(e.data);
      waiters.splice(0).forEach((w) => w());
    };
    const next = async (type: string) => {
      for (;;) {
        const i = inbox.findIndex((msg) => msg.type === type);
        if (i >= 0) return inbox.splice(i, 1)[0]!;
        await new Promise<void>((w) => waiters.push(w));
      }
    };

    // The other tab opens first, so it owns the scheduler and engine.
    const other = await commands.openPage(`/test/pages/tab.html?db=${name}`);
    await next('ready');
    await next('owner');
    const m = await createMneme({ name });
    open.push(m);
    const mine = claimOwnership(name);
    // Wait until this tab's claim is queued behind the lock the other tab holds.
    const lock = `mneme-owner:${name}`;
    const ownerLock = async () => {
      const { held = [], pending = [] } = await navigator.locks.query();
      const h = held.filter((l) => l.name === lock);
      const p = pending.filter((l) => l.name === lock);
      return { held: h.length, pending: p.length, heldByAnotherTab: h.length === 1 && p.length === 1 && h[0]!.clientId !== p[0]!.clientId };
    };
    await expect.poll(ownerLock, { timeout: 10_000 }).toEqual({ held: 1, pending: 1, heldByAnotherTab: true });
    expect(mine.isOwner).toBe(false);

    // Both tabs write 60 memories at once, searching as they go.
    channel.postMessage({ type: 'add', count: 60 });
    for (let i = 0; i < 60; i++) {
      await m.add({ text: `tab one note ${i} about tiles`, scope: { userId: 'u' } });
      if (i % 10 === 0) await m.searchMemory('tiles', { scope: { userId: 'u' }, k: 5 });
    }
    await next('added');
    const stored = (await m.list({ scope: { userId: 'u' } })).map((r) => r.id).sort();
    expect(stored).toHaveLength(120);
    // Every write is in both tabs' in-memory index (messages may still be in flight for a moment).
    let view: { ids?: string[]; size?: number } = {};
    const sizes = async () => {
      channel.postMessage({ type: 'view', query: 'note tiles' });
      view = await next('view');
      return { other: view.size, mine: m.size };
    };
    await expect.poll(sizes, { timeout: 10_000 }).toEqual({ other: 120, mine: 120 });
    const mineView = (await m.searchMemory('note tiles', { scope: { userId: 'u' }, k: 1000 })).map((h) => h.memory.id).sort();
    expect(mineView).toEqual(stored);
    expect([...view.ids!].sort()).toEqual(stored);
    console.log(`tabs: 120 writes from two tabs, ${stored.length} stored, ${mineView.length} in this tab's index, ${view.ids!.length} in the other's, ${120 - Math.min(mineView.length, view.ids!.length)} missing`);

    // Removals travel too.
    await m.remove(stored[0]!);
    await expect.poll(async () => (await sizes()).other, { timeout: 10_000 }).toBe(119);
    expect(view.ids).not.toContain(stored[0]);
    expect(view.size).toBe(119);

    // The owner closes: this tab takes over.
    await commands.closePage(other, 'close');
    await mine.owned;
    expect(mine.isOwner).toBe(true);
    mine.release();
    channel.close();
  });
});
