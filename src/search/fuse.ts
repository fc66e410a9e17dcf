// Reciprocal rank fusion: a result's fused score is Σ weight / (k + rank) over
// the ranked lists it appears in. It needs no calibration between cosine
// similarity and BM25, whose scales are unrelated, and one list that is weak
// for a query (a dense model that does not know a name, BM25 on a paraphrase)
// cannot drown out the other.

export interface RankedList {
  ids: readonly string[];
  weight: number;
  /** Each id's rank (1-based); equal scores share one. Default: position + 1. */
  ranks?: readonly number[];
}

/** Competition ranks ("1224") of scores sorted best first: equal scores share a rank. */
export function tiedRanks(scores: readonly number[]): number[] {
  return scores.map((s, i) => (i > 0 && s === scores[i - 1] ? 0 : i + 1)).map((r, i, all) => {
    let j = i;
    while (all[j] === 0) j--;
    return all[j]!;
  });
}

export const RRF_K = 60;

/** Fused scores scaled to 0..1: 1 means first in every list. */
export function fuseRanks(lists: readonly RankedList[], k = RRF_K): Map<string, number> {
  const best = lists.reduce((sum, l) => sum + l.weight / (k + 1), 0);
  const fused = new Map<string, number>();
  for (const { ids, weight, ranks } of lists) {
    ids.forEach((id, i) => fused.set(id, (fused.get(id) ?? 0) + weight / (k + (ranks?.[i] ?? i + 1))));
  }
  if (best > 0) for (const [id, s] of fused) fused.set(id, s / best);
  return fused;
}
