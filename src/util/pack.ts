// A structured value as one byte array and back: JSON for its shape, with every
// typed array lifted out into an aligned binary tail (so a search index of
// megabytes of vectors and postings packs without a copy into JSON numbers).
// Used to seal values whole (store/seal.ts).

const TYPED = { Int8Array, Uint8Array, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array } as const;
type TypedName = keyof typeof TYPED;
type Typed = InstanceType<(typeof TYPED)[TypedName]>;
const ALIGN = 8;
const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

export function packValue(value: unknown): Uint8Array {
  const blocks: Typed[] = [];
  let tail = 0;
  const json = JSON.stringify(value, function (this: Record<string, unknown>, key) {
    const original = this[key];
    if (!ArrayBuffer.isView(original) || original instanceof DataView) return original;
    const typed = original as Typed;
    const at = tail;
    blocks.push(typed);
    tail = align(tail + typed.byteLength);
    return { $typed: typed.constructor.name, at, length: typed.length };
  });
  const head = new TextEncoder().encode(json ?? 'null');
  const start = align(4 + head.length);
  const out = new Uint8Array(start + tail);
  new DataView(out.buffer).setUint32(0, head.length, true);
  out.set(head, 4);
  let at = start;
  for (const b of blocks) {
    out.set(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), at);
    at = align(at + b.byteLength);
  }
  return out;
}

export function unpackValue(bytes: Uint8Array): unknown {
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  const start = align(4 + length);
  // A copy on an aligned buffer, so typed arrays can view it directly.
  const body = bytes.byteOffset % ALIGN === 0 ? bytes : bytes.slice();
  return JSON.parse(new TextDecoder().decode(body.subarray(4, 4 + length)), (_key, v: unknown) => {
    if (typeof v !== 'object' || v === null || !('$typed' in v)) return v;
    const { $typed, at, length: n } = v as { $typed: TypedName; at: number; length: number };
    const Ctor = TYPED[$typed];
    return new Ctor(body.buffer as ArrayBuffer, body.byteOffset + start + at, n);
  });
}
