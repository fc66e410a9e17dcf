// The scheduler worker's embedder: the static (model2vec) embedder its config
// names, made in the worker's own thread (a draft embeds in microseconds, so
// no further worker hop) and handed to createMneme, which loads it in the
// background, re-embeds the backlog and then ranks by meaning. Its factory is
// injected, as the engine's is, so the memory-only worker carries no tokenizer.
// Progress and failure come from Mneme's own events and status.
import { ModelError } from '../errors';
import type { ResolvedStaticEmbedderConfig } from '../embed/static-config';
import type { Embedder, EmbeddingRef, LoadProgress } from '../embed/types';
import type { Mneme } from '../mneme';
import { withSignal } from '../util/with-signal';

/**
 * Makes the embedder a worker config asks for: `createStaticEmbedder` (embed/static.ts), or (in the memory-only
 * worker, which must not carry transformers.js's tokenizer) `embedderUnavailable`.
 */
export type EmbedderFactory = (config: ResolvedStaticEmbedderConfig) => Embedder;

/** The factory of the memory-only build: an embedder whose load is refused, so memory goes on lexically. */
export const embedderUnavailable: EmbedderFactory = (config) => {
  const refuse = () =>
    Promise.reject(
      new ModelError(
        'model-load-failed',
        `Cannot load static embedding model "${config.model}": this is Mneme's memory-only build (the drop-in's dist/memory/ folder), which has no tokenizer for embedding models. ` +
          'Serve the full folder (dist/: mneme.js, mneme-worker.js and assets/) to search by meaning, or leave the embedder option out.',
      ),
    );
  return { ref: undefined, load: refuse, embed: refuse, dispose: async () => undefined };
};

/** The worker's embedder, watched through the Mneme that loads it. */
export class EmbedderSlot {
  private last: LoadProgress | undefined;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly mneme: Mneme,
    /** Undefined when the config names none. */
    private readonly embedder: Embedder | undefined,
  ) {
    this.unsubscribe = mneme.on('model-progress', (p) => (this.last = p));
  }

  /**
   * Waits for the embedder's load to settle, telling `onProgress` where it is (the latest progress first).
   * Resolves with the model once Mneme ranks by it (undefined without an embedder).
   * @throws the load's MnemeError (a ModelError naming the file or setting) when it failed
   */
  async ready(onProgress: ((progress: LoadProgress) => void) | undefined, signal: AbortSignal): Promise<EmbeddingRef | undefined> {
    if (!this.embedder) return undefined;
    const stops: (() => void)[] = [];
    try {
      const settled = new Promise<void>((resolve) => stops.push(this.mneme.on('model-ready', () => resolve()), this.mneme.on('model-error', () => resolve())));
      if (onProgress) {
        if (this.last) onProgress(this.last);
        stops.push(this.mneme.on('model-progress', onProgress));
      }
      if (this.mneme.modelStatus === 'loading') await withSignal(settled, signal, 'Waiting for the embedder');
      const failure = this.mneme.modelError; // set once, when the load failed; a loaded model never fails again
      if (failure) throw failure;
      return this.embedder.ref;
    } finally {
      for (const stop of stops) stop();
    }
  }

  /** Stops watching and frees the model (Mneme leaves its embedder to its owner); call after Mneme closed. */
  async dispose(): Promise<void> {
    this.unsubscribe();
    await this.embedder?.dispose();
  }
}
