// The transformers.js engine's primitives: a causal LM's forward pass with the
// KV cache held by us, per layer in the layout of the model's `present.*`
// outputs ([1, kvHeads, length, headDim]). Each call feeds them back as
// `past_key_values.*`; rolling back is slicing them. We own the tensors, so
// nothing depends on transformers.js's DynamicCache (which generate mutates).
// On WASM they are plain Float32Arrays. On WebGPU the runtime leaves
// `present.*` in GPU buffers (transformers.js asks ONNX Runtime for
// `preferredOutputLocation: 'gpu-buffer'`): we keep those buffers and feed them
// back as they are, so a decoded token moves only its logits between CPU and
// GPU; the cache is read back only to roll back or to save a snapshot.
import { Tensor } from '@huggingface/transformers';
import { InvalidInputError } from '../../errors';
import { cutKv, cutKvLayer } from '../kv-tensors';
import type { EngineCapabilities, EnginePrimitives, KvTensors } from '../types';

/** What the primitives need of a transformers.js causal LM. */
export interface CausalForward {
  forward(inputs: Record<string, unknown>): Promise<Record<string, ForwardTensor>>;
}

export interface ForwardTensor {
  readonly dims: readonly number[];
  readonly data: unknown;
  readonly location?: string;
  readonly ort_tensor?: { getData(releaseData?: boolean): Promise<unknown> };
  dispose?(): void;
}

export interface KvShape {
  layers: number;
  kvHeads: number;
  headDim: number;
  contextLength: number;
  /** Whether the graph takes `num_logits_to_keep` (then prefill computes one row of logits, not one per token). */
  logitsToKeep: boolean;
}

/**
 * One layer's keys or values: data we own on the CPU, or (WebGPU) a `present.*`
 * output left in its GPU buffer, which we own from then on and dispose.
 */
type KvData = Float32Array | ForwardTensor;

export class OwnedKvCache implements EnginePrimitives {
  readonly capabilities: EngineCapabilities;
  private keys: KvData[];
  private values: KvData[];
  private held = 0;
  private moved = 0;

  constructor(
    private readonly model: CausalForward,
    private readonly shape: KvShape,
    private readonly device: 'wasm' | 'webgpu' = 'wasm',
  ) {
    this.capabilities = Object.freeze({ rollback: 'popn', snapshots: false, contextLength: shape.contextLength, kvExport: true });
    this.keys = this.empty();
    this.values = this.empty();
  }

  get length(): number {
    return this.held;
  }

  /** Bytes copied between CPU and GPU memory so far (WebGPU; 0 on WASM): KV uploads and read-backs, and the logits read back. */
  get bytesMoved(): number {
    return this.moved;
  }

