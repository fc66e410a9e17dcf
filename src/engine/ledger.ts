// The KV ledger: which token segments the cache holds, and the plan that turns
// the cache into a requested prompt (keep the common prefix, roll back or
// restore, prefill the rest). Pure and engine-agnostic: it never touches a
// model; drivers carry plans out with an engine's primitives and record each
// step here as it lands.
import { InvalidInputError } from '../errors';
import { SEGMENT_KINDS, type EngineCapabilities, type PromptTokens, type SegmentKind, type SnapshotId, type TokenSegment } from './types';

/** How the cache gets from what it holds to the prompt's common prefix. */
export type Rewind =
  | { readonly op: 'none' }
  | { readonly op: 'rollback'; readonly to: number }
  | { readonly op: 'restore'; readonly snapshot: SnapshotId; readonly to: number }
  | { readonly op: 'reset' };

export interface Plan {
  /** Tokens of the prompt the cache already holds (the common prefix). */
  readonly common: number;
  /** Tokens the cache keeps; `common` or less when the engine cannot stop exactly there. */
  readonly keep: number;
  readonly rewind: Rewind;
  /** What to prefill after the rewind, with the segment kinds it belongs to. */
  readonly prefill: readonly TokenSegment[];
  /** Tokens the rewind drops from the cache. */
  readonly dropped: number;
}

export interface PlanOptions {
  /**
   * The caller needs the model's next token after the prompt (generate): at
   * least one prompt token is then left to prefill, even on a full hit.
   */
  sample: boolean;
}

interface HeldSnapshot {
  readonly id: SnapshotId;
  readonly segments: readonly TokenSegment[];
  readonly tokens: readonly number[];
}

export class KvLedger {
  private segments: TokenSegment[] = [];
  private flat: number[] = [];
  private snapshots: HeldSnapshot[] = [];

  /** Tokens the cache holds. */
  get length(): number {
    return this.flat.length;
  }

  held(): PromptTokens {
    return { segments: this.segments.map((s) => ({ kind: s.kind, tokens: [...s.tokens] })) };
  }

  /** Length of the longest common prefix of the cache and `prompt`, in tokens. */
  commonPrefix(prompt: PromptTokens): number {
    let i = 0;
    for (const segment of prompt.segments) {
      for (const token of segment.tokens) {
        if (i >= this.flat.length || this.flat[i] !== token) return i;
        i++;
      }
    }
    return i;
  }

  plan(prompt: PromptTokens, capabilities: EngineCapabilities, options: PlanOptions): Plan {
    const total = validatePrompt(prompt, capabilities.contextLength);
    if (options.sample && total === 0) throw new InvalidInputError('invalid-input', 'generate needs a prompt of at least one token');
    const limit = options.sample ? total - 1 : total;
    const common = Math.min(this.commonPrefix(prompt), limit);
    let rewind: Rewind = { op: 'none' };
    let keep = this.flat.length;
    if (common < this.flat.length) {
      const snapshot = capabilities.rollback === 'popn' ? undefined : this.bestSnapshot(prompt, limit);
      if (capabilities.rollback === 'popn') rewind = { op: 'rollback', to: (keep = common) };
      else if (snapshot) rewind = { op: 'restore', snapshot: snapshot.id, to: (keep = snapshot.tokens.length) };
      else rewind = { op: 'reset' };
      if (rewind.op === 'reset') keep = 0;
    }
    return { common, keep, rewind, prefill: sliceSegments(prompt, keep, total), dropped: this.flat.length - keep };
  }

  // ---- recording what the engine did ----

  /** The cache now holds only its first `length` tokens. */
  truncate(length: number): void {
    if (!Number.isInteger(length) || length < 0 || length > this.flat.length) {
      throw new InvalidInputError('invalid-input', `Cannot truncate a ledger of ${this.flat.length} tokens to ${length}`);
    }
    this.flat.length = length;
    let left = length;
    const kept: TokenSegment[] = [];
    for (const segment of this.segments) {
      if (left === 0) break;
      const take = Math.min(left, segment.tokens.length);
      kept.push(take === segment.tokens.length ? segment : { kind: segment.kind, tokens: segment.tokens.slice(0, take) });
      left -= take;
    }
    this.segments = kept;
  }

