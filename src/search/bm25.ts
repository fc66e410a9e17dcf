// Okapi BM25 over an incremental inverted index. Adding and removing a
// document touches only its own terms; a query scores into a reused buffer and
// keeps the best n with a heap, so nothing proportional to the corpus is
// allocated per query.
import { TopK } from './top-k';
import { tokenize } from './tokenize';

/** The shortest partly typed word matched as a prefix. */
const MIN_PARTIAL = 3;

export interface LexicalHit {
  id: string;
  score: number;
  /** Share of the query's weight (Σ idf of its terms, unseen terms weighing most) this document matches, 0..1. */
  coverage: number;
}

interface Postings {
  docs: Int32Array;
  tfs: Uint16Array;
  n: number;
}

/** The index as a few flat arrays, for the index snapshot. */
export interface Bm25Snapshot {
  ids: (string | null)[];
  lengths: Float32Array;
  terms: string[];
  /** Postings of terms[i] are docs/tfs[offsets[i] .. offsets[i + 1]). */
  offsets: Int32Array;
  docs: Int32Array;
  tfs: Uint16Array;
}

/** Pseudo-relevance feedback: expand the query with the `terms` best terms of its `docs` best documents, weighing `weight` × the query. */
export interface Bm25Feedback {
  docs: number;
  terms: number;
  weight: number;
}

export interface Bm25Params {
  k1: number;
  b: number;
  /** Absent: the query as typed, no expansion. */
  feedback?: Bm25Feedback;
}

/** The defaults: b and the feedback were tuned on LoCoMo conversations 1-5 (README, Benchmarks, LoCoMo). */
export const BM25_DEFAULTS: Bm25Params = Object.freeze({ k1: 1.2, b: 0.2, feedback: Object.freeze({ docs: 5, terms: 10, weight: 0.3 }) });

export class Bm25Index {
  private readonly postings = new Map<string, Postings>();
  private readonly docOf = new Map<string, number>();
  private ids: (string | undefined)[] = [];
  private terms: (string[] | undefined)[] = [];
  private lengths = new Float32Array(1024);
  private free: number[] = [];
  private totalLength = 0;
  private scores = new Float32Array(1024);
  private covered = new Float32Array(1024);
  private readonly touched: number[] = [];
  /** Every term, sorted, for completing a partly typed word; rebuilt lazily after new terms. */
  private sorted: string[] | undefined;

  /** `analyze` turns a text into terms (default `tokenize`; another, to measure a different stemmer). */
  constructor(
    readonly params: Bm25Params = BM25_DEFAULTS,
    private readonly analyze: (text: string) => string[] = tokenize,
  ) {}

  get size(): number {
    return this.docOf.size;
  }

  upsert(id: string, text: string): void {
    this.remove(id);
    const tf = new Map<string, number>();
    const tokens = this.analyze(text);
    for (const t of tokens) tf.set(t, (tf.get(t) ?? 0) + 1);
    const doc = this.free.pop() ?? this.ids.length;
    if (doc >= this.lengths.length) {
      this.lengths = grow(this.lengths, doc + 1);
      this.scores = new Float32Array(this.lengths.length);
      this.covered = new Float32Array(this.lengths.length);
    }
    this.ids[doc] = id;
    this.terms[doc] = [...tf.keys()];
    this.lengths[doc] = tokens.length;
    this.totalLength += tokens.length;
    this.docOf.set(id, doc);
    for (const [term, count] of tf) {
      let p = this.postings.get(term);
      if (!p) {
        this.postings.set(term, (p = { docs: new Int32Array(4), tfs: new Uint16Array(4), n: 0 }));
        this.sorted = undefined;
      }
      if (p.n === p.docs.length) {
        p.docs = grow(p.docs, p.n + 1);
        p.tfs = grow(p.tfs, p.n + 1);
      }
      p.docs[p.n] = doc;
      p.tfs[p.n] = Math.min(count, 65_535);
      p.n++;
    }
  }

