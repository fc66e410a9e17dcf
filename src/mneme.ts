// Mneme's composition root: the plaintext store, its in-memory search index and
// an optional embedder, behind one object. The store is the truth; the index
// follows its committed writes; the embedder loads in the background, so memory
// and lexical search work before any model is there.
import { InvalidInputError, MnemeError, ModelError } from './errors';
import type { Embedder, LoadProgress } from './embed/types';
import { reembed, type ReembedProgress } from './embed/reembed';
import { parseQueryScope, type MemoryFilter } from './memory/filter';
import type { Governance } from './memory/governance';
import { describe, isPlainObject } from './memory/scope';
import { parseText, type Limits } from './memory/validate';
import type { CallerScope, EmbeddingRef, MemoryInput, MemoryPatch, MemoryRecord, MemoryScope, StoredTier, TierChange } from './memory/types';
import { MemoryIndex, type IndexSource, type SearchResult } from './search/memory-index';
import { openMemoryStore, type AppliedChanges, type ChangeBatch, type ListOptions, type MemoryPage, type MemoryStore, type ReadOptions, type StoreOptions } from './store/store';
import type { EncryptionOption } from './store/seal';
import { syncTabs } from './store/tab-sync';
import { exportMemories, importMemories, type ExportDocument, type ImportOptions, type ImportReport } from './store/transfer';

export interface MnemeOptions {
  /** IndexedDB database name. Default 'mneme'. */
  name?: string;
  /** Computes vectors on the device. Without one, search is lexical only. */
  embedder?: Embedder;
  /** The clock, in ms since the epoch. Default Date.now. */
  now?: () => number;
  limits?: Partial<Limits>;
  /** Fusion weights of the dense and lexical rankings. Default 1 and 1. */
  weights?: { dense: number; lexical: number };
  /** Dense matches at or below this cosine similarity are ignored. Default 0. */
  minDense?: number;
  /**
   * Whether the embedder's vectors carry meaning. False for a stand-in model: dense scores still
   * rank, but the scheduler neither trusts them as evidence of a match nor groups themes by them.
   * Default: true when there is an embedder.
   */
  semantic?: boolean;
  /** Who may see which memory, beyond scope; enforced in every read and search (see src/memory/governance.ts). Default: scope rules only. */
  governance?: Governance;
  /** Encrypt texts and vectors at rest; see StoreOptions.encryption. Off by default. */
  encryption?: EncryptionOption;
  /** Follow the writes other tabs make to the same database (BroadcastChannel). Default true. */
  syncTabs?: boolean;
  /** Hears what a store subscriber threw; the write it followed resolves all the same. See StoreOptions.onSubscriberError. Default: console.error. */
  onSubscriberError?: StoreOptions['onSubscriberError'];
  /** Hears a blocked open, a close for another tab's schema upgrade (reload the page), and an abnormal close. See StoreOptions.onConnectionEvent. Default: console.warn. */
  onConnectionEvent?: StoreOptions['onConnectionEvent'];
  /** How long an open blocked by another tab's old connection waits before it rejects with StorageError('store-blocked'), in ms. Default 10000. */
  openTimeoutMs?: number;
  /** How long after the last write the search index is cached for a fast next open (and the event log compacted), in ms. Default 2000. */
  snapshotDelayMs?: number;
  /** How much of the event log stays as events; older ones fold into use tallies. See StoreOptions.eventLog. Default: 10,000 events, 90 days. */
  eventLog?: StoreOptions['eventLog'];
  /** The heat half-life the log's tallies are folded with; see StoreOptions.heatHalfLifeMs. Default 14 days. */
  heatHalfLifeMs?: number;
}

export interface SearchOptions {
  scope: CallerScope;
  /** How many results. Default 10, at most 1000. */
  k?: number;
  filter?: MemoryFilter;
  /** A query vector from the active model, for apps that embed queries themselves. */
  vector?: Float32Array;
  /** The query is still being typed: its last word may be partial and matches as a prefix. */
  prefix?: boolean;
}

export interface MnemeEventMap {
  'model-progress': LoadProgress;
  'model-ready': EmbeddingRef;
  'model-error': MnemeError;
  'reembed-progress': ReembedProgress;
}

export type ModelStatus = 'none' | 'loading' | 'ready' | 'failed';

const MAX_K = 1000;

