// The prediction core, sans I/O (in the manner of quinn-proto's `Connection`
// and h11): it takes events (a draft with its sequence number, a send, a
// search's results, what a prewarm or a generate left in the cache) and hands
// back commands (search, prewarm this prefix, generate, record these uses,
// report). It never awaits, never touches the store, the engine or a browser
// global; one runner (src/scheduler/predict.ts) executes its commands and feeds
// the outcomes back as events. Races are decided here: a search or layout for
// a draft that a newer one replaced is dropped when its result comes back, and
// the cache is tracked from what each engine call reports it *held*, not from
// what was asked of it, save that a prewarm in flight sets the order the cache
// is taking on (src/core/cache-view.ts).
import { CacheView, heldFirst } from './cache-view';
import type { CacheOutcome, Candidate, CoreCommand, CoreEvent, Layout, Turn } from './protocol';

/** How the send's working block is chosen. */
export type SendLayout =
  /** Exactly the final set: held ones first in held order (the longest reusable prefix), then the new ones. */
  | { kind: 'final' }
  /** Everything held (in held order) plus the final set's new ones, held non-final memories cut to fit `tokens`. */
  | { kind: 'held-plus-new'; tokens: number };

export interface PredictionConfig {
  system: string;
  /** Memories a draft predicts; a prewarm holds them all with `held-plus-new`, the first `finalK` with `final`. */
  budget: number;
  /**
   * Memories a send is expected to take (its k) until a send says otherwise: a prediction's first `finalK` are
   * what the send will need, so the prewarm lays them out first and the refresh rule compares them.
   */
  finalK: number;
  /**
   * Prewarm again when a send of the prediction's first `finalK` would prefill more than this share of their
   * tokens beyond what the last prewarm laid out (0: whenever it would prefill any of them).
   */
  refreshAbove: number;
  send: SendLayout;
  /** Whether a send records its final set as retrieved (it warms them). */
  recordRetrieval: boolean;
  /** Turns of the conversation searched as context for the next message (0: none). */
  contextTurns: number;
}

export const PREDICTION_DEFAULTS: Readonly<PredictionConfig> = Object.freeze({
  system: 'You are a helpful assistant with a memory of what the user told you before.',
  budget: 10,
  finalK: 5,
  // Decided on the typing replay (LoCoMo dev split, 40 questions each): a refresh prefills only what the send
  // would prefill anyway, earlier. At 300 tokens/s, 0 put the share at send at p50 0.007 / p95 0.194, against
  // 0.022 / 0.194 at 0.1 and 0.044 / 0.194 at 0.2, with as many tokens prefilled while typing (2,698 against 2,684).
  refreshAbove: 0,
  // Decided on the typing replay (npm run bench:typing, LoCoMo dev split): at 40 and 300 tokens/s, exactly the
  // final set prefills less at send (share p50 0.145 against 0.180 at 300/s) for at most 0.5 points of prompt recall.
  send: Object.freeze({ kind: 'final' as const }),
  recordRetrieval: true,
  // The user's last message and the reply to it: what a follow-up ("help me organise them") refers to.
  contextTurns: 2,
});

/** The draft up to its last complete word: what later keystrokes will not change. */
export function stableDraft(draft: string): string {
  const cut = draft.search(/\s\S*$/);
  return cut < 0 ? '' : draft.slice(0, cut + 1);
}

const hasWords = (text: string) => /[\p{L}\p{N}]/u.test(text);

interface Sending {
  seq: number;
  text: string;
  k: number;
  answer: boolean;
  /** The final set, and the working block laid out for the generate. */
  final: readonly string[];
  seen: readonly string[];
}

