// Keeps the engine's stable prefix (system prompt and activated block) across
// reloads. On load it restores the longest part of the saved snapshot that
// still matches, then prewarms the rest; engines that do not own their KV
// (WebLLM) just prewarm it right after load. Once the block has changed and
// the engine has been quiet a while, it saves the prefix again, in the
// background. A deleted or edited memory cuts every saved snapshot where its
// text starts (and a snapshot left with no memory is deleted), so nothing
// deleted survives on disk.
import { layoutPrompt, LAYOUT_DEFAULTS } from '../engine/layout';
import { flatten, promptLength } from '../engine/ledger';
import { SnapshotDirectory } from '../engine/snapshot/directory';
import type { SavedEntry } from '../engine/snapshot/evict';
import { cutSnapshot, type SnapshotPart } from '../engine/snapshot/format';
import { matchingParts, partsBefore, type StablePrefix } from '../engine/snapshot/match';
import type { Engine, PromptTokens } from '../engine/types';
import { isMnemeError } from '../errors';
import type { CallerScope, MemoryRecord } from '../memory/types';
import type { MemoryStore } from '../store/store';
import { sha256Hex } from '../util/sha256';

export interface KvKeeperOptions {
  directory: SnapshotDirectory;
  /** Whose snapshot: the user and role prompts are built for now. */
  scope: () => CallerScope;
  /** The stable prefix's inputs now: the system prompt and the activated memories, in prompt order. */
  stable: () => { system: string; activated: readonly MemoryRecord[] };
  /** Quiet time after the last draft or send before a changed prefix is saved. Default 1500 ms. */
  settleMs?: number;
}

export const KV_KEEPER_DEFAULTS = Object.freeze({ settleMs: 1500 });

/** What a restore on load did. */
export interface RestoreReport {
  /** Tokens read back from the snapshot. */
  restoredTokens: number;
  /** Tokens prefilled after it (the part that did not match, or all of it without a snapshot). */
  prefilledTokens: number;
  /** Reading, opening and importing the snapshot, in ms (0 when none was used). */
  restoreMs: number;
}

/** What a save wrote. */
export interface SaveReport {
  tokens: number;
  bytes: number;
  writeMs: number;
}

/** A saved snapshot as the inspector shows it. */
export interface SnapshotRow extends SavedEntry {
  /** Whether it is the current user's, role's and model's. */
  current: boolean;
}

interface Laid {
  prompt: PromptTokens;
  prefix: StablePrefix;
}

export class KvKeeper {
  /** What the restore on load did, once it has. */
  restored: RestoreReport | undefined;
  /** The last save that wrote. */
  lastSave: SaveReport | undefined;
  /** Disk work in order: saves and cuts never interleave. */
  private chain: Promise<unknown> = Promise.resolve();
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** What the file of `name` holds, as last written or restored here (a save of the same is skipped). */
  private saved: { name: string; parts: readonly SnapshotPart[] } | undefined;
  private readonly unsubscribe: () => void;
  private readonly settleMs: number;

  constructor(
    private readonly engine: Engine,
    store: MemoryStore,
    private readonly options: KvKeeperOptions,
  ) {
    this.settleMs = options.settleMs ?? KV_KEEPER_DEFAULTS.settleMs;
    this.unsubscribe = store.subscribe((change) => {
      const updated = change.events.filter((e) => e.type === 'updated').map((e) => e.memoryId);
      const gone = new Set([...change.removedRecords.map((r) => r.id), ...updated]);
      if (gone.size > 0) void this.cut(gone).catch(() => undefined);
    });
  }

  /**
   * Right after load: the longest matching part of the saved prefix is read back, the rest prefilled.
   * `imported` resolves once the cache holds the restored part (a send waits for it, not for the prefill).
   */
  restore(): { imported: Promise<void>; done: Promise<RestoreReport> } {
    let imported!: () => void;
    const ready = new Promise<void>((resolve) => (imported = resolve));
    const done = this.serial(async (): Promise<RestoreReport> => {
      try {
        const laid = await this.lay();
        if (!laid) return { restoredTokens: 0, prefilledTokens: 0, restoreMs: 0 };
        const started = performance.now();
        const restoredTokens = await this.importMatching(laid).catch(() => 0); // a snapshot that fails to restore is prefilled instead
        const restoreMs = restoredTokens > 0 ? performance.now() - started : 0;
        imported();
        const result = await this.engine.prewarm(laid.prompt);
        this.restored = { restoredTokens, prefilledTokens: result.stats.tokensPrefilled, restoreMs };
        return this.restored;
      } finally {
        imported();
      }
    });
    return { imported: ready, done };
  }