export async function createMneme(options: MnemeOptions = {}): Promise<Mneme> {
  const store = await openMemoryStore({
    ...(options.name !== undefined && { name: options.name }),
    ...(options.now !== undefined && { now: options.now }),
    ...(options.limits !== undefined && { limits: options.limits }),
    ...(options.governance !== undefined && { governance: options.governance }),
    ...(options.encryption !== undefined && { encryption: options.encryption }),
    ...(options.onSubscriberError !== undefined && { onSubscriberError: options.onSubscriberError }),
    ...(options.onConnectionEvent !== undefined && { onConnectionEvent: options.onConnectionEvent }),
    ...(options.openTimeoutMs !== undefined && { openTimeoutMs: options.openTimeoutMs }),
    ...(options.eventLog !== undefined && { eventLog: options.eventLog }),
    ...(options.heatHalfLifeMs !== undefined && { heatHalfLifeMs: options.heatHalfLifeMs }),
  });
  const { index, from } = await MemoryIndex.load(store, options.embedder?.ref);
  const mneme = new Mneme(store, index, options, from);
  mneme.scheduleSnapshot(); // writes the snapshot if it was not current, and compacts the log
  return mneme;
}

export class Mneme {
  /** Resolves when the embedder is loaded and the backlog re-embedded (undefined without one, or when it failed). */
  readonly ready: Promise<EmbeddingRef | undefined>;
  private status: ModelStatus;
  private failure: MnemeError | undefined;
  private readonly events = new EventTarget();
  private readonly embedder: Embedder | undefined;
  private readonly unsubscribe: () => void;
  private readonly background = new AbortController();
  private snapshotTimer: ReturnType<typeof setTimeout> | undefined;
  /** The generation the saved index snapshot is of (a write that only appends to the log keeps it). */
  private savedGeneration: string | undefined;

  constructor(
    readonly store: MemoryStore,
    private readonly index: MemoryIndex,
    private readonly options: MnemeOptions,
    /** Whether opening read the cached index snapshot, a stale one caught up from the log, or every record. */
    readonly openedFrom: IndexSource = 'records',
  ) {
    this.embedder = options.embedder;
    if (openedFrom === 'snapshot') this.savedGeneration = store.generation;
    const unsubscribe = store.subscribe((change) => {
      index.apply(change);
      this.scheduleSnapshot();
    });
    const unsync = (options.syncTabs ?? true) ? syncTabs(store, options.name ?? 'mneme') : () => undefined;
    this.unsubscribe = () => {
      unsync();
      unsubscribe();
    };
    this.status = this.embedder ? (this.embedder.ref ? 'ready' : 'loading') : 'none';
    this.ready = this.embedder ? this.startModel(this.embedder) : Promise.resolve(undefined);
  }

  /** Whether dense similarity is meaningful (a real model is loaded). */
  get semantic(): boolean {
    return this.status === 'ready' && (this.options.semantic ?? this.embedder !== undefined);
  }

  /** Every memory across all scopes, from memory. For the scheduler, which applies scope itself. */
  records(): IterableIterator<MemoryRecord> {
    return this.index.all();
  }

  /** A memory as the in-memory index holds it (no IndexedDB read). */
  peek(id: string): MemoryRecord | undefined {
    return this.index.get(id);
  }

  get modelStatus(): ModelStatus {
    return this.status;
  }

  /** Why the embedder could not start, once `modelStatus` is 'failed' (memory and lexical search go on). */
  get modelError(): MnemeError | undefined {
    return this.failure;
  }

  /** The number of memories held, across all scopes. */
  get size(): number {
    return this.index.size;
  }

  on<K extends keyof MnemeEventMap>(type: K, listener: (detail: MnemeEventMap[K]) => void): () => void {
    const wrapped = (e: Event) => listener((e as CustomEvent<MnemeEventMap[K]>).detail);
    this.events.addEventListener(type, wrapped);
    return () => this.events.removeEventListener(type, wrapped);
  }