  remove(id: string): void {
    const doc = this.docOf.get(id);
    if (doc === undefined) return;
    for (const term of this.terms[doc]!) {
      const p = this.postings.get(term)!;
      const at = p.docs.subarray(0, p.n).indexOf(doc);
      p.n--;
      p.docs[at] = p.docs[p.n]!;
      p.tfs[at] = p.tfs[p.n]!;
      if (p.n === 0) {
        this.postings.delete(term);
        this.sorted = undefined;
      }
    }
    this.totalLength -= this.lengths[doc]!;
    this.ids[doc] = undefined;
    this.terms[doc] = undefined;
    this.docOf.delete(id);
    this.free.push(doc);
  }

  toSnapshot(): Bm25Snapshot {
    const terms = [...this.postings.keys()];
    const offsets = new Int32Array(terms.length + 1);
    terms.forEach((t, i) => (offsets[i + 1] = offsets[i]! + this.postings.get(t)!.n));
    const docs = new Int32Array(offsets[terms.length]!);
    const tfs = new Uint16Array(docs.length);
    terms.forEach((t, i) => {
      const p = this.postings.get(t)!;
      docs.set(p.docs.subarray(0, p.n), offsets[i]!);
      tfs.set(p.tfs.subarray(0, p.n), offsets[i]!);
    });
    return { ids: this.ids.map((id) => id ?? null), lengths: this.lengths.slice(0, this.ids.length), terms, offsets, docs, tfs };
  }

  static fromSnapshot(s: Bm25Snapshot, params?: Bm25Params): Bm25Index {
    const index = new Bm25Index(params);
    index.lengths = new Float32Array(Math.max(1024, s.lengths.length * 2));
    index.lengths.set(s.lengths);
    index.scores = new Float32Array(index.lengths.length);
    index.covered = new Float32Array(index.lengths.length);
    s.ids.forEach((id, doc) => {
      index.ids[doc] = id ?? undefined;
      if (id === null) index.free.push(doc);
      else {
        index.docOf.set(id, doc);
        index.terms[doc] = [];
        index.totalLength += s.lengths[doc]!;
      }
    });
    s.terms.forEach((term, i) => {
      const docs = s.docs.slice(s.offsets[i]!, s.offsets[i + 1]!);
      index.postings.set(term, { docs, tfs: s.tfs.slice(s.offsets[i]!, s.offsets[i + 1]!), n: docs.length });
      for (const doc of docs) index.terms[doc]!.push(term);
    });
    return index;
  }

