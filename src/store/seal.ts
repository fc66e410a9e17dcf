// Encryption at rest (optional): texts with their tags, vectors and the index
// snapshot are sealed with AES-GCM, a random IV per value, under a key derived from a passphrase with PBKDF2 (its
// salt and iterations stored in the `keyring` store) or supplied by the host.
// WebCrypto is asynchronous and IndexedDB transactions commit when left idle,
// so nothing is sealed or opened inside one: the store seals before a write and
// opens after a read, and a codec keeps each text's (and tags') plaintext and ciphertext in
// memory ("decrypted into memory after unlock") for the rows a transaction
// reads and writes back.
import type { IDBPDatabase } from 'idb';
import { EncryptionError, MnemeError } from '../errors';
import type { EmbeddingRef, MemoryEvent, MemoryRecord } from '../memory/types';
import { packValue, unpackValue } from '../util/pack';
import { guard } from './idb-errors';
import { resealLegacy } from './reseal';
import { fromRow, toRow, type MemoryRow, type MnemeDB, type StoredEvent, type VectorRow } from './schema';

/** Ciphertext with its IV. */
export interface Sealed {
  iv: Uint8Array;
  data: ArrayBuffer;
}

/** Stored once per database: how the key is derived, and a sealed check value that proves it. */
export interface KeyParams {
  kdf: 'PBKDF2-SHA-256' | 'host-key';
  salt: Uint8Array;
  iterations: number;
  check: Sealed;
  /** Set once every row seals its tags and every event its payload (schema 6; see reseal.ts). */
  sealsAll?: true;
  /** Set once every row seals its importance, source, tier, access count and embedding model too (see reseal.ts). */
  sealsMeta?: true;
}

export type EncryptionOption = { passphrase: string; iterations?: number } | { key: CryptoKey };

export const PBKDF2_ITERATIONS = 600_000;
const CHECK = 'mneme-key-check';

/** Plaintext rows, or sealed ones: how records and vectors become rows and back. */
export interface RowCodec {
  readonly sealed: boolean;
  /** Seals these records' sealed fields (and remembers them) so `row` can write them inside a transaction. */
  prepare(records: readonly Pick<MemoryRecord, 'id' | SealedField>[]): Promise<void>;
  row(record: MemoryRecord, from?: MemoryRow): MemoryRow;
  /** Opens rows read from the store so `record` can read them (call after the transaction). */
  open(rows: readonly MemoryRow[]): Promise<void>;
  record(row: MemoryRow): MemoryRecord;
  sealVectors(rows: readonly VectorRow[]): Promise<VectorRow[]>;
  openVectors(rows: readonly VectorRow[]): Promise<VectorRow[]>;
  forget(id: string): void;
  /** Seals bytes kept outside the database (the KV snapshot in OPFS) as IV then ciphertext; the plaintext codec returns them as they are. */
  sealBytes(bytes: Uint8Array): Promise<Uint8Array>;
  /** @throws when the bytes were not sealed under this key (or were altered) */
  openBytes(bytes: Uint8Array): Promise<Uint8Array>;
  /** A whole value (the index snapshot) as stored: sealed in one piece, or as it is. */
  sealValue(value: unknown): Promise<unknown>;
  /** A stored value back; undefined when it cannot be opened (not sealed by this key). */
  openValue(stored: unknown): Promise<unknown>;
  /** Seals these events' payloads (all but time and memory id) so `event` can log them inside a transaction. */
  prepareEvents(events: readonly MemoryEvent[]): Promise<void>;
  event(event: MemoryEvent): StoredEvent;
  /** Events read from the log, opened (call after the transaction). */
  openEvents(rows: readonly StoredEvent[]): Promise<MemoryEvent[]>;
}

export const PLAIN_CODEC: RowCodec = {
  sealed: false,
  prepare: async () => undefined,
  row: (r) => toRow(r),
  open: async () => undefined,
  record: fromRow,
  sealVectors: async (rows) => [...rows],
  openVectors: async (rows) => [...rows],
  forget: () => undefined,
  sealBytes: async (bytes) => bytes,
  openBytes: async (bytes) => bytes,
  sealValue: async (value) => value,
  openValue: async (stored) => stored,
  prepareEvents: async () => undefined,
  event: (e) => e,
  openEvents: async (rows) => rows as MemoryEvent[],
};

