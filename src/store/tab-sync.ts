// Several tabs, one memory: every write a tab commits is announced on a
// BroadcastChannel named after the database, and every other tab's store hands
// it to its listeners, so their search indexes and schedulers follow writes
// they did not make. IndexedDB stays the truth; the channel only carries news.
import type { MemoryStore, StoreChange } from './store';

interface TabMessage {
  type: 'change';
  generation: string;
  change: StoreChange;
}

/** Starts announcing this store's writes and applying other tabs'; returns a function that stops. A no-op where BroadcastChannel is missing. */
export function syncTabs(store: MemoryStore, name: string): () => void {
  if (typeof BroadcastChannel === 'undefined') return () => undefined;
  const channel = new BroadcastChannel(`mneme:${name}`);
  channel.onmessage = (e: MessageEvent<TabMessage>) => {
    if (e.data?.type === 'change') store.receive(e.data.change, e.data.generation);
  };
  const unsubscribe = store.subscribe((change) => {
    const generation = store.generation;
    if (change.remote || generation === undefined) return;
    channel.postMessage({ type: 'change', generation, change } satisfies TabMessage);
  });
  return () => {
    unsubscribe();
    channel.close();
  };
}
