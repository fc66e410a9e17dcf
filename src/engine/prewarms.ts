// The prewarms in flight on one engine: a newer prewarm or a generate aborts
// them, and they stop at their next slice boundary. Each engine keeps one set.

export interface PrewarmTicket {
  /** Aborted when superseded, or when the caller's signal aborts. */
  readonly signal: AbortSignal;
  /** The prewarm is over: forget it. */
  done(): void;
}

export class Prewarms {
  private readonly live = new Set<AbortController>();

  /** Aborts every prewarm in flight. */
  supersede(): void {
    for (const control of this.live) control.abort();
  }

  /** Supersedes the prewarms in flight and starts one, aborted by `signal` too. */
  start(signal?: AbortSignal): PrewarmTicket {
    this.supersede();
    const control = new AbortController();
    const onAbort = () => control.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) control.abort();
    this.live.add(control);
    return {
      signal: control.signal,
      done: () => {
        this.live.delete(control);
        signal?.removeEventListener('abort', onAbort);
      },
    };
  }
}
