// The cache driver: prewarm and generate on top of any engine's primitives.
// It asks the ledger for a plan, carries it out (rewind, then prefill in
// slices), records each step in the ledger as it lands, and keeps the
// per-call numbers. One queue serializes every call; a newer prewarm or any
// generate makes earlier prewarms stop at their next slice boundary, so a send
// never waits for more than one slice of a stale prewarm.
import { InvalidInputError, ModelError, isMnemeError } from '../errors';
import { KvLedger, sliceSegments, validatePrompt, type Plan } from './ledger';
import { Prewarms } from './prewarms';
import { nextTask } from '../util/next-task';
import type { CallStats, ChatTemplatePieces, EnginePrimitives, KvTensors, GenerateOptions, GenerateResult, PromptTokens, PrewarmResult, SegmentKind, TokenSegment } from './types';

export interface DriverOptions {
  /** Prefill at most this many tokens per model call; prewarms stop only between slices. Default 64. */
  sliceTokens?: number;
  /** Text of a reply's token ids, for streamed chunks. */
  decode: (tokens: readonly number[]) => string;
  template: ChatTemplatePieces;
  /** Checkpoints kept where rollback is by checkpoint. Default 2. */
  maxSnapshots?: number;
  /** Clock in ms. Default `performance.now`. */
  now?: () => number;
}

export const DRIVER_DEFAULTS = Object.freeze({ sliceTokens: 64, maxSnapshots: 2, maxTokens: 256, chunkTokens: 8, chunkMs: 50 });

const STABLE: ReadonlySet<SegmentKind> = new Set(['system', 'activated', 'history']);

export class CacheDriver {
  readonly ledger = new KvLedger();
  private readonly sliceTokens: number;
  private readonly maxSnapshots: number;
  private readonly now: () => number;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly prewarms = new Prewarms();

  constructor(
    private readonly primitives: EnginePrimitives,
    private readonly options: DriverOptions,
  ) {
    this.sliceTokens = positiveInteger(options.sliceTokens ?? DRIVER_DEFAULTS.sliceTokens, 'sliceTokens');
    this.maxSnapshots = positiveInteger(options.maxSnapshots ?? DRIVER_DEFAULTS.maxSnapshots, 'maxSnapshots');
    this.now = options.now ?? (() => performance.now());
  }

  /**
   * Makes the cache hold exactly `prefix`. Resolves with `complete: false` when
   * aborted or superseded (by a newer prewarm or a generate) between slices;
   * what was prefilled by then stays cached and recorded.
   */
  async prewarm(prefix: PromptTokens, options: { signal?: AbortSignal } = {}): Promise<PrewarmResult> {
    validatePrompt(prefix, this.primitives.capabilities.contextLength);
    const ticket = this.prewarms.start(options.signal);
    return this.enqueue(async () => {
      const plan = this.ledger.plan(prefix, this.primitives.capabilities, { sample: false });
      const stats = emptyStats(plan);
      const moved = this.primitives.bytesMoved;
      const done = await this.run(plan, stats, { sample: false, signal: ticket.signal });
      stats.prefillTokensPerS = rate(stats.tokensPrefilled, stats.prefillMs);
      this.countMoved(stats, moved);
      return { held: this.ledger.length, complete: done.complete, stats };
    }).finally(ticket.done);
  }

