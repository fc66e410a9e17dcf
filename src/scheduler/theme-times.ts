// When themes were mentioned, for co-occurrence: each theme keeps its newest
// MAX_TIMES mention times, and time is cut into window-sized buckets, each
// naming the themes mentioned in it, so the themes mentioned around a moment
// are found without looking at every theme.
import { addToSet, deleteFromSet } from '../util/set-map';

/** Mention times kept per theme for the co-occurrence window (the newest). */
const MAX_TIMES = 256;

export class MentionTimes<T extends { times: number[] }> {
  private readonly buckets = new Map<number, Set<T>>();
  /** The newest mention time seen (a saved theme state covers mentions up to it). */
  latest = -Infinity;

  constructor(private readonly windowMs: number) {}

  /** Another mention of a theme. */
  add(theme: T, at: number): void {
    if (at > this.latest) this.latest = at;
    addToSet(this.buckets, Math.floor(at / this.windowMs), theme);
    theme.times.push(at);
    if (theme.times.length > MAX_TIMES) theme.times.splice(0, theme.times.length - MAX_TIMES);
  }

  /** The themes mentioned within the window of `at`. */
  around(at: number): Set<T> {
    const bucket = Math.floor(at / this.windowMs);
    const out = new Set<T>();
    for (let b = bucket - 1; b <= bucket + 1; b++) for (const theme of this.buckets.get(b) ?? []) if (this.within(theme, at)) out.add(theme);
    return out;
  }

  /** Forgets a theme (it has no members left). */
  drop(theme: T): void {
    for (const at of theme.times) deleteFromSet(this.buckets, Math.floor(at / this.windowMs), theme);
  }

  /** Whether a theme was mentioned within the window of `at` (newest times first: that is where a sitting is). */
  private within(theme: T, at: number): boolean {
    for (let i = theme.times.length - 1; i >= 0; i--) if (Math.abs(theme.times[i]! - at) <= this.windowMs) return true;
    return false;
  }
}
