// The Prompt API engine: Chrome's built-in model behind Mneme's Engine
// contract. The API has no rollback and no KV export, so the cache is a tree
// of sessions: a base session holds the stable part (system text, activated
// block, history) in `initialPrompts`; a draft clones the base and appends its
// predicted memories as one user message (or, when the new prediction only
// adds memories, appends them to the draft's clone as another); a superseded
// clone is aborted and destroyed. A send answers with `promptStreaming` on the
// clone that holds its memories, or on a fresh clone. The typed draft itself is
// never prewarmed: the API could not take it back. Memories are budgeted to
// the context window so that it never overflows. Page only (no workers):
// servePromptApiEngine (./serve.ts) lets the scheduler worker drive it.
import { InvalidInputError, isMnemeError, ModelError } from '../../errors';
import { DRIVER_DEFAULTS, emptyStats, positiveInteger, rate } from '../driver';
import { promptLength, sliceSegments, validatePrompt } from '../ledger';
import { Prewarms } from '../prewarms';
import type { CallStats, Engine, EngineInfo, GenerateOptions, GenerateResult, LoadProgress, PrewarmOptions, PrewarmResult, PromptTokens } from '../types';
import { contextUsage, contextWindow, isAbort, languageModelHere, measureContext, OVERFLOW_EVENTS, type LanguageModelApi, type LanguageModelSession } from './api';
import { resolvePromptApiEngineConfig, type PromptApiEngineConfig, type ResolvedPromptApiEngineConfig } from './config';
import { openBuiltInModel, sessionOptions } from './open';
import { PROMPT_API_TEMPLATE, readPrompt, TextUnits, type Piece, type PromptText } from './units';
import { streamReply } from './stream';

export interface PromptApiEngineOptions {
  /** The `LanguageModel` to use. Default this context's (none in workers). Tests pass a double. */
  api?: LanguageModelApi;
  /** Clock in ms. Default `performance.now`. */
  now?: () => number;
}

/** The base session: the stable part of a prompt, as `initialPrompts`. */
interface Base {
  readonly key: string;
  readonly session: LanguageModelSession;
  readonly units: number;
}

/** A clone of the base holding a draft's memories (header first). */
interface Draft {
  readonly base: Base;
  readonly session: LanguageModelSession;
  readonly pieces: Piece[];
  overflowed: boolean;
}

/** What the context holds, for `usage()`: the session's own numbers, not units. */
export interface PromptApiUsage {
  /** The held session's `contextUsage` (tokens, as the model counts them). */
  readonly contextUsage: number;
  readonly contextWindow: number;
  /** `contextoverflow` events heard, and memories the model refused as too large, so far (the budget should keep this at 0). */
  readonly overflows: number;
}

/** The measuring session (no context), the framing every input adds, and the text table. */
interface Loaded {
  readonly root: LanguageModelSession;
  readonly framing: number;
  readonly units: TextUnits;
  readonly window: number;
}

export class PromptApiEngine implements Engine {
  info: EngineInfo | undefined;
  private readonly config: ResolvedPromptApiEngineConfig;
  private readonly api: LanguageModelApi | undefined;
  private readonly now: () => number;
  private loading: Promise<EngineInfo> | undefined;
  private state: Loaded | undefined;
  private base: Base | undefined;
  private draft: Draft | undefined;
  private heldPrompt: PromptTokens = { segments: [] };
  private overflows = 0;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly prewarms = new Prewarms();

  constructor(config: PromptApiEngineConfig = {}, options: PromptApiEngineOptions = {}) {
    this.config = resolvePromptApiEngineConfig(config);
    this.api = options.api ?? languageModelHere();
    this.now = options.now ?? (() => performance.now());
  }

  load(options: { onProgress?: (progress: LoadProgress) => void; signal?: AbortSignal } = {}): Promise<EngineInfo> {
    this.loading ??= this.open(options).catch((error: unknown) => {
      this.loading = undefined; // a later load tries again
      throw error;
    });
    return this.loading;
  }

