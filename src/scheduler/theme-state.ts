// Themes as saved between sessions, so a scheduler's start restores them
// instead of placing every memory again (at 100k memories, seconds of work).
// Each theme keeps its term counts and recent mention times; each member its
// theme, its terms (indices into one vocabulary) and the length of the text it
// was placed by. Typed arrays keep it compact and cheap to seal (util/pack.ts). Pure.
//
// Vectors are not kept: a restored index is the one a start without vectors
// builds, which is what every start built before (vectors reach themes only
// from memories embedded while the scheduler runs).
import type { ThemeConfig } from './themes';

export const THEME_STATE_VERSION = 1;

export interface ThemeState {
  version: typeof THEME_STATE_VERSION;
  /** The settings placement depended on (themeConfigKey): a state placed under others is not restored. */
  config: string;
  /** The number the next new theme is named with. */
  nextId: number;
  /** Every term a member uses, the word it was written as (empty when the same), and how many members use it. */
  vocabulary: string[];
  words: string[];
  df: Uint32Array;
  themes: string[];
  /** Per theme, the terms its members use (vocabulary indices) and how many of them use each, one list after another; `themeTermEnds[i]` is where theme i's end. */
  themeTerms: Uint32Array;
  themeTermCounts: Uint32Array;
  themeTermEnds: Uint32Array;
  /** Each theme's mention times, one list after another (ends in `timeEnds`). */
  times: Float64Array;
  timeEnds: Uint32Array;
  members: string[];
  /**
   * Per member: its theme (an index into `themes`), and the length of the text it was placed by. Every write that
   * rewrites a text deletes the saved state in its transaction, so a changed length only catches a state that
   * somehow outlived one (a member whose length differs is placed again); a hash of every text cost more at start.
   */
  memberTheme: Uint32Array;
  memberLength: Uint32Array;
  /** Per member, its terms as vocabulary indices, one list after another (ends in `termEnds`). */
  memberTerms: Uint32Array;
  termEnds: Uint32Array;
  /** The newest mention time in the state: a replay skips restored members' mentions up to it (they are in `times`). */
  coveredAt: number;
}

/** The settings that decide where a memory is placed. */
export function themeConfigKey(config: ThemeConfig): string {
  const { joinAt, weights, windowMs } = config;
  return JSON.stringify([joinAt, weights.terms, weights.cooccurrence, weights.embedding, windowMs]);
}

/** Lists of indices as one flat array plus where each list ends. */
export function flatten(lists: readonly (readonly number[])[], type: typeof Uint32Array | typeof Float64Array): { flat: Uint32Array | Float64Array; ends: Uint32Array } {
  const ends = new Uint32Array(lists.length);
  let n = 0;
  lists.forEach((list, i) => (ends[i] = n += list.length));
  const flat = new type(n);
  let at = 0;
  for (const list of lists) for (const x of list) flat[at++] = x;
  return { flat, ends };
}

/**
 * Whether a stored value is a state this version can restore, for these settings: its shape, and
 * every index in range (a damaged or foreign value is ignored, never trusted).
 */
export function isThemeState(value: unknown, config: string): value is ThemeState {
  const s = value as Partial<ThemeState> | null;
  if (typeof s !== 'object' || s === null || s.version !== THEME_STATE_VERSION || s.config !== config) return false;
  const { vocabulary, words, df, themes, themeTerms, themeTermCounts, themeTermEnds, times, timeEnds, members, memberTheme, memberLength, memberTerms, termEnds } = s;
  if (![vocabulary, words, themes, members].every(isStringArray) || typeof s.nextId !== 'number' || typeof s.coveredAt !== 'number') return false;
  const counts = [df, themeTerms, themeTermCounts, themeTermEnds, timeEnds, memberTheme, memberLength, memberTerms, termEnds];
  if (!(times instanceof Float64Array) || !counts.every((a) => a instanceof Uint32Array)) return false;
  const n = members!.length;
  return (
    words!.length === vocabulary!.length &&
    df!.length === vocabulary!.length &&
    themeTermEnds!.length === themes!.length &&
    themeTermCounts!.length === themeTerms!.length &&
    timeEnds!.length === themes!.length &&
    memberTheme!.length === n &&
    memberLength!.length === n &&
    termEnds!.length === n &&
    endsFit(themeTermEnds!, themeTerms!.length) &&
    endsFit(timeEnds!, times.length) &&
    endsFit(termEnds!, memberTerms!.length) &&
    below(themeTerms!, vocabulary!.length) &&
    below(memberTheme!, themes!.length) &&
    below(memberTerms!, vocabulary!.length)
  );
}

function isStringArray(a: unknown): a is string[] {
  return Array.isArray(a) && a.every((x) => typeof x === 'string');
}

/** Ends that never go back and stop at the flat list's length. */
function endsFit(ends: Uint32Array, length: number): boolean {
  for (let i = 1; i < ends.length; i++) if (ends[i]! < ends[i - 1]!) return false;
  return ends.length === 0 ? length === 0 : ends[ends.length - 1] === length;
}

function below(indices: Uint32Array, n: number): boolean {
  for (const i of indices) if (i >= n) return false;
  return true;
}