  /** Streams a greedy reply; afterwards the cache holds prompt, reply and the template's turn end. */
  async generate(prompt: PromptTokens, options: GenerateOptions = {}): Promise<GenerateResult> {
    validatePrompt(prompt, this.primitives.capabilities.contextLength);
    const maxTokens = positiveInteger(options.maxTokens ?? DRIVER_DEFAULTS.maxTokens, 'maxTokens');
    const chunkTokens = positiveInteger(options.chunkTokens ?? DRIVER_DEFAULTS.chunkTokens, 'chunkTokens');
    const chunkMs = options.chunkMs ?? DRIVER_DEFAULTS.chunkMs;
    this.prewarms.supersede();
    const started = this.now();
    return this.enqueue(async () => {
      const plan = this.ledger.plan(prompt, this.primitives.capabilities, { sample: true });
      const stats = emptyStats(plan);
      const moved = this.primitives.bytesMoved;
      const { complete, next } = await this.run(plan, stats, { sample: true, ...(options.signal ? { signal: options.signal } : {}) });
      stats.prefillTokensPerS = rate(stats.tokensPrefilled, stats.prefillMs);
      const { template, decode } = this.options;
      if (!complete) return { tokens: [], text: '', finishReason: 'aborted' as const, stats };
      stats.ttftMs = this.now() - started;
      const stops = new Set(template.stopTokens);
      const reply: number[] = [];
      let token = next as number;
      let sent = 0;
      let sentText = '';
      let lastSend = this.now();
      const flush = () => {
        if (!options.onChunk || sent === reply.length) return;
        const text = decode(reply);
        options.onChunk({ tokens: reply.slice(sent), text: text.slice(sentText.length) });
        sent = reply.length;
        sentText = text;
        lastSend = this.now();
      };
      const decodeStart = this.now();
      let finishReason: GenerateResult['finishReason'] = 'length';
      for (;;) {
        if (stops.has(token)) {
          finishReason = 'stop';
          break;
        }
        reply.push(token);
        if (reply.length === 1 || reply.length - sent >= chunkTokens || this.now() - lastSend >= chunkMs) flush();
        if (reply.length >= maxTokens) break;
        await nextTask();
        if (options.signal?.aborted) {
          finishReason = 'aborted';
          break;
        }
        if (this.ledger.length + 1 > this.primitives.capabilities.contextLength) break;
        token = (await this.appendSlice([{ kind: 'history', tokens: [token] }], true)) as number;
      }
      flush();
      const decodeMs = this.now() - decodeStart;
      stats.tokensGenerated = reply.length;
      stats.decodeTokensPerS = rate(Math.max(reply.length - 1, 0), decodeMs);
      // The last reply token was sampled but not fed yet: feed it with the turn end, so the exchange is history.
      const tail = [...(finishReason === 'stop' || reply.length === 0 ? [] : [reply.at(-1) as number]), ...template.turnEnd];
      if (finishReason !== 'aborted' && tail.length > 0 && this.ledger.length + tail.length <= this.primitives.capabilities.contextLength) {
        await this.appendSlice([{ kind: 'history', tokens: tail }], false);
      }
      this.countMoved(stats, moved);
      return { tokens: reply, text: decode(reply), finishReason, stats };
    });
  }

  /** Where the primitives own their tensors: a copy of the cache's first `length` tokens with their segments, after every call queued so far. */
  readPrefix(length: number): Promise<{ segments: TokenSegment[]; kv: KvTensors }> {
    const { readKv } = this.primitives;
    if (!readKv) return Promise.reject(new InvalidInputError('invalid-input', 'This engine does not own its KV tensors'));
    return this.enqueue(async () => {
      if (!Number.isInteger(length) || length < 0 || length > this.ledger.length) throw new InvalidInputError('invalid-input', `The cache holds ${this.ledger.length} tokens, not ${length}`);
      return { segments: sliceSegments(this.ledger.held(), 0, length), kv: await readKv.call(this.primitives, length) };
    });
  }

  /** Where the primitives own their tensors: the cache becomes `kv`, holding `segments` (no prefill); earlier prewarms are superseded. */
  writePrefix(segments: readonly TokenSegment[], kv: KvTensors): Promise<void> {
    const { writeKv } = this.primitives;
    if (!writeKv) return Promise.reject(new InvalidInputError('invalid-input', 'This engine does not own its KV tensors'));
    const length = validatePrompt({ segments }, this.primitives.capabilities.contextLength);
    if (length !== kv.length) return Promise.reject(new InvalidInputError('snapshot-mismatch', `The saved cache holds ${kv.length} tokens but its segments ${length}`));
    this.prewarms.supersede();
    return this.enqueue(async () => {
      this.ledger.reset();
      await writeKv.call(this.primitives, kv);
      for (const segment of segments) this.ledger.append(segment);
    });
  }

  /** Resolves once every call queued so far has settled (before tearing the engine down). */
  async drain(): Promise<void> {
    await this.tail;
  }

