// Background (re-)embedding: memories whose vector is missing or came from
// another model get a new one from the active embedder, a batch at a time.
// Texts are never touched; a memory rewritten meanwhile keeps its new text and
// is picked up on the next pass.
import type { MemoryIndex } from '../search/memory-index';
import type { MemoryStore } from '../store/store';
import type { Embedder } from './types';

export interface ReembedProgress {
  done: number;
  total: number;
}

export async function reembed(
  store: MemoryStore,
  index: MemoryIndex,
  embedder: Embedder,
  options: { batchSize?: number; signal?: AbortSignal; onProgress?: (p: ReembedProgress) => void } = {},
): Promise<number> {
  const ref = embedder.ref;
  if (!ref) return 0;
  const batchSize = options.batchSize ?? 32;
  const ids = index.unembedded();
  let done = 0;
  for (let i = 0; i < ids.length; i += batchSize) {
    options.signal?.throwIfAborted();
    const batch = ids.slice(i, i + batchSize).flatMap((id) => {
      const memory = index.get(id);
      return memory ? [{ id, text: memory.text }] : [];
    });
    if (batch.length === 0) continue;
    const vectors = await embedder.embed(
      batch.map((b) => b.text),
      options.signal ? { signal: options.signal } : {},
    );
    done += await store.putVectors(
      batch.map((b, j) => ({ id: b.id, text: b.text, vector: vectors[j]! })),
      ref,
    );
    options.onProgress?.({ done, total: ids.length });
  }
  return done;
}
