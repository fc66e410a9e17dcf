// The in-memory index over the plaintext tier: every record, its int8 vector
// and its terms. It loads once at open and then follows the store's committed
// writes, so it never rebuilds.
import { compilePredicate, type MemoryFilter } from '../memory/filter';
import type { Governance } from '../memory/governance';
import type { CallerScope, EmbeddingRef, MemoryRecord } from '../memory/types';
import type { StoreChange, MemoryStore } from '../store/store';
import type { VectorRow } from '../store/schema';
import { Bm25Index, type Bm25Snapshot } from './bm25';
import { DenseIndex, type DenseSnapshot } from './dense';
import { fuseRanks, tiedRanks, type RankedList } from './fuse';

/** Why a result ranks where it does. The scheduler adds its own signals. */
export interface ScoreParts {
  /** Cosine similarity to the query, when the memory was among the dense candidates. */
  dense?: number;
  denseRank?: number;
  /** BM25 score, when the memory matched the query's terms. */
  lexical?: number;
  lexicalRank?: number;
  /** Share of the query's term weight this memory matches, 0..1. */
  coverage?: number;
  /** Reciprocal-rank fusion of the lists above, 0..1. */
  fused: number;
}

export interface SearchResult {
  memory: MemoryRecord;
  score: number;
  parts: ScoreParts;
}

export interface IndexSearch {
  k: number;
  scope: CallerScope;
  filter: MemoryFilter;
  /** The query's vector from the active embedding model; absent means lexical only. */
  vector?: Float32Array;
  /** How many candidates each list contributes to fusion. Default max(50, 4k). */
  candidates?: number;
  weights?: { dense: number; lexical: number };
  /** Dense candidates at or below this cosine are dropped: nearest is not the same as related. Default 0. */
  minDense?: number;
  /** The query is being typed: its last word may be partial and matches as a prefix. */
  prefix?: boolean;
  /** Denied memories are never candidates; results come redacted. */
  governance?: Governance;
}

/** The whole index in a form IndexedDB stores in a few large values; see MemoryStore.writeSnapshot. */
export interface MemoryIndexSnapshot {
  format: typeof SNAPSHOT_FORMAT;
  embedding: EmbeddingRef | undefined;
  /** JSON of every record: parsing one string is far cheaper than reading thousands of values. */
  records: string;
  lexical: Bm25Snapshot;
  dense: DenseSnapshot | undefined;
}

const SNAPSHOT_FORMAT = 'mneme-index-2';

/** Where an index came from at open: a current snapshot, a stale one caught up from the log, or every record. */
export type IndexSource = 'snapshot' | 'snapshot-and-log' | 'records';

export class MemoryIndex {
  private readonly records = new Map<string, MemoryRecord>();
  private lexical = new Bm25Index();
  private dense: DenseIndex | undefined;

  /** `embedding` is the model whose vectors count; vectors of any other model wait for re-embedding. */
  constructor(private embedding: EmbeddingRef | undefined) {
    if (embedding) this.dense = new DenseIndex(embedding.dim);
  }

  /** Switches dense search to another model's vectors, taking those the store already holds. */
  async useEmbedding(store: MemoryStore, embedding: EmbeddingRef): Promise<void> {
    const vectors = await store.allVectors();
    this.embedding = embedding;
    this.dense = new DenseIndex(embedding.dim);
    for (const v of vectors) this.putVector(v);
  }

  get activeEmbedding(): EmbeddingRef | undefined {
    return this.embedding;
  }

  /**
   * The index for a store: from its snapshot when that is current and made for the same model; from a
   * stale one brought up to date with the rows the log names since it (another tab wrote last, and
   * closed or crashed before saving its own); else built from every record. `from` says which, so
   * the caller knows whether to save a new snapshot.
   */
  static async load(store: MemoryStore, embedding: EmbeddingRef | undefined): Promise<{ index: MemoryIndex; from: IndexSource }> {
    const snapshot = await store.readSnapshot('index');
    const cached = snapshot && MemoryIndex.fromSnapshot(snapshot.data, embedding);
    if (cached && snapshot.current) return { index: cached, from: 'snapshot' };
    if (cached && snapshot.position !== undefined) {
      // A memory embedded since the snapshot logged no event: re-read those the snapshot holds unembedded.
      const change = await store.changesSince(snapshot.position, embedding ? cached.unembedded() : []);
      if (change) {
        cached.apply({ ...change, removedRecords: [], events: [] });
        return { index: cached, from: 'snapshot-and-log' };
      }
    }
    const index = new MemoryIndex(embedding);
    const { records, vectors } = await store.loadAll();
    index.apply({ upserted: records, vectors, removed: [], removedRecords: [], events: [] });
    return { index, from: 'records' };
  }

