// A reader for the safetensors format (the Hugging Face hub's tensor files):
// an 8-byte little-endian header length, a JSON header naming each tensor's
// dtype, shape and byte range, then the raw little-endian data. Only what a
// static embedding model needs: floats as Float32Array, integers as Int32Array.
// Pure.
import { ModelError } from '../errors';

export interface TensorInfo {
  dtype: string;
  shape: number[];
  /** Byte range within the data section. */
  start: number;
  end: number;
}

export interface Safetensors {
  tensors: ReadonlyMap<string, TensorInfo>;
  /** The tensor's values as float32 (F32, F16, BF16, F64, I8 or U8 data). */
  floats(name: string): Float32Array;
  /** The tensor's values as int32 (I32, or I64 within int32's range). */
  ints(name: string): Int32Array;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const WIDTH: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/**
 * Parses the header and checks every tensor's byte range; values are decoded on demand.
 * @param what names the file in error messages (e.g. its URL)
 * @throws ModelError('model-load-failed') when the file is not valid safetensors
 */
export function readSafetensors(buffer: ArrayBuffer, what = 'model.safetensors'): Safetensors {
  const fail = (reason: string) => new ModelError('model-load-failed', `${what} is not a valid safetensors file: ${reason}`);
  if (buffer.byteLength < 8) throw fail(`it has ${buffer.byteLength} bytes`);
  const headerLength = Number(new DataView(buffer).getBigUint64(0, true));
  if (headerLength > buffer.byteLength - 8) throw fail(`its header claims ${headerLength} bytes, more than the file holds`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 8, headerLength)));
  } catch (error) {
    throw fail(`its header is not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw fail('its header is not a JSON object');
  const dataStart = 8 + headerLength;
  const tensors = new Map<string, TensorInfo>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    tensors.set(name, tensorInfo(name, entry, buffer.byteLength - dataStart, fail));
  }
  const view = (name: string) => {
    const info = tensors.get(name);
    if (!info) throw new ModelError('model-load-failed', `${what} has no tensor "${name}" (it has ${[...tensors.keys()].join(', ') || 'none'})`);
    return { info, bytes: new DataView(buffer, dataStart + info.start, info.end - info.start) };
  };
  return {
    tensors,
    floats: (name) => {
      const { info, bytes } = view(name);
      return decodeFloats(bytes, info.dtype, () => fail(`tensor "${name}" has dtype ${info.dtype}, not a float type`));
    },
    ints: (name) => {
      const { info, bytes } = view(name);
      return decodeInts(bytes, info.dtype, () => fail(`tensor "${name}" has dtype ${info.dtype}, not I32 or I64 within int32`));
    },
  };
}

function tensorInfo(name: string, entry: unknown, dataBytes: number, fail: (reason: string) => ModelError): TensorInfo {
  const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  const width = typeof e?.dtype === 'string' ? WIDTH[e.dtype] : undefined;
  if (width === undefined) throw fail(`tensor "${name}" has an unknown dtype ${JSON.stringify(e?.dtype)}`);
  const shape = e.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw fail(`tensor "${name}" has no valid shape`);
  const offsets = e.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0)) {
    throw fail(`tensor "${name}" has no valid data_offsets`);
  }
  const [start, end] = offsets as [number, number];
  const count = (shape as number[]).reduce((a, b) => a * b, 1);
  if (end < start || end > dataBytes || end - start !== count * width) {
    throw fail(`tensor "${name}" (${e.dtype} [${shape.join(', ')}]) has bytes ${start}..${end} of ${dataBytes}`);
  }
  return { dtype: e.dtype as string, shape: shape as number[], start, end };
}

function decodeFloats(bytes: DataView, dtype: string, wrong: () => ModelError): Float32Array {
  const n = bytes.byteLength / (WIDTH[dtype] ?? 1);
  // Aligned float32 (safetensors pads its header to 8 bytes) on a little-endian host: a view, no copy.
  if (dtype === 'F32' && LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, n);
  const out = new Float32Array(n);
  switch (dtype) {
    case 'F32':
      for (let i = 0; i < n; i++) out[i] = bytes.getFloat32(i * 4, true);
      return out;
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = bytes.getFloat64(i * 8, true);
      return out;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = halfToFloat(bytes.getUint16(i * 2, true));
      return out;
    case 'BF16': {
      const word = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < n; i++) {
        word.setUint32(0, bytes.getUint16(i * 2, true) << 16);
        out[i] = word.getFloat32(0);
      }
      return out;
    }
    case 'I8':
      for (let i = 0; i < n; i++) out[i] = bytes.getInt8(i);
      return out;
    case 'U8':
      for (let i = 0; i < n; i++) out[i] = bytes.getUint8(i);
      return out;
    default:
      throw wrong();
  }
}

function decodeInts(bytes: DataView, dtype: string, wrong: () => ModelError): Int32Array {
  const n = bytes.byteLength / (WIDTH[dtype] ?? 1);
  const out = new Int32Array(n);
  if (dtype === 'I32') {
    for (let i = 0; i < n; i++) out[i] = bytes.getInt32(i * 4, true);
    return out;
  }
  if (dtype !== 'I64') throw wrong();
  for (let i = 0; i < n; i++) {
    const v = bytes.getBigInt64(i * 8, true);
    if (v > 2147483647n || v < -2147483648n) throw wrong();
    out[i] = Number(v);
  }
  return out;
}

/** IEEE 754 half precision to a number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}