  /** A draft or send happened: save the prefix once things are quiet, if it changed. */
  schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.save().catch(() => undefined), this.settleMs);
  }

  /** Saves the stable prefix now if it changed since the last save and the cache holds it; undefined when nothing was written. */
  save(): Promise<SaveReport | undefined> {
    clearTimeout(this.timer);
    return this.serial(async () => {
      if (!this.engine.info?.capabilities.kvExport) return undefined;
      const laid = await this.lay();
      const name = await this.name();
      if (!laid || (this.saved?.name === name && sameParts(laid.prefix.parts, this.saved.parts))) return undefined;
      const length = laid.prefix.tokens.length;
      const held = flatten(await this.engine.held());
      if (held.length < length || laid.prefix.tokens.some((t, i) => held[i] !== t)) return undefined; // not held yet: a later save
      const started = performance.now();
      const prefix = await this.engine.exportPrefix!(length);
      if (flatten(prefix).some((t, i) => laid.prefix.tokens[i] !== t)) return undefined; // the cache moved meanwhile
      const bytes = await this.options.directory.write(name, { parts: laid.prefix.parts, prefix, writtenAt: Date.now() });
      this.saved = { name, parts: laid.prefix.parts };
      this.lastSave = { tokens: length, bytes, writeMs: performance.now() - started };
      return this.lastSave;
    });
  }

  /** The saved snapshots of this database, for the inspector. */
  async list(): Promise<SnapshotRow[]> {
    const mine = this.engine.info ? await this.name() : undefined;
    return (await this.options.directory.list()).map((e) => ({ ...e, current: e.name === mine }));
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.unsubscribe();
  }

  /** Imports the longest matching part of the saved snapshot; returns its length in tokens. */
  private async importMatching(laid: Laid): Promise<number> {
    const info = this.engine.info;
    if (!info?.capabilities.kvExport) return 0;
    const name = await this.name();
    const saved = await this.options.directory.read(name);
    if (!saved || saved.prefix.model !== info.model) return 0;
    const count = matchingParts({ parts: saved.parts, tokens: flatten(saved.prefix) }, laid.prefix);
    if (count === 0) return 0;
    const cut = cutSnapshot(saved, count);
    try {
      await this.engine.importPrefix!(cut.prefix);
    } catch (error) {
      if (isMnemeError(error) && error.code === 'snapshot-mismatch') await this.options.directory.remove(name);
      throw error;
    }
    if (count === saved.parts.length) this.saved = { name, parts: saved.parts };
    return cut.prefix.kv.length;
  }

  /** Cuts every saved snapshot before the first part that came from one of `ids`; one left with no memory goes. */
  private cut(ids: ReadonlySet<string>): Promise<void> {
    return this.serial(async () => {
      if (this.saved?.parts.some((p) => ids.has(p.id))) this.saved = undefined;
      const { directory } = this.options;
      for (const { name } of await directory.list()) {
        const saved = await directory.read(name);
        if (!saved) continue;
        const keep = partsBefore(saved.parts, ids);
        if (keep === saved.parts.length) continue;
        if (keep <= 1) await directory.remove(name);
        else await directory.write(name, cutSnapshot(saved, keep));
      }
    });
  }

  /** The stable prefix as it would be laid out now, with its parts; undefined before the engine is loaded. */
  private async lay(): Promise<Laid | undefined> {
    const info = this.engine.info;
    if (!info) return undefined;
    const { system, activated } = this.options.stable();
    const laid = await layoutPrompt({ system, activated: activated.map((m) => m.text), draft: '' }, info.template, (texts) => this.engine.tokenize(texts), { final: false });
    const prompt = { segments: laid.segments.filter((s) => s.kind === 'system' || s.kind === 'activated') };
    const systemEnd = prompt.segments[0]?.tokens.length ?? 0;
    const parts: SnapshotPart[] = [{ id: 'system', hash: await sha256Hex(system), end: systemEnd }];
    for (const [i, m] of activated.entries()) parts.push({ id: m.id, hash: await sha256Hex(m.text), end: laid.activatedEnds[i]! });
    if (activated.length > 0) parts.push({ id: 'end', hash: await sha256Hex(LAYOUT_DEFAULTS.activatedHeader), end: promptLength(prompt) });
    return { prompt, prefix: { parts, tokens: flatten(prompt) } };
  }

  private async name(): Promise<string> {
    return SnapshotDirectory.name(this.options.scope(), this.engine.info!.model);
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.chain.then(work, work);
    this.chain = run.catch(() => undefined);
    return run;
  }
}

function sameParts(a: readonly SnapshotPart[], b: readonly SnapshotPart[]): boolean {
  return a.length === b.length && a.every((p, i) => p.id === b[i]!.id && p.hash === b[i]!.hash && p.end === b[i]!.end);
}