  toSnapshot(): MemoryIndexSnapshot {
    return {
      format: SNAPSHOT_FORMAT,
      embedding: this.embedding,
      records: JSON.stringify([...this.records.values()]),
      lexical: this.lexical.toSnapshot(),
      dense: this.dense?.toSnapshot(),
    };
  }

  /** Rebuilds an index from a snapshot; undefined when there is none, or it is of another format or model. */
  static fromSnapshot(data: unknown, embedding: EmbeddingRef | undefined): MemoryIndex | undefined {
    const s = data as MemoryIndexSnapshot | undefined;
    if (s?.format !== SNAPSHOT_FORMAT || s.embedding?.model !== embedding?.model || s.embedding?.dim !== embedding?.dim) return undefined;
    const index = new MemoryIndex(undefined);
    index.embedding = embedding;
    for (const r of JSON.parse(s.records) as MemoryRecord[]) index.records.set(r.id, r);
    index.lexical = Bm25Index.fromSnapshot(s.lexical);
    if (s.dense) index.dense = DenseIndex.fromSnapshot(s.dense);
    return index;
  }

  get size(): number {
    return this.records.size;
  }

  get(id: string): MemoryRecord | undefined {
    return this.records.get(id);
  }

  /** Every record, across all scopes (for the scheduler, which applies scope itself). */
  all(): IterableIterator<MemoryRecord> {
    return this.records.values();
  }

  /** Follows one committed write. */
  apply(change: StoreChange): void {
    for (const id of change.removed) {
      this.records.delete(id);
      this.lexical.remove(id);
      this.dense?.remove(id);
    }
    for (const r of change.upserted) {
      const before = this.records.get(r.id);
      this.records.set(r.id, r);
      if (before?.text !== r.text) this.lexical.upsert(r.id, r.text);
      if (!this.isCurrent(r.embedding)) this.dense?.remove(r.id);
    }
    for (const v of change.vectors) this.putVector(v);
  }

  private putVector(v: VectorRow): void {
    if (this.dense && this.records.has(v.id) && this.isCurrent(v)) this.dense.upsert(v.id, v.data);
  }

  private isCurrent(ref: EmbeddingRef | undefined): boolean {
    return ref !== undefined && this.embedding !== undefined && ref.model === this.embedding.model && ref.dim === this.embedding.dim;
  }

  /** Ids of memories whose vector is missing or from another model. */
  unembedded(): string[] {
    const out: string[] = [];
    for (const [id, r] of this.records) if (!this.isCurrent(r.embedding) || !this.dense?.has(id)) out.push(id);
    return out;
  }

  search(query: string, options: IndexSearch): SearchResult[] {
    const { k, vector } = options;
    const n = options.candidates ?? Math.max(50, 4 * k);
    const weights = options.weights ?? { dense: 1, lexical: 1 };
    const { governance, scope } = options;
    const visible = compilePredicate(scope, options.filter, governance);
    const accept = (id: string) => visible(this.records.get(id)!);

    const lexicalHits = this.lexical.search(query, n, accept, { prefix: options.prefix ?? false });
    const minDense = options.minDense ?? 0;
    const denseHits = vector && this.dense ? this.dense.search(vector, n, accept).filter((h) => h.cosine > minDense) : [];
    const lists: RankedList[] = [];
    const denseRanks = tiedRanks(denseHits.map((h) => h.cosine));
    const lexicalRanks = tiedRanks(lexicalHits.map((h) => h.score));
    if (denseHits.length > 0) lists.push({ ids: denseHits.map((h) => h.id), weight: weights.dense, ranks: denseRanks });
    if (lexicalHits.length > 0) lists.push({ ids: lexicalHits.map((h) => h.id), weight: weights.lexical, ranks: lexicalRanks });
    const fused = fuseRanks(lists);

    const parts = new Map<string, ScoreParts>();
    for (const [id, s] of fused) parts.set(id, { fused: s });
    denseHits.forEach((h, i) => Object.assign(parts.get(h.id)!, { dense: h.cosine, denseRank: denseRanks[i] }));
    lexicalHits.forEach((h, i) => Object.assign(parts.get(h.id)!, { lexical: h.score, lexicalRank: lexicalRanks[i], coverage: h.coverage }));

    return [...parts]
      .sort(([a, pa], [b, pb]) => pb.fused - pa.fused || (pa.lexicalRank ?? Infinity) - (pb.lexicalRank ?? Infinity) || (a < b ? -1 : 1))
      .slice(0, k)
      .map(([id, p]) => {
        const memory = this.records.get(id)!;
        return { memory: governance ? governance.redact(memory, scope) : memory, score: p.fused, parts: p };
      });
  }
}
