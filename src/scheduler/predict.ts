// The effect runner of the prediction core (src/core/prediction.ts): the one
// place where the keystroke-to-first-token path does I/O. It feeds events to
// the core and carries out its commands: searches on the scheduler, prewarms
// and generates on the engine (one engine, serialized), uses recorded in the
// store. Outcomes go back to the core as events, so every race (a slow search
// for an old draft, a prewarm superseded mid-prefill) is decided by the core
// from sequence numbers and from what the cache reported holding.
import { layoutPrompt, type LaidOutPrompt } from '../engine/layout';
import { promptLength } from '../engine/ledger';
import type { Engine, FinishReason, GenerateResult, TokenChunk } from '../engine/types';
import { PREDICTION_DEFAULTS, PredictionCore, type SendLayout } from '../core/prediction';
import type { CacheOutcome, CoreCommand, CoreEvent, Layout, SendFigures, Turn } from '../core/protocol';
import { InvalidInputError } from '../errors';
import type { MemoryRecord } from '../memory/types';
import type { Metrics } from './plugins';
import type { ScheduledResult } from './rank';
import type { Scheduler } from './scheduler';

export { stableDraft } from '../core/prediction';

export interface PredictorOptions {
  /** The engine that prewarms and answers; without one, drafts are predicted and sends pick memories only. */
  engine?: Engine;
  system?: string;
  /** Memories a draft predicts (a prewarm holds them all with `held-plus-new`, the first `k` with `final`). Default 10. */
  budget?: number;
  /** Final memories a send takes when its request names no k; drafts prewarm that many in front. Default 5. */
  k?: number;
  /**
   * Prewarm again when a send of the prediction's first `k` would prefill more than this share of their tokens
   * beyond what the last prewarm laid out. Default 0: whenever it would prefill any of them.
   */
  refreshAbove?: number;
  /** How the send's working block is chosen. Default exactly the final set, held ones first (see PREDICTION_DEFAULTS). */
  sendLayout?: SendLayout;
  /** Most reply tokens at send. Default 128. */
  maxTokens?: number;
  metrics?: Metrics;
  clock?: () => number;
  /** Log the final set as retrieved into the prompt (it warms them). False for measurements that must not change state. Default true. */
  recordRetrieval?: boolean;
  /** Turns of the conversation searched as context for the next message (0: none). Default 2. */
  contextTurns?: number;
}

export interface DraftOutcome {
  results: ScheduledResult[];
  predicted: string[];
  /** Whether a prewarm was started for this draft. */
  prewarmed: boolean;
  /** Resolves when that prewarm finished, was superseded, or failed. */
  settled: Promise<void>;
}

export interface SendRequest {
  text: string;
  /** Final memories. Default the predictor's `k` (5). */
  k?: number;
  /** The conversation so far, when the caller keeps it (an OpenAI-style request); otherwise the predictor's own. */
  history?: readonly Turn[];
  system?: string;
  maxTokens?: number;
  /** False: pick the memories for another model, generate nothing. Default true when there is an engine. */
  answer?: boolean;
  onChunk?: (chunk: TokenChunk) => void;
  signal?: AbortSignal;
}

/** One send, reported from what the engine's cache held. */
export interface SendReport {
  /** The final set, ranked. */
  results: ScheduledResult[];
  /** Exactly the working memories the model saw, in prompt order (for `answer: false`, the final set). */
  seen: MemoryRecord[];
  /** Final memories whose tokens the cache held at send. */
  heldFinal: number;
  reply: string;
  finishReason: FinishReason | 'none';
  completionTokens: number;
  prefillTokensPerS: number;
  decodeTokensPerS: number;
  promptTokens: number;
  tokensReused: number;
  prefillTokensAtSend: number;
  /** Tokens prefilled while typing that the send did not reuse. */
  wastedPrefillTokens: number;
  typingPrefillTokens: number;
  /** From the send call to the first token, in this thread: retrieval, layout and every worker hop included. */
  ttftMs: number;
}