export class PredictionCore {
  readonly history: Turn[] = [];
  private system: string;
  private context: string | undefined;
  /**
   * Whether `history` is the conversation the next message follows: after the caller's `conversation`, or
   * after this core's own answer. After another model answered (augment) it is not, and the last turns are
   * not searched: a draft and its send must rank the same way, or the cache holds the wrong memories.
   */
  private historyKnown = true;
  /** The context the drafts since the last send were searched with ('' for none); undefined when none was typed. */
  private draftContext: string | undefined;
  private latest = 0;
  /** The newest draft, while its search is out or while a send holds the engine. */
  private drafting: { seq: number; text: string; waiting: boolean } | undefined;
  /** The send in flight: drafts typed meanwhile are predicted, and prewarmed once it is done. */
  private sending: Sending | undefined;
  /** The last prewarm asked for: laid out again, with the words typed since, while the prediction holds. */
  private requested: Candidate[] = [];
  /** The whole words of the draft that the last prewarm asked for. */
  private requestedDraft = '';
  /** The working set of the current message: the last prediction, or the last send's final set. */
  private workingSet: readonly string[] = [];
  /** The engine's cache as far as this core knows it: held, being prewarmed, and typing's share of it. */
  private cache = new CacheView(Infinity);
  /** Token counts of the memories seen since the last send. */
  private tokens = new Map<string, number>();
  /** The k the next send is expected to take: the last send's, or the configured one before any. */
  private finalK: number;

  constructor(private readonly config: PredictionConfig) {
    this.system = config.system;
    this.finalK = config.finalK;
  }

  /** Whether `seq` is still the newest draft or send (a runner checks after each await). */
  isCurrent(seq: number): boolean {
    return seq === this.latest;
  }

  /** The system prompt the next prompt starts with. */
  get systemPrompt(): string {
    return this.system;
  }

  /** The working set of the current message (transient: never stored). */
  get working(): readonly string[] {
    return this.workingSet;
  }

  /** Working memories the cache holds now, in prompt order. */
  get held(): readonly string[] {
    return this.cache.heldIds;
  }

  handle(event: CoreEvent): CoreCommand[] {
    switch (event.type) {
      case 'context':
        return this.enterContext(event.key);
      case 'conversation':
        this.adopt(event.history, event.system);
        this.historyKnown = true;
        return [];
      case 'draft':
        return this.draft(event.seq, event.text);
      case 'send':
        return this.send(event);
      case 'searched':
        return this.searched(event.seq, event.found);
      case 'prewarmed':
        this.cache.track(event.seq, event.outcome, this.tokens);
        return [];
      case 'prewarm-skipped':
        return this.skipped(event.seq);
      case 'generated':
        return this.generated(event.seq, event.outcome, event.reply);
      case 'failed':
        if (this.sending?.seq === event.seq) this.sending = undefined;
        this.cache = new CacheView(Infinity);
        return [];
      case 'search-failed':
        if (this.sending?.seq === event.seq) this.sending = undefined;
        if (this.drafting?.seq === event.seq) this.drafting = undefined;
        return [];
    }
  }

  private enterContext(key: string): CoreCommand[] {
    const changed = this.context !== undefined && key !== this.context;
    this.context = key;
    if (!changed) return [];
    this.requested = [];
    this.requestedDraft = '';
    this.workingSet = [];
    this.history.length = 0;
    this.cache = new CacheView(0);
    return [{ type: 'cancel-prewarm' }];
  }

  /** Takes the caller's conversation; a different one means the prewarmed prefix no longer leads anywhere. */
  private adopt(history: readonly Turn[] | undefined, system: string | undefined): boolean {
    const changed = (history !== undefined && !sameTurns(history, this.history)) || (system !== undefined && system !== this.system);
    if (!changed) return false;
    if (history) this.history.splice(0, this.history.length, ...history);
    if (system !== undefined) this.system = system;
    this.requested = [];
    this.requestedDraft = '';
    return true;
  }

  private accept(seq: number): boolean {
    if (!Number.isInteger(seq) || seq <= this.latest) return false;
    this.latest = seq;
    return true;
  }

  private draft(seq: number, text: string): CoreCommand[] {
    if (!this.accept(seq)) return [{ type: 'superseded', seq }];
    this.drafting = { seq, text, waiting: false };
    if (!hasWords(text)) return this.searched(seq, []);
    return [this.search(seq, text, this.config.budget)];
  }