  /**
   * Runs after every call queued before it, whether they succeeded or not. A
   * call that fails leaves the cache unknown, so it is reset with its record.
   */
  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const guarded = async (): Promise<T> => {
      try {
        return await work();
      } catch (error) {
        this.ledger.reset();
        await this.primitives.reset().catch(() => undefined);
        throw isMnemeError(error) ? error : new ModelError('generation-failed', `The engine failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
    };
    const run = this.tail.then(guarded, guarded);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Where the primitives count CPU↔GPU copies: the bytes this call moved. */
  private countMoved(stats: CallStats, before: number | undefined): void {
    const after = this.primitives.bytesMoved;
    if (before !== undefined && after !== undefined) stats.bytesMoved = after - before;
  }


  /** Rewinds, then prefills the plan's tokens slice by slice; with `sample`, the last slice yields the next token. */
  private async run(plan: Plan, stats: CallStats, how: { sample: boolean; signal?: AbortSignal }): Promise<{ complete: boolean; next: number | undefined }> {
    const { rewind } = plan;
    if (how.signal?.aborted) return { complete: false, next: undefined }; // superseded while queued: keep the cache for the newer call
    if (rewind.op === 'rollback') {
      await this.primitives.rollback(rewind.to);
      this.ledger.truncate(rewind.to);
    } else if (rewind.op === 'restore') {
      await (this.primitives.restore as NonNullable<EnginePrimitives['restore']>)(rewind.snapshot);
      this.ledger.restoreSnapshot(rewind.snapshot);
    } else if (rewind.op === 'reset') {
      await this.primitives.reset();
      this.ledger.reset();
    }
    // The stable part (system, activated, history) is sliced on its own, so that an
    // engine without rollback can take a checkpoint exactly where it ends.
    const stable = plan.prefill.filter((s) => STABLE.has(s.kind));
    const stableSlices = sliceRuns(stable, this.sliceTokens);
    const slices = [...stableSlices, ...sliceRuns(plan.prefill.slice(stable.length), this.sliceTokens)];
    let next: number | undefined;
    for (const [i, slice] of slices.entries()) {
      if (i > 0) await nextTask(); // lets an interrupt or a newer call's message in
      if (how.signal?.aborted) return { complete: false, next: undefined };
      const last = i === slices.length - 1;
      const t0 = this.now();
      next = await this.appendSlice(slice, how.sample && last);
      stats.prefillMs += this.now() - t0;
      stats.tokensPrefilled += slice.reduce((n, s) => n + s.tokens.length, 0);
      if (i === stableSlices.length - 1) await this.checkpoint();
    }
    return { complete: true, next };
  }

  /** Where rollback is by checkpoint: snapshots the cache at the end of its stable part, keeping the newest few. */
  private async checkpoint(): Promise<void> {
    const { primitives, ledger } = this;
    if (primitives.capabilities.rollback !== 'checkpoint' || !primitives.snapshot) return;
    ledger.recordSnapshot(await primitives.snapshot());
    for (const id of ledger.snapshotIds().slice(0, -this.maxSnapshots)) {
      await primitives.dropSnapshot?.(id);
      ledger.dropSnapshot(id);
    }
  }

  /** One model call over a slice that may span segments; each part is recorded under its own kind. */
  private async appendSlice(slice: readonly TokenSegment[], sample: boolean): Promise<number | undefined> {
    const tokens = slice.flatMap((s) => [...s.tokens]);
    const next = await this.primitives.append(tokens, { sample });
    for (const part of slice) this.ledger.append(part);
    return next;
  }
}

/** Cuts segments into slices of at most `size` tokens, keeping each token's kind. */
export function sliceRuns(segments: readonly TokenSegment[], size: number): TokenSegment[][] {
  const slices: TokenSegment[][] = [];
  let current: TokenSegment[] = [];
  let room = size;
  for (const segment of segments) {
    let offset = 0;
    while (offset < segment.tokens.length) {
      const take = Math.min(room, segment.tokens.length - offset);
      current.push({ kind: segment.kind, tokens: segment.tokens.slice(offset, offset + take) });
      offset += take;
      room -= take;
      if (room === 0) {
        slices.push(current);
        current = [];
        room = size;
      }
    }
  }
  if (current.length > 0) slices.push(current);
  return slices;
}

/** Zeroed call figures; with a plan, what it keeps and drops. */
export function emptyStats(plan?: Plan): CallStats {
  return { tokensReused: plan?.keep ?? 0, tokensPrefilled: 0, tokensRolledBack: plan?.dropped ?? 0, tokensGenerated: 0, ttftMs: 0, prefillMs: 0, prefillTokensPerS: 0, decodeTokensPerS: 0 };
}

export function rate(tokens: number, ms: number): number {
  return tokens > 0 && ms > 0 ? (tokens * 1000) / ms : 0;
}

export function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new InvalidInputError('invalid-input', `${name} must be a positive integer, got ${value}`);
  return value;
}
