// @ts-check
// A minimal protocol buffers *writer*: just what ONNX files need. Messages are
// built as ropes (lists of byte chunks) so large tensors are never copied
// until the file is written.

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

/** @param {number | bigint} value  an integer; negative values are written as 64-bit two's complement */
export function encodeVarint(value) {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new RangeError(`varint: ${value} is not a safe integer`);
    if (value >= 0 && value < 2 ** 31) {
      const out = [];
      let v = value;
      while (v > 0x7f) {
        out.push((v & 0x7f) | 0x80);
        v >>>= 7;
      }
      out.push(v);
      return Uint8Array.from(out);
    }
  }
  let v = BigInt.asUintN(64, BigInt(value));
  const out = [];
  while (v > 0x7fn) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Uint8Array.from(out);
}

/** @param {number} field @param {number} wireType */
function tag(field, wireType) {
  return encodeVarint(field * 8 + wireType);
}

const utf8 = new TextEncoder();

/** One protobuf message under construction. Methods append fields and return `this`. */
export class Message {
  /** @type {Uint8Array[]} */
  parts = [];
  byteLength = 0;

  /** @param {Uint8Array} bytes */
  #push(bytes) {
    this.parts.push(bytes);
    this.byteLength += bytes.byteLength;
  }

  /** int32, int64, enum and bool fields. @param {number} field @param {number | bigint | boolean} value */
  varint(field, value) {
    this.#push(tag(field, WIRE_VARINT));
    this.#push(encodeVarint(typeof value === 'boolean' ? Number(value) : value));
    return this;
  }

  /** @param {number} field @param {number} value */
  float(field, value) {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.#push(tag(field, WIRE_FIXED32));
    this.#push(bytes);
    return this;
  }

  /** bytes fields; the chunk is referenced, not copied. @param {number} field @param {Uint8Array} bytes */
  bytes(field, bytes) {
    this.#push(tag(field, WIRE_LEN));
    this.#push(encodeVarint(bytes.byteLength));
    this.#push(bytes);
    return this;
  }

  /** @param {number} field @param {string} value */
  string(field, value) {
    return this.bytes(field, utf8.encode(value));
  }

  /** An embedded message. @param {number} field @param {Message} message */
  message(field, message) {
    this.#push(tag(field, WIRE_LEN));
    this.#push(encodeVarint(message.byteLength));
    for (const part of message.parts) this.#push(part);
    return this;
  }

  /** A packed repeated varint field. @param {number} field @param {Iterable<number | bigint>} values */
  packedVarints(field, values) {
    const encoded = [...values].map(encodeVarint);
    const body = new Uint8Array(encoded.reduce((n, b) => n + b.byteLength, 0));
    let at = 0;
    for (const b of encoded) {
      body.set(b, at);
      at += b.byteLength;
    }
    return this.bytes(field, body);
  }

  /** A packed repeated float field. @param {number} field @param {Iterable<number>} values */
  packedFloats(field, values) {
    const floats = Float32Array.from(values);
    return this.bytes(field, littleEndianBytes(floats));
  }

  /** The whole message as one buffer (copies; use `parts` to stream a large one). */
  toBytes() {
    const out = new Uint8Array(this.byteLength);
    let at = 0;
    for (const part of this.parts) {
      out.set(part, at);
      at += part.byteLength;
    }
    return out;
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The bytes of a typed array in little-endian order, as protobuf and ONNX raw_data require. */
export function littleEndianBytes(/** @type {ArrayBufferView} */ view) {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  if (LITTLE_ENDIAN) return bytes;
  const width = 'BYTES_PER_ELEMENT' in view ? Number(view.BYTES_PER_ELEMENT) : 1;
  const swapped = new Uint8Array(bytes.byteLength);
  for (let i = 0; i < bytes.byteLength; i += width) {
    for (let j = 0; j < width; j++) swapped[i + j] = /** @type {number} */ (bytes[i + width - 1 - j]);
  }
  return swapped;
}