  /** A draft's search, with the last turns as context (kept for its send). */
  private search(seq: number, query: string, k: number): CoreCommand {
    this.draftContext = this.lastTurns() ?? '';
    return { type: 'search', seq, query, k, draft: true, ...(this.draftContext && { context: this.draftContext }) };
  }

  /** The conversation's last turns, when there are some and the conversation is known. */
  private lastTurns(): string | undefined {
    const turns = this.config.contextTurns > 0 && this.historyKnown ? this.history.slice(-this.config.contextTurns) : [];
    const text = turns.map((t) => t.text).join('\n');
    return hasWords(text) ? text : undefined;
  }

  private send(event: Extract<CoreEvent, { type: 'send' }>): CoreCommand[] {
    if (!this.accept(event.seq)) return [{ type: 'superseded', seq: event.seq }];
    if (this.sending) return [{ type: 'superseded', seq: event.seq }]; // one send at a time
    this.adopt(event.history, event.system);
    this.finalK = event.k;
    this.sending = { seq: event.seq, text: event.text, k: event.k, answer: event.answer, final: [], seen: [] };
    this.drafting = undefined;
    if (!hasWords(event.text)) return this.searched(event.seq, []);
    // Ranked with the context its drafts were (so the cache holds what the send needs), even when the send
    // brings another conversation; a message pasted and sent at once reads the last turns of the one it brings.
    const context = this.draftContext ?? this.lastTurns();
    this.draftContext = undefined;
    return [{ type: 'search', seq: event.seq, query: event.text, k: event.k, draft: false, ...(context && { context }) }];
  }

  private searched(seq: number, found: readonly Candidate[]): CoreCommand[] {
    for (const c of found) this.tokens.set(c.id, c.tokens);
    if (this.sending?.seq === seq) {
      this.workingSet = found.map((c) => c.id);
      return this.layoutSend(this.sending, found);
    }
    const draft = this.drafting;
    if (!draft || draft.seq !== seq || seq !== this.latest) return [{ type: 'superseded', seq }];
    this.workingSet = found.map((c) => c.id);
    if (this.sending) {
      draft.waiting = true; // the engine is answering; prewarm once it is done
      return [{ type: 'predicted', seq, ids: this.workingSet, prewarm: false }];
    }
    const typed = stableDraft(draft.text);
    if (this.requested.length > 0 && this.frontHeld(found)) {
      // The prediction held: only the words typed since are appended (nothing to roll back).
      if (typed === this.requestedDraft || !typed.startsWith(this.requestedDraft)) return [{ type: 'predicted', seq, ids: this.workingSet, prewarm: false }];
    } else {
      this.requested = this.prewarmSet(found);
    }
    this.requestedDraft = typed;
    const layout: Layout = { system: this.system, history: [...this.history], working: this.requested.map((c) => c.id), draft: typed, final: false };
    this.cache.expect(seq, this.requested);
    return [{ type: 'predicted', seq, ids: this.workingSet, prewarm: true }, { type: 'prewarm', seq, layout }];
  }

  /**
   * Whether the cache serves the send this prediction foresees: laid out as a send would lay out the
   * prediction's first `finalK`, at most `refreshAbove` of their tokens fall after the prefix they share with
   * what the cache holds (or will, once the prewarm in flight lands). The cache reuses a prefix only, so what
   * counts is where a change falls: a dropped first memory costs every one after it, a new last one only itself
   * (an overlap of sets cannot tell them apart). A prewarm cut short by another call counts for what it held.
   */
  private frontHeld(found: readonly Candidate[]): boolean {
    const front = found.slice(0, this.finalK);
    const total = front.reduce((sum, c) => sum + c.tokens, 0);
    const laid = this.sendWorking(front);
    const cached = this.cache.order;
    let shared = 0;
    while (shared < laid.length && laid[shared]!.id === cached[shared]?.id) shared++;
    const after = laid.slice(shared).reduce((sum, c) => sum + c.tokens, 0);
    return total === 0 || after <= this.config.refreshAbove * total;
  }