/** Derives (or checks) the key for `option` against stored params; new params when there are none yet. */
export async function unlock(option: EncryptionOption, stored: KeyParams | undefined): Promise<{ codec: RowCodec; params: KeyParams }> {
  let key: CryptoKey;
  let params: KeyParams;
  if ('key' in option) {
    if (!(option.key instanceof CryptoKey) || option.key.algorithm.name !== 'AES-GCM') {
      throw new EncryptionError('invalid-key', 'encryption.key must be an AES-GCM CryptoKey (usages encrypt, decrypt).');
    }
    key = option.key;
    params = stored ?? { kdf: 'host-key', salt: new Uint8Array(0), iterations: 0, check: await seal(key, new TextEncoder().encode(CHECK)), sealsAll: true, sealsMeta: true };
  } else {
    if (typeof option.passphrase !== 'string' || option.passphrase.length === 0) throw new EncryptionError('invalid-key', 'encryption.passphrase must be a non-empty string.');
    const salt = stored?.salt ?? crypto.getRandomValues(new Uint8Array(16));
    const iterations = stored?.iterations ?? option.iterations ?? PBKDF2_ITERATIONS;
    key = await derive(option.passphrase, salt, iterations);
    params = stored ?? { kdf: 'PBKDF2-SHA-256', salt, iterations, check: await seal(key, new TextEncoder().encode(CHECK)), sealsAll: true, sealsMeta: true };
  }
  if (stored) {
    const check = await unseal(key, stored.check).catch(() => undefined);
    if (check === undefined || new TextDecoder().decode(check) !== CHECK) {
      throw new EncryptionError('wrong-key', 'The passphrase (or key) does not open this database; nothing was changed. Check encryption.passphrase.');
    }
  }
  return { codec: new SealedCodec(key), params };
}

async function derive(passphrase: string, salt: Uint8Array, iterations: number): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey('raw', new TextEncoder().encode(passphrase), 'PBKDF2', false, ['deriveKey']);
  return crypto.subtle.deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt: salt as BufferSource, iterations }, material, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
}

async function seal(key: CryptoKey, bytes: Uint8Array): Promise<Sealed> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  return { iv, data: await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, bytes as BufferSource) };
}

async function unseal(key: CryptoKey, sealed: Sealed): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: sealed.iv as BufferSource }, key, sealed.data));
}

/** What a row seals, together: everything but its id, scope and times (see the README's list of what stays visible). */
export type SealedField = 'text' | 'tags' | 'importance' | 'source' | 'tier' | 'accessCount' | 'embedding';
type SealedFields = Pick<MemoryRecord, SealedField>;
const payload = (r: SealedFields) => JSON.stringify([r.text, r.tags, r.importance, r.source, r.tier, r.accessCount, r.embedding ?? null]);

function fromPayload(clear: string): SealedFields {
  const [text, tags, importance, source, tier, accessCount, embedding] = JSON.parse(clear) as [string, string[], number, MemoryRecord['source'], MemoryRecord['tier'], number, EmbeddingRef | null];
  return { text, tags, importance, source, tier, accessCount, ...(embedding && { embedding }) };
}

/** What a sealed row holds in place of its sealed fields: the same for every row, so it tells nothing. */
const BLANK: SealedFields = Object.freeze({ text: '', tags: [], importance: 0, source: 'user', tier: 'plaintext', accessCount: 0 });

/** What an event seals: all but its place, time and memory id. */
function eventPayload(e: MemoryEvent): string {
  const { seq: _seq, at: _at, memoryId: _memoryId, ...rest } = e;
  return JSON.stringify(rest, Object.keys(rest).sort()); // keys in one order, however the event was built
}

class SealedCodec implements RowCodec {
  readonly sealed = true;
  /** Each memory's payload in the clear, and as sealed. */
  private readonly plain = new Map<string, string>();
  private readonly cipher = new Map<string, Sealed>();
  /** Sealed event payloads waiting for their write, by memory id and payload (each used once). */
  private readonly events = new Map<string, Sealed[]>();

  constructor(private readonly key: CryptoKey) {}

  async prepareEvents(events: readonly MemoryEvent[]): Promise<void> {
    await Promise.all(
      events.map(async (e) => {
        const clear = eventPayload(e);
        const sealed = await seal(this.key, new TextEncoder().encode(clear));
        const key = `${e.memoryId}\u0000${clear}`;
        this.events.set(key, [...(this.events.get(key) ?? []), sealed]);
      }),
    );
  }

  event(e: MemoryEvent): StoredEvent {
    const key = `${e.memoryId}\u0000${eventPayload(e)}`;
    const queue = this.events.get(key);
    const sealed = queue?.shift();
    if (!sealed) throw new MnemeError('internal', `an event of memory ${e.memoryId} was not sealed before its write; it may have changed meanwhile, try again`);
    if (queue!.length === 0) this.events.delete(key);
    return { ...(e.seq !== undefined && { seq: e.seq }), at: e.at, memoryId: e.memoryId, sealed };
  }

  openEvents(rows: readonly StoredEvent[]): Promise<MemoryEvent[]> {
    return Promise.all(
      rows.map(async (row) => {
        if (!('sealed' in row)) return row; // logged before schema 6
        const rest = JSON.parse(new TextDecoder().decode(await unseal(this.key, row.sealed))) as Omit<MemoryEvent, 'at' | 'memoryId'>;
        return { ...(row.seq !== undefined && { seq: row.seq }), at: row.at, memoryId: row.memoryId, ...rest } as MemoryEvent;
      }),
    );
  }

  async prepare(records: readonly Pick<MemoryRecord, 'id' | SealedField>[]): Promise<void> {
    await Promise.all(
      records.map(async (r) => {
        const clear = payload(r);
        if (this.plain.get(r.id) === clear && this.cipher.has(r.id)) return;
        this.cipher.set(r.id, await seal(this.key, new TextEncoder().encode(clear)));
        this.plain.set(r.id, clear);
      }),
    );
  }

