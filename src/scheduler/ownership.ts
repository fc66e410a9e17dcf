// One tab at a time owns the scheduler and the engine: it holds a Web Lock named
// after the database for as long as it lives. Other tabs wait in the lock's
// queue and take over, in order, when the owner releases it or closes (the
// browser frees a closed or crashed tab's locks).
import { InvalidInputError } from '../errors';

export interface Ownership {
  /** Resolves when this tab owns the scheduler and engine. */
  readonly owned: Promise<void>;
  readonly isOwner: boolean;
  /** Gives ownership up (or leaves the queue) so the next tab takes over. */
  release(): void;
}

/** Queues for ownership of database `name`'s scheduler and engine. */
export function claimOwnership(name: string): Ownership {
  if (typeof navigator === 'undefined' || !navigator.locks) {
    throw new InvalidInputError('invalid-input', 'Tab ownership needs the Web Locks API (navigator.locks), missing here; run one tab, or a browser with Web Locks.');
  }
  let isOwner = false;
  let release!: () => void;
  const released = new Promise<void>((done) => (release = done));
  const queue = new AbortController();
  let onOwned!: () => void;
  const owned = new Promise<void>((done) => (onOwned = done));
  navigator.locks
    .request(`mneme-owner:${name}`, { signal: queue.signal }, async () => {
      isOwner = true;
      onOwned();
      await released;
      isOwner = false;
    })
    .catch(() => undefined); // left the queue before owning
  return {
    owned,
    get isOwner() {
      return isOwner;
    },
    release: () => {
      queue.abort();
      release();
    },
  };
}
