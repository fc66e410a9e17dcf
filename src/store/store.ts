// The plaintext tier: every memory, its vector and its event log in IndexedDB.
// These are its write operations; the machinery under them (one transaction
// per write, a generation token, change events after commit, sealing before a
// transaction) is in writer.ts, and reads are in reader.ts.
import type { IDBPDatabase } from 'idb';
import { InvalidInputError, NotFoundError } from '../errors';
import { isPlainObject, isWithin, parseMemoryScope } from '../memory/scope';
import { applyPatch, checkVectors, createRecord, moveTiers, parseChangeBatch, parseId, parseTierChanges, parseUse, type ChangeBatch, type VectorInput } from '../memory/validate';
import type { EmbeddingRef, MemoryEvent, MemoryInput, MemoryPatch, MemoryRecord, MemoryScope, StoredTier, TierChange, UseKind } from '../memory/types';
import { DEFAULT_FOLD_HALF_LIFE_MS, parseRetention, type Retention } from '../memory/event-log';
import { GroupCommit } from '../util/group-commit';
import { compactLog } from './compaction';
import { openConnection, type Connection } from './connection';
import { guard } from './idb-errors';
import { createdEvent, queueAdditions } from './transaction';
import { StoreWriter } from './writer';
import { SHARED_OWNER, type MemoryRow, type MnemeDB, type VectorRow } from './schema';
import { openCodec, PLAIN_CODEC, type RowCodec } from './seal';
import type { AppliedChanges, StoreOptions } from './types';

export type { ConnectionEvent, ConnectionOptions } from './connection';

export type { ListOptions, MemoryPage, ReadOptions } from './reader';
export type { AppliedChanges, StoreChange, StoreOptions } from './types';
export type { ChangeBatch };

export async function openMemoryStore(options: StoreOptions = {}): Promise<MemoryStore> {
  const name = options.name ?? 'mneme';
  const connection = await guard(`opening database "${name}"`, () => openConnection(name, options));
  const db = connection.db;
  try {
    return new MemoryStore(db, options, await openCodec(db, options.encryption), connection);
  } catch (error) {
    db.close();
    throw error;
  }
}

export class MemoryStore extends StoreWriter {
  private readonly retention: Retention;
  private readonly heatHalfLifeMs: number;
  /** Retrievals asked for while a log write is under way share the next one. */
  private readonly retrievals = new GroupCommit<string>((ids) => this.writeRetrievals(ids));

  constructor(db: IDBPDatabase<MnemeDB>, options: StoreOptions, codec: RowCodec = PLAIN_CODEC, connection?: Connection) {
    super(db, options, codec, connection);
    this.retention = parseRetention(options.eventLog);
    this.heatHalfLifeMs = options.heatHalfLifeMs ?? DEFAULT_FOLD_HALF_LIFE_MS;
    if (!(this.heatHalfLifeMs > 0)) throw new InvalidInputError('invalid-input', 'heatHalfLifeMs is a number of ms > 0.');
  }

  async add(input: MemoryInput, vector?: { vector: Float32Array; embedding: EmbeddingRef }): Promise<MemoryRecord> {
    const [record] = await this.addMany([input], vector && { vectors: [vector.vector], embedding: vector.embedding });
    return record!;
  }

  /** Adds memories in one transaction: all of them are stored, or none. */
  async addMany(inputs: readonly MemoryInput[], vectors?: VectorInput): Promise<MemoryRecord[]> {
    if (!Array.isArray(inputs)) throw new InvalidInputError('invalid-input', 'addMany takes an array of memories.');
    const now = this.now();
    const { records, rows, sealed } = await this.additions(inputs, vectors, now, 'memories');
    return this.write(`adding ${records.length} memories`, (tx, log) => ({
      result: records,
      ops: queueAdditions(tx, log, records, sealed, now, (r) => this.codec.row(r)),
      change: { upserted: records, vectors: rows },
    }));
  }

  /**
   * New records for `inputs` (validated; an error names `label[i]` in a batch) with their vector rows,
   * prepared for the codec before the transaction opens.
   */
  private async additions(inputs: readonly MemoryInput[], vectors: VectorInput | undefined, now: number, label: string): Promise<{ records: MemoryRecord[]; rows: VectorRow[]; sealed: VectorRow[] }> {
    checkVectors(inputs.length, vectors);
    const records = inputs.map((input, i) => {
      try {
        return createRecord(input, this.limits, now, this.newId);
      } catch (error) {
        if (error instanceof InvalidInputError && inputs.length > 1) error.message = `${label}[${i}]: ${error.message}`;
        throw error;
      }
    });
    if (new Set(records.map((r) => r.id)).size !== records.length) throw new InvalidInputError('invalid-input', 'The batch holds the same id twice; ids must be unique.');
    const rows: VectorRow[] = vectors
      ? records.map((r, i) => {
          r.embedding = { ...vectors.embedding };
          return { id: r.id, model: vectors.embedding.model, dim: vectors.embedding.dim, data: vectors.vectors[i]! };
        })
      : [];
    await this.codec.prepare(records);
    await this.codec.prepareEvents(records.map((r) => createdEvent(r, now, 'add')));
    return { records, rows, sealed: await this.codec.sealVectors(rows) };
  }

