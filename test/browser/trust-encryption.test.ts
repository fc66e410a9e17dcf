// Encryption at rest: with a passphrase (or a host key) no text, tag, vector or
// event payload lies in IndexedDB in the clear (events keep only their place,
// time and memory id; the index snapshot and the log's use tallies are sealed
// whole, so an encrypted store reopens from its snapshot), search works after unlock, and a wrong
// passphrase is a typed error that changes nothing.
import { afterEach, describe, expect, it } from 'vitest';
import { openDB } from 'idb';
import { EncryptionError } from '../../src/errors';
import { createMneme, type Mneme } from '../../src/mneme';
import type { MnemeDB } from '../../src/store/schema';
import type { MemoryRecord } from '../../src/memory/types';
import { openMemoryStore } from '../../src/store/store';
import { HashingEmbedder } from '../support/hashing-embedder';
import { dumpDatabase, occurrences, strings } from '../support/raw-idb';
import { rejection } from '../support/rejection';

const u = { userId: 'u' };
const open: Mneme[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((m) => m.close()));
});

const TEXTS = ['The safe code is quokka4471 behind the painting', 'Diagnosed with narwhal8812 syndrome in March', 'Flight to Lisbon on pelican3390 airline'];
const SECRETS = ['quokka4471', 'narwhal8812', 'pelican3390', 'painting', 'Lisbon', 'syndrome', 'oncology7731', 'travelbug5521', 'reason-okapi9912'];
/** What an event payload says in the clear when it is not sealed. */
const PAYLOAD_WORDS = ['created', 'updated', 'accessed', 'tier-changed', 'removed', 'retrieval', 'mention', 'activated', 'manual', 'origin', 'fields'];
const passphrase = { passphrase: 'correct horse battery staple', iterations: 10_000 };

