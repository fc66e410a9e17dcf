// The engine's cache as the prediction core knows it: the working memories it
// holds, as the last engine call reported them; the prewarm asked for and not
// yet reported, whose order the cache is taking on; and how much of it typing
// prefilled, from which a send's figures follow. Pure: outcomes in, orders and
// figures out.
import type { CacheOutcome, Candidate, SendFigures } from './protocol';

export class CacheView {
  /** Working memories the cache holds, in prompt order, as last reported. */
  private held: Candidate[] = [];
  /** The prewarm asked for and not yet reported: once it starts, the cache holds a prefix of it. */
  private pending: { seq: number; order: readonly Candidate[] } | undefined;
  /** Tokens prefilled by prewarms since the view began. */
  private typingPrefilled = 0;

  /**
   * @param typingFrom tokens before this were cached before typing began (Infinity: whatever the cache held
   * before the first call was not prefilled by typing)
   */
  constructor(private typingFrom: number) {}

  get heldIds(): readonly string[] {
    return this.held.map((c) => c.id);
  }

  /**
   * The working memories in the order the cache holds them, or will: a prewarm asked for and not yet reported
   * has cut the cache back to where it parts from what was held and is prefilling its own order, so a send or
   * a newer prewarm laid out in the older order would find little of it reusable.
   */
  get order(): readonly Candidate[] {
    return this.pending?.order ?? this.held;
  }

  /** A prewarm of `order` was asked for. */
  expect(seq: number, order: readonly Candidate[]): void {
    this.pending = { seq, order };
  }

  /** What a prewarm reported holding; `tokens` gives the memories' token counts. */
  track(seq: number, outcome: CacheOutcome, tokens: ReadonlyMap<string, number>): void {
    if (this.pending && this.pending.seq <= seq) this.pending = undefined;
    this.typingFrom = Math.min(this.typingFrom, outcome.reused);
    this.typingPrefilled += outcome.prefilled;
    this.held = outcome.heldIds.map((id) => ({ id, tokens: tokens.get(id) ?? 0 }));
  }

  /** The prewarm `seq` never reached the engine: whether it was the one pending (now forgotten). */
  skip(seq: number): boolean {
    if (this.pending?.seq !== seq) return false;
    this.pending = undefined;
    return true;
  }

  /** Where the next message's typing starts from, when another model answered and the cache is unchanged. */
  get typingStart(): number {
    return this.typingFrom;
  }

  /** A send's figures, from what its generate reported. */
  figures(final: readonly string[], seen: readonly string[], outcome: CacheOutcome): SendFigures {
    const fromBefore = Math.min(this.typingFrom, outcome.reused);
    const usedFromTyping = Math.max(0, outcome.reused - fromBefore);
    const inFinal = new Set(final);
    return {
      final,
      seen,
      heldFinal: outcome.heldIds.filter((id) => inFinal.has(id)),
      tokensReused: outcome.reused,
      tokensPrefilledAtSend: outcome.prefilled,
      typingPrefilled: this.typingPrefilled,
      wastedPrefill: Math.max(0, this.typingPrefilled - usedFromTyping),
    };
  }
}

/** `found` reordered so that the ones the cache holds (or will) come first, in its order. */
export function heldFirst(order: readonly Candidate[], found: readonly Candidate[]): Candidate[] {
  const byId = new Map(found.map((c) => [c.id, c]));
  const first = order.filter((c) => byId.has(c.id)).map((c) => byId.get(c.id)!);
  const taken = new Set(first.map((c) => c.id));
  return [...first, ...found.filter((c) => !taken.has(c.id))];
}