  row(record: MemoryRecord, from?: MemoryRow): MemoryRow {
    const known = this.plain.get(record.id) === payload(record);
    const sealed = known ? (this.cipher.get(record.id) ?? (from?.sealedMeta ? from.sealed : undefined)) : undefined;
    if (!sealed) throw new MnemeError('internal', `memory ${record.id} was not sealed before its write`);
    const { embedding: _embedding, ...rest } = toRow(record);
    return { ...rest, ...BLANK, tags: [], sealed, sealedTags: true, sealedMeta: true };
  }

  async open(rows: readonly MemoryRow[]): Promise<void> {
    await Promise.all(
      rows.map(async (row) => {
        if (!row.sealed || this.cipher.get(row.id) === row.sealed) return;
        const opened = new TextDecoder().decode(await unseal(this.key, row.sealed));
        if (row.sealedMeta) {
          this.plain.set(row.id, opened);
          this.cipher.set(row.id, row.sealed);
          return;
        }
        // Older rows sealed the text alone (before schema 6) or text and tags, and kept the rest in the row:
        // sealed afresh now, so the next write of the row seals every field.
        const [text, tags] = row.sealedTags ? (JSON.parse(opened) as [string, string[]]) : [opened, row.tags];
        const clear = payload({ ...row, text, tags });
        this.cipher.set(row.id, await seal(this.key, new TextEncoder().encode(clear)));
        this.plain.set(row.id, clear);
      }),
    );
  }

  record(row: MemoryRow): MemoryRecord {
    const clear = row.sealed && this.plain.get(row.id);
    return clear ? { ...fromRow(row), ...fromPayload(clear) } : fromRow(row);
  }

  /** A vector is sealed with its model's name and size; the row keeps only its id. */
  sealVectors(rows: readonly VectorRow[]): Promise<VectorRow[]> {
    return Promise.all(rows.map(async (v) => ({ id: v.id, model: '', dim: 0, data: new Float32Array(0), sealed: await seal(this.key, packValue({ model: v.model, dim: v.dim, data: v.data })) })));
  }

  openVectors(rows: readonly VectorRow[]): Promise<VectorRow[]> {
    return Promise.all(
      rows.map(async (v) => {
        if (!v.sealed) return v;
        const bytes = await unseal(this.key, v.sealed);
        // Vectors sealed before the model's name was sealed with them kept it in the row, and sealed the floats alone.
        if (v.model !== '') return { id: v.id, model: v.model, dim: v.dim, data: new Float32Array(bytes.buffer) };
        const { model, dim, data } = unpackValue(bytes) as Pick<VectorRow, 'model' | 'dim' | 'data'>;
        return { id: v.id, model, dim, data };
      }),
    );
  }

  forget(id: string): void {
    this.plain.delete(id);
    this.cipher.delete(id);
  }

  async sealBytes(bytes: Uint8Array): Promise<Uint8Array> {
    const { iv, data } = await seal(this.key, bytes);
    const out = new Uint8Array(iv.length + data.byteLength);
    out.set(iv);
    out.set(new Uint8Array(data), iv.length);
    return out;
  }

  openBytes(bytes: Uint8Array): Promise<Uint8Array> {
    return unseal(this.key, { iv: bytes.slice(0, 12), data: bytes.slice(12).buffer });
  }

  sealValue(value: unknown): Promise<Sealed> {
    return seal(this.key, packValue(value));
  }

  async openValue(stored: unknown): Promise<unknown> {
    const sealed = stored as Partial<Sealed> | undefined;
    if (!(sealed?.iv instanceof Uint8Array) || !(sealed.data instanceof ArrayBuffer)) return undefined;
    const bytes = await unseal(this.key, sealed as Sealed).catch(() => undefined);
    return bytes && unpackValue(bytes);
  }
}

/** The row codec for this database: plaintext, or sealed under the unlocked key (new params stored for a new encrypted database). */
export async function openCodec(db: IDBPDatabase<MnemeDB>, option: EncryptionOption | undefined): Promise<RowCodec> {
  const [stored, count] = await guard('reading the keyring', () => Promise.all([db.get('keyring', 'params'), db.count('memories')]));
  if (!option) {
    if (stored) throw new EncryptionError('locked', 'This database is encrypted: open it with encryption: { passphrase } (or { key }).');
    return PLAIN_CODEC;
  }
  if (!stored && count > 0) throw new EncryptionError('invalid-key', 'This database already holds plaintext memories; encryption is chosen when a database is created (export, then import into a new one).');
  const { codec, params } = await unlock(option, stored);
  if (!stored) await guard('storing the keyring', () => db.put('keyring', params, 'params'));
  else if (!stored.sealsAll || !stored.sealsMeta) {
    await resealLegacy(db, codec);
    await guard('storing the keyring', () => db.put('keyring', { ...stored, sealsAll: true, sealsMeta: true }, 'params'));
  }
  return codec;
}