  /** Changes a memory's fields. A changed text drops the old vector, since it no longer describes the text. */
  async update(id: string, patch: MemoryPatch): Promise<MemoryRecord> {
    const key = parseId(id);
    await this.sealPatched([{ id: key, patch }]);
    return this.mutate(key, 'updating a memory', (r, at) => {
      const { next, fields, textChanged } = applyPatch(r, patch, this.limits, at);
      const event: MemoryEvent = { at, memoryId: r.id, type: 'updated', fields };
      return { next, event, dropVector: textChanged };
    });
  }

  /**
   * Adds memories and patches existing ones in one transaction (strict durability): all of it is
   * written, or none. Inputs are validated before the transaction opens; a patch of a memory that
   * is not there is a NotFoundError, a bad patch an InvalidInputError, and either leaves the store
   * unchanged. Patches apply in order (one memory may be patched twice); a rewritten text drops the
   * old vector. Listeners hear one change.
   */
  async applyChanges(batch: ChangeBatch): Promise<AppliedChanges> {
    const { inputs, updates } = parseChangeBatch(batch);
    const ids = [...new Set(updates.map((u) => u.id))];
    await this.sealPatched(updates);
    const now = this.now();
    const { records, rows, sealed } = await this.additions(inputs, batch.vectors, now, 'add');
    const clash = updates.find((u) => records.some((r) => r.id === u.id));
    if (clash) throw new InvalidInputError('invalid-input', `The batch both adds and patches "${clash.id}"; give the added memory its final fields instead.`);
    return this.write(`applying ${records.length} additions and ${updates.length} changes`, async (tx, log) => {
      const { stored, current } = await this.loadRows(tx, ids, 'Nothing of the batch was written.');
      // Every patch is applied (and so validated) before any request is queued.
      const events: MemoryEvent[] = [];
      const rewritten = new Set<string>();
      for (const u of updates) {
        const { next, fields, textChanged } = applyPatch(current.get(u.id)!, u.patch, this.limits, now);
        current.set(u.id, next);
        if (textChanged) rewritten.add(u.id);
        events.push({ at: now, memoryId: u.id, type: 'updated', fields });
      }
      const ops = queueAdditions(tx, log, records, sealed, now, (r) => this.codec.row(r));
      const updated = ids.map((id) => current.get(id)!);
      for (const r of updated) ops.push(tx.objectStore('memories').put(this.codec.row(r, stored.get(r.id))));
      for (const event of events) ops.push(log(event));
      // A rewritten text: the old vector no longer describes it, and the snapshots still hold the old text.
      for (const id of rewritten) ops.push(tx.objectStore('vectors').delete(id));
      if (rewritten.size > 0) ops.push(tx.objectStore('snapshots').clear());
      return { result: { created: records, updated }, ops, change: { upserted: [...records, ...updated], vectors: rows } };
    });
  }

  /**
   * In an encrypted store, seals the text and tags each patched memory will end with, and the
   * `updated` events, before the transaction that writes them (nothing is sealed inside one).
   * Patches apply in order; a memory that is not there is left for the transaction to report.
   */
  private async sealPatched(updates: readonly { id: string; patch: unknown }[]): Promise<void> {
    if (!this.codec.sealed) return;
    const current = await this.unsealRows([...new Set(updates.map((u) => u.id))]);
    const now = this.now();
    const events: MemoryEvent[] = [];
    for (const u of updates) {
      const r = current.get(u.id);
      if (!r) continue;
      const { next, fields } = applyPatch(r, u.patch, this.limits, now);
      current.set(u.id, next);
      events.push({ at: now, memoryId: u.id, type: 'updated', fields });
    }
    await Promise.all([this.codec.prepare([...current.values()]), this.codec.prepareEvents(events)]);
  }

  async remove(id: string): Promise<void> {
    const removed = await this.removeWhere([parseId(id)], 'removed');
    if (removed.length === 0) throw new NotFoundError(`No memory has id "${id}"; nothing was removed.`);
  }

