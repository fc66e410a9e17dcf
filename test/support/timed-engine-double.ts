// A TEST DOUBLE of an engine's timing, not an engine: no model runs. It cannot
// show real compute contention (search, layout and the page never compete with
// prefill for cores), memory-bandwidth effects (every token costs the same
// whatever the cache length), or anything about the replies.
//
// It wraps an engine that counts tokens exactly (the SmolLM dry run of
// test/support/smollm.ts) and puts its calls on a virtual clock:
// - Prefill costs tokens ÷ `rate` seconds.
// - A prewarm is prefilled in slices of `sliceTokens` (32, the transformers
//   engine's default), cut as the cache driver cuts them (the stable part,
//   system + activated + history, on its own). A newer prewarm, a generate or
//   the caller's AbortSignal stops it at the next slice boundary, and then only
//   the slices that finished are held: each finished slice is issued to the
//   wrapped engine as a prewarm of the prompt up to the slice's end, so its
//   ledger (`held()`, every call's stats) is exactly what the cache holds.
// - A generate waits for the slice in flight (as the driver does), then its
//   first token comes after (tokens prefilled ÷ rate) plus one decode step
//   (`decodeStepTokens` ÷ rate: a decode step costs as much as 5 prefilled
//   tokens by default).
//
// Nothing runs until the owner moves the clock: `advanceTo(t)` carries out, in
// time order, every slice and generate that ends by t, and settles their
// promises. A call is stamped with the clock's time when it arrives, and
// `called(n)` resolves once n calls have arrived, so a replay can wait for the
// effect runner to reach the engine before it moves time on.
import { sliceRuns } from '../../src/engine/driver';
import { flatten, promptLength, sliceSegments } from '../../src/engine/ledger';
import { memoizeTokenize } from '../../src/engine/token-memo';
import type { CallStats, Engine, EngineInfo, GenerateOptions, GenerateResult, PromptTokens, PrewarmOptions, PrewarmResult, SegmentKind } from '../../src/engine/types';

export interface TimedEngineOptions {
  /** Prefill rate in tokens per second of virtual time. */
  rate: number;
  /** Tokens per prewarm slice. Default 32. */
  sliceTokens?: number;
  /** One decode step, in prefilled-token times. Default 5. */
  decodeStepTokens?: number;
}

export const TIMED_ENGINE_DEFAULTS = Object.freeze({ sliceTokens: 32, decodeStepTokens: 5 });

/** One generate on the virtual clock, and what the cache it found owed to typing. */
export interface GenerateTiming {
  arrivedAt: number;
  /** When the slice in flight let it start. */
  startedAt: number;
  firstTokenAt: number;
  /** firstTokenAt − arrivedAt: the wait for the slice in flight, the prefill, one decode step. */
  ttftMs: number;
  waitMs: number;
  reused: number;
  prefilled: number;
  /** Tokens prewarms prefilled since the last generate (or `clear`). */
  typingPrefilled: number;
  /** Of those, the ones this generate reused. */
  typingReused: number;
}

interface PrewarmJob {
  kind: 'prewarm';
  prefix: PromptTokens;
  arrivedAt: number;
  control: AbortController;
  settle: (result: PrewarmResult) => void;
  fail: (error: unknown) => void;
  /** Where each slice ends, as a token offset in the prefix. */
  ends: number[];
  next: number;
  nextAt: number;
  stats: CallStats;
}

interface GenerateJob {
  kind: 'generate';
  prompt: PromptTokens;
  options: GenerateOptions;
  arrivedAt: number;
  settle: (result: GenerateResult) => void;
  fail: (error: unknown) => void;
  startedAt: number;
  nextAt: number;
  reused: number;
  prefilled: number;
}

type Job = PrewarmJob | GenerateJob;

const STABLE: ReadonlySet<SegmentKind> = new Set(['system', 'activated', 'history']);

export class TimedEngineDouble implements Engine {
  /** The virtual clock, in ms. */
  now = 0;
  /** Prewarm and generate calls received. */
  calls = 0;
  lastGenerate: GenerateTiming | undefined;
  readonly rate: number;
  private readonly sliceTokens: number;
  private readonly decodeStepTokens: number;
  private readonly memo: (texts: readonly string[]) => Promise<number[][]>;
  private queue: Job[] = [];
  private current: Job | undefined;
  private freeAt = 0;
  /** Per cache position: prefilled by a prewarm since the last generate. */
  private fromTyping: boolean[] = [];
  private typingPrefilled = 0;
  private waiters: { n: number; resolve: () => void }[] = [];

