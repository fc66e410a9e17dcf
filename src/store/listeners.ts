// Who hears a committed write. Each listener runs isolated: what one throws
// (or its promise rejects with) is reported, never thrown into the write that
// committed, and the listeners after it still run.
import type { StoreChange } from './store';

export type Listener = (change: StoreChange) => void;
export type SubscriberErrorHandler = (error: unknown, change: StoreChange) => void;

export class Listeners {
  private readonly listeners = new Set<Listener>();

  constructor(private readonly onError: SubscriberErrorHandler = reportToConsole) {}

  add(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  notify(change: StoreChange): void {
    const report = (error: unknown) => {
      try {
        this.onError(error, change);
      } catch (reporterError) {
        reportToConsole(reporterError, change); // a failing reporter does not fail the write either
      }
    };
    for (const listener of [...this.listeners]) {
      try {
        const returned: unknown = listener(change);
        if (isThenable(returned)) returned.then(undefined, report);
      } catch (error) {
        report(error);
      }
    }
  }
}

function reportToConsole(error: unknown, change: StoreChange): void {
  const ids = [...change.upserted.map((r) => r.id), ...change.removed];
  console.error(`Mneme: a store subscriber threw while hearing a committed change (${ids.length} memories); the write itself succeeded. Pass onSubscriberError to handle these.`, error);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
