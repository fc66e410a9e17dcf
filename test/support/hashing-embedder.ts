// A test double for Embedder: feature-hashes words into a small unit vector.
// Texts that share words get similar vectors, so dense ranking is checkable
// without a model. It is not a language model and stands in for none.
import type { Embedder, LoadProgress } from '../../src/embed/types';
import type { EmbeddingRef } from '../../src/memory/types';

export class HashingEmbedder implements Embedder {
  ref: EmbeddingRef | undefined;
  calls = 0;

  constructor(
    private readonly model = 'test/hashing',
    private readonly dim = 64,
    loaded = true,
  ) {
    if (loaded) this.ref = { model, dim };
  }

  async load(options?: { onProgress?: (p: LoadProgress) => void }): Promise<EmbeddingRef> {
    options?.onProgress?.({ status: 'ready', file: undefined, loaded: 1, total: 1, fraction: 1 });
    this.ref = { model: this.model, dim: this.dim };
    return this.ref;
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    this.calls++;
    return texts.map((t) => this.vector(t));
  }

  vector(text: string): Float32Array {
    const v = new Float32Array(this.dim);
    for (const word of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
      let h = 2166136261;
      for (const c of word) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
      v[(h >>> 0) % this.dim]! += 1;
    }
    const norm = Math.hypot(...v) || 1;
    return v.map((x) => x / norm);
  }

  async dispose(): Promise<void> {}
}
