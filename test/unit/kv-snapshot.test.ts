// The KV snapshot's pure parts: the byte format, the longest matching prefix
// by parts, the cut a deleted memory makes, and eviction under a size cap.
import { describe, expect, it } from 'vitest';
import { evictions } from '../../src/engine/snapshot/evict';
import { cutSnapshot, decodeSnapshot, encodeSnapshot, type KvSnapshot, type SnapshotPart } from '../../src/engine/snapshot/format';
import { matchingParts, partsBefore } from '../../src/engine/snapshot/match';
import { InvalidInputError } from '../../src/errors';

const LAYERS = 2;
const HEADS = 2;
const DIM = 3;
/** Values that name their place: layer, key or value, head, position, dim. */
const tensor = (layer: number, kind: number, length: number) =>
  Float32Array.from({ length: HEADS * length * DIM }, (_, i) => {
    const head = Math.floor(i / (length * DIM));
    const pos = Math.floor(i / DIM) % length;
    return layer * 10000 + kind * 1000 + head * 100 + pos * 10 + (i % DIM);
  });

const parts: SnapshotPart[] = [
  { id: 'system', hash: 'h-sys', end: 4 },
  { id: 'm1', hash: 'h-1', end: 7 },
  { id: 'm2', hash: 'h-2', end: 9 },
  { id: 'end', hash: 'h-end', end: 10 },
];
const tokens = [1, 2, 3, 4, 10, 11, 12, 20, 21, 5];

function snapshot(): KvSnapshot {
  return {
    parts,
    writtenAt: 1234,
    prefix: {
      model: 'm/x',
      revision: 'main',
      dtype: 'fp32',
      segments: [
        { kind: 'system', tokens: tokens.slice(0, 4) },
        { kind: 'activated', tokens: tokens.slice(4) },
      ],
      kv: {
        length: 10,
        layers: LAYERS,
        kvHeads: HEADS,
        headDim: DIM,
        keys: [tensor(0, 0, 10), tensor(1, 0, 10)],
        values: [tensor(0, 1, 10), tensor(1, 1, 10)],
      },
    },
  };
}

describe('KV snapshot format', () => {
  it('round-trips the header and every tensor exactly', () => {
    const back = decodeSnapshot(encodeSnapshot(snapshot()));
    expect(back.parts).toEqual(parts);
    expect(back.writtenAt).toBe(1234);
    expect(back.prefix.segments).toEqual(snapshot().prefix.segments);
    expect({ ...back.prefix, segments: undefined, kv: undefined }).toEqual({ ...snapshot().prefix, segments: undefined, kv: undefined });
    expect(back.prefix.kv.keys).toEqual(snapshot().prefix.kv.keys);
    expect(back.prefix.kv.values).toEqual(snapshot().prefix.kv.values);
  });

  it('refuses bytes that are not a whole snapshot', () => {
    const bytes = encodeSnapshot(snapshot());
    expect(() => decodeSnapshot(bytes.slice(0, bytes.length - 4))).toThrow(InvalidInputError);
    expect(() => decodeSnapshot(new TextEncoder().encode('not a snapshot'))).toThrow(/MKV1/);
  });

  it('cuts to leading parts: tokens and each head’s positions kept, the rest gone', () => {
    const cut = cutSnapshot(snapshot(), 2);
    expect(cut.parts).toEqual(parts.slice(0, 2));
    expect(cut.prefix.segments.flatMap((s) => s.tokens)).toEqual(tokens.slice(0, 7));
    expect(cut.prefix.kv.length).toBe(7);
    const key1 = cut.prefix.kv.keys[1]!;
    expect(key1).toEqual(tensor(1, 0, 10).filter((_, i) => Math.floor(i / DIM) % 10 < 7));
    expect(key1[7 * DIM]).toBe(10000 + 100); // head 1 starts at position 0 again
  });
});

describe('longest matching prefix', () => {
  const saved = { parts, tokens };
  it('matches every part when nothing changed', () => {
    expect(matchingParts(saved, { parts, tokens })).toBe(4);
  });
  it('stops at the first part whose memory differs (another text, another memory, another position)', () => {
    expect(matchingParts(saved, { parts: [parts[0]!, { ...parts[1]!, hash: 'edited' }, parts[2]!], tokens })).toBe(1);
    expect(matchingParts(saved, { parts: [parts[0]!, parts[1]!, { id: 'm3', hash: 'h-3', end: 9 }], tokens })).toBe(2);
    expect(matchingParts(saved, { parts: [{ ...parts[0]!, hash: 'other system' }], tokens })).toBe(0);
  });
  it('stops where the tokens differ even when ids and hashes agree', () => {
    expect(matchingParts(saved, { parts, tokens: [...tokens.slice(0, 5), 99, ...tokens.slice(6)] })).toBe(1);
  });
  it('a deleted or edited memory cuts from its position on', () => {
    expect(partsBefore(parts, new Set(['m2']))).toBe(2);
    expect(partsBefore(parts, new Set(['m2', 'm1']))).toBe(1);
    expect(partsBefore(parts, new Set(['other']))).toBe(4);
  });
});

describe('eviction under a cap', () => {
  const entries = [
    { name: 'a', bytes: 40, writtenAt: 3 },
    { name: 'b', bytes: 40, writtenAt: 1 },
    { name: 'c', bytes: 40, writtenAt: 2 },
  ];
  it('drops the oldest first until the rest fit', () => {
    expect(evictions(entries, 120)).toEqual([]);
    expect(evictions(entries, 100)).toEqual(['b']);
    expect(evictions(entries, 40)).toEqual(['b', 'c']);
  });
  it('keeps the one just written unless it alone is over the cap', () => {
    expect(evictions(entries, 40, 'b')).toEqual(['c', 'a']);
    expect(evictions(entries, 30, 'b')).toEqual(['c', 'a', 'b']);
  });
});
