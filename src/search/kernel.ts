// The int8 dot-product kernel behind dense search: WebAssembly SIMD where the
// runtime has it (all current browsers), the same arithmetic in JS otherwise.
import { base64ToBytes } from '../util/base64';
import { KERNEL_WASM_BASE64 } from './kernel-wasm';

export interface DotKernel {
  readonly simd: boolean;
  /** The kernel's linear memory; re-read after `reserve`, which may replace it. */
  readonly bytes: Int8Array;
  /** Makes the memory at least `size` bytes long. */
  reserve(size: number): void;
  /** Writes, for each of `n` rows of `dim` bytes at `base`, its int32 dot product with the query at `q` to `out` (byte offset). */
  dots(q: number, base: number, n: number, dim: number, out: number): void;
}

const PAGE = 65_536;

class WasmKernel implements DotKernel {
  readonly simd = true;
  private view: Int8Array;
  private readonly memory: WebAssembly.Memory;
  private readonly run: (q: number, base: number, n: number, dim: number, out: number) => void;

  constructor(instance: WebAssembly.Instance) {
    this.memory = instance.exports.memory as WebAssembly.Memory;
    this.run = instance.exports.dots as WasmKernel['run'];
    this.view = new Int8Array(this.memory.buffer);
  }

  get bytes(): Int8Array {
    if (this.view.buffer !== this.memory.buffer) this.view = new Int8Array(this.memory.buffer);
    return this.view;
  }

  reserve(size: number): void {
    const have = this.memory.buffer.byteLength;
    if (size > have) this.memory.grow(Math.ceil((size - have) / PAGE));
  }

  dots(q: number, base: number, n: number, dim: number, out: number): void {
    this.run(q, base, n, dim, out);
  }
}

export class JsKernel implements DotKernel {
  readonly simd = false;
  private buffer = new ArrayBuffer(PAGE);
  private view = new Int8Array(this.buffer);
  private ints = new Int32Array(this.buffer);

  get bytes(): Int8Array {
    return this.view;
  }

  reserve(size: number): void {
    if (size <= this.buffer.byteLength) return;
    const next = new ArrayBuffer(Math.max(size, this.buffer.byteLength * 2) + ((PAGE - (size % PAGE)) % PAGE));
    new Int8Array(next).set(this.view);
    this.buffer = next;
    this.view = new Int8Array(next);
    this.ints = new Int32Array(next);
  }

  dots(q: number, base: number, n: number, dim: number, out: number): void {
    const b = this.view;
    for (let row = 0; row < n; row++) {
      const p = base + row * dim;
      let acc = 0;
      for (let j = 0; j < dim; j++) acc += b[q + j]! * b[p + j]!;
      this.ints[(out >> 2) + row] = acc;
    }
  }
}

let wasmModule: WebAssembly.Module | null | undefined;

/** A new kernel instance (each dense index owns its memory). */
export function createKernel(options: { preferWasm?: boolean } = {}): DotKernel {
  if (options.preferWasm ?? true) {
    if (wasmModule === undefined) {
      try {
        wasmModule = new WebAssembly.Module(base64ToBytes(KERNEL_WASM_BASE64));
      } catch {
        wasmModule = null; // no WebAssembly SIMD here
      }
    }
    if (wasmModule) return new WasmKernel(new WebAssembly.Instance(wasmModule));
  }
  return new JsKernel();
}
