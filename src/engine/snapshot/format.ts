// The KV snapshot's format: a held prefix of the cache (its token segments and
// KV tensors, the model, revision and dtype that computed them) with the parts
// it was laid out from, each a hash of the text it came from, so a restore can
// take the longest prefix that still matches and a deleted memory can cut the
// snapshot where its text starts. Pure: bytes in, bytes out.
//
// Bytes: "MKV1", a u32 header length, the header as UTF-8 JSON, zero padding
// to a multiple of 4, then per layer its keys and its values as float32 (each
// [1, kvHeads, length, headDim]).
import { InvalidInputError } from '../../errors';
import { cutKv } from '../kv-tensors';
import { promptLength, sliceSegments } from '../ledger';
import type { KvPrefix, KvTensors, TokenSegment } from '../types';

/** One piece of the stable prefix: the system prompt, an activated memory, or the block's close. */
export interface SnapshotPart {
  /** 'system', a memory id, or 'end' (the activated block's closing tokens). */
  readonly id: string;
  /** SHA-256 (hex) of the text the part came from. */
  readonly hash: string;
  /** Token offset where the part ends. */
  readonly end: number;
}

export interface KvSnapshot {
  readonly parts: readonly SnapshotPart[];
  readonly prefix: KvPrefix;
  /** When it was written, in ms since the epoch. */
  readonly writtenAt: number;
}

const MAGIC = 'MKV1';

interface Header {
  model: string;
  revision: string;
  dtype: string;
  writtenAt: number;
  parts: SnapshotPart[];
  segments: TokenSegment[];
  length: number;
  layers: number;
  kvHeads: number;
  headDim: number;
}

export function encodeSnapshot(snapshot: KvSnapshot): Uint8Array {
  const { prefix, parts, writtenAt } = snapshot;
  const { kv } = prefix;
  const header: Header = {
    model: prefix.model,
    revision: prefix.revision,
    dtype: prefix.dtype,
    writtenAt,
    parts: [...parts],
    segments: prefix.segments.map((s) => ({ kind: s.kind, tokens: [...s.tokens] })),
    length: kv.length,
    layers: kv.layers,
    kvHeads: kv.kvHeads,
    headDim: kv.headDim,
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const start = align4(8 + json.length);
  const per = kv.kvHeads * kv.length * kv.headDim;
  const bytes = new Uint8Array(start + kv.layers * 2 * per * 4);
  bytes.set(new TextEncoder().encode(MAGIC));
  new DataView(bytes.buffer).setUint32(4, json.length, true);
  bytes.set(json, 8);
  const floats = new Float32Array(bytes.buffer, start);
  for (let l = 0; l < kv.layers; l++) {
    floats.set(kv.keys[l] as Float32Array, 2 * l * per);
    floats.set(kv.values[l] as Float32Array, (2 * l + 1) * per);
  }
  return bytes;
}

/** @throws InvalidInputError('snapshot-mismatch') when the bytes are not a whole snapshot */
export function decodeSnapshot(bytes: Uint8Array): KvSnapshot {
  const bad = (why: string) => new InvalidInputError('snapshot-mismatch', `Not a KV snapshot: ${why}`);
  if (bytes.length < 8 || new TextDecoder().decode(bytes.subarray(0, 4)) !== MAGIC) throw bad('no MKV1 header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = view.getUint32(4, true);
  if (8 + size > bytes.length) throw bad('a truncated header');
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + size))) as Header;
  } catch {
    throw bad('an unreadable header');
  }
  const { length, layers, kvHeads, headDim } = header;
  if (![length, layers, kvHeads, headDim].every((n) => Number.isInteger(n) && n >= 0) || !Array.isArray(header.parts) || !Array.isArray(header.segments)) throw bad('a malformed header');
  if (promptLength({ segments: header.segments }) !== length || header.parts.some((p) => !(p.end <= length))) throw bad('parts or segments that do not fit its length');
  const start = align4(8 + size);
  const per = kvHeads * length * headDim;
  if (bytes.length !== start + layers * 2 * per * 4) throw bad(`${bytes.length} bytes where ${start + layers * 2 * per * 4} were expected`);
  const floats = new Float32Array(bytes.slice(start).buffer);
  const layer = (i: number) => floats.slice(i * per, (i + 1) * per);
  const kv: KvTensors = {
    length,
    layers,
    kvHeads,
    headDim,
    keys: Array.from({ length: layers }, (_, l) => layer(2 * l)),
    values: Array.from({ length: layers }, (_, l) => layer(2 * l + 1)),
  };
  return { parts: header.parts, writtenAt: header.writtenAt, prefix: { model: header.model, revision: header.revision, dtype: header.dtype, segments: header.segments, kv } };
}

/** The snapshot's first `count` parts (its prefix up to where the last of them ends). */
export function cutSnapshot(snapshot: KvSnapshot, count: number): KvSnapshot {
  const parts = snapshot.parts.slice(0, count);
  const length = parts.at(-1)?.end ?? 0;
  const { prefix } = snapshot;
  return { parts, writtenAt: snapshot.writtenAt, prefix: { ...prefix, segments: sliceSegments(prefix, 0, length), kv: cutKv(prefix.kv, length) } };
}

function align4(n: number): number {
  return (n + 3) & ~3;
}
