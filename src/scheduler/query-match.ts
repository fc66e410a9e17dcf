// What a text matches, as the scheduler ranks it: BM25 relative to the best
// hit, what the matches said near a memory lend it, and (with a semantic model) the dense
// cosine above the median hit's. The conversation's last turns are matched the
// same way and lend to the members of the themes they match; that match is
// kept until the store changes, so typing does not search the turns again at
// every keystroke.
import type { Mneme } from '../mneme';
import type { MemoryFilter } from '../memory/filter';
import type { CallerScope, MemoryRecord } from '../memory/types';
import { matchConfidence } from './rank';
import type { SchedulerState } from './state';

/** How much the conversation's last turns count against the message itself. */
export const CONTEXT_WEIGHT = 0.5;
/** What a member of a theme the last turns match shares of the theme's best match. */
const THEME_SHARE = 0.6;
/**
 * How far along the timeline a match lends (memories before and after it), and what each step
 * further keeps of the share: `neighbourWeight` just before or after, × NEIGHBOUR_DECAY two away.
 * Tuned on LoCoMo conversations 1-5 (README, Benchmarks, LoCoMo).
 */
export const NEIGHBOUR_REACH = 2;
export const NEIGHBOUR_DECAY = 0.6;

/**
 * What neighbouring memories lend: each match lends `weight` × its match to the memories just before
 * and after it (NEIGHBOUR_DECAY less per step further), and a memory sums what every match near it
 * lends, so one said between two matches gets both. Hits are lent to as well, on top of their own.
 */
export function neighbourShares(
  matches: ReadonlyMap<string, number>,
  neighbours: (id: string) => readonly { id: string; distance: number }[],
  weight: number,
): Map<string, number> {
  const lent = new Map<string, number>();
  if (weight <= 0) return lent;
  for (const [id, m] of matches) {
    for (const n of neighbours(id)) lent.set(n.id, (lent.get(n.id) ?? 0) + weight * NEIGHBOUR_DECAY ** (n.distance - 1) * m);
  }
  return lent;
}

/** What one text matches: its hits, how well each candidate matches (0..1), and how confident that is. */
export interface QueryMatch {
  hits: Awaited<ReturnType<Mneme['searchMemory']>>;
  match: (id: string) => number;
  /** Candidates that are not hits themselves: neighbours of lexical hits (and, for the turns, their themes' members). */
  neighbours: MemoryRecord[];
  confidence: number;
}

/** What matching reads: the memories and their search, and the scheduler's timeline and themes. */
export interface MatchSources {
  mneme: Mneme;
  state: SchedulerState;
  /** Share of a lexical hit's match its neighbours get (0: none). */
  neighbourWeight: number;
  /** Weight of a hit's dense cosine above the median, with a semantic model. */
  denseWeight: number;
}

export interface MatchRequest {
  scope: CallerScope;
  k: number;
  filter: MemoryFilter | undefined;
  /** The text is being typed: its last word is matched as a prefix. */
  draft: boolean;
  allowed: (m: MemoryRecord) => boolean;
}

/**
 * What a text matches: BM25 relative to the best hit (which keeps the magnitudes rank fusion
 * flattens), plus what neighbouring hits lend (what was said near a match shares in it, see
 * `neighbourShares`), plus, with a semantic model, `denseWeight` × a hit's cosine above the median hit's.
 */
export async function matchText(src: MatchSources, text: string, o: MatchRequest): Promise<QueryMatch> {
  const { mneme, state } = src;
  const hits = (await mneme.searchMemory(text, { scope: o.scope, k: Math.min(1000, Math.max(50, 4 * o.k)), filter: o.filter, prefix: o.draft })).filter((h) => o.allowed(h.memory));
  const best = Math.max(0, ...hits.map((h) => h.parts.lexical ?? 0));
  const lexical = new Map(hits.map((h) => [h.memory.id, best > 0 ? (h.parts.lexical ?? 0) / best : 0]));
  const lent = neighbourShares(lexical, (id) => state.neighbours(id, state.themes.config.windowMs, NEIGHBOUR_REACH), src.neighbourWeight);
  const neighbours = present(mneme, [...lent.keys()].filter((id) => !lexical.has(id)), o.allowed);
  const dense = mneme.semantic ? denseMatch(hits, src.denseWeight) : undefined;
  return { hits, match: (id) => (lexical.get(id) ?? 0) + (lent.get(id) ?? 0) + (dense?.get(id) ?? 0), neighbours, confidence: matchConfidence(hits, mneme.semantic) };
}

/**
 * The conversation's last turns, matched as context. The conversation is about themes, not only the
 * words of its turns: each member of a theme the turns match shares THEME_SHARE of its best match,
 * and joins the candidates. The match of the last turns asked for is kept until `clear()`.
 */
export class ContextMatches {
  private kept: { key: string; match: QueryMatch } | undefined;

  constructor(private readonly src: MatchSources) {}

  async match(turns: string, o: MatchRequest): Promise<QueryMatch> {
    const key = JSON.stringify([turns, o.scope, o.filter ?? null, o.k]);
    if (this.kept?.key === key) return this.kept.match;
    const match = this.followThemes(await matchText(this.src, turns, { ...o, draft: false }), o.allowed);
    this.kept = { key, match };
    return match;
  }

  /** Forgets the kept match (the memories, their themes or the session changed). */
  clear(): void {
    this.kept = undefined;
  }

  private followThemes(found: QueryMatch, allowed: (m: MemoryRecord) => boolean): QueryMatch {
    const { themes } = this.src.state;
    const best = new Map<string, number>();
    for (const h of found.hits) {
      const theme = themes.of(h.memory.id);
      if (theme) best.set(theme.id, Math.max(best.get(theme.id) ?? 0, found.match(h.memory.id)));
    }
    const shares = new Map<string, number>();
    for (const [theme, m] of best) for (const id of themes.get(theme)!.members) shares.set(id, THEME_SHARE * m);
    const candidates = [...found.hits.map((h) => h.memory), ...found.neighbours, ...present(this.src.mneme, [...shares.keys()], allowed)];
    return { ...found, match: (id) => Math.max(found.match(id), shares.get(id) ?? 0), neighbours: [...new Map(candidates.map((m) => [m.id, m])).values()] };
  }
}

/** The records of `ids` that exist and `allowed` lets through. */
function present(mneme: Mneme, ids: readonly string[], allowed: (m: MemoryRecord) => boolean): MemoryRecord[] {
  return ids.map((id) => mneme.peek(id)).filter((m): m is MemoryRecord => m !== undefined && allowed(m));
}

/** Each hit's dense match relative to the others: the best cosine scores `weight`, the median or below 0. */
function denseMatch(hits: readonly { memory: MemoryRecord; parts: { dense?: number } }[], weight: number): Map<string, number> {
  const cosines = hits.flatMap((h) => (h.parts.dense === undefined ? [] : [h.parts.dense])).sort((a, b) => a - b);
  const out = new Map<string, number>();
  if (cosines.length < 2 || weight <= 0) return out;
  const median = cosines[Math.floor(cosines.length / 2)]!;
  const span = cosines.at(-1)! - median;
  if (span <= 0) return out;
  for (const h of hits) if (h.parts.dense !== undefined) out.set(h.memory.id, (weight * Math.max(0, h.parts.dense - median)) / span);
  return out;
}
