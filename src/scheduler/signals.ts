// The three signals the scheduler keeps on every memory: heat (use, decaying
// exponentially), timeliness (recency and validity) and importance. Pure: state
// in, numbers out, time passed in explicitly.
import type { UseTally } from '../memory/event-log';
import { USE_KINDS, type MemoryRecord, type UseKind } from '../memory/types';

export type { UseKind } from '../memory/types';

const DAY = 86_400_000;

export interface SignalConfig {
  /** Heat halves every this many ms. Default 14 days. */
  heatHalfLifeMs: number;
  /** Recency halves every this many ms. Default 30 days. */
  recencyHalfLifeMs: number;
  /** Heat each kind of use adds. */
  useWeights: Record<UseKind, number>;
}

export const DEFAULT_SIGNALS: SignalConfig = {
  heatHalfLifeMs: 14 * DAY,
  recencyHalfLifeMs: 30 * DAY,
  useWeights: { mention: 1, retrieval: 0.5, access: 1 },
};

/** Heat as of `at`; it decays from there. */
export interface Heat {
  value: number;
  at: number;
  /** Last mention or access (retrievals do not count: they are Mneme's own doing). */
  lastUsedAt: number;
}

export function decay(value: number, elapsedMs: number, halfLifeMs: number): number {
  return elapsedMs <= 0 ? value : value * 2 ** (-elapsedMs / halfLifeMs);
}

export function heatAt(heat: Heat, now: number, config: SignalConfig): number {
  return decay(heat.value, now - heat.at, config.heatHalfLifeMs);
}

export function addUse(heat: Heat | undefined, kind: UseKind, at: number, config: SignalConfig): Heat {
  const base = heat ? decay(heat.value, at - heat.at, config.heatHalfLifeMs) : 0;
  const lastUsedAt = kind === 'retrieval' ? (heat?.lastUsedAt ?? at) : Math.max(heat?.lastUsedAt ?? at, at);
  return { value: base + config.useWeights[kind], at: Math.max(at, heat?.at ?? at), lastUsedAt };
}

/**
 * The heat a compacted tally stands for under `config`: exact when the tally was folded with the
 * config's half-life; under another half-life its decayed sums are taken as they are (an approximation).
 */
export function heatFromTally(tally: UseTally, config: SignalConfig): Heat {
  let value = 0;
  for (const k of USE_KINDS) value += config.useWeights[k] * tally.decayed[k];
  return { value, at: tally.at, lastUsedAt: tally.lastUsedAt };
}

/** Whether a memory's validity or expiry has passed. */
export function isStale(m: MemoryRecord, now: number): boolean {
  return (m.validUntil !== undefined && m.validUntil < now) || (m.expiresAt !== undefined && m.expiresAt < now) || (m.validFrom !== undefined && m.validFrom > now);
}

/** 1 for a memory made or used just now, halving every recency half-life; 0 when stale. */
export function timeliness(m: MemoryRecord, heat: Heat | undefined, now: number, config: SignalConfig): number {
  if (isStale(m, now)) return 0;
  const last = Math.max(m.createdAt, heat?.lastUsedAt ?? 0);
  return decay(1, now - last, config.recencyHalfLifeMs);
}

const CUES: RegExp[] = [
  /\b(remind me|remember|don'?t forget|make sure|note that|record)\b/i,
  /\b(deadline|due|by (monday|tuesday|wednesday|thursday|friday|saturday|sunday|tomorrow|tonight|next week)|appointment|urgent|important)\b/i,
  /\b(on|next|this) (monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}(st|nd|rd|th)? (jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|\b(tomorrow|tonight|\d{1,2}(:\d{2})? ?(am|pm))\b/i,
  /[$€£¥]\s?\d|\b\d+(\.\d+)?\s?(%|percent|dollars|euros|yuan|rmb)\b/i,
  /\b(my|our) (name|birthday|address|allergy|allergic|wife|husband|partner|son|daughter|doctor)\b|\bi am allergic\b/i,
];

/** The importance of a text with no cue in it. */
export const BASE_IMPORTANCE = 0.3;

/** Importance a text suggests on its own: reminders, deadlines, dates, amounts, personal facts. 0.3..0.9 */
export function inferImportance(text: string): number {
  const cues = CUES.filter((re) => re.test(text)).length;
  return Math.min(0.9, BASE_IMPORTANCE + 0.15 * cues);
}