  /**
   * What a prewarm lays out for a prediction: its first `finalK` (what the send will take) before the rest, and
   * within each part the ones the cache holds first, in held order, so the cache keeps its prefix. A held memory
   * that fell out of the first `finalK` goes behind them: left in front, it would cut the prefix the send reuses.
   * With the `final` layout nothing follows them, since the send lays out exactly its final set: a memory behind
   * them could never be in the prefix it reuses, and would push the typed words out of it.
   */
  private prewarmSet(found: readonly Candidate[]): Candidate[] {
    const front = heldFirst(this.cache.order, found.slice(0, this.finalK));
    return this.config.send.kind === 'final' ? front : [...front, ...heldFirst(this.cache.order, found.slice(this.finalK))];
  }

  private layoutSend(send: Sending, found: readonly Candidate[]): CoreCommand[] {
    const final = found.map((c) => c.id);
    if (!send.answer) {
      const report = this.cache.figures(final, final, { reused: 0, prefilled: 0, length: 0, heldIds: [] });
      this.sending = undefined;
      this.historyKnown = false; // another model answers: its reply, and so the conversation now, is unknown
      this.startOver(this.cache.typingStart);
      return [...this.uses(final), { type: 'sent', seq: send.seq, report }];
    }
    send.final = final;
    send.seen = this.sendWorking(found).map((c) => c.id);
    const layout: Layout = { system: this.system, history: [...this.history], working: send.seen, draft: send.text, final: true };
    return [{ type: 'generate', seq: send.seq, layout, final }];
  }

  /** The working block a send of `found` lays out, in prompt order. */
  private sendWorking(found: readonly Candidate[]): Candidate[] {
    if (this.config.send.kind === 'final') return heldFirst(this.cache.order, found);
    const inFinal = new Map(found.map((c) => [c.id, c]));
    let room = this.config.send.tokens - found.reduce((sum, c) => sum + c.tokens, 0);
    const keep: Candidate[] = [];
    for (const c of this.cache.order) {
      const final = inFinal.get(c.id);
      if (final) keep.push(final);
      else if (c.tokens <= room) (room -= c.tokens), keep.push(c);
    }
    const kept = new Set(keep.map((c) => c.id));
    return [...keep, ...found.filter((c) => !kept.has(c.id))];
  }

  /** A prewarm never reached the engine: the cache still holds what it held, and the next prediction prewarms. */
  private skipped(seq: number): CoreCommand[] {
    if (!this.cache.skip(seq)) return [];
    this.requested = [];
    this.requestedDraft = '';
    return [];
  }

  private generated(seq: number, outcome: CacheOutcome, reply: string): CoreCommand[] {
    const send = this.sending;
    if (send?.seq !== seq) return [];
    const report = this.cache.figures(send.final, send.seen, outcome);
    this.sending = undefined;
    this.history.push({ role: 'user', text: send.text }, { role: 'assistant', text: reply });
    this.historyKnown = true;
    this.startOver(outcome.length);
    const resume: CoreCommand[] = this.drafting?.waiting ? [this.search(this.drafting.seq, this.drafting.text, this.config.budget)] : [];
    return [...this.uses(report.final), { type: 'sent', seq, report }, ...resume];
  }

  /** After a send: the next message starts from what the cache holds now. */
  private startOver(cached: number): void {
    this.requested = [];
    this.requestedDraft = '';
    this.tokens = new Map();
    this.cache = new CacheView(cached);
  }

  private uses(ids: readonly string[]): CoreCommand[] {
    return this.config.recordRetrieval && ids.length > 0 ? [{ type: 'record-uses', ids, use: 'retrieval' }] : [];
  }
}

function sameTurns(a: readonly Turn[], b: readonly Turn[]): boolean {
  return a.length === b.length && a.every((t, i) => t.role === b[i]!.role && t.text === b[i]!.text);
}
