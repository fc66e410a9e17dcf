// An encrypted store written by an older version left some of each memory's
// fields (tags before schema 6; importance, source, access count and embedding
// model until this version), and before schema 6 every event's payload, in the
// clear. They are sealed once, at the first unlock after the upgrade (sealing
// needs the key, which a schema migration does not have), and the keyring then
// records that everything is sealed.
import type { IDBPDatabase } from 'idb';
import type { MemoryEvent } from '../memory/types';
import { guard } from './idb-errors';
import type { MemoryRow, MnemeDB } from './schema';
import type { RowCodec } from './seal';

/** Seals the fields of rows and the payloads of events still in the clear: read in one transaction, sealed outside, written in another. */
export async function resealLegacy(db: IDBPDatabase<MnemeDB>, codec: RowCodec): Promise<void> {
  const { rows, events } = await guard('reading rows and events to seal', async () => {
    const tx = db.transaction(['memories', 'events'], 'readonly');
    const [rows, events] = await Promise.all([tx.objectStore('memories').getAll(), tx.objectStore('events').getAll(), tx.done]);
    return { rows: rows.filter((r) => r.sealed && !r.sealedMeta), events: events.filter((e): e is MemoryEvent => !('sealed' in e)) };
  });
  if (rows.length === 0 && events.length === 0) return;
  await codec.open(rows);
  const records = rows.map((r) => codec.record(r));
  await Promise.all([codec.prepare(records), codec.prepareEvents(events)]);
  await guard('sealing row fields and event payloads', async () => {
    const tx = db.transaction(['memories', 'events'], 'readwrite', { durability: 'strict' });
    const [current, present] = await Promise.all([
      Promise.all(rows.map((r) => tx.objectStore('memories').get(r.id))),
      Promise.all(events.map((e) => tx.objectStore('events').getKey(e.seq!))),
    ]);
    const ops: Promise<unknown>[] = [];
    // A row another tab rewrote since is sealed whole already; an event compaction folded is gone.
    records.forEach((r, i) => {
      const now: MemoryRow | undefined = current[i];
      if (now && !now.sealedMeta) ops.push(tx.objectStore('memories').put(codec.row(r, now)));
    });
    events.forEach((e, i) => {
      if (present[i] !== undefined) ops.push(tx.objectStore('events').put(codec.event(e)));
    });
    await Promise.all([...ops, tx.done]);
  });
}