  private async open(options: { onProgress?: (progress: LoadProgress) => void; signal?: AbortSignal }): Promise<EngineInfo> {
    const { root, framing } = await openBuiltInModel(this.api, sessionOptions(this.config.languages), options);
    const units = new TextUnits({ measure: async (text) => (await measureContext(root, text)) - framing });
    this.state = { root, framing, units, window: contextWindow(root) };
    this.info = Object.freeze({
      engine: 'prompt-api',
      model: 'chrome-built-in',
      device: 'browser',
      capabilities: Object.freeze({ rollback: 'checkpoint' as const, snapshots: false, contextLength: this.state.window }),
      template: PROMPT_API_TEMPLATE,
      notes: Object.freeze([
        "Chrome's built-in model through the Prompt API: it takes text, so token counts are the model's own measureContextUsage of each text, with one unit per turn marker",
        'no rollback: a draft clones the base session (system, activated, history) and appends its memories; the typed text is sent only when the user sends',
        `context window ${this.state.window} tokens; memories that would leave less than ${this.config.reserveTokens} free are left out`,
      ]),
    });
    return this.info;
  }

  async tokenize(texts: readonly string[]): Promise<number[][]> {
    if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string')) throw new InvalidInputError('invalid-input', 'tokenize takes an array of strings');
    await this.load();
    return this.loaded().units.tokenize(texts);
  }

  /** Holds the prefix's stable part and as many of its memories as the window allows; the draft text is left for the send. */
  async prewarm(prefix: PromptTokens, options: PrewarmOptions = {}): Promise<PrewarmResult> {
    await this.load();
    validatePrompt(prefix, Number.MAX_SAFE_INTEGER);
    const ticket = this.prewarms.start(options.signal);
    return this.enqueue(() => this.warm(prefix, ticket.signal)).finally(ticket.done);
  }

  /** Streams the model's reply to the prompt's user text, on the session that holds its memories. */
  async generate(prompt: PromptTokens, options: GenerateOptions = {}): Promise<GenerateResult> {
    await this.load();
    validatePrompt(prompt, Number.MAX_SAFE_INTEGER);
    const how = {
      maxTokens: positiveInteger(options.maxTokens ?? DRIVER_DEFAULTS.maxTokens, 'maxTokens'),
      chunkTokens: positiveInteger(options.chunkTokens ?? DRIVER_DEFAULTS.chunkTokens, 'chunkTokens'),
      chunkMs: options.chunkMs ?? DRIVER_DEFAULTS.chunkMs,
    };
    this.prewarms.supersede();
    const started = this.now();
    return this.enqueue(() => this.answer(prompt, { ...options, ...how }, started));
  }

  async held(): Promise<PromptTokens> {
    return this.heldPrompt;
  }

  /** The context as the model itself counts it (the engine contract's figures are units; see units.ts). */
  usage(): PromptApiUsage {
    const session = this.draft?.session ?? this.base?.session;
    return { contextUsage: session ? contextUsage(session) : 0, contextWindow: this.info?.capabilities.contextLength ?? 0, overflows: this.overflows };
  }

  async dispose(): Promise<void> {
    this.prewarms.supersede();
    await this.tail;
    this.dropAll();
    await this.loading?.catch(() => undefined);
    this.state?.root.destroy();
    this.state = undefined;
    this.loading = undefined;
  }

  private async warm(prefix: PromptTokens, signal: AbortSignal): Promise<PrewarmResult> {
    const stats = emptyStats();
    if (promptLength(prefix) === 0 || signal.aborted) {
      if (!signal.aborted) stats.tokensRolledBack = this.dropAll();
      return { held: promptLength(this.heldPrompt), complete: !signal.aborted, stats };
    }
    const text = this.read(prefix);
    const t0 = this.now();
    const base = await this.holdBase(text, stats);
    const kept = await this.fit(base, text.working, this.config.reserveTokens);
    const draft = await this.holdMemories(base, kept, signal, stats);
    stats.prefillMs = this.now() - t0;
    stats.prefillTokensPerS = rate(stats.tokensPrefilled, stats.prefillMs);
    const held = heldUnits(base, draft);
    this.heldPrompt = { segments: sliceSegments(prefix, 0, held) };
    return { held, complete: !signal.aborted && (draft?.pieces.length ?? 0) === text.working.length, stats };
  }

