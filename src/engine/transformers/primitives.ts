// The transformers.js engine's primitives: a causal LM's forward pass with the
// KV cache held by us, as plain Float32Arrays per layer ([1, kvHeads, length,
// headDim], the layout of the model's `present.*` outputs). Each call feeds
// them back as `past_key_values.*`; rolling back is slicing them. We own the
// data, so nothing depends on transformers.js's DynamicCache (which generate
// mutates) or on GPU buffers it may dispose: on WebGPU the outputs are read
// back to the CPU after each call.
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

export class OwnedKvCache implements EnginePrimitives {
  readonly capabilities: EngineCapabilities;
  private keys: Float32Array[];
  private values: Float32Array[];
  private held = 0;

  constructor(
    private readonly model: CausalForward,
    private readonly shape: KvShape,
  ) {
    this.capabilities = Object.freeze({ rollback: 'popn', snapshots: false, contextLength: shape.contextLength, kvExport: true });
    this.keys = this.empty();
    this.values = this.empty();
  }

  get length(): number {
    return this.held;
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
          [`past_key_values.${l}.key`, new Tensor('float32', this.keys[l] as Float32Array, cacheDims)],
          [`past_key_values.${l}.value`, new Tensor('float32', this.values[l] as Float32Array, cacheDims)],
        ]).flat(),
      ),
      ...(this.shape.logitsToKeep ? { num_logits_to_keep: new Tensor('int64', BigInt64Array.of(1n), []) } : {}),
    };
    const out = await this.model.forward(inputs);
    const keys: Float32Array[] = [];
    const values: Float32Array[] = [];
    for (let l = 0; l < layers; l++) {
      keys.push(await ownedData(out[`present.${l}.key`], `present.${l}.key`, kvHeads * total * headDim));
      values.push(await ownedData(out[`present.${l}.value`], `present.${l}.value`, kvHeads * total * headDim));
    }
    this.keys = keys;
    this.values = values;
    this.held = total;
    const logits = out.logits;
    const next = options.sample && logits ? argmaxLastRow(logits) : undefined;
    logits?.dispose?.();
    if (options.sample && next === undefined) throw new Error('the model returned no logits');
    return next;
  }

  async rollback(length: number): Promise<void> {
    if (!Number.isInteger(length) || length < 0 || length > this.held) throw new InvalidInputError('invalid-input', `Cannot roll back ${this.held} tokens to ${length}`);
    if (length === this.held) return;
    const cut = (data: Float32Array) => cutKvLayer(data, this.shape.kvHeads, this.shape.headDim, this.held, length);
    this.keys = this.keys.map(cut);
    this.values = this.values.map(cut);
    this.held = length;
  }

  async readKv(length: number): Promise<KvTensors> {
    if (!Number.isInteger(length) || length < 0 || length > this.held) throw new InvalidInputError('invalid-input', `Cannot read ${length} tokens of a cache holding ${this.held}`);
    const { layers, kvHeads, headDim } = this.shape;
    return cutKv({ length: this.held, layers, kvHeads, headDim, keys: this.keys, values: this.values }, length);
  }

  async writeKv(kv: KvTensors): Promise<void> {
    const { layers, kvHeads, headDim, contextLength } = this.shape;
    const size = kvHeads * kv.length * headDim;
    const fits = (list: readonly Float32Array[]) => list.length === layers && list.every((d) => d instanceof Float32Array && d.length === size);
    if (kv.layers !== layers || kv.kvHeads !== kvHeads || kv.headDim !== headDim || kv.length > contextLength || !fits(kv.keys) || !fits(kv.values)) {
      throw new InvalidInputError('snapshot-mismatch', `A KV cache of ${kv.layers} layers × ${kv.kvHeads} heads × ${kv.headDim} does not fit this model's ${layers} × ${kvHeads} × ${headDim} (context ${contextLength})`);
    }
    this.keys = kv.keys.map((d) => d.slice());
    this.values = kv.values.map((d) => d.slice());
    this.held = kv.length;
  }

  async reset(): Promise<void> {
    this.keys = this.empty();
    this.values = this.empty();
    this.held = 0;
  }

  private empty(): Float32Array[] {
    return Array.from({ length: this.shape.layers }, () => new Float32Array(0));
  }
}

/** The tensor's values as a Float32Array we own: read back from the GPU, or the CPU copy ONNX Runtime made. */
async function ownedData(tensor: ForwardTensor | undefined, name: string, expected: number): Promise<Float32Array> {
  if (!tensor) throw new Error(`the model returned no ${name}; it needs KV-cache outputs`);
  const data = tensor.location === 'gpu-buffer' && tensor.ort_tensor ? await tensor.ort_tensor.getData(true) : tensor.data;
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
