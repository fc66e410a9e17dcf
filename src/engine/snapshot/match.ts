// Which part of a saved KV snapshot still serves: the longest run of leading
// parts (system prompt, activated memories, the block's close) whose ids,
// hashes and tokens equal the current stable prefix's, and where a deleted or
// edited memory cuts it. Pure.
import type { SnapshotPart } from './format';

export interface StablePrefix {
  readonly parts: readonly SnapshotPart[];
  /** The prefix's tokens, all segments joined. */
  readonly tokens: readonly number[];
}

/** How many leading parts of `saved` the `current` prefix shares exactly (same id, text hash, end and tokens). */
export function matchingParts(saved: StablePrefix, current: StablePrefix): number {
  let count = 0;
  let from = 0;
  for (const [i, part] of saved.parts.entries()) {
    const now = current.parts[i];
    if (!now || now.id !== part.id || now.hash !== part.hash || now.end !== part.end) break;
    for (let t = from; t < part.end; t++) if (saved.tokens[t] !== current.tokens[t]) return count;
    from = part.end;
    count++;
  }
  return count;
}

/** How many leading parts stay when the memories `ids` were deleted or edited: every part from the first of them on goes. */
export function partsBefore(parts: readonly SnapshotPart[], ids: ReadonlySet<string>): number {
  const first = parts.findIndex((p) => ids.has(p.id));
  return first < 0 ? parts.length : first;
}