  private async answer(prompt: PromptTokens, options: GenerateOptions & { maxTokens: number; chunkTokens: number; chunkMs: number }, started: number): Promise<GenerateResult> {
    const stats = emptyStats();
    if (options.signal?.aborted) return { tokens: [], text: '', finishReason: 'aborted', stats };
    const text = this.read(prompt);
    const { framing, root, units } = this.loaded();
    const base = await this.holdBase(text, stats);
    const kept = await this.fit(base, text.working, text.draft.units + options.maxTokens + framing);
    const draft = await this.holdMemories(base, kept, options.signal, stats);
    const session = draft?.session ?? (await base.session.clone());
    this.draft = undefined; // the answering session is used up by the reply
    this.heldPrompt = { segments: sliceSegments(prompt, 0, base.units) };
    const finalUnits = prompt.segments.filter((s) => s.kind === 'draft').reduce((n, s) => n + s.tokens.length, 0);
    stats.tokensPrefilled += finalUnits;
    try {
      const promptStart = this.now();
      const reply = await streamReply(session, text.draft.text, { ...options, now: this.now, units, measure: async (t) => (await measureContext(root, t)) - framing });
      stats.prefillMs += reply.firstAt - promptStart;
      stats.prefillTokensPerS = rate(stats.tokensPrefilled, stats.prefillMs);
      stats.ttftMs = reply.firstAt - started;
      stats.tokensGenerated = reply.tokens.length;
      stats.decodeTokensPerS = rate(Math.max(reply.tokens.length - 1, 0), this.now() - reply.firstAt);
      return { tokens: reply.tokens, text: reply.text, finishReason: reply.finishReason, stats };
    } finally {
      session.destroy();
    }
  }

  private read(prompt: PromptTokens): PromptText {
    const { units } = this.loaded();
    return readPrompt(prompt, (id) => units.textOf(id));
  }

  private loaded(): Loaded {
    if (!this.state) throw new ModelError('generation-failed', 'The Prompt API engine was disposed; create another');
    return this.state;
  }

  /** The base session for the prompt's stable part, created when it changed (the old tree is dropped). */
  private async holdBase(text: PromptText, stats: CallStats): Promise<Base> {
    const key = JSON.stringify([text.system, text.history]);
    if (this.base?.key === key) {
      stats.tokensReused += this.base.units;
      return this.base;
    }
    stats.tokensRolledBack += this.dropAll();
    const initialPrompts = [...(text.system === '' ? [] : [{ role: 'system' as const, content: text.system }]), ...text.history];
    const session = await this.api!.create({ ...sessionOptions(this.config.languages), initialPrompts }).catch((error: unknown) => {
      throw overflowOr(error, `The system text, activated memories and history (${text.stableUnits} tokens) do not fit the built-in model's context window; shorten the history or the activated tier`);
    });
    this.watch(session);
    this.base = { key, session, units: text.stableUnits };
    stats.tokensPrefilled += text.stableUnits;
    return this.base;
  }

  /**
   * How many of the working pieces (header first) fit the window with `reserve` tokens left free: an estimate
   * from their units, then checked with the model's own count. 0 means none (not even the header). One more
   * framing is kept free, for when added memories go to the draft's clone as a message of their own.
   */
  private async fit(base: Base, working: readonly Piece[], reserve: number): Promise<Piece[]> {
    const { root, framing, window } = this.loaded();
    const room = window - contextUsage(base.session) - reserve - framing;
    let k = working.length;
    const estimate = (n: number) => framing + working.slice(0, n).reduce((sum, p) => sum + p.units, 0);
    while (k > 1 && estimate(k) > room) k--;
    while (k > 1 && (await measureContext(root, [userMessage(working.slice(0, k))])) > room) k--;
    return k > 1 ? working.slice(0, k) : [];
  }