  /** The cache grew by these tokens; adjacent segments of one kind merge. */
  append(segment: TokenSegment): void {
    if (segment.tokens.length === 0) return;
    const last = this.segments.at(-1);
    if (last && last.kind === segment.kind) this.segments[this.segments.length - 1] = { kind: last.kind, tokens: [...last.tokens, ...segment.tokens] };
    else this.segments.push({ kind: segment.kind, tokens: [...segment.tokens] });
    this.flat.push(...segment.tokens);
  }

  reset(): void {
    this.truncate(0);
  }

  /** The engine took snapshot `id` of the cache as it is now. */
  recordSnapshot(id: SnapshotId): void {
    this.snapshots.push({ id, segments: this.held().segments, tokens: [...this.flat] });
  }

  /** The engine restored snapshot `id`: the cache holds what it held then. */
  restoreSnapshot(id: SnapshotId): void {
    const snapshot = this.snapshots.find((s) => s.id === id);
    if (!snapshot) throw new InvalidInputError('invalid-input', `No snapshot ${id} in the ledger`);
    this.reset();
    for (const segment of snapshot.segments) this.append(segment);
  }

  dropSnapshot(id: SnapshotId): void {
    this.snapshots = this.snapshots.filter((s) => s.id !== id);
  }

  /** Snapshot ids, oldest first. */
  snapshotIds(): SnapshotId[] {
    return this.snapshots.map((s) => s.id);
  }

  /** The longest non-empty snapshot that is a prefix of the prompt's first `limit` tokens. */
  private bestSnapshot(prompt: PromptTokens, limit: number): HeldSnapshot | undefined {
    const wanted = flatten(prompt).slice(0, limit);
    let best: HeldSnapshot | undefined;
    for (const s of this.snapshots) {
      const n = s.tokens.length;
      if (n > 0 && n > (best?.tokens.length ?? 0) && commonLength(wanted, s.tokens) === n) best = s;
    }
    return best;
  }
}

/**
 * Checks a prompt's shape: known kinds, in layout order, token ids that are
 * non-negative integers, within the context. Returns its length in tokens.
 * @throws InvalidInputError
 */
export function validatePrompt(prompt: PromptTokens, contextLength: number): number {
  if (typeof prompt !== 'object' || prompt === null || !Array.isArray(prompt.segments)) {
    throw new InvalidInputError('invalid-input', 'A prompt is { segments: [{ kind, tokens }] }; build one with layoutPrompt()');
  }
  let order = 0;
  let total = 0;
  for (const segment of prompt.segments) {
    const rank = SEGMENT_KINDS.indexOf(segment?.kind as SegmentKind);
    if (rank < 0) throw new InvalidInputError('invalid-input', `Unknown segment kind ${JSON.stringify(segment?.kind)}; use one of ${SEGMENT_KINDS.join(', ')}`);
    if (rank < order) throw new InvalidInputError('invalid-input', `Segment '${segment.kind}' comes after '${SEGMENT_KINDS[order]}'; segments must follow ${SEGMENT_KINDS.join(' → ')}`);
    order = rank;
    if (!Array.isArray(segment.tokens) && !ArrayBuffer.isView(segment.tokens)) throw new InvalidInputError('invalid-input', `Segment '${segment.kind}' has no token array`);
    for (const token of segment.tokens) {
      if (!Number.isInteger(token) || token < 0) throw new InvalidInputError('invalid-input', `Token id ${token} in segment '${segment.kind}' is not a non-negative integer`);
    }
    total += segment.tokens.length;
  }
  if (total > contextLength) {
    throw new InvalidInputError('context-overflow', `The prompt has ${total} tokens but the model's context holds ${contextLength}; shorten the history or the memory blocks`);
  }
  return total;
}

/** Tokens [from, to) of a prompt, with their segment kinds. */
export function sliceSegments(prompt: PromptTokens, from: number, to: number): TokenSegment[] {
  const out: TokenSegment[] = [];
  let offset = 0;
  for (const segment of prompt.segments) {
    const start = Math.max(from - offset, 0);
    const end = Math.min(to - offset, segment.tokens.length);
    if (end > start) out.push({ kind: segment.kind, tokens: segment.tokens.slice(start, end) });
    offset += segment.tokens.length;
  }
  return out;
}

export function promptLength(prompt: PromptTokens): number {
  return prompt.segments.reduce((n, s) => n + s.tokens.length, 0);
}

export function flatten(prompt: PromptTokens): number[] {
  return prompt.segments.flatMap((s) => [...s.tokens]);
}

function commonLength(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}
