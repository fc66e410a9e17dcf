// The scheduler's shapes: how one is made, how a search is asked for, and what
// observing a message did. Kept apart from scheduler.ts, which does the work.
import type { MemoryFilter } from '../memory/filter';
import type { CallerScope, MemoryRecord } from '../memory/types';
import type { LifecycleConfig, TransformationRules } from './lifecycle';
import type { Extractor } from './llm-extract';
import type { ContextBinding, Governance, Metrics } from './plugins';
import type { SchedulingStrategy } from './rank';
import type { SignalConfig } from './signals';
import type { ThemeConfig } from './themes';

export interface SchedulerOptions {
  /** The user the scheduler serves; sessions may narrow it to a role or agent. */
  scope: CallerScope;
  clock?: () => number;
  signals?: Partial<SignalConfig>;
  /** Theme settings; `semantic` defaults to true here, as vectors reach themes only from a semantic Mneme (see `Mneme.semantic`). */
  themes?: Partial<ThemeConfig>;
  lifecycle?: Partial<LifecycleConfig>;
  strategy?: SchedulingStrategy;
  rules?: TransformationRules;
  binding?: ContextBinding;
  governance?: Governance;
  metrics?: Metrics;
  /** Token count of a memory in the activated block. Default: about 4 characters a token. */
  countTokens?: (text: string) => number;
  /** Term overlap at which an observed sentence repeats a memory (its heat rises instead of a copy). Default 0.8. */
  duplicateAt?: number;
  /** Coverage at which an observed sentence counts as mentioning a memory. Default 0.6. */
  mentionAt?: number;
  /**
   * Share of a lexical match lent to the memories said just before and after it (an answer sits
   * next to the turn that shares the question's words); two away they get 0.6 of that, and a memory
   * sums what every match near it lends. 0 turns it off. Default 0.5 (tuned on LoCoMo conversations 1-5).
   */
  neighbourWeight?: number;
  /**
   * With a semantic model, what a dense match adds to the lexical one: this weight times the hit's
   * cosine relative to the best and the median of the hits (1 for the best, 0 at or below the median).
   * 0 leaves ranking lexical. Default 0.5 (tuned on LoCoMo conversations 1-5 with the static GloVe model).
   */
  denseWeight?: number;
  /**
   * How long after a memory is added, removed or rewritten the themes are saved (theme-state.ts), so the next
   * start restores them instead of placing every memory again. False: never saved. Default 5000 ms.
   */
  saveThemesAfterMs?: number | false;
  /**
   * Turns messages into memory changes (e.g. `llmExtractor(engine)`), written in one transaction.
   * Default: the heuristic extractor; it is also the fallback when this one fails (before anything is written).
   */
  extractor?: Extractor;
}

export interface SearchScheduledOptions {
  k?: number;
  filter?: MemoryFilter;
  /** The text is a draft being typed: its last word may be partial. Default false. */
  draft?: boolean;
  /**
   * The last turns of the conversation: memories they match count too, at CONTEXT_WEIGHT (query-match.ts) of the
   * query's own match, so a follow-up ("help me organise them") finds what the turns were about.
   */
  context?: string;
}

export interface Observed {
  created: MemoryRecord[];
  /** Existing memories the message repeated or mentioned; their heat rose. */
  mentioned: string[];
  /** Memories the message corrected (rewritten) or contradicted (retired: valid until now). */
  updated: string[];
  retired: string[];
}