interface Waiter {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

interface Pending {
  draft?: Waiter & { settled?: () => void };
  send?: Waiter & { request: SendRequest; started: number; firstToken?: number; generated?: { promptTokens: number; result: GenerateResult } };
  results?: ScheduledResult[];
}

export class Predictor {
  private readonly core: PredictionCore;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private prewarming: AbortController | undefined;
  /** Sends run one at a time, in order. */
  private sending: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly scheduler: Scheduler,
    private readonly options: PredictorOptions = {},
  ) {
    checkOptions(options);
    this.core = new PredictionCore({
      system: options.system ?? PREDICTION_DEFAULTS.system,
      budget: options.budget ?? PREDICTION_DEFAULTS.budget,
      finalK: options.k ?? PREDICTION_DEFAULTS.finalK,
      refreshAbove: options.refreshAbove ?? PREDICTION_DEFAULTS.refreshAbove,
      send: options.sendLayout ?? PREDICTION_DEFAULTS.send,
      recordRetrieval: options.recordRetrieval ?? PREDICTION_DEFAULTS.recordRetrieval,
      contextTurns: options.contextTurns ?? PREDICTION_DEFAULTS.contextTurns,
    });
  }

  get engine(): Engine | undefined {
    return this.options.engine;
  }

  /** The system prompt the next prompt starts with. */
  get system(): string {
    return this.core.systemPrompt;
  }

  /** The conversation the next prompt continues. */
  get history(): readonly Turn[] {
    return this.core.history;
  }

  /** The working set of the current message (transient, never stored). */
  get working(): readonly string[] {
    return this.core.working;
  }

  /** Working memories the engine's cache holds now, as it reported. */
  get heldIds(): readonly string[] {
    return this.core.held;
  }

  /** The conversation the next prompt continues, when the caller keeps it (e.g. restored after a reload). */
  setConversation(history: readonly Turn[], system?: string): void {
    const bad = badTurns(history) ?? (system !== undefined && typeof system !== 'string' ? 'system must be a string' : undefined);
    if (bad) throw new InvalidInputError('invalid-input', `setConversation: ${bad}.`);
    this.dispatch({ type: 'conversation', history, ...(system !== undefined && { system }) });
  }

  /** A draft changed: predict its working set, and prewarm when the prediction moved enough. */
  draft(text: string): Promise<DraftOutcome> {
    if (typeof text !== 'string') return Promise.reject(new InvalidInputError('invalid-input', 'draft takes the text typed so far (a string).'));
    const seq = ++this.seq;
    return new Promise<DraftOutcome>((resolve, reject) => {
      this.pending.set(seq, { draft: { resolve: resolve as (v: unknown) => void, reject } });
      this.dispatch(this.contextEvent());
      this.dispatch({ type: 'draft', seq, text });
    });
  }

  /** The user sent `text`: rank the final set, answer with it on the engine, report what the cache held. */
  send(request: SendRequest): Promise<SendReport> {
    const bad = badRequest(request);
    if (bad) return Promise.reject(bad);
    const started = performance.now();
    const answer = (request.answer ?? true) && this.options.engine !== undefined;
    const run = () =>
      new Promise<SendReport>((resolve, reject) => {
        const seq = ++this.seq;
        this.pending.set(seq, { send: { resolve: resolve as (v: unknown) => void, reject, request, started } });
        this.dispatch(this.contextEvent());
        const { history, system } = request;
        this.dispatch({ type: 'send', seq, text: request.text, k: request.k ?? this.options.k ?? PREDICTION_DEFAULTS.finalK, answer, ...(history && { history }), ...(system !== undefined && { system }) });
      });
    const report = this.sending.then(run, run);
    this.sending = report.catch(() => undefined);
    return report;
  }

  private contextEvent(): CoreEvent {
    return { type: 'context', key: JSON.stringify(this.scheduler.contextScope) };
  }

  private dispatch(event: CoreEvent): void {
    for (const command of this.core.handle(event)) this.execute(command);
  }

  private execute(command: CoreCommand): void {
    switch (command.type) {
      case 'search':
        return void this.search(command);
      case 'predicted':
        return this.predicted(command.seq, command.prewarm);
      case 'superseded':
        return this.supersede(command.seq);
      case 'prewarm':
        return void this.prewarm(command.seq, command.layout);
      case 'cancel-prewarm':
        return this.prewarming?.abort();
      case 'generate':
        return void this.generate(command.seq, command.layout);
      case 'record-uses':
        return void this.scheduler.retrieved(command.ids).catch(() => undefined); // a failed log write loses heat, never the reply
      case 'sent':
        return this.sent(command.seq, command.report);
    }
  }

  private fail(seq: number, error: unknown): void {
    const pending = this.pending.get(seq);
    this.pending.delete(seq);
    pending?.draft?.reject(error);
    pending?.send?.reject(error);
  }

