// Group commit: items asked for while a write is under way wait for it to end,
// then go together in one write. Each caller's promise settles with the write
// its items rode on.

export class GroupCommit<T> {
  private pending: { items: T[]; written: Promise<void> } | undefined;
  private last: Promise<unknown> = Promise.resolve();

  constructor(private readonly flush: (items: readonly T[]) => Promise<void>) {}

  add(items: readonly T[]): Promise<void> {
    if (items.length === 0) return Promise.resolve();
    if (!this.pending) {
      const batch = { items: [] as T[], written: Promise.resolve() };
      batch.written = this.last.then(() => {
        this.pending = undefined;
        return this.flush(batch.items);
      });
      this.last = batch.written.catch(() => undefined);
      this.pending = batch;
    }
    this.pending.items.push(...items);
    return this.pending.written;
  }
}
