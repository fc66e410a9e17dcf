// @ts-check
// ONNX messages (onnx.proto, proto2) on top of the protobuf writer, and a small
// GraphBuilder that names values, collects initializers and emits a ModelProto.
// Only the fields Mneme's stand-in models need are covered.
import { openSync, writeSync, closeSync } from 'node:fs';
import { Message, littleEndianBytes } from './proto.mjs';

/** TensorProto.DataType */
export const DataType = Object.freeze({ FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10 });

/** AttributeProto.AttributeType */
const AttrType = Object.freeze({ FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 });

/**
 * An attribute value. Numbers are ambiguous in JS, so the kind is explicit:
 * `{ int: 1 }`, `{ float: 1e-12 }`, `{ ints: [0, 2, 1, 3] }`, `{ floats: [...] }`,
 * `{ string: 'x' }`, `{ tensor: tensorProto }`.
 * @typedef {{ int: number } | { float: number } | { ints: readonly number[] } | { floats: readonly number[] }
 *   | { string: string } | { tensor: Message }} AttrValue
 */

/** @typedef {Float32Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Uint16Array} TensorData */

/** @param {string} name @param {AttrValue} value */
export function attribute(name, value) {
  const m = new Message().string(1, name);
  if ('int' in value) return m.varint(3, value.int).varint(20, AttrType.INT);
  if ('float' in value) return m.float(2, value.float).varint(20, AttrType.FLOAT);
  if ('string' in value) return m.string(4, value.string).varint(20, AttrType.STRING);
  if ('tensor' in value) return m.message(5, value.tensor).varint(20, AttrType.TENSOR);
  if ('ints' in value) {
    for (const v of value.ints) m.varint(8, v);
    return m.varint(20, AttrType.INTS);
  }
  for (const v of value.floats) m.float(7, v);
  return m.varint(20, AttrType.FLOATS);
}

/** A TensorProto with its data as raw little-endian bytes. @param {string} name @param {number} dataType @param {readonly number[]} dims @param {TensorData} data */
export function tensor(name, dataType, dims, data) {
  const count = dims.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new Error(`tensor ${name}: ${data.length} values for dims [${dims}]`);
  const m = new Message();
  for (const d of dims) m.varint(1, d);
  return m.varint(2, dataType).string(8, name).bytes(9, littleEndianBytes(data));
}

/**
 * A graph input or output. A string dim is symbolic (dynamic), a number is fixed.
 * @param {string} name @param {number} elemType @param {readonly (number | string)[]} shape
 */
export function valueInfo(name, elemType, shape) {
  const dims = new Message();
  for (const d of shape) dims.message(1, typeof d === 'number' ? new Message().varint(1, d) : new Message().string(2, d));
  const tensorType = new Message().varint(1, elemType).message(2, dims);
  return new Message().string(1, name).message(2, new Message().message(1, tensorType));
}

/**
 * @param {string} opType @param {readonly string[]} inputs @param {readonly string[]} outputs
 * @param {{ name?: string, domain?: string, attrs?: Record<string, AttrValue> }} [options]
 */
export function node(opType, inputs, outputs, options = {}) {
  const m = new Message();
  for (const i of inputs) m.string(1, i);
  for (const o of outputs) m.string(2, o);
  if (options.name !== undefined) m.string(3, options.name);
  m.string(4, opType);
  for (const [k, v] of Object.entries(options.attrs ?? {})) m.message(5, attribute(k, v));
  if (options.domain !== undefined) m.string(7, options.domain);
  return m;
}

/**
 * Builds one graph. `op` returns the names of the values it creates, so a
 * model reads as a chain of calls; initializers and constants get unique names.
 */
export class GraphBuilder {
  /** @type {Message[]} */ #nodes = [];
  /** @type {Message[]} */ #inits = [];
  /** @type {Message[]} */ #inputs = [];
  /** @type {Message[]} */ #outputs = [];
  /** @type {Set<string>} */ #names = new Set();
  #counter = 0;

  /** @param {string} name */
  constructor(name) {
    this.name = name;
  }