  private async search({ seq, query, k, draft, context }: Extract<CoreCommand, { type: 'search' }>): Promise<void> {
    try {
      const results = await this.scheduler.search(query, { k, draft, ...(context !== undefined && { context }) });
      const pending = this.pending.get(seq);
      if (pending) pending.results = results;
      this.dispatch({ type: 'searched', seq, found: results.map((r) => ({ id: r.memory.id, tokens: this.scheduler.countTokens(r.memory.text) })) });
    } catch (error) {
      this.dispatch({ type: 'search-failed', seq });
      this.fail(seq, error);
    }
  }

  private predicted(seq: number, prewarm: boolean): void {
    const pending = this.pending.get(seq);
    const results = pending?.results ?? [];
    if (!prewarm || !this.options.engine) this.pending.delete(seq);
    const settled = prewarm && this.options.engine ? new Promise<void>((done) => pending && (pending.draft!.settled = done)) : Promise.resolve();
    pending?.draft?.resolve({ results, predicted: results.map((r) => r.memory.id), prewarmed: prewarm && this.options.engine !== undefined, settled } satisfies DraftOutcome);
  }

  private supersede(seq: number): void {
    const pending = this.pending.get(seq);
    this.pending.delete(seq);
    pending?.draft?.settled?.();
    pending?.draft?.resolve({ results: [], predicted: [], prewarmed: false, settled: Promise.resolve() } satisfies DraftOutcome);
    pending?.send?.reject(new InvalidInputError('invalid-input', 'This send overlapped another one; sends run one at a time.'));
  }

  /** The records of a layout's working ids that this session may still see. */
  private async lay(layout: Layout): Promise<{ prompt: LaidOutPrompt; ids: string[] }> {
    const engine = this.options.engine!;
    const records = layout.working.map((id) => this.scheduler.usable(id)).filter((m): m is MemoryRecord => m !== undefined);
    const parts = { system: layout.system, activated: this.scheduler.activatedRecords().map((m) => m.text), history: layout.history, working: records.map((m) => m.text), draft: layout.draft };
    const prompt = await layoutPrompt(parts, engine.info!.template, (texts) => engine.tokenize(texts), { final: layout.final });
    return { prompt, ids: records.map((m) => m.id) };
  }

  private async prewarm(seq: number, layout: Layout): Promise<void> {
    const engine = this.options.engine;
    const done = this.pending.get(seq)?.draft?.settled ?? (() => undefined);
    if (!engine) return done();
    try {
      const { prompt, ids } = await this.lay(layout);
      // A newer draft or a send came while this one was laid out.
      if (!this.core.isCurrent(seq)) return this.dispatch({ type: 'prewarm-skipped', seq });
      this.prewarming?.abort();
      const control = new AbortController();
      this.prewarming = control;
      const result = await engine.prewarm(prompt, { signal: control.signal });
      this.options.metrics?.record({ type: 'prewarm', at: this.now(), memories: ids.length, tokens: result.held });
      this.dispatch({ type: 'prewarmed', seq, outcome: outcome(prompt, ids, result.held, result.stats) });
    } catch {
      this.dispatch({ type: 'failed', seq }); // a failed prewarm only means more to prefill at send
    } finally {
      this.pending.delete(seq);
      done();
    }
  }

  private async generate(seq: number, layout: Layout): Promise<void> {
    const engine = this.options.engine!;
    const send = this.pending.get(seq)?.send;
    if (!send) return;
    try {
      const { prompt, ids } = await this.lay(layout);
      const { request } = send;
      const onChunk = (chunk: TokenChunk) => {
        send.firstToken ??= performance.now();
        request.onChunk?.(chunk);
      };
      const maxTokens = request.maxTokens ?? this.options.maxTokens ?? 128;
      const result = await engine.generate(prompt, { maxTokens, onChunk, ...(request.signal && { signal: request.signal }) });
      send.firstToken ??= performance.now();
      send.generated = { promptTokens: promptLength(prompt), result };
      const after = promptLength(prompt) + result.tokens.length;
      this.dispatch({ type: 'generated', seq, reply: result.text, outcome: { ...outcome(prompt, ids, result.stats.tokensReused, result.stats), length: after } });
    } catch (error) {
      this.dispatch({ type: 'failed', seq });
      this.fail(seq, error);
    }
  }