  /** Removes every memory a scope covers: a user's (narrowed by role, agent or session if given), or all shared ones. */
  async clear(scope: MemoryScope): Promise<number> {
    const target = parseMemoryScope(scope);
    const owner = 'shared' in target ? SHARED_OWNER : `u:${target.userId}`;
    const rows = await guard('listing a scope to clear', () => this.db.getAllFromIndex('memories', 'by-owner', owner));
    const ids = rows.filter((r) => isWithin(r.scope, target)).map((r) => r.id);
    return (await this.removeWhere(ids, 'scope cleared')).length;
  }

  /**
   * Deletes memories for good, in one transaction: the record, its vector and the cached snapshots
   * (the search index and the themes hold words of every text; the next ones are saved without them). The event log and the
   * use tallies name memories by id and never hold text; the removal's event drops the memory's
   * tally when compaction folds it.
   */
  private async removeWhere(ids: string[], reason: string): Promise<string[]> {
    if (this.codec.sealed) await this.unsealRows(ids); // the removed texts go to listeners (an engine cache drops them)
    await this.codec.prepareEvents(ids.map((id) => ({ at: 0, memoryId: id, type: 'removed', reason })));
    return this.write('removing memories', async (tx, log) => {
      const at = this.now();
      const rows = await Promise.all(ids.map((id) => tx.objectStore('memories').get(id)));
      const removedRecords = rows.filter((r): r is MemoryRow => r !== undefined).map((r) => this.codec.record(r));
      for (const r of removedRecords) this.codec.forget(r.id);
      const removed = removedRecords.map((r) => r.id);
      const ops = removed.flatMap((id) => [
        tx.objectStore('memories').delete(id),
        tx.objectStore('vectors').delete(id),
        log({ at, memoryId: id, type: 'removed', reason }),
      ]);
      if (removed.length > 0) ops.push(tx.objectStore('snapshots').clear());
      return { result: removed, ops, change: { removed, removedRecords } };
    });
  }

  /** Moves a memory to another tier and logs why. `working` is not a stored tier: the working set is transient. */
  async setTier(id: string, tier: StoredTier, reason: string): Promise<MemoryRecord> {
    const [record] = await this.setTiers([{ id, tier, reason }]);
    return record!;
  }

  /**
   * Moves memories between tiers in one transaction (strict durability), logging a `tier-changed`
   * event with its reason for each move: all of them are written, or none (a memory that is not
   * there is a NotFoundError, and nothing changes). The batch applies in order; a change to the tier
   * a memory is already in is skipped, and a batch that moves nothing writes nothing. Listeners hear
   * one change. Returns each change's memory as the batch left it, in order.
   */
  async setTiers(changes: readonly TierChange[]): Promise<MemoryRecord[]> {
    const batch = parseTierChanges(changes);
    if (batch.length === 0) return [];
    const ids = [...new Set(batch.map((c) => c.id))];
    // Sealed, the tier is in the sealed payload: the moves are worked out on the rows as they are now, and sealed first.
    const final = new Map(batch.map((c) => [c.id, c.tier]));
    const before = await this.sealNext(ids, (r) => ({ ...r, tier: final.get(r.id)! }));
    if (before) await this.codec.prepareEvents(moveTiers(new Map(before), batch, 0));
    return this.write(`changing ${batch.length} tiers`, async (tx, log) => {
      const at = this.now();
      const loaded = await this.loadRows(tx, ids, 'No tier was changed.');
      const current = before ? new Map(before) : loaded.current;
      const events = moveTiers(current, batch, at);
      const upserted = [...new Set(events.map((e) => e.memoryId))].map((id) => current.get(id)!);
      const ops = [...events.map(log), ...upserted.map((r) => tx.objectStore('memories').put(this.codec.row(r, loaded.stored.get(r.id))))];
      return { result: batch.map((c) => current.get(c.id)!), ops, change: { upserted } };
    });
  }

  /**
   * Records that memories were used (mentioned, retrieved into a prompt, or opened), logging an
   * `accessed` event each, with its use. A mention or an access is the user's: it bumps the memory's
   * `accessCount` and `lastAccessedAt`. A retrieval is Mneme's own doing: it only appends to the log
   * (no row is rewritten), and retrievals asked for while a log write is under way share the next one.
   * Ids that are not stored are skipped.
   */
  async recordAccess(ids: readonly string[], use: UseKind): Promise<void> {
    if (!Array.isArray(ids)) throw new InvalidInputError('invalid-input', 'recordAccess takes an array of memory ids.');
    const kind = parseUse(use);
    const keys = ids.map(parseId);
    if (kind === 'retrieval') return this.retrievals.add(keys);
    const before = await this.sealNext(keys, (r) => ({ ...r, accessCount: r.accessCount + 1 }));
    await this.codec.prepareEvents(keys.map((id) => ({ at: 0, memoryId: id, type: 'accessed', use: kind })));
    await this.write('recording access', async (tx, log) => {
      const at = this.now();
      const rows = await Promise.all(keys.map((k) => tx.objectStore('memories').get(k)));
      const touched: MemoryRecord[] = [];
      const ops: Promise<unknown>[] = [];
      for (const row of rows) {
        if (!row) continue;
        const current = before?.get(row.id) ?? this.codec.record(row);
        const next = { ...current, lastAccessedAt: at, accessCount: current.accessCount + 1 };
        touched.push(next);
        ops.push(tx.objectStore('memories').put(this.codec.row(next, row)), log({ at, memoryId: next.id, type: 'accessed', use: kind }));
      }
      return { result: undefined, ops, change: { upserted: touched } };
    });
  }