  /** Makes a clone of the base hold exactly `pieces`: kept as it is, extended by a message, or cloned afresh. */
  private async holdMemories(base: Base, pieces: Piece[], signal: AbortSignal | undefined, stats: CallStats): Promise<Draft | undefined> {
    const current = this.draft;
    const extends_ = current && current.base === base && !current.overflowed && startsWith(pieces, current.pieces);
    if (current && extends_) {
      stats.tokensReused += 1 + sumUnits(current.pieces); // the user turn's marker, then its texts
      const extra = pieces.slice(current.pieces.length);
      if (extra.length === 0 || signal?.aborted) return current;
      if (await appendOrAbort(current.session, extra, signal, () => this.overflows++)) {
        current.pieces.push(...extra);
        stats.tokensPrefilled += sumUnits(extra);
      }
      return current;
    }
    if (current) stats.tokensRolledBack += this.dropDraft();
    if (pieces.length === 0 || signal?.aborted) return undefined;
    const session = await base.session.clone(signal ? { signal } : {}).catch((error: unknown) => (isAbort(error) ? undefined : Promise.reject(error)));
    if (!session) return undefined;
    this.watch(session);
    if (!(await appendOrAbort(session, pieces, signal, () => this.overflows++))) {
      session.destroy();
      return undefined;
    }
    stats.tokensPrefilled += 1 + sumUnits(pieces); // the user turn's marker, then its texts
    this.draft = { base, session, pieces: [...pieces], overflowed: false };
    return this.draft;
  }

  /** Counts overflows; a draft whose context overflowed no longer holds what it was given, so it is not reused. */
  private watch(session: LanguageModelSession): void {
    for (const type of OVERFLOW_EVENTS) {
      session.addEventListener(type, () => {
        this.overflows++;
        if (this.draft?.session === session) this.draft.overflowed = true;
      });
    }
  }

  /** Drops the draft clone; returns the units it held beyond the base. */
  private dropDraft(): number {
    const draft = this.draft;
    this.draft = undefined;
    draft?.session.destroy();
    return draft ? 1 + sumUnits(draft.pieces) : 0;
  }

  /** Drops every session but the measuring one; returns the units they held. */
  private dropAll(): number {
    const dropped = this.dropDraft() + (this.base?.units ?? 0);
    this.base?.session.destroy();
    this.base = undefined;
    this.heldPrompt = { segments: [] };
    return dropped;
  }


  /** Runs after every call queued before it; a failure leaves the sessions unknown, so they are dropped. */
  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const guarded = async (): Promise<T> => {
      try {
        return await work();
      } catch (error) {
        this.dropAll();
        if (isMnemeError(error)) throw error;
        throw overflowOr(error, undefined);
      }
    };
    const run = this.tail.then(guarded, guarded);
    this.tail = run.catch(() => undefined);
    return run;
  }
}

function heldUnits(base: Base, draft: Draft | undefined): number {
  return base.units + (draft ? 1 + sumUnits(draft.pieces) : 0);
}

function userMessage(pieces: readonly Piece[]): { role: 'user'; content: string } {
  return { role: 'user', content: pieces.map((p) => p.text).join('') };
}

/**
 * Appends the pieces as one user message. False when aborted (the API then removes what it had appended) or
 * when the model refused them as too large for its window (the budget's count was off): the caller goes on
 * without them.
 */
async function appendOrAbort(session: LanguageModelSession, pieces: readonly Piece[], signal: AbortSignal | undefined, onRefused: () => void): Promise<boolean> {
  try {
    await session.append([userMessage(pieces)], signal ? { signal } : {});
    return true;
  } catch (error) {
    if (isAbort(error)) return false;
    if ((error as { name?: unknown } | null)?.name !== 'QuotaExceededError') throw overflowOr(error, undefined);
    onRefused();
    return false;
  }
}

/** A QuotaExceededError as Mneme's context-overflow, anything else as a failed generation. */
function overflowOr(error: unknown, overflowMessage: string | undefined): Error {
  if (isMnemeError(error)) return error;
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'QuotaExceededError') return new InvalidInputError('context-overflow', overflowMessage ?? `The built-in model's context window is full: ${String(error)}`);
  return new ModelError('generation-failed', `The built-in model failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}

function startsWith(pieces: readonly Piece[], head: readonly Piece[]): boolean {
  return head.length <= pieces.length && head.every((p, i) => p.text === pieces[i]!.text);
}

function sumUnits(pieces: readonly Piece[]): number {
  return pieces.reduce((n, p) => n + p.units, 0);
}