  private sent(seq: number, figures: SendFigures): void {
    const pending = this.pending.get(seq);
    this.pending.delete(seq);
    const send = pending?.send;
    if (!send) return;
    const results = pending.results ?? [];
    const generated = send.generated;
    const report: SendReport = {
      results,
      seen: figures.seen.map((id) => this.scheduler.usable(id)).filter((m): m is MemoryRecord => m !== undefined),
      heldFinal: figures.heldFinal.length,
      reply: generated?.result.text ?? '',
      finishReason: generated?.result.finishReason ?? 'none',
      completionTokens: generated?.result.tokens.length ?? 0,
      prefillTokensPerS: generated?.result.stats.prefillTokensPerS ?? 0,
      decodeTokensPerS: generated?.result.stats.decodeTokensPerS ?? 0,
      promptTokens: generated?.promptTokens ?? 0,
      tokensReused: figures.tokensReused,
      prefillTokensAtSend: figures.tokensPrefilledAtSend,
      wastedPrefillTokens: figures.wastedPrefill,
      typingPrefillTokens: figures.typingPrefilled,
      ttftMs: send.firstToken !== undefined ? send.firstToken - send.started : 0,
    };
    this.options.metrics?.record({ type: 'send', at: this.now(), heldFinal: report.heldFinal, final: results.length, prefillTokensAtSend: report.prefillTokensAtSend, promptTokens: report.promptTokens, ttftMs: report.ttftMs });
    send.resolve(report);
  }

  private now(): number {
    return (this.options.clock ?? Date.now)();
  }
}

/** What an engine call left: `held` tokens of `prompt`, and so which working memories are wholly inside. */
function outcome(prompt: LaidOutPrompt, ids: readonly string[], held: number, stats: { tokensReused: number; tokensPrefilled: number }): CacheOutcome {
  // Of `prompt`, the cache holds what it kept and what it prefilled; a prewarm superseded while queued kept its
  // common prefix and changed nothing, so the `held` tokens beyond that are another prompt's.
  const ofPrompt = Math.min(held, stats.tokensReused + stats.tokensPrefilled);
  return { reused: stats.tokensReused, prefilled: stats.tokensPrefilled, length: held, heldIds: ids.filter((_, i) => prompt.workingEnds[i]! <= ofPrompt) };
}

/** The numeric options, each in its range (a typed error names the one that is not). */
function checkOptions(options: PredictorOptions): void {
  const whole = (v: unknown, min: number) => v === undefined || (Number.isInteger(v) && (v as number) >= min);
  const bad =
    (!whole(options.budget, 1) && 'budget is a whole number ≥ 1') ||
    (!whole(options.k, 1) && 'k is a whole number ≥ 1') ||
    (!whole(options.maxTokens, 1) && 'maxTokens is a whole number ≥ 1') ||
    (!whole(options.contextTurns, 0) && 'contextTurns is a whole number ≥ 0') ||
    (options.refreshAbove !== undefined && !(typeof options.refreshAbove === 'number' && options.refreshAbove >= 0 && options.refreshAbove <= 1) && 'refreshAbove is a number from 0 to 1');
  if (bad) throw new InvalidInputError('invalid-input', `Predictor options: ${bad}.`);
}

function badTurns(history: unknown): string | undefined {
  if (!Array.isArray(history)) return 'history is an array of { role, text }';
  const bad = history.findIndex((t) => (t?.role !== 'user' && t?.role !== 'assistant') || typeof t.text !== 'string');
  return bad < 0 ? undefined : `history[${bad}] is not { role: 'user' | 'assistant', text: string }`;
}

function badRequest(request: SendRequest): InvalidInputError | undefined {
  if (typeof request !== 'object' || request === null || typeof request.text !== 'string') return new InvalidInputError('invalid-input', 'send takes { text, k?, history?, system?, maxTokens?, answer? } with text a string.');
  const turns = request.history === undefined ? undefined : badTurns(request.history);
  if (turns) return new InvalidInputError('invalid-input', `send: ${turns}.`);
  if (request.k !== undefined && (!Number.isInteger(request.k) || request.k < 1)) return new InvalidInputError('invalid-input', `k is a whole number ≥ 1 (got ${String(request.k)}).`);
  if (request.maxTokens !== undefined && (!Number.isInteger(request.maxTokens) || request.maxTokens < 1)) return new InvalidInputError('invalid-input', `maxTokens is a whole number ≥ 1 (got ${String(request.maxTokens)}).`);
  return undefined;
}
