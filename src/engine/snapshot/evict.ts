// Eviction of saved KV snapshots under a size cap: the oldest go first, the
// one just written last. Pure.

export interface SavedEntry {
  readonly name: string;
  readonly bytes: number;
  /** Last written, ms since the epoch. */
  readonly writtenAt: number;
}

/** Names to delete so the entries fit `capBytes`: oldest first, `keep` only when it alone is over the cap. */
export function evictions(entries: readonly SavedEntry[], capBytes: number, keep?: string): string[] {
  let total = entries.reduce((n, e) => n + e.bytes, 0);
  const order = [...entries].sort((a, b) => Number(a.name === keep) - Number(b.name === keep) || a.writtenAt - b.writtenAt || a.name.localeCompare(b.name));
  const out: string[] = [];
  for (const entry of order) {
    if (total <= capBytes) break;
    out.push(entry.name);
    total -= entry.bytes;
  }
  return out;
}
