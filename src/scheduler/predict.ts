// Prediction from partial keystrokes. While the user types, each draft is
// ranked on the hot path; when the predicted working set changes enough, the
// engine is asked to prewarm the prompt prefix the send will need, and the
// superseded prewarm is cancelled. At send, the final set is laid out after the
// prewarmed memories, so all that is left to prefill is what typing could not
// know: new memories, if any, and the end of the message.
import { layoutPrompt, type HistoryTurn } from '../engine/layout';
import { promptLength } from '../engine/ledger';
import type { Engine, PromptTokens } from '../engine/types';
import type { MemoryRecord } from '../memory/types';
import { tokenize } from '../search/tokenize';
import type { Metrics } from './plugins';
import type { ScheduledResult } from './rank';
import type { Scheduler } from './scheduler';
import { jaccard } from '../util/jaccard';

export interface PredictorOptions {
  engine: Engine;
  system?: string;
  /** Memories a prewarm holds. Default 20. */
  budget?: number;
  /** Prewarm again only when the predicted set's overlap with the prewarmed one falls below this (Jaccard). Default 0.8. */
  refreshBelow?: number;
  /** Most reply tokens at send. Default 128. */
  maxTokens?: number;
  metrics?: Metrics;
  clock?: () => number;
  /** Log the final set as retrieved into the prompt (it warms them). False for measurements that must not change state. Default true. */
  recordRetrieval?: boolean;
}

export interface SendReport {
  results: ScheduledResult[];
  reply: string;
  /** Share of the final set that was already prefilled when the user pressed send. */
  prewarmHit: number;
  prefillTokensAtSend: number;
  /** What an empty cache would have prefilled for the same prompt. */
  prefillTokensCold: number;
  ttftMs: number;
}

const DEFAULT_SYSTEM = 'You are a helpful assistant with a memory of what the user told you before.';

/** The draft up to its last complete word: what later keystrokes will not change. */
export function stableDraft(draft: string): string {
  const cut = draft.search(/\s\S*$/);
  return cut < 0 ? '' : draft.slice(0, cut + 1);
}

export class Predictor {
  readonly history: HistoryTurn[] = [];
  private prewarmed: string[] = [];
  private pending: AbortController | undefined;
  private context: string | undefined;
  private readonly budget: number;
  private readonly system: string;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly options: PredictorOptions,
  ) {
    this.budget = options.budget ?? 20;
    this.system = options.system ?? DEFAULT_SYSTEM;
  }

  /** What the last prewarm holds. */
  get prewarmedIds(): readonly string[] {
    return this.prewarmed;
  }

  private async prompt(working: readonly MemoryRecord[], draft: string, final: boolean): Promise<PromptTokens> {
    const { engine } = this.options;
    return layoutPrompt(
      {
        system: this.system,
        activated: this.scheduler.activatedRecords().map((m) => m.text),
        history: this.history,
        working: working.map((m) => m.text),
        draft,
      },
      engine.info!.template,
      (texts) => engine.tokenize(texts),
      { final },
    );
  }

  /**
   * A draft changed: predict its working set, and prewarm when the prediction moved enough.
   * Resolves with the ranked prediction (and its ids), whether a prewarm was started, and
   * `settled`, which resolves when that prewarm has finished or been superseded.
   */
  async draft(text: string): Promise<{ results: ScheduledResult[]; predicted: string[]; prewarmed: boolean; settled: Promise<void> }> {
    this.enterContext();
    const results = tokenize(text).length > 0 ? await this.scheduler.search(text, { k: this.budget, draft: true }) : [];
    const predicted = results.map((r) => r.memory.id);
    if (this.prewarmed.length > 0 && jaccard(predicted, this.prewarmed) >= (this.options.refreshBelow ?? 0.8)) {
      return { results, predicted, prewarmed: false, settled: Promise.resolve() };
    }
    this.pending?.abort();
    const control = new AbortController();
    this.pending = control;
    this.prewarmed = predicted;
    const prefix = await this.prompt(results.map((r) => r.memory), stableDraft(text), false);
    // A prewarm that is superseded or fails only means more to prefill at send.
    const settled = this.options.engine.prewarm(prefix, { signal: control.signal }).then(
      () => undefined,
      () => undefined,
    );
    this.options.metrics?.record({ type: 'prewarm', at: this.now(), memories: predicted.length, tokens: promptLength(prefix) });
    return { results, predicted, prewarmed: true, settled };
  }

  /**
   * The user pressed send: rank the final set (a full search: an archived memory asked for by
   * name is found), answer with it, and report how much the prewarm saved.
   */
  async send(text: string, k: number): Promise<SendReport> {
    this.enterContext();
    const results = await this.scheduler.search(text, { k });
    const held = new Set(this.prewarmed);
    const hit = results.length === 0 ? 1 : results.filter((r) => held.has(r.memory.id)).length / results.length;
    // Prewarmed memories first, in their prewarmed order, then the final set's new ones.
    const byId = new Map(results.map((r) => [r.memory.id, r.memory]));
    const working = [
      // A prewarmed memory the caller may no longer see (retagged, or another user or role since) stays out.
      ...this.prewarmed.map((id) => byId.get(id) ?? this.scheduler.usable(id)).filter((m): m is MemoryRecord => m !== undefined),
      ...results.filter((r) => !held.has(r.memory.id)).map((r) => r.memory),
    ];
    const prompt = await this.prompt(working, text, true);
    const generated = await this.options.engine.generate(prompt, { maxTokens: this.options.maxTokens ?? 128 });
    if (this.options.recordRetrieval ?? true) await this.scheduler.retrieved(results.map((r) => r.memory.id));
    this.history.push({ role: 'user', text }, { role: 'assistant', text: generated.text });
    this.prewarmed = [];
    this.pending = undefined;
    const report: SendReport = {
      results,
      reply: generated.text,
      prewarmHit: hit,
      prefillTokensAtSend: generated.stats.tokensPrefilled,
      prefillTokensCold: promptLength(prompt),
      ttftMs: generated.stats.ttftMs,
    };
    this.options.metrics?.record({ type: 'send', at: this.now(), prewarmHit: hit, prefillTokensAtSend: report.prefillTokensAtSend, prefillTokensCold: report.prefillTokensCold, ttftMs: report.ttftMs });
    return report;
  }

  /** Another user or role since the last prompt: nothing of the old context (prewarmed set, history) carries over. */
  private enterContext(): void {
    const key = JSON.stringify(this.scheduler.contextScope);
    if (this.context !== undefined && key !== this.context) {
      this.pending?.abort();
      this.prewarmed = [];
      this.history.length = 0;
    }
    this.context = key;
  }

  private now(): number {
    return (this.options.clock ?? Date.now)();
  }
}
