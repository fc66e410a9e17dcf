// The engine's KV cache must not outlive what it was built from. A guarded
// engine empties the cache when a memory whose text it holds is deleted or
// updated (its tags may now deny it to the caller), and before the first
// prefill for another user or role, so nothing of the old context is reused.
// Wrap the engine the predictor drives with it.
import { memoryElement } from '../engine/layout';
import { InvalidInputError } from '../errors';
import type { Engine, GenerateOptions, GenerateResult, KvPrefix, PrewarmOptions, PrewarmResult, PromptTokens } from '../engine/types';
import type { CallerScope, MemoryRecord } from '../memory/types';
import type { MemoryStore } from '../store/store';

export interface CacheGuardOptions {
  /** The context prompts are built for now (e.g. the scheduler's session scope). A change empties the cache before the next prefill. */
  context: () => CallerScope;
}

export class GuardedEngine implements Engine {
  /** How many times the guard emptied the cache. */
  resets = 0;
  private context: string | undefined;
  private chain: Promise<void> = Promise.resolve();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly engine: Engine,
    store: MemoryStore,
    private readonly options: CacheGuardOptions,
  ) {
    this.unsubscribe = store.subscribe((change) => {
      const updated = new Set(change.events.filter((e) => e.type === 'updated').map((e) => e.memoryId));
      const stale = [...change.removedRecords, ...change.upserted.filter((r) => updated.has(r.id))];
      if (stale.length > 0) this.queue(() => this.forget(stale));
    });
  }

  get info() {
    return this.engine.info;
  }

  load(...args: Parameters<Engine['load']>) {
    return this.engine.load(...args);
  }

  tokenize(texts: readonly string[]): Promise<number[][]> {
    return this.engine.tokenize(texts);
  }

  held(): Promise<PromptTokens> {
    return this.engine.held();
  }

  async prewarm(prefix: PromptTokens, options?: PrewarmOptions): Promise<PrewarmResult> {
    await this.enter();
    return this.engine.prewarm(prefix, options);
  }

  async generate(prompt: PromptTokens, options?: GenerateOptions): Promise<GenerateResult> {
    await this.enter();
    return this.engine.generate(prompt, options);
  }

  /** After every deletion and update heard so far was checked, so a copy never holds a text deleted before it was asked for. */
  async exportPrefix(length: number): Promise<KvPrefix> {
    await this.chain;
    return this.inner('exportPrefix')(length);
  }

  /** A restored prefix is a prefill for the current context: the cache of another one is emptied first. */
  async importPrefix(prefix: KvPrefix): Promise<void> {
    await this.enter();
    return this.inner('importPrefix')(prefix);
  }

  /** Resolves once every deletion and update heard so far has been checked against the cache (and the cache emptied if it held one). */
  settled(): Promise<void> {
    return this.chain;
  }

  async dispose(): Promise<void> {
    this.unsubscribe();
    await this.engine.dispose();
  }

  private inner<M extends 'exportPrefix' | 'importPrefix'>(method: M): NonNullable<Engine[M]> {
    const call = this.engine[method];
    if (!call) throw new InvalidInputError('invalid-input', `The ${this.engine.info?.engine ?? 'current'} engine does not own its KV cache, so it cannot be saved or restored`);
    return call.bind(this.engine) as NonNullable<Engine[M]>;
  }

  private queue(step: () => Promise<void>): Promise<void> {
    // A check that fails leaves the cache unknown: empty it rather than risk keeping a deleted text.
    this.chain = this.chain.then(step).catch(() => this.clear().catch(() => undefined));
    return this.chain;
  }

  /** Before a prefill: a cache built for another context (or an unknown one) is emptied first. */
  private enter(): Promise<void> {
    const key = contextKey(this.options.context());
    return this.queue(async () => {
      if (key === this.context) return;
      if (this.context !== undefined || flatten(await this.engine.held()).length > 0) await this.clear();
      this.context = key;
    });
  }

  private async forget(records: readonly MemoryRecord[]): Promise<void> {
    const info = this.engine.info;
    if (!info) return;
    const held = flatten(await this.engine.held());
    if (held.length === 0) return;
    // Layout tokenizes each memory element on its own, so a held memory's tokens appear in the cache as one run.
    const runs = await this.engine.tokenize(records.map((r) => memoryElement(r.text, info.template.specialTexts)));
    if (runs.some((run) => contains(held, run))) await this.clear();
  }

  private async clear(): Promise<void> {
    await this.engine.prewarm({ segments: [] });
    this.resets++;
  }
}

function contextKey(scope: CallerScope): string {
  return JSON.stringify([scope.userId, scope.role ?? null, scope.agentId ?? null, scope.sessionId ?? null]);
}

function flatten(prompt: PromptTokens): number[] {
  return prompt.segments.flatMap((s) => [...s.tokens]);
}

/** Whether `run` occurs in `tokens` as a contiguous subsequence. */
export function contains(tokens: readonly number[], run: readonly number[]): boolean {
  if (run.length === 0) return false;
  outer: for (let i = 0; i + run.length <= tokens.length; i++) {
    for (let j = 0; j < run.length; j++) if (tokens[i + j] !== run[j]) continue outer;
    return true;
  }
  return false;
}
