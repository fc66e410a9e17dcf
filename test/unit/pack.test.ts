// Packing a structured value into bytes and back (used to seal the index snapshot).
import { describe, expect, it } from 'vitest';
import { packValue, unpackValue } from '../../src/util/pack';

describe('packValue / unpackValue', () => {
  it('round-trips JSON with typed arrays of every width, however nested and aligned', () => {
    const value = {
      format: 'x',
      records: JSON.stringify([{ text: 'a "quoted" text', tags: ['t'] }]),
      lexical: { ids: ['a', null], lengths: Float32Array.from([1.5, 2]), offsets: Int32Array.from([0, 3, -7]), tfs: Uint16Array.from([1, 2, 3]) },
      dense: { dim: 3, rows: Int8Array.from([1, -2, 3]), scales: Float64Array.from([0.1]) },
      odd: [Uint8Array.from([9]), Int16Array.from([-300])],
      none: undefined,
    };
    const back = unpackValue(packValue(value)) as typeof value;
    expect(back).toEqual({ ...value, none: undefined });
    expect(back.dense.rows).toBeInstanceOf(Int8Array);
    expect(back.lexical.lengths).toBeInstanceOf(Float32Array);
  });

  it('reads bytes that do not start on an aligned offset', () => {
    const packed = packValue({ v: Float64Array.from([1, 2]) });
    const shifted = new Uint8Array(packed.length + 3);
    shifted.set(packed, 3);
    expect(unpackValue(shifted.subarray(3))).toEqual({ v: Float64Array.from([1, 2]) });
  });
});