  constructor(
    private readonly inner: Engine,
    options: TimedEngineOptions,
  ) {
    if (!(options.rate > 0)) throw new Error(`rate is tokens per second, above 0 (got ${options.rate})`);
    this.rate = options.rate;
    this.sliceTokens = options.sliceTokens ?? TIMED_ENGINE_DEFAULTS.sliceTokens;
    this.decodeStepTokens = options.decodeStepTokens ?? TIMED_ENGINE_DEFAULTS.decodeStepTokens;
    // Token ids are the wrapped engine's; remembering them only saves the bench's own time.
    this.memo = memoizeTokenize((texts) => inner.tokenize(texts), { maxEntries: 8192 }) as (texts: readonly string[]) => Promise<number[][]>;
  }

  get info(): EngineInfo | undefined {
    return this.inner.info;
  }

  load(options?: Parameters<Engine['load']>[0]): Promise<EngineInfo> {
    return this.inner.load(options);
  }

  tokenize(texts: readonly string[]): Promise<number[][]> {
    return this.memo(texts);
  }

  held(): Promise<PromptTokens> {
    return this.inner.held();
  }

  async dispose(): Promise<void> {
    await this.inner.dispose();
  }

  prewarm(prefix: PromptTokens, options: PrewarmOptions = {}): Promise<PrewarmResult> {
    this.supersedePrewarms();
    const control = new AbortController();
    if (options.signal?.aborted) control.abort();
    options.signal?.addEventListener('abort', () => control.abort(), { once: true });
    return new Promise<PrewarmResult>((settle, fail) => {
      this.queue.push({ kind: 'prewarm', prefix, arrivedAt: this.now, control, settle, fail, ends: [], next: 0, nextAt: 0, stats: emptyStats() });
      this.arrived();
    });
  }

  generate(prompt: PromptTokens, options: GenerateOptions = {}): Promise<GenerateResult> {
    this.supersedePrewarms();
    return new Promise<GenerateResult>((settle, fail) => {
      this.queue.push({ kind: 'generate', prompt, options, arrivedAt: this.now, settle, fail, startedAt: 0, nextAt: 0, reused: 0, prefilled: 0 });
      this.arrived();
    });
  }

