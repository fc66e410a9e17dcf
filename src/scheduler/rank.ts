// Scheduler ranking: how much the query's own match counts against what the
// scheduler knows (heat, themes, tiers, importance, timeliness) depends on how
// confident the match is. A vague request ("help me organize things") matches
// little, so hot themes and the activated tier decide; a request that names a
// memory matches it well, so it comes first however cold it is.
import type { MemoryRecord } from '../memory/types';
import type { ScoreParts } from '../search/memory-index';

export interface MemorySignals {
  heat: number;
  timeliness: number;
  importance: number;
  activated: boolean;
  theme?: { id: string; label: string; heat: number };
}

export interface ScheduledParts extends Partial<ScoreParts> {
  heat: number;
  timeliness: number;
  importance: number;
  themeHeat: number;
  /** How much the query's match counts (0 vague .. 1 names it). */
  confidence: number;
  /** The strategy's value of the memory before the query, 0..1. */
  prior: number;
  /** The query's match, 0..1 (the fused hybrid score). */
  match: number;
  /** Of the match, what the conversation's last turns lent (0 without them). */
  context: number;
}

export interface ScheduledResult {
  memory: MemoryRecord;
  score: number;
  parts: ScheduledParts;
  /** Why it ranks here, in words. */
  reasons: string[];
}

/** Replaceable: how the working set is chosen for a kind of task. */
export interface SchedulingStrategy {
  readonly name: string;
  /** What a memory is worth before looking at the query, 0..1. */
  prior(s: MemorySignals): number;
}

const saturate = (x: number) => x / (x + 2);

/** The prior's weight when the match is fully confident. */
const TIE_BREAK = 0.02;

/** Conversation favours what is hot and activated. */
export const CONVERSATION: SchedulingStrategy = {
  name: 'conversation',
  prior: (s) => 0.45 * saturate(s.heat) + 0.25 * saturate(s.theme?.heat ?? 0) + 0.15 * (s.activated ? 1 : 0) + 0.1 * s.importance + 0.05 * s.timeliness,
};

/** Research favours the newest plaintext, whatever is hot. */
export const RESEARCH: SchedulingStrategy = {
  name: 'research',
  prior: (s) => 0.7 * s.timeliness + 0.2 * s.importance + 0.1 * saturate(s.heat),
};

/**
 * Coverage at which a match counts as fully confident: questions rarely use only the words of their
 * answer, and a sentence memory from `observe` carries fewer of them than a whole turn. On LoCoMo's dev
 * split, saturating at 0.2 / 0.25 / 0.3 / 0.4 / 0.6 gives recall@10 0.596 / 0.594 / 0.593 / 0.580 / 0.541
 * on memories made by `observe` (BM25 0.557; ±0.004 between runs) and 0.719 at 0.2 to 0.4 / 0.714 at 0.6
 * on whole turns: 0.3 is the highest on that plateau, so a vague request, which covers less, is still
 * left to heat and themes.
 */
const FULL_COVERAGE = 0.3;

/**
 * Confidence in the query's own match: the best coverage of its terms among the top hits
 * (saturating at FULL_COVERAGE), or — with a semantic model — a clear dense match.
 */
export function matchConfidence(hits: readonly { parts: Partial<ScoreParts> }[], semantic: boolean): number {
  let c = 0;
  for (const h of hits.slice(0, 3)) {
    c = Math.max(c, Math.min(1, (h.parts.coverage ?? 0) / FULL_COVERAGE));
    if (semantic && h.parts.dense !== undefined) c = Math.max(c, Math.min(1, Math.max(0, (h.parts.dense - 0.35) / 0.35)));
  }
  return c;
}

export interface RankInput {
  /** Hybrid search hits for the query (may be empty). */
  hits: readonly { memory: MemoryRecord; score: number; parts: ScoreParts }[];
  /**
   * How well a memory matches the query, 0..1 (roughly). Default: a hit's fused hybrid score, 0
   * for the rest. Without a semantic model the scheduler measures BM25 relative to the best hit,
   * which keeps the magnitudes rank fusion flattens, plus what neighbouring hits lend.
   */
  match?: (id: string) => number;
  /** Of `match`, the part the conversation's last turns lent. */
  context?: (id: string) => number;
  /** Memories worth considering without a match: the activated tier and hot themes. */
  extra: readonly MemoryRecord[];
  signals: (m: MemoryRecord) => MemorySignals;
  confidence: number;
  k: number;
  /** Whether dense similarity means anything (a real model); only then is it given as a reason. Default true. */
  semantic?: boolean;
}

export function rank(input: RankInput, strategy: SchedulingStrategy): ScheduledResult[] {
  const c = input.confidence;
  const seen = new Map<string, ScheduledResult>();
  const consider = (memory: MemoryRecord, hit?: { score: number; parts: ScoreParts }) => {
    if (seen.has(memory.id)) return;
    const s = input.signals(memory);
    const prior = strategy.prior(s);
    const match = input.match ? input.match(memory.id) : (hit?.score ?? 0);
    const parts: ScheduledParts = {
      ...hit?.parts,
      heat: s.heat,
      timeliness: s.timeliness,
      importance: s.importance,
      themeHeat: s.theme?.heat ?? 0,
      confidence: c,
      prior,
      match,
      context: input.context?.(memory.id) ?? 0,
    };
    // Even a confident match keeps a little of the prior: it settles ties between equal matches.
    seen.set(memory.id, { memory, score: c * match + (1 - (1 - TIE_BREAK) * c) * prior, parts, reasons: explain(parts, s, input.semantic ?? true) });
  };
  for (const h of input.hits) consider(h.memory, h);
  for (const m of input.extra) consider(m);
  return [...seen.values()].sort((a, b) => b.score - a.score || (a.memory.id < b.memory.id ? -1 : 1)).slice(0, input.k);
}

function explain(p: ScheduledParts, s: MemorySignals, semantic: boolean): string[] {
  const reasons: string[] = [];
  if (p.coverage !== undefined && p.coverage > 0) reasons.push(`matches ${Math.round(p.coverage * 100)}% of the query's terms`);
  if (semantic && p.dense !== undefined) reasons.push(`meaning similarity ${p.dense.toFixed(2)}`);
  if (p.context > 0.05) reasons.push('follows the conversation\'s last turns');
  if (p.confidence < 0.5) reasons.push(`vague request (match confidence ${p.confidence.toFixed(2)}): heat and themes decide`);
  if (s.activated) reasons.push('in the activated tier');
  if (s.theme && s.theme.heat >= 1) reasons.push(`theme "${s.theme.label}" heat ${s.theme.heat.toFixed(1)}`);
  if (s.heat >= 1) reasons.push(`heat ${s.heat.toFixed(1)}`);
  if (s.importance >= 0.7) reasons.push(`important (${s.importance.toFixed(2)})`);
  if (s.timeliness === 0) reasons.push('stale');
  return reasons;
}
