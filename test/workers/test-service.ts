// A small service for testing the RPC layer, in Node (over a MessageChannel)
// and in Chromium (through a real worker, rpc-test.worker.ts).
import { InvalidInputError } from '../../src/errors';
import type { ServiceHandler } from '../../src/rpc/protocol';

export interface TestService {
  echo(value: unknown): Promise<unknown>;
  fail(kind: 'mneme' | 'type' | 'string'): Promise<never>;
  /** Resolves after `ms`, or rejects when its call is cancelled. */
  wait(ms: number): Promise<string>;
  /** Calls `onStep(1..n)`, each delivered before the next, then returns n. */
  count(n: number, onStep: (i: number) => void): Promise<number>;
  /** Ids of the calls whose cancellation reached this side. */
  cancelledCalls(): Promise<number[]>;
  /** Throws outside any call (the worker's 'error' event) and never settles. */
  crash(): Promise<never>;
}

export function createTestService(): ServiceHandler<TestService> {
  const cancelled: number[] = [];
  return {
    echo: async (_context, value) => value,
    async fail(_context, kind) {
      if (kind === 'mneme') throw new InvalidInputError('text-empty', 'texts[0] is empty');
      if (kind === 'type') throw new TypeError('x is not a function');
      throw 'a bare string';
    },
    wait: (context, ms) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => resolve(`waited ${ms}`), ms);
        context.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          cancelled.push(context.id);
          reject(context.signal.reason);
        });
      }),
    async count(_context, n, onStep) {
      for (let i = 1; i <= n; i++) await onStep(i);
      return n;
    },
    cancelledCalls: async () => [...cancelled],
    crash: () =>
      new Promise<never>(() => {
        setTimeout(() => {
          throw new Error('boom');
        });
      }),
  };
}
