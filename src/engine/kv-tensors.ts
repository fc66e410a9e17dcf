// KV tensors as plain arrays ([1, kvHeads, length, headDim] per layer, the
// layout of a model's `present.*` outputs): cutting them to a prefix. Pure.
import type { KvTensors } from './types';

/** The first `length` positions of one layer's [1, kvHeads, held, headDim] tensor, as a new array. */
export function cutKvLayer(data: Float32Array, kvHeads: number, headDim: number, held: number, length: number): Float32Array {
  const out = new Float32Array(kvHeads * length * headDim);
  for (let h = 0; h < kvHeads; h++) out.set(data.subarray(h * held * headDim, (h * held + length) * headDim), h * length * headDim);
  return out;
}

/** The first `length` tokens of a cache, as new arrays. */
export function cutKv(kv: KvTensors, length: number): KvTensors {
  const cut = (data: Float32Array) => cutKvLayer(data, kv.kvHeads, kv.headDim, kv.length, length);
  return { ...kv, length, keys: kv.keys.map(cut), values: kv.values.map(cut) };
}
