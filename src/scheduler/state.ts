// What the scheduler knows beyond the store: each memory's heat and its theme.
// Rebuilt at start from the store's use tallies (the compacted log), the log's
// tail and the saved theme state, then kept current one event at a time
// (never recomputed wholesale).
import type { UseTally } from '../memory/event-log';
import type { MemoryEvent, MemoryRecord } from '../memory/types';
import { addUse, heatAt, heatFromTally, isStale, timeliness, type Heat, type SignalConfig, type UseKind } from './signals';
import { ThemeIndex, type Theme, type ThemeConfig } from './themes';
import type { ThemeState } from './theme-state';
import type { MemorySignals } from './rank';

export class SchedulerState {
  readonly themes: ThemeIndex;
  private readonly heat = new Map<string, Heat>();
  /** Memories in the order they were said: [createdAt, id], sorted. */
  private readonly timeline: [number, string][] = [];
  private readonly summaries = new Map<string, { id: string; label: string; heat: number }>();
  private summaryAt = Number.NaN;
  /** Changes with every update, so cached summaries are never stale. */
  private version = 0;
  private summaryVersion = -1;
  /** While replaying over a restored theme state: its members, and the newest mention it holds. */
  private covered: { ids: ReadonlySet<string>; at: number } | undefined;

  constructor(
    private readonly signals: SignalConfig,
    themes: ThemeConfig,
  ) {
    this.themes = new ThemeIndex(themes);
  }

  /**
   * Restores the compacted part of the log (`tallies`: each memory created, in log order, with the
   * heat its folded uses left), then replays the tail (oldest first) over the records it describes:
   * a creation is a memory's first mention, and each `accessed` event adds the heat of its `use`.
   * Records hold their current text, so `updated` events need no replay. With a saved theme state,
   * its members whose text is unchanged keep their theme instead of being placed again.
   */
  replay(records: ReadonlyMap<string, MemoryRecord>, events: readonly MemoryEvent[], tallies: readonly UseTally[] = [], themes?: ThemeState): void {
    const restored = themes ? this.restoreThemes(records, themes) : new Set<string>();
    this.covered = { ids: restored, at: themes?.coveredAt ?? -Infinity };
    // A restored member's first creation keeps its theme; a second one (an import that replaced it) places it again.
    const create = (record: MemoryRecord, at: number, heat?: Heat) =>
      restored.has(record.id) && !this.heat.has(record.id) ? this.track(record, at, heat) : this.created(record, at, undefined, heat);
    for (const t of inLogOrder(tallies.filter((t) => records.has(t.id)))) {
      create(records.get(t.id)!, t.createdAt, heatFromTally(t, this.signals));
      if (t.lastUsedAt > t.createdAt) this.mention(t.id, t.lastUsedAt);
    }
    for (const e of events) {
      const record = records.get(e.memoryId);
      if (!record) continue; // removed since
      if (e.type === 'created') create(record, e.at);
      else if (e.type === 'accessed') this.used(e.memoryId, e.use, e.at);
    }
    this.covered = undefined;
  }

  /** Restores saved themes; members that are gone, or whose text length changed since, are taken out again. Returns the kept members. */
  private restoreThemes(records: ReadonlyMap<string, MemoryRecord>, saved: ThemeState): Set<string> {
    this.themes.restore(saved);
    const kept = new Set<string>();
    saved.members.forEach((id, i) => {
      const record = records.get(id);
      if (record && record.text.length === saved.memberLength[i]) kept.add(id);
      else this.themes.remove(id);
    });
    return kept;
  }

  /** A new memory (or one created again): its place in the timeline, its heat (a first mention's, or `heat`) and its theme. */
  created(record: MemoryRecord, at: number, vector?: Float32Array, heat?: Heat): void {
    if (this.heat.has(record.id)) this.removed(record.id); // created again (an import that replaced it)
    this.track(record, at, heat);
    this.themes.assign({ id: record.id, text: record.text, at, ...(vector && { vector }) });
  }