describe('encryption at rest', () => {
  it('stores no plaintext, searches after unlock, and refuses a wrong passphrase without changing anything', async () => {
    const name = `enc-${crypto.randomUUID()}`;
    const m = await createMneme({ name, embedder: new HashingEmbedder(), encryption: passphrase, snapshotDelayMs: 5 });
    const added = await m.addMany(TEXTS.map((text, i) => ({ text, scope: u, ...(i === 2 && { tags: ['travelbug5521'] }), ...(i === 0 && { importance: 0.91, source: 'assistant' as const }) })));
    await m.update(added[0]!.id, { text: 'The safe code is quokka4471 behind the mirror painting' });
    await m.update(added[1]!.id, { tags: ['oncology7731'] });
    await m.setTier(added[2]!.id, 'activated', 'reason-okapi9912');
    await m.store.recordAccess([added[0]!.id], 'retrieval');
    await m.store.recordAccess([added[0]!.id, added[1]!.id], 'mention');
    await m.remove(added[2]!.id);
    await m.add({ text: 'Flight to Lisbon on pelican3390 airline, rebooked', scope: u });
    const log = await m.store.events(); // opened after unlock
    expect(log.map((e) => e.type)).toEqual(['created', 'created', 'created', 'updated', 'updated', 'tier-changed', 'accessed', 'accessed', 'accessed', 'removed', 'created']);
    expect(log[5]).toMatchObject({ type: 'tier-changed', from: 'plaintext', to: 'activated', reason: 'reason-okapi9912' });
    expect((await m.searchMemory('quokka4471 code', { scope: u }))[0]!.memory.text).toContain('quokka4471');
    await new Promise((r) => setTimeout(r, 50)); // a snapshot would have been saved by now
    await m.close();

    const raw = await dumpDatabase(name);
    const found = SECRETS.map((s) => occurrences(raw, s));
    const bytes = SECRETS.reduce((sum, s, i) => sum + Object.values(found[i]!).reduce((a, n) => a + n * s.length, 0), 0);
    console.log(`encryption: ${raw.memories!.length} memories, ${raw.vectors!.length} vectors at rest; plaintext found: ${bytes} bytes`);
    expect(found).toEqual(SECRETS.map(() => ({})));
    // Events keep their place, time and memory id; everything else is sealed. The tallies are sealed whole.
    expect(raw.events!.map((r) => Object.keys(r.value as object).sort())).toEqual(Array(11).fill(['at', 'memoryId', 'sealed', 'seq']));
    for (const word of PAYLOAD_WORDS) expect(occurrences({ events: raw.events! }, word)).toEqual({});
    expect(raw.snapshots).toHaveLength(1); // sealed whole: the secrets above were looked for in it too
    // Vectors are sealed too: no stored float array carries data.
    expect(raw.vectors!.every((r) => (r.value as { data: Float32Array }).data.length === 0)).toBe(true);
    // Rows keep id, scope and times; importance, source, tier, access count and embedding model are sealed with the text (as are vectors' models).
    expect(raw.memories!.map((r) => r.value)).toEqual(raw.memories!.map(() => expect.objectContaining({ importance: 0, source: 'user', tier: 'plaintext', accessCount: 0, sealedMeta: true })));
    expect(raw.memories!.some((r) => 'embedding' in (r.value as object))).toBe(false);
    expect([occurrences(raw, 'test/hashing'), occurrences(raw, 'assistant')]).toEqual([{}, {}]);
    expect((raw.keyring![0]!.value as { kdf: string; iterations: number }).kdf).toBe('PBKDF2-SHA-256');
    expect(strings(raw.memories).join(' ')).not.toContain('quokka');

    // A wrong passphrase, or none: a typed error, and the database is as it was.
    const wrong = await rejection(createMneme({ name, encryption: { passphrase: 'wrong horse' } }));
    expect(wrong).toBeInstanceOf(EncryptionError);
    expect(wrong.code).toBe('wrong-key');
    expect((await rejection(openMemoryStore({ name }))).code).toBe('locked');
    expect(await dumpDatabase(name)).toEqual(raw);

    // The right one opens it: every memory is back and search works (decrypted into memory).
    const again = await createMneme({ name, embedder: new HashingEmbedder(), encryption: passphrase });
    open.push(again);
    expect(again.openedFrom).toBe('snapshot');
    expect((await again.list({ scope: u, filter: { tags: ['oncology7731'] } })).map((r) => r.text)).toEqual(['Diagnosed with narwhal8812 syndrome in March']);
    expect(again.peek(added[1]!.id)!.tags).toEqual(['oncology7731']);
    expect(again.peek(added[0]!.id)).toMatchObject({ importance: 0.91, source: 'assistant', accessCount: 1, embedding: { model: 'test/hashing' } });
    const texts = (await again.list({ scope: u })).map((r) => r.text).sort();
    expect(texts).toEqual(['Diagnosed with narwhal8812 syndrome in March', 'Flight to Lisbon on pelican3390 airline, rebooked', 'The safe code is quokka4471 behind the mirror painting']);
    const hits = await again.searchMemory('narwhal8812 syndrome', { scope: u });
    expect(hits[0]!.memory.text).toBe('Diagnosed with narwhal8812 syndrome in March');
    expect(hits[0]!.parts.dense).toBeGreaterThan(0.3);
  });

  it('folds sealed events into sealed tallies, and reads them back after unlock', async () => {
    const name = `enc-log-${crypto.randomUUID()}`;
    const m = await createMneme({ name, encryption: passphrase, eventLog: { maxEvents: 1 }, snapshotDelayMs: 60_000 });
    const [a, b] = await m.addMany([{ text: 'first secret', scope: u }, { text: 'second secret', scope: u }]);
    await m.store.recordAccess([a!.id], 'retrieval');
    await m.store.recordAccess([a!.id, b!.id], 'mention');
    expect(await m.store.compactLog()).toBe(4);
    await m.close();
    const raw = await dumpDatabase(name);
    expect(Object.keys(raw.logState![0]!.value as object).sort()).toEqual(['halfLifeMs', 'tallies', 'upTo']);
    expect(strings(raw.logState).join(' ')).not.toContain(a!.id); // the tallies name memories only inside the seal
    for (const word of PAYLOAD_WORDS) expect(occurrences({ events: raw.events!, logState: raw.logState! }, word)).toEqual({});
    const again = await createMneme({ name, encryption: passphrase });
    open.push(again);
    const { tallies, tail } = await again.store.heatLog();
    expect(tail.map((e) => [e.memoryId, e.type])).toEqual([[b!.id, 'accessed']]);
    expect(tallies.find((t) => t.id === a!.id)!.counts).toEqual({ mention: 2, retrieval: 1, access: 0 });
  });

  it('seals what older encrypted stores left in the clear (tags, event payloads, row fields), once, at the first unlock', async () => {
    const name = `enc-legacy-${crypto.randomUUID()}`;
    const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
    const store = await openMemoryStore({ name, encryption: { key } });
    const [five, six] = await store.addMany([
      { text: 'legacy okapi2208 note', scope: u, tags: ['legacytag4411'] },
      { text: 'schema six ibis5150 note', scope: u, tags: ['sixtag7373'], importance: 0.83, source: 'assistant' },
    ]);
    store.close();
    const db = await openDB<MnemeDB>(name);
    const sealText = async (text: string) => {
      const iv = crypto.getRandomValues(new Uint8Array(12));
      return { iv, data: await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, new TextEncoder().encode(text)) };
    };
    const clear = (r: MemoryRecord) => ({ ...r, owner: 'u:u' });
    // As schema 5 left a row: the text sealed alone, everything else (tags too) in the clear; its event in the clear.
    await db.put('memories', { ...clear(five!), sealed: await sealText(five!.text), text: '' });
    // As schema 6 left a row: text and tags sealed together, importance, source and access count in the clear.
    await db.put('memories', { ...clear(six!), accessCount: 7, sealed: await sealText(JSON.stringify([six!.text, six!.tags])), text: '', tags: [], sealedTags: true });
    const [event] = await db.getAll('events');
    await db.put('events', { seq: event!.seq!, at: event!.at, memoryId: five!.id, type: 'created', source: 'manual', origin: 'add' });
    const { sealsAll: _sealsAll, sealsMeta: _sealsMeta, ...params } = (await db.get('keyring', 'params'))!;
    await db.put('keyring', params, 'params');
    db.close();
    expect(occurrences(await dumpDatabase(name), 'legacytag4411')).toEqual({ memories: 1 });

    const again = await openMemoryStore({ name, encryption: { key } });
    expect(await again.get(five!.id, { scope: u })).toMatchObject({ text: 'legacy okapi2208 note', tags: ['legacytag4411'] });
    expect(await again.get(six!.id, { scope: u })).toMatchObject({ text: 'schema six ibis5150 note', tags: ['sixtag7373'], importance: 0.83, source: 'assistant', accessCount: 7 });
    expect((await again.events()).map((e) => e.type)).toEqual(['created', 'created']);
    again.close();
    const raw = await dumpDatabase(name);
    for (const word of ['legacytag4411', 'okapi2208', 'sixtag7373', 'ibis5150', 'assistant']) expect(occurrences({ memories: raw.memories! }, word)).toEqual({});
    expect(raw.memories!.map((r) => r.value)).toEqual(raw.memories!.map(() => expect.objectContaining({ importance: 0, source: 'user', tier: 'plaintext', accessCount: 0, sealedMeta: true })));
    expect(Object.keys(raw.events![0]!.value as object).sort()).toEqual(['at', 'memoryId', 'sealed', 'seq']);
    expect(raw.keyring![0]!.value).toMatchObject({ sealsAll: true, sealsMeta: true });
  });

  it('takes a key from the host instead of a passphrase', async () => {
    const name = `enc-key-${crypto.randomUUID()}`;
    const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
    const m = await createMneme({ name, encryption: { key } });
    await m.add({ text: 'host keyed okapi5150 secret', scope: u });
    await m.close();
    expect(occurrences(await dumpDatabase(name), 'okapi5150')).toEqual({});
    const other = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
    expect((await rejection(createMneme({ name, encryption: { key: other } }))).code).toBe('wrong-key');
    const again = await createMneme({ name, encryption: { key } });
    open.push(again);
    expect((await again.searchMemory('okapi5150', { scope: u }))[0]!.memory.text).toBe('host keyed okapi5150 secret');
  });

  it('stores vectors embedded later (re-embedding) for the sealed text they were made from, and counts accesses and moves tiers under the seal', async () => {
    const name = `enc-later-${crypto.randomUUID()}`;
    const store = await openMemoryStore({ name, encryption: passphrase });
    const note = await store.add({ text: 'embedded later heron8181', scope: u });
    const vector = Float32Array.from({ length: 4 }, (_, i) => i + 1);
    expect(await store.putVectors([{ id: note.id, vector, text: 'a text it no longer has' }], { model: 'test/later', dim: 4 })).toBe(0);
    expect(await store.putVectors([{ id: note.id, vector, text: note.text }], { model: 'test/later', dim: 4 })).toBe(1);
    await store.recordAccess([note.id, note.id], 'access');
    await store.recordAccess([note.id], 'mention');
    await store.setTier(note.id, 'archived', 'test: archived');
    store.close();
    const raw = await dumpDatabase(name);
    expect(occurrences(raw, 'test/later')).toEqual({});
    expect(raw.memories![0]!.value).toMatchObject({ tier: 'plaintext', accessCount: 0 });
    const again = await openMemoryStore({ name, encryption: passphrase });
    expect(await again.get(note.id, { scope: u })).toMatchObject({ embedding: { model: 'test/later', dim: 4 }, accessCount: 2, tier: 'archived' });
    expect((await again.loadAll()).vectors).toEqual([{ id: note.id, model: 'test/later', dim: 4, data: vector }]);
    again.close();
  });
});
