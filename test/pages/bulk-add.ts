// A tab that adds memories batch after batch until it is closed, announcing each
// batch once its addMany has resolved (test/browser/trust-durability.test.ts).
import { openMemoryStore } from '../../src/store/store';

const params = new URLSearchParams(location.search);
const name = params.get('db')!;
const batches = Number(params.get('batches'));
const size = Number(params.get('size'));
const channel = new BroadcastChannel(`bulk-add:${name}`);

const store = await openMemoryStore({ name });
for (let b = 0; b < batches; b++) {
  channel.postMessage({ type: 'started', batch: b });
  await store.addMany(Array.from({ length: size }, (_, i) => ({ text: `batch ${b} item ${i} ${'x'.repeat(200)}`, scope: { userId: 'bulk' }, tags: [`b${b}`] })));
  channel.postMessage({ type: 'resolved', batch: b });
}
channel.postMessage({ type: 'done' });