  private async writeRetrievals(ids: readonly string[]): Promise<void> {
    await this.codec.prepareEvents(ids.map((id) => ({ at: 0, memoryId: id, type: 'accessed', use: 'retrieval' })));
    return this.write(`recording ${ids.length} retrievals`, async (tx, log) => {
      const at = this.now();
      const found = await Promise.all(ids.map((id) => tx.objectStore('memories').getKey(id)));
      const ops = ids.filter((_, i) => found[i] !== undefined).map((id) => log({ at, memoryId: id, type: 'accessed', use: 'retrieval' }));
      return { result: undefined, ops, change: {}, logOnly: true };
    });
  }

  /**
   * Folds the events the `eventLog` retention lets go into the use tallies and deletes them (see
   * store/compaction.ts); Mneme runs it once writes settle. Returns how many events it folded.
   */
  compactLog(): Promise<number> {
    return compactLog(this.db, this.codec, this.retention, this.heatHalfLifeMs, this.now());
  }

  /** Stores vectors for existing memories (after embedding or re-embedding); texts are untouched. An entry whose `text` no longer matches is skipped. */
  async putVectors(entries: readonly { id: string; vector: Float32Array; text?: string }[], embedding: EmbeddingRef): Promise<number> {
    if (!Array.isArray(entries) || entries.some((e) => !isPlainObject(e))) throw new InvalidInputError('invalid-input', 'putVectors takes an array of { id, vector, text? }.');
    const keys = entries.map((e) => parseId(e.id));
    checkVectors(entries.length, { vectors: entries.map((e) => e.vector), embedding });
    const before = await this.sealNext(keys, (r) => ({ ...r, embedding: { ...embedding } }));
    const sealed = await this.codec.sealVectors(entries.map((e, i) => ({ id: keys[i]!, model: embedding.model, dim: embedding.dim, data: e.vector })));
    return this.write('storing vectors', async (tx) => {
      const found = await Promise.all(keys.map((key) => tx.objectStore('memories').get(key)));
      const updated: MemoryRecord[] = [];
      const rows: VectorRow[] = [];
      const ops: Promise<unknown>[] = [];
      entries.forEach((e, i) => {
        const row = found[i];
        const current = row && (before?.get(row.id) ?? this.codec.record(row));
        if (!current || (e.text !== undefined && current.text !== e.text)) return; // removed or rewritten meanwhile: the vector is stale
        const next = { ...current, embedding: { ...embedding } };
        const vec: VectorRow = { id: e.id, model: embedding.model, dim: embedding.dim, data: e.vector };
        updated.push(next);
        rows.push(vec);
        ops.push(tx.objectStore('memories').put(this.codec.row(next, row)), tx.objectStore('vectors').put(sealed[i]!));
      });
      return { result: updated.length, ops, change: { upserted: updated, vectors: rows } };
    });
  }

  /**
   * Writes records as they are (ids, times and tiers kept), with their vectors, in one transaction; a record without a
   * vector loses any old one. Used by import: it may replace texts, so the cached snapshots go too.
   */
  async putRecords(records: readonly MemoryRecord[], vectors: readonly VectorRow[]): Promise<void> {
    const at = this.now();
    await this.codec.prepare(records);
    await this.codec.prepareEvents(records.map((r) => createdEvent(r, at, 'import')));
    const sealed = await this.codec.sealVectors(vectors);
    await this.write(`importing ${records.length} memories`, (tx, log) => {
      const ops: Promise<unknown>[] = [];
      const withVector = new Set(vectors.map((v) => v.id));
      for (const r of records) {
        ops.push(tx.objectStore('memories').put(this.codec.row(r)), log(createdEvent(r, at, 'import')));
        if (!withVector.has(r.id)) ops.push(tx.objectStore('vectors').delete(r.id));
      }
      for (const v of sealed) ops.push(tx.objectStore('vectors').put(v));
      if (records.length > 0) ops.push(tx.objectStore('snapshots').clear());
      return { result: undefined, ops, change: { upserted: [...records], vectors: [...vectors] } };
    });
  }
}
