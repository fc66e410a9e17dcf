// Keeps the k best (score, item) pairs seen, in O(log k) per offer.
// Ties keep the item offered first, so rankings are deterministic.

export class TopK {
  private readonly scores: Float64Array;
  private readonly items: Int32Array;
  private readonly order: Float64Array;
  private size = 0;
  private seen = 0;

  constructor(readonly k: number) {
    this.scores = new Float64Array(k);
    this.items = new Int32Array(k);
    this.order = new Float64Array(k);
  }

  /** The score an offer must beat to enter; -Infinity while not full. */
  get threshold(): number {
    return this.size < this.k ? -Infinity : this.scores[0]!;
  }

  offer(score: number, item: number): void {
    const seq = this.seen++;
    if (this.k === 0) return;
    if (this.size < this.k) {
      let i = this.size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!this.less(score, seq, this.scores[parent]!, this.order[parent]!)) break;
        this.move(parent, i);
        i = parent;
      }
      this.place(i, score, item, seq);
      return;
    }
    if (!this.less(this.scores[0]!, this.order[0]!, score, seq)) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= this.size) break;
      const r = l + 1;
      const c = r < this.size && this.less(this.scores[r]!, this.order[r]!, this.scores[l]!, this.order[l]!) ? r : l;
      if (!this.less(this.scores[c]!, this.order[c]!, score, seq)) break;
      this.move(c, i);
      i = c;
    }
    this.place(i, score, item, seq);
  }

  /** The kept pairs, best first. Empties the heap. */
  drain(): { score: number; item: number }[] {
    const out: { score: number; item: number; seq: number }[] = [];
    for (let i = 0; i < this.size; i++) out.push({ score: this.scores[i]!, item: this.items[i]!, seq: this.order[i]! });
    this.size = 0;
    this.seen = 0;
    out.sort((a, b) => b.score - a.score || a.seq - b.seq);
    return out.map(({ score, item }) => ({ score, item }));
  }

  /** Worse = lower score, or equal score offered later. */
  private less(sa: number, oa: number, sb: number, ob: number): boolean {
    return sa < sb || (sa === sb && oa > ob);
  }

  private move(from: number, to: number): void {
    this.scores[to] = this.scores[from]!;
    this.items[to] = this.items[from]!;
    this.order[to] = this.order[from]!;
  }

  private place(i: number, score: number, item: number, seq: number): void {
    this.scores[i] = score;
    this.items[i] = item;
    this.order[i] = seq;
  }
}
