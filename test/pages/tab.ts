// A second tab of the same app (test/browser/trust-tabs.test.ts): opens Mneme on
// the database, queues for ownership, and on the test's word adds memories and
// reports what its own in-memory index finds.
import { createMneme } from '../../src/mneme';
import { claimOwnership } from '../../src/scheduler/ownership';

const name = new URLSearchParams(location.search).get('db')!;
const channel = new BroadcastChannel(`tab-test:${name}`);
const m = await createMneme({ name });
const ownership = claimOwnership(name);
void ownership.owned.then(() => channel.postMessage({ type: 'owner' }));

channel.onmessage = async (e: MessageEvent<{ type: string; count?: number; query?: string }>) => {
  if (e.data.type === 'add') {
    for (let i = 0; i < e.data.count!; i++) await m.add({ text: `tab two note ${i} about tiles`, scope: { userId: 'u' } });
    channel.postMessage({ type: 'added' });
  } else if (e.data.type === 'view') {
    const hits = await m.searchMemory(e.data.query!, { scope: { userId: 'u' }, k: 1000 });
    channel.postMessage({ type: 'view', ids: hits.map((h) => h.memory.id), size: m.size, owner: ownership.isOwner });
  }
};
channel.postMessage({ type: 'ready' });