  /** A fresh value name with the given stem. @param {string} stem */
  unique(stem) {
    let name = stem;
    while (this.#names.has(name)) name = `${stem}_${++this.#counter}`;
    this.#names.add(name);
    return name;
  }

  /** @param {string} name @param {number} elemType @param {readonly (number | string)[]} shape */
  input(name, elemType, shape) {
    this.#names.add(name);
    this.#inputs.push(valueInfo(name, elemType, shape));
    return name;
  }

  /** Declares an existing value as a graph output. @param {string} name @param {number} elemType @param {readonly (number | string)[]} shape */
  output(name, elemType, shape) {
    this.#outputs.push(valueInfo(name, elemType, shape));
    return name;
  }

  /** A weight. @param {string} name @param {number} dataType @param {readonly number[]} dims @param {TensorData} data */
  initializer(name, dataType, dims, data) {
    const unique = this.unique(name);
    this.#inits.push(tensor(unique, dataType, dims, data));
    return unique;
  }

  /** A 1-D int64 constant (shapes, axes, indices). @param {readonly number[]} values */
  int64s(values, stem = 'const_i64') {
    return this.initializer(stem, DataType.INT64, [values.length], BigInt64Array.from(values, BigInt));
  }

  /** A float scalar constant (rank 0). @param {number} value */
  scalar(value, stem = 'const_f32') {
    return this.initializer(stem, DataType.FLOAT, [], Float32Array.of(value));
  }

  /**
   * Adds a node. With `outputs` a number, that many fresh names are made; names
   * given as strings are used as they are (e.g. a graph output's name).
   * @param {string} opType @param {readonly string[]} inputs
   * @param {{ attrs?: Record<string, AttrValue>, outputs?: number | readonly string[], domain?: string }} [options]
   * @returns {string[]}
   */
  opN(opType, inputs, options = {}) {
    const wanted = options.outputs ?? 1;
    const outputs = typeof wanted === 'number'
      ? Array.from({ length: wanted }, () => this.unique(opType.toLowerCase()))
      : wanted.map((n) => (this.#names.add(n), n));
    const nodeOptions = { name: this.unique(`${opType}_node`), attrs: options.attrs ?? {} };
    this.#nodes.push(node(opType, inputs, outputs, options.domain === undefined ? nodeOptions : { ...nodeOptions, domain: options.domain }));
    return outputs;
  }

  /** A single-output node; returns its output's name. @param {string} opType @param {readonly string[]} inputs
   * @param {{ attrs?: Record<string, AttrValue>, output?: string, domain?: string }} [options] */
  op(opType, inputs, options = {}) {
    const { output, ...rest } = options;
    return /** @type {string} */ (this.opN(opType, inputs, { ...rest, outputs: output === undefined ? 1 : [output] })[0]);
  }

  toGraph() {
    const g = new Message();
    for (const n of this.#nodes) g.message(1, n);
    g.string(2, this.name);
    for (const t of this.#inits) g.message(5, t);
    for (const i of this.#inputs) g.message(11, i);
    for (const o of this.#outputs) g.message(12, o);
    return g;
  }
}

/**
 * A ModelProto. IR version 8 pairs with opset 17 (ONNX's versioning table).
 * @param {Message} graph
 * @param {{ opset?: number, irVersion?: number, producer?: string, metadata?: Record<string, string> }} [options]
 */
export function model(graph, options = {}) {
  const m = new Message()
    .varint(1, options.irVersion ?? 8)
    .string(2, options.producer ?? 'mneme')
    .string(3, '1')
    .message(7, graph)
    .message(8, new Message().string(1, '').varint(2, options.opset ?? 17));
  for (const [key, value] of Object.entries(options.metadata ?? {})) {
    m.message(14, new Message().string(1, key).string(2, value));
  }
  return m;
}

/** Streams a message to a file, coalescing small chunks (no whole-file copy). @param {string} path @param {Message} message */
export function writeMessage(path, message) {
  const fd = openSync(path, 'w');
  const buffer = new Uint8Array(1 << 16);
  let used = 0;
  const flush = () => {
    if (used > 0) writeSync(fd, buffer, 0, used);
    used = 0;
  };
  try {
    for (const part of message.parts) {
      if (part.byteLength > buffer.byteLength / 2) {
        flush();
        writeSync(fd, part);
        continue;
      }
      if (used + part.byteLength > buffer.byteLength) flush();
      buffer.set(part, used);
      used += part.byteLength;
    }
    flush();
  } finally {
    closeSync(fd);
  }
}