  /** Indexed terms starting with `prefix`, the most frequent first. */
  private completions(prefix: string, max: number): string[] {
    this.sorted ??= [...this.postings.keys()].sort();
    const terms = this.sorted;
    let lo = 0;
    let hi = terms.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (terms[mid]! < prefix) lo = mid + 1;
      else hi = mid;
    }
    const out: string[] = [];
    for (let i = lo; i < terms.length && terms[i]!.startsWith(prefix); i++) out.push(terms[i]!);
    return out.sort((a, b) => this.postings.get(b)!.n - this.postings.get(a)!.n).slice(0, max);
  }

  /**
   * The `n` best-scoring documents among those `accept` lets through, best first. With `prefix`,
   * the query's last word is taken as partly typed: it matches the indexed terms it begins
   * (each document counts its best completion once), from MIN_PARTIAL characters on. With
   * `params.feedback`, the query is expanded from its own best documents (see `expansion`).
   */
  search(query: string, n: number, accept: (id: string) => boolean, options: { prefix?: boolean } = {}): LexicalHit[] {
    if (this.docOf.size === 0) return [];
    const terms = this.analyze(query);
    const partial = options.prefix && /[\p{L}\p{N}]$/u.test(query) ? terms.pop() : undefined;
    // Each group is scored as one query term: a document takes its best member.
    const groups: QueryGroup[] = [...new Set(terms)].map((t) => ({ terms: [t], weight: 1 }));
    // One or two letters begin too many words to say which: such a partial word waits for the next keys.
    if (partial !== undefined && partial.length >= MIN_PARTIAL) groups.push({ terms: this.completions(partial, 16), weight: 1 });
    const { feedback } = this.params;
    if (!feedback || feedback.weight <= 0) return this.score(groups, [], n, accept);
    const expansion = this.expansion(groups, this.feedbackDocs(groups, feedback.docs, accept), feedback);
    return this.score(groups, expansion, n, accept);
  }

  /**
   * The query's `n` best documents, less those tied at the cut: which of them would be taken depends
   * on the order they were added, and a rebuilt index must expand a query as the one it replaces.
   */
  private feedbackDocs(groups: readonly QueryGroup[], n: number, accept: (id: string) => boolean): LexicalHit[] {
    const top = this.score(groups, [], n + 1, accept);
    if (top.length <= n) return top;
    const cut = top[n]!.score;
    return top.slice(0, n).filter((h) => h.score > cut);
  }

  private idf(df: number): number {
    const N = this.docOf.size;
    return Math.log(1 + (N - df + 0.5) / (df + 0.5));
  }

  /**
   * Pseudo-relevance feedback (RM3-style): the terms of the query's best documents, each weighed by
   * the document's share of their scores, its idf and 1 / the document's length, the `terms` best
   * sharing `weight` × the query's own weight (the query keeps its own).
   */
  private expansion(groups: readonly QueryGroup[], top: readonly LexicalHit[], feedback: Bm25Feedback): QueryGroup[] {
    const asked = new Set(groups.flatMap((g) => g.terms));
    const total = top.reduce((sum, h) => sum + h.score, 0);
    const mass = new Map<string, number>();
    for (const h of top) {
      const doc = this.docOf.get(h.id)!;
      for (const t of this.terms[doc]!) {
        if (!asked.has(t)) mass.set(t, (mass.get(t) ?? 0) + (h.score / total) * (this.idf(this.postings.get(t)!.n) / this.lengths[doc]!));
      }
    }
    const best = [...mass].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, feedback.terms);
    const sum = best.reduce((s, [, m]) => s + m, 0);
    return best.map(([t, m]) => ({ terms: [t], weight: (feedback.weight * groups.length * m) / sum }));
  }

  /** BM25 of `groups` (which set the coverage) plus `extra` weighted groups (which do not); the `n` best accepted. */
  private score(groups: readonly QueryGroup[], extra: readonly QueryGroup[], n: number, accept: (id: string) => boolean): LexicalHit[] {
    const { k1, b } = this.params;
    const avg = this.totalLength / this.docOf.size || 1;
    const { scores, covered, touched, lengths } = this;
    const add = (doc: number, score: number, idf: number) => {
      if (scores[doc] === 0) touched.push(doc);
      scores[doc] = scores[doc]! + score;
      covered[doc] = covered[doc]! + idf;
    };
    let weight = 0;
    for (const [i, group] of [...groups, ...extra].entries()) {
      const counts = i < groups.length;
      const postings = group.terms.map((t) => this.postings.get(t)).filter((p): p is Postings => p !== undefined);
      if (counts) weight += this.idf(Math.max(0, ...postings.map((p) => p.n)));
      // A completed word: each document keeps its best completion only.
      const best = postings.length > 1 ? new Map<number, { score: number; idf: number }>() : undefined;
      for (const p of postings) {
        const idf = this.idf(p.n);
        for (let j = 0; j < p.n; j++) {
          const doc = p.docs[j]!;
          const tf = p.tfs[j]!;
          const s = (group.weight * idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * lengths[doc]!) / avg));
          if (!best) add(doc, s, counts ? idf : 0);
          else if (s > (best.get(doc)?.score ?? 0)) best.set(doc, { score: s, idf: counts ? idf : 0 });
        }
      }
      if (best) for (const [doc, { score, idf }] of best) add(doc, score, idf);
    }
    const top = new TopK(n);
    for (const doc of touched) {
      const s = scores[doc]!;
      scores[doc] = 0;
      if (s > top.threshold && accept(this.ids[doc]!)) top.offer(s, doc);
    }
    const hits = top.drain().map(({ score, item }) => ({ id: this.ids[item]!, score, coverage: Math.min(1, covered[item]! / weight) }));
    for (const doc of touched) covered[doc] = 0;
    touched.length = 0;
    return hits;
  }
}

/** Terms scored as one query term (a document takes its best member), and the weight of that term. */
interface QueryGroup {
  terms: string[];
  weight: number;
}

function grow<T extends Float32Array | Int32Array | Uint16Array>(a: T, min: number): T {
  const next = new (a.constructor as new (n: number) => T)(Math.max(min, a.length * 2));
  next.set(a);
  return next;
}
