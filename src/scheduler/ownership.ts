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

const locks = (): LockManager => {
  if (typeof navigator === 'undefined' || !navigator.locks) {
    throw new InvalidInputError('invalid-input', 'Tab ownership needs the Web Locks API (navigator.locks), missing here; run one tab, or a browser with Web Locks.');
  }
  return navigator.locks;
};

/** Takes ownership of `name` if no other tab (or worker) holds it now; undefined when one does. */
export async function tryOwnership(name: string): Promise<Ownership | undefined> {
  let release!: () => void;
  const released = new Promise<void>((done) => (release = done));
  let decide!: (granted: boolean) => void;
  const decided = new Promise<boolean>((done) => (decide = done));
  let isOwner = false;
  void locks().request(`mneme-owner:${name}`, { ifAvailable: true }, async (lock) => {
    decide(lock !== null);
    if (!lock) return;
    isOwner = true;
    await released;
    isOwner = false;
  });
  if (!(await decided)) return undefined;
  return {
    owned: Promise.resolve(),
    get isOwner() {
      return isOwner;
    },
    release,
  };
}

/** Queues for ownership of `name` (a database's scheduler, or the origin's engine). */
export function claimOwnership(name: string): Ownership {
  const manager = locks();
  let isOwner = false;
  let release!: () => void;
  const released = new Promise<void>((done) => (release = done));
  const queue = new AbortController();
  let onOwned!: () => void;
  const owned = new Promise<void>((done) => (onOwned = done));
  manager
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