  /** Resolves once `n` prewarm or generate calls have arrived. */
  called(n: number): Promise<void> {
    if (this.calls >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  /** Whether no call is running or waiting. */
  get idle(): boolean {
    return this.current === undefined && this.queue.length === 0;
  }

  /** Moves the clock to `t` (ms), carrying out every slice and generate that ends by then, in order. */
  async advanceTo(t: number): Promise<void> {
    if (t < this.now) throw new Error(`the virtual clock only moves forward (at ${this.now} ms, asked for ${t} ms)`);
    for (;;) {
      if (!this.current) {
        const job = this.queue.shift();
        if (!job) break;
        await this.start(job, Math.max(this.freeAt, job.arrivedAt));
        continue;
      }
      if (this.current.nextAt > t) break;
      await this.step(this.current);
    }
    this.now = t;
  }

  /** Moves the clock on until every call has finished. */
  async runUntilIdle(): Promise<void> {
    while (!this.idle) await this.advanceTo(Math.max(this.now, this.current?.nextAt ?? this.now));
  }

  /** Empties the cache, as a freshly loaded engine has it. Only while idle. */
  async clear(): Promise<void> {
    if (!this.idle) throw new Error('clear() only while the engine is idle (runUntilIdle first)');
    await this.inner.prewarm({ segments: [] });
    this.fromTyping = [];
    this.typingPrefilled = 0;
  }

  private arrived(): void {
    this.calls++;
    this.waiters = this.waiters.filter((w) => (w.n <= this.calls ? (w.resolve(), false) : true));
  }

  /** As the driver does: a newer prewarm or any generate stops earlier prewarms at their next slice boundary. */
  private supersedePrewarms(): void {
    for (const job of [this.current, ...this.queue]) if (job?.kind === 'prewarm') job.control.abort();
  }

  private ms(tokens: number): number {
    return (tokens * 1000) / this.rate;
  }

  /** What the wrapped engine holds; checked against this double's own count of it. */
  private async heldTokens(): Promise<number[]> {
    const held = flatten(await this.inner.held());
    if (held.length !== this.fromTyping.length) throw new Error(`timed engine double: the wrapped engine holds ${held.length} tokens, the double counted ${this.fromTyping.length}`);
    return held;
  }

  private async start(job: Job, at: number): Promise<void> {
    try {
      const held = await this.heldTokens();
      if (job.kind === 'generate') {
        const length = promptLength(job.prompt);
        job.reused = Math.min(commonLength(held, flatten(job.prompt)), length - 1);
        job.prefilled = length - job.reused;
        job.startedAt = at;
        job.nextAt = at + this.ms(job.prefilled + this.decodeStepTokens);
        this.current = job;
        return;
      }
      const common = commonLength(held, flatten(job.prefix));
      job.stats.tokensReused = common;
      if (job.control.signal.aborted) {
        // Superseded while queued: it leaves the cache to the newer call, and of its prefix holds the common part (as the driver reports).
        this.freeAt = at;
        return job.settle({ held: held.length, complete: false, stats: job.stats });
      }
      job.stats.tokensRolledBack = held.length - common;
      job.ends = sliceEnds(job.prefix, common, this.sliceTokens);
      if (job.ends.length === 0) {
        // Nothing to prefill: only a rollback, which takes no time.
        const result = await this.inner.prewarm(job.prefix);
        this.record(result.stats, result.held);
        this.freeAt = at;
        return job.settle({ held: result.held, complete: true, stats: job.stats });
      }
      job.nextAt = at + this.ms(job.ends[0]! - common);
      this.current = job;
    } catch (error) {
      this.current = undefined;
      this.freeAt = at;
      job.fail(error);
    }
  }

  private async step(job: Job): Promise<void> {
    const at = job.nextAt;
    try {
      if (job.kind === 'generate') return await this.finishGenerate(job);
      const end = job.ends[job.next]!;
      const result = await this.inner.prewarm({ segments: sliceSegments(job.prefix, 0, end) });
      this.record(result.stats, result.held);
      job.stats.tokensPrefilled += result.stats.tokensPrefilled;
      job.stats.prefillMs += this.ms(result.stats.tokensPrefilled);
      job.next++;
      const complete = job.next === job.ends.length;
      if (!complete && !job.control.signal.aborted) {
        job.nextAt = at + this.ms(job.ends[job.next]! - end);
        return;
      }
      this.current = undefined;
      this.freeAt = at;
      job.stats.prefillTokensPerS = this.rate;
      job.settle({ held: result.held, complete, stats: job.stats });
    } catch (error) {
      this.current = undefined;
      this.freeAt = at;
      job.fail(error);
    }
  }

  private async finishGenerate(job: GenerateJob): Promise<void> {
    const result = await this.inner.generate(job.prompt, job.options);
    const { tokensReused, tokensPrefilled } = result.stats;
    if (tokensReused !== job.reused || tokensPrefilled !== job.prefilled) {
      throw new Error(`timed engine double: timed ${job.prefilled} tokens to prefill after ${job.reused} reused, the wrapped engine did ${tokensPrefilled} after ${tokensReused}`);
    }
    const typingReused = this.fromTyping.slice(0, tokensReused).filter(Boolean).length;
    const firstTokenAt = job.nextAt;
    this.lastGenerate = {
      arrivedAt: job.arrivedAt,
      startedAt: job.startedAt,
      firstTokenAt,
      ttftMs: firstTokenAt - job.arrivedAt,
      waitMs: job.startedAt - job.arrivedAt,
      reused: tokensReused,
      prefilled: tokensPrefilled,
      typingPrefilled: this.typingPrefilled,
      typingReused,
    };
    const length = promptLength(await this.inner.held());
    this.fromTyping = new Array<boolean>(length).fill(false);
    this.typingPrefilled = 0;
    this.current = undefined;
    this.freeAt = firstTokenAt;
    job.settle({ ...result, stats: { ...result.stats, ttftMs: firstTokenAt - job.arrivedAt, prefillMs: this.ms(tokensPrefilled), prefillTokensPerS: this.rate } });
  }

  /** A prewarm call on the wrapped engine kept `tokensReused` and prefilled the rest while typing. */
  private record(stats: CallStats, held: number): void {
    this.fromTyping.length = Math.min(this.fromTyping.length, stats.tokensReused);
    for (let i = 0; i < stats.tokensPrefilled; i++) this.fromTyping.push(true);
    this.typingPrefilled += stats.tokensPrefilled;
    if (this.fromTyping.length !== held) throw new Error(`timed engine double: the wrapped engine holds ${held} tokens, the double counted ${this.fromTyping.length}`);
  }
}

/** Where the driver's slices end, as offsets into `prefix`, prefilling from `from`: the stable part sliced on its own, then the rest. */
export function sliceEnds(prefix: PromptTokens, from: number, size: number): number[] {
  const rest = sliceSegments(prefix, from, promptLength(prefix));
  const stable = rest.filter((s) => STABLE.has(s.kind));
  const ends: number[] = [];
  let at = from;
  for (const slice of [...sliceRuns(stable, size), ...sliceRuns(rest.slice(stable.length), size)]) ends.push((at += slice.reduce((n, s) => n + s.tokens.length, 0)));
  return ends;
}

function commonLength(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

function emptyStats(): CallStats {
  return { tokensReused: 0, tokensPrefilled: 0, tokensRolledBack: 0, tokensGenerated: 0, ttftMs: 0, prefillMs: 0, prefillTokensPerS: 0, decodeTokensPerS: 0 };
}
