// Dense vectors held in memory as int8 rows (a quarter of float32's size),
// scanned in chunks by the SIMD kernel. Cosine similarity is recovered from
// the int8 dot product with a per-row scale: cos ≈ dot(q8, r8) · sq · sr.
import { createKernel, type DotKernel } from './kernel';
import { TopK } from './top-k';

const CHUNK = 4096;

export interface DenseHit {
  id: string;
  /** Approximate cosine similarity (int8 quantized, error about 1e-2). */
  cosine: number;
}

/** Quantizes `v` into `out` (int8, zero-padded); returns the scale that maps int8 dot products back to cosine. */
function quantize(v: Float32Array, out: Int8Array, at: number, stride: number): number {
  let maxAbs = 0;
  let sq = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    sq += x * x;
    if (Math.abs(x) > maxAbs) maxAbs = Math.abs(x);
  }
  out.fill(0, at, at + stride);
  if (maxAbs === 0) return 0;
  const k = 127 / maxAbs;
  for (let i = 0; i < v.length; i++) out[at + i] = Math.round(v[i]! * k);
  return maxAbs / 127 / Math.sqrt(sq);
}

/** The rows as flat arrays, for the index snapshot. */
export interface DenseSnapshot {
  dim: number;
  ids: string[];
  rows: Int8Array;
  scales: Float32Array;
}

export class DenseIndex {
  private readonly kernel: DotKernel;
  private readonly stride: number;
  private readonly outAt: number;
  private readonly rowsAt: number;
  private ids: string[] = [];
  private readonly rowOf = new Map<string, number>();
  private scales = new Float32Array(1024);

  constructor(
    readonly dim: number,
    options: { preferWasm?: boolean } = {},
  ) {
    this.kernel = createKernel(options);
    this.stride = Math.ceil(dim / 16) * 16;
    this.outAt = this.stride;
    this.rowsAt = this.outAt + CHUNK * 4;
    this.kernel.reserve(this.rowsAt);
  }

  get size(): number {
    return this.ids.length;
  }

  get simd(): boolean {
    return this.kernel.simd;
  }

  has(id: string): boolean {
    return this.rowOf.has(id);
  }

  /** The id stored at a row (rows are dense 0..size-1 and move when others are removed). */
  idAt(row: number): string {
    return this.ids[row]!;
  }

  upsert(id: string, vector: Float32Array): void {
    if (vector.length !== this.dim) throw new RangeError(`vector has ${vector.length} dimensions, index has ${this.dim}`);
    let row = this.rowOf.get(id);
    if (row === undefined) {
      row = this.ids.length;
      this.ids.push(id);
      this.rowOf.set(id, row);
      if (row >= this.scales.length) {
        const grown = new Float32Array(this.scales.length * 2);
        grown.set(this.scales);
        this.scales = grown;
      }
      this.kernel.reserve(this.rowsAt + (row + 1) * this.stride);
    }
    this.scales[row] = quantize(vector, this.kernel.bytes, this.rowsAt + row * this.stride, this.stride);
  }

  /** Removes a row by moving the last row into its place. */
  remove(id: string): void {
    const row = this.rowOf.get(id);
    if (row === undefined) return;
    const last = this.ids.length - 1;
    if (row !== last) {
      const bytes = this.kernel.bytes;
      const from = this.rowsAt + last * this.stride;
      bytes.copyWithin(this.rowsAt + row * this.stride, from, from + this.stride);
      this.scales[row] = this.scales[last]!;
      const moved = this.ids[last]!;
      this.ids[row] = moved;
      this.rowOf.set(moved, row);
    }
    this.ids.pop();
    this.rowOf.delete(id);
  }

  toSnapshot(): DenseSnapshot {
    const n = this.ids.length;
    return {
      dim: this.dim,
      ids: [...this.ids],
      rows: this.kernel.bytes.slice(this.rowsAt, this.rowsAt + n * this.stride),
      scales: this.scales.slice(0, n),
    };
  }

  static fromSnapshot(s: DenseSnapshot, options?: { preferWasm?: boolean }): DenseIndex {
    const index = new DenseIndex(s.dim, options);
    const n = s.ids.length;
    index.kernel.reserve(index.rowsAt + n * index.stride);
    index.kernel.bytes.set(s.rows, index.rowsAt);
    index.scales = new Float32Array(Math.max(1024, n));
    index.scales.set(s.scales);
    index.ids = [...s.ids];
    s.ids.forEach((id, row) => index.rowOf.set(id, row));
    return index;
  }

  /** The `n` rows most similar to `query` among those `accept` lets through, best first. */
  search(query: Float32Array, n: number, accept: (id: string) => boolean): DenseHit[] {
    if (query.length !== this.dim) throw new RangeError(`query has ${query.length} dimensions, index has ${this.dim}`);
    const qScale = quantize(query, this.kernel.bytes, 0, this.stride);
    const top = new TopK(n);
    const total = this.ids.length;
    for (let start = 0; start < total; start += CHUNK) {
      const len = Math.min(CHUNK, total - start);
      this.kernel.dots(0, this.rowsAt + start * this.stride, len, this.stride, this.outAt);
      const dots = new Int32Array(this.kernel.bytes.buffer, this.outAt, len);
      for (let i = 0; i < len; i++) {
        const row = start + i;
        const s = dots[i]! * this.scales[row]!;
        if (s > top.threshold && accept(this.ids[row]!)) top.offer(s, row);
      }
    }
    return top.drain().map(({ score, item }) => ({ id: this.ids[item]!, cosine: score * qScale }));
  }
}