  private emit<K extends keyof MnemeEventMap>(type: K, detail: MnemeEventMap[K]): void {
    this.events.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /**
   * Once writes have settled: caches the index, so the next open reads one snapshot instead of every
   * record, and compacts the event log to its retention.
   */
  scheduleSnapshot(): void {
    clearTimeout(this.snapshotTimer);
    this.snapshotTimer = setTimeout(() => void this.settle(), this.options.snapshotDelayMs ?? 2000);
  }

  private async settle(): Promise<void> {
    await this.saveSnapshot();
    try {
      await this.store.compactLog();
    } catch {
      // Upkeep: a log it could not shorten now is folded by the next compaction.
    }
  }

  private async saveSnapshot(): Promise<void> {
    this.snapshotTimer = undefined;
    const generation = this.store.generation;
    if (generation === undefined || generation === this.savedGeneration) return;
    try {
      if (await this.store.writeSnapshot('index', generation, this.index.toSnapshot())) this.savedGeneration = generation;
    } catch {
      // Only a cache: if it cannot be written (a full quota), the next open reads every record instead.
    }
  }

  private async startModel(embedder: Embedder): Promise<EmbeddingRef | undefined> {
    try {
      const ref = embedder.ref ?? (await embedder.load({ onProgress: (p) => this.emit('model-progress', p), signal: this.background.signal }));
      if (this.index.activeEmbedding?.model !== ref.model || this.index.activeEmbedding.dim !== ref.dim) {
        await this.index.useEmbedding(this.store, ref);
      }
      this.status = 'ready';
      this.emit('model-ready', ref);
      await reembed(this.store, this.index, embedder, { signal: this.background.signal, onProgress: (p) => this.emit('reembed-progress', p) });
      return ref;
    } catch (error) {
      if (this.background.signal.aborted) return undefined;
      this.status = 'failed';
      this.failure = error instanceof MnemeError ? error : new ModelError('model-load-failed', String(error), { cause: error });
      this.emit('model-error', this.failure);
      return undefined;
    }
  }

  /** Vectors for `texts` when the model is ready; undefined (store text only, embed later) otherwise. */
  private async vectorsFor(texts: string[]): Promise<{ vectors: Float32Array[]; embedding: EmbeddingRef } | undefined> {
    const ref = this.embedder?.ref;
    if (this.status !== 'ready' || !ref || texts.length === 0) return undefined;
    try {
      return { vectors: await this.embedder!.embed(texts), embedding: ref };
    } catch (error) {
      this.emit('model-error', error instanceof MnemeError ? error : new ModelError('embedding-failed', String(error)));
      return undefined;
    }
  }

  async add(input: MemoryInput): Promise<MemoryRecord> {
    const [record] = await this.addMany([input]);
    return record!;
  }

  /** Adds memories in one transaction, embedded first when the model is ready. */
  async addMany(inputs: readonly MemoryInput[]): Promise<MemoryRecord[]> {
    if (!Array.isArray(inputs)) throw new InvalidInputError('invalid-input', `addMany takes an array of memories (got ${describe(inputs)}).`);
    const texts = inputs.map((i, n) => {
      if (!isPlainObject(i)) throw new InvalidInputError('invalid-input', `memories[${n}] is not an object { text, scope, … }.`);
      return parseText(i.text, this.store.limits);
    });
    return this.store.addMany(inputs, await this.vectorsFor(texts));
  }

  /**
   * Adds memories and patches existing ones in one transaction: all of it, or none (see
   * MemoryStore.applyChanges). Added texts are embedded first when the model is ready; rewritten
   * ones after the write, as `update` does.
   */
  async applyChanges(batch: Omit<ChangeBatch, 'vectors'>): Promise<AppliedChanges> {
    const inputs = isPlainObject(batch) && Array.isArray(batch.add) ? batch.add : [];
    const texts = inputs.map((i, n) => {
      if (!isPlainObject(i)) throw new InvalidInputError('invalid-input', `add[${n}] is not an object { text, scope, … }.`);
      return parseText(i.text, this.store.limits);
    });
    const vectors = await this.vectorsFor(texts);
    const applied = await this.store.applyChanges({ ...batch, ...(vectors && { vectors }) });
    return { ...applied, updated: await this.embedRewritten(applied.updated) };
  }

  /**
   * Embeds the committed records that have no vector (their text was rewritten) and returns them as
   * stored now. The write has committed: a vector that cannot be stored is left to the next
   * re-embedding pass, and the records come back as they are.
   */
  private async embedRewritten(records: MemoryRecord[]): Promise<MemoryRecord[]> {
    const bare = records.filter((r) => !r.embedding);
    const fresh = await this.vectorsFor(bare.map((r) => r.text));
    if (!fresh || bare.length === 0) return records;
    const stored = await this.store.putVectors(bare.map((r, i) => ({ id: r.id, text: r.text, vector: fresh.vectors[i]! })), fresh.embedding).catch(() => 0);
    return stored > 0 ? records.map((r) => this.index.get(r.id) ?? r) : records; // the index follows the committed write
  }

  /** A memory by id, only if the caller (`scope`) may see it. */
  get(id: string, options: { scope: CallerScope }): Promise<MemoryRecord | undefined> {
    return this.store.get(id, options);
  }

  /** Changes a memory; a new text is re-embedded. */
  async update(id: string, patch: MemoryPatch): Promise<MemoryRecord> {
    const [next] = await this.embedRewritten([await this.store.update(id, patch)]);
    return next!;
  }

  remove(id: string): Promise<void> {
    return this.store.remove(id);
  }

  list(options: ListOptions): Promise<MemoryRecord[]> {
    return this.store.list(options);
  }

  /** A page of `list` (default 100) and the cursor of the next one; see MemoryStore.page. */
  page(options: ListOptions): Promise<MemoryPage> {
    return this.store.page(options);
  }

  count(options: ReadOptions): Promise<number> {
    return this.store.count(options);
  }

  clear(scope: MemoryScope): Promise<number> {
    return this.store.clear(scope);
  }

  /** Moves a memory to another stored tier and logs why; `working` is transient and is refused. */
  setTier(id: string, tier: StoredTier, reason: string): Promise<MemoryRecord> {
    return this.store.setTier(id, tier, reason);
  }

  /** Moves memories between tiers in one transaction, each with its reason: all or none (see MemoryStore.setTiers). */
  setTiers(changes: readonly TierChange[]): Promise<MemoryRecord[]> {
    return this.store.setTiers(changes);
  }

  exportMemories(options: { scope: CallerScope; filter?: MemoryFilter; includeVectors?: boolean }): Promise<ExportDocument> {
    return exportMemories(this.store, options);
  }

  /** Imports an export; memories without a vector from the active model are embedded in the background. */
  async importMemories(doc: unknown, options?: ImportOptions): Promise<ImportReport> {
    const report = await importMemories(this.store, doc, options);
    if (this.status === 'ready' && this.embedder) {
      void reembed(this.store, this.index, this.embedder, { signal: this.background.signal }).catch((error: unknown) => {
        if (error instanceof MnemeError && !this.background.signal.aborted) this.emit('model-error', error);
      });
    }
    return report;
  }

  /**
   * Ranked memories for a query, among those the caller's scope may see. Hybrid: dense cosine
   * (when a model is ready or a vector is given) fused with BM25 by reciprocal rank.
   */
  async searchMemory(query: string, options: SearchOptions): Promise<SearchResult[]> {
    const text = parseQuery(query, this.store.limits);
    const { scope, filter } = parseQueryScope(options);
    const k = options.k ?? 10;
    if (!Number.isInteger(k) || k < 1 || k > MAX_K) throw new InvalidInputError('invalid-input', `k is a whole number from 1 to ${MAX_K} (got ${describe(k)}).`);
    let vector = options.vector;
    if (vector !== undefined) {
      const dim = this.index.activeEmbedding?.dim;
      if (!(vector instanceof Float32Array) || vector.length !== dim) {
        throw new InvalidInputError('invalid-input', `vector must be a Float32Array of the active model's ${dim ?? '(none loaded)'} dimensions.`);
      }
    } else {
      vector = (await this.vectorsFor([text]))?.vectors[0];
    }
    return this.index.search(text, {
      k,
      scope,
      filter,
      governance: this.store.governance,
      ...(vector && { vector }),
      ...(this.options.weights && { weights: this.options.weights }),
      ...(this.options.minDense !== undefined && { minDense: this.options.minDense }),
      ...(options.prefix !== undefined && { prefix: options.prefix }),
    });
  }

  /** Stops background work, saves a pending index snapshot and closes the database. The embedder is the caller's to dispose. */
  async close(): Promise<void> {
    this.background.abort();
    this.unsubscribe();
    if (this.snapshotTimer !== undefined) {
      clearTimeout(this.snapshotTimer);
      await this.saveSnapshot();
    }
    this.store.close();
  }
}

function parseQuery(query: unknown, limits: Limits): string {
  if (typeof query !== 'string') throw new InvalidInputError('invalid-input', `A query is a string (got ${describe(query)}).`);
  if (query.trim() === '') throw new InvalidInputError('text-empty', 'The query is empty; type what to search for.');
  if (query.length > limits.maxTextLength) throw new InvalidInputError('text-too-long', `The query has ${query.length} characters, over the limit of ${limits.maxTextLength}.`);
  return query.trim();
}
