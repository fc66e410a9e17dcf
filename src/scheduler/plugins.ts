// The scheduler's replaceable policies, each with a default. Strategy and
// transformation rules live beside their defaults (rank.ts, lifecycle.ts);
// context binding, governance and metrics are here.
import type { CallerScope, MemoryRecord } from '../memory/types';
import type { Transition } from './lifecycle';

/** Which memories bind to a session's user, role or agent, and what loads when it starts. */
export interface ContextBinding {
  /** The scope reads run under for a session. */
  readScope(session: SessionContext): CallerScope;
  /** Ids to preload into the activated tier at session start, best first. */
  preload(candidates: readonly PreloadCandidate[], session: SessionContext): string[];
}

export interface SessionContext {
  scope: CallerScope;
  sessionId: string;
  startedAt: number;
}

export interface PreloadCandidate {
  memory: MemoryRecord;
  heat: number;
  themeHeat: number;
}

/** Default binding: the session's own scope; preload hot themes' members and important profile facts. */
export function defaultBinding(options: { hotThemeAt?: number; importantAt?: number; max?: number } = {}): ContextBinding {
  const hotThemeAt = options.hotThemeAt ?? 3;
  const importantAt = options.importantAt ?? 0.8;
  const max = options.max ?? 16;
  return {
    readScope: (session) => session.scope,
    preload: (candidates) =>
      candidates
        .filter((c) => c.memory.tier !== 'archived' && (c.themeHeat >= hotThemeAt || c.memory.importance >= importantAt))
        .sort((a, b) => b.themeHeat + b.memory.importance - (a.themeHeat + a.memory.importance) || b.heat - a.heat)
        .slice(0, max)
        .map((c) => c.memory.id),
  };
}

/** Permissions and governance: applied before any memory reaches a result or a prompt (and in the store's query path). */
export { OPEN_GOVERNANCE, type Governance } from '../memory/governance';

/** What the scheduler reports, as events a UI can chart. */
export type MetricEvent =
  | { type: 'prewarm'; at: number; memories: number; tokens: number }
  /** A send: how many of its `final` memories the cache held, and what was prefilled at send of the whole prompt. */
  | { type: 'send'; at: number; heldFinal: number; final: number; prefillTokensAtSend: number; promptTokens: number; ttftMs: number }
  | { type: 'transition'; at: number; transition: Transition }
  | { type: 'tiers'; at: number; sizes: Record<string, number> };

export interface Metrics {
  record(event: MetricEvent): void;
}

/** Default metrics: listeners registered with `on` hear every event. */
export class MetricsEmitter implements Metrics {
  private readonly listeners = new Set<(e: MetricEvent) => void>();
  on(listener: (e: MetricEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  record(event: MetricEvent): void {
    for (const l of this.listeners) l(event);
  }
}
