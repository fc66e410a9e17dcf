// What the scheduler knows beyond the store: each memory's heat and its theme.
// Rebuilt at start from the store's use tallies (the compacted log) and the
// log's tail, then kept current one event at a time (never recomputed wholesale).
import type { UseTally } from '../memory/event-log';
import type { MemoryEvent, MemoryRecord } from '../memory/types';
import { addUse, heatAt, heatFromTally, isStale, timeliness, type Heat, type SignalConfig, type UseKind } from './signals';
import { ThemeIndex, type Theme, type ThemeConfig } from './themes';
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
   * Records hold their current text, so `updated` events need no replay.
   */
  replay(records: ReadonlyMap<string, MemoryRecord>, events: readonly MemoryEvent[], tallies: readonly UseTally[] = []): void {
    const restored = tallies.filter((t) => records.has(t.id)).sort((a, b) => a.createdSeq - b.createdSeq);
    for (const t of restored) {
      this.created(records.get(t.id)!, t.createdAt);
      this.heat.set(t.id, heatFromTally(t, this.signals));
      if (t.lastUsedAt > t.createdAt) this.themes.mention(t.id, t.lastUsedAt);
    }
    for (const e of events) {
      const record = records.get(e.memoryId);
      if (!record) continue; // removed since
      if (e.type === 'created') this.created(record, e.at);
      else if (e.type === 'accessed') this.used(e.memoryId, e.use, e.at);
    }
  }

  created(record: MemoryRecord, at: number, vector?: Float32Array): void {
    this.version++;
    if (this.heat.has(record.id)) this.removed(record.id); // created again (an import that replaced it)
    let i = this.timeline.length;
    while (i > 0 && this.timeline[i - 1]![0] > at) i--;
    this.timeline.splice(i, 0, [at, record.id]);
    this.heat.set(record.id, addUse(undefined, 'mention', at, this.signals));
    this.themes.assign({ id: record.id, text: record.text, at, ...(vector && { vector }) });
  }

  /** A changed text may belong to another theme now. */
  rewritten(record: MemoryRecord, at: number): void {
    this.version++;
    this.themes.assign({ id: record.id, text: record.text, at });
  }

  used(id: string, kind: UseKind, at: number): void {
    this.version++;
    this.heat.set(id, addUse(this.heat.get(id), kind, at, this.signals));
    if (kind !== 'retrieval') this.themes.mention(id, at);
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