  async append(tokens: readonly number[], options: { sample: boolean }): Promise<number | undefined> {
    const n = tokens.length;
    const past = this.held;
    const total = past + n;
    if (n === 0 || total > this.shape.contextLength) throw new InvalidInputError('invalid-input', `Cannot append ${n} tokens to ${past} in a context of ${this.shape.contextLength}`);
    const { layers, kvHeads, headDim } = this.shape;
    const cacheDims = [1, kvHeads, past, headDim];
    const inputs: Record<string, unknown> = {
      input_ids: new Tensor('int64', BigInt64Array.from(tokens, BigInt), [1, n]),
      attention_mask: new Tensor('int64', new BigInt64Array(total).fill(1n), [1, total]),
      position_ids: new Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt(past + i)), [1, n]),
      past_key_values: Object.fromEntries(
        Array.from({ length: layers }, (_, l) => [
          [`past_key_values.${l}.key`, this.input(this.keys[l]!, cacheDims)],
          [`past_key_values.${l}.value`, this.input(this.values[l]!, cacheDims)],
        ]).flat(),
      ),
      ...(this.shape.logitsToKeep ? { num_logits_to_keep: new Tensor('int64', BigInt64Array.of(1n), []) } : {}),
    };
    const out = await this.model.forward(inputs);
    const size = kvHeads * total * headDim;
    const keys: KvData[] = [];
    const values: KvData[] = [];
    for (let l = 0; l < layers; l++) {
      keys.push(kept(out[`present.${l}.key`], `present.${l}.key`, size));
      values.push(kept(out[`present.${l}.value`], `present.${l}.value`, size));
    }
    this.release();
    this.keys = keys;
    this.values = values;
    this.held = total;
    const logits = out.logits;
    if (this.device === 'webgpu' && logits) this.moved += (logits.data as Float32Array).byteLength;
    const next = options.sample && logits ? argmaxLastRow(logits) : undefined;
    logits?.dispose?.();
    if (options.sample && next === undefined) throw new Error('the model returned no logits');
    return next;
  }

  /** Slicing needs the data on the CPU: a GPU-resident cache is read back once here (and uploaded with the next pass). */
  async rollback(length: number): Promise<void> {
    if (!Number.isInteger(length) || length < 0 || length > this.held) throw new InvalidInputError('invalid-input', `Cannot roll back ${this.held} tokens to ${length}`);
    if (length === this.held) return;
    await this.download();
    const cut = (data: KvData) => cutKvLayer(data as Float32Array, this.shape.kvHeads, this.shape.headDim, this.held, length);
    this.keys = this.keys.map(cut);
    this.values = this.values.map(cut);
    this.held = length;
  }

  /** A GPU-resident cache is read back once (and stays on the CPU until the next pass uploads it). */
  async readKv(length: number): Promise<KvTensors> {
    if (!Number.isInteger(length) || length < 0 || length > this.held) throw new InvalidInputError('invalid-input', `Cannot read ${length} tokens of a cache holding ${this.held}`);
    await this.download();
    const { layers, kvHeads, headDim } = this.shape;
    return cutKv({ length: this.held, layers, kvHeads, headDim, keys: this.keys as Float32Array[], values: this.values as Float32Array[] }, length);
  }

  async writeKv(kv: KvTensors): Promise<void> {
    const { layers, kvHeads, headDim, contextLength } = this.shape;
    const size = kvHeads * kv.length * headDim;
    const fits = (list: readonly Float32Array[]) => list.length === layers && list.every((d) => d instanceof Float32Array && d.length === size);
    if (kv.layers !== layers || kv.kvHeads !== kvHeads || kv.headDim !== headDim || kv.length > contextLength || !fits(kv.keys) || !fits(kv.values)) {
      throw new InvalidInputError('snapshot-mismatch', `A KV cache of ${kv.layers} layers × ${kv.kvHeads} heads × ${kv.headDim} does not fit this model's ${layers} × ${kvHeads} × ${headDim} (context ${contextLength})`);
    }
    this.release();
    this.keys = kv.keys.map((d) => d.slice());
    this.values = kv.values.map((d) => d.slice());
    this.held = kv.length;
  }

  async reset(): Promise<void> {
    this.release();
    this.keys = this.empty();
    this.values = this.empty();
    this.held = 0;
  }

  /** A layer's past as a model input: a GPU-resident tensor as it is; CPU data (uploaded by the runtime on WebGPU). */
  private input(data: KvData, dims: number[]): unknown {
    if (!(data instanceof Float32Array)) return data;
    if (this.device === 'webgpu') this.moved += data.byteLength;
    return new Tensor('float32', data, dims);
  }

  /** Brings every GPU-resident layer back to the CPU, freeing its GPU buffer. */
  private async download(): Promise<void> {
    const size = this.shape.kvHeads * this.held * this.shape.headDim;
    const back = async (data: KvData, name: string): Promise<Float32Array> => {
      if (data instanceof Float32Array) return data;
      const read = await ownedData(data, name, size);
      this.moved += read.byteLength;
      return read;
    };
    this.keys = await Promise.all(this.keys.map((d, l) => back(d, `layer ${l} keys`)));
    this.values = await Promise.all(this.values.map((d, l) => back(d, `layer ${l} values`)));
  }

  /** Frees the GPU buffers of the cache held now. */
  private release(): void {
    for (const data of [...this.keys, ...this.values]) if (!(data instanceof Float32Array)) data.dispose?.();
  }

  private empty(): Float32Array[] {
    return Array.from({ length: this.shape.layers }, () => new Float32Array(0));
  }
}

/** A `present.*` output as the cache keeps it: left in its GPU buffer (WebGPU), or its CPU data. */
function kept(tensor: ForwardTensor | undefined, name: string, expected: number): KvData {
  if (!tensor) throw new Error(`the model returned no ${name}; it needs KV-cache outputs`);
  if (tensor.location !== 'gpu-buffer') return cpuData(tensor, name, expected);
  if (tensor.dims.reduce((a, b) => a * b, 1) !== expected) throw new Error(`${name} has dims [${tensor.dims}], not ${expected} values`);
  return tensor;
}

/** A GPU-resident tensor's values read back to the CPU, its GPU buffer freed. */
async function ownedData(tensor: ForwardTensor, name: string, expected: number): Promise<Float32Array> {
  if (!tensor.ort_tensor) throw new Error(`${name} lives on the GPU but cannot be read back`);
  return float32(await tensor.ort_tensor.getData(true), tensor, name, expected);
}

/** The values of a tensor the runtime returned on the CPU. */
function cpuData(tensor: ForwardTensor, name: string, expected: number): Float32Array {
  return float32(tensor.data, tensor, name, expected);
}

function float32(data: unknown, tensor: ForwardTensor, name: string, expected: number): Float32Array {
  if (!(data instanceof Float32Array) || data.length !== expected) {
    throw new Error(`${name} is not float32 of ${expected} values (dims [${tensor.dims}]); only fp32 KV caches are supported`);
  }
  return data;
}

/** Greedy sampling: the id of the largest logit in the last row of [1, rows, vocab]. */
export function argmaxLastRow(logits: ForwardTensor): number {
  const vocab = logits.dims.at(-1) as number;
  const data = logits.data as Float32Array;
  const start = data.length - vocab;
  let best = 0;
  let max = -Infinity;
  for (let i = 0; i < vocab; i++) {
    const v = data[start + i] as number;
    if (v > max) {
      max = v;
      best = i;
    }
  }
  return best;
}