  /** A memory's place in the timeline and its heat: a first mention's, or `heat` (restored from a tally). */
  private track(record: MemoryRecord, at: number, heat?: Heat): void {
    this.version++;
    let i = this.timeline.length;
    while (i > 0 && this.timeline[i - 1]![0] > at) i--;
    this.timeline.splice(i, 0, [at, record.id]);
    this.heat.set(record.id, heat ?? addUse(undefined, 'mention', at, this.signals));
  }

  /** A changed text may belong to another theme now. */
  rewritten(record: MemoryRecord, at: number): void {
    this.version++;
    this.themes.assign({ id: record.id, text: record.text, at });
  }

  used(id: string, kind: UseKind, at: number): void {
    this.version++;
    this.heat.set(id, addUse(this.heat.get(id), kind, at, this.signals));
    if (kind !== 'retrieval') this.mention(id, at);
  }

  /** A theme mention, unless it is one a restored theme state already holds. */
  private mention(id: string, at: number): void {
    if (this.covered && at <= this.covered.at && this.covered.ids.has(id)) return;
    this.themes.mention(id, at);
  }

  removed(id: string): void {
    this.version++;
    const i = this.timeline.findIndex(([, m]) => m === id);
    if (i >= 0) this.timeline.splice(i, 1);
    this.heat.delete(id);
    this.themes.remove(id);
  }

  /**
   * What was said up to `reach` memories before and after a memory, within `windowMs` of it, each
   * with its distance (1: just before or just after).
   */
  neighbours(id: string, windowMs: number, reach = 1): { id: string; distance: number }[] {
    const i = this.timeline.findIndex(([, m]) => m === id);
    if (i < 0) return [];
    const [at] = this.timeline[i]!;
    const out: { id: string; distance: number }[] = [];
    for (let d = 1; d <= reach; d++) {
      for (const n of [this.timeline[i - d], this.timeline[i + d]]) if (n !== undefined && Math.abs(n[0] - at) <= windowMs) out.push({ id: n[1], distance: d });
    }
    return out;
  }

  heatOf(id: string, now: number): number {
    const h = this.heat.get(id);
    return h ? heatAt(h, now, this.signals) : 0;
  }

  lastUsedAt(m: MemoryRecord): number {
    return this.heat.get(m.id)?.lastUsedAt ?? m.createdAt;
  }

  themeHeat(theme: Theme, now: number): number {
    let sum = 0;
    for (const id of theme.members) sum += this.heatOf(id, now);
    return sum;
  }

  /**
   * A memory's theme with its label and heat. Summaries are cached per theme for one `now` (a
   * search asks for hundreds of members of the same few themes).
   */
  themeSummary(id: string, now: number): { id: string; label: string; heat: number } | undefined {
    const theme = this.themes.of(id);
    if (!theme) return undefined;
    if (this.summaryAt !== now || this.summaryVersion !== this.version) {
      this.summaries.clear();
      this.summaryAt = now;
      this.summaryVersion = this.version;
    }
    let summary = this.summaries.get(theme.id);
    if (!summary) this.summaries.set(theme.id, (summary = { id: theme.id, label: this.themes.label(theme), heat: this.themeHeat(theme, now) }));
    return summary;
  }

  signalsOf(m: MemoryRecord, now: number): MemorySignals {
    const theme = this.themeSummary(m.id, now);
    return {
      heat: this.heatOf(m.id, now),
      timeliness: timeliness(m, this.heat.get(m.id), now, this.signals),
      importance: m.importance,
      activated: m.tier === 'activated',
      ...(theme && { theme }),
    };
  }

  stale(m: MemoryRecord, now: number): boolean {
    return isStale(m, now);
  }
}

/** Tallies in the order their memories were created (as stored they mostly are: sorted only when not). */
function inLogOrder(tallies: UseTally[]): UseTally[] {
  for (let i = 1; i < tallies.length; i++) if (tallies[i]!.createdSeq < tallies[i - 1]!.createdSeq) return tallies.sort((a, b) => a.createdSeq - b.createdSeq);
  return tallies;
}
