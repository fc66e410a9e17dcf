// A "worker" that is one end of a Node MessageChannel, with terminate() and an
// 'error' event faked: enough for the RPC layer's logic in Node tests. Real
// workers are covered by the browser tests.
import type { MessagePort } from 'node:worker_threads';
import type { WorkerLike } from '../../src/rpc/client';

export interface FakeWorker extends WorkerLike {
  crash(message: string): void;
  readonly terminated: boolean;
}

export function fakeWorker(port: MessagePort): FakeWorker {
  const errors = new EventTarget();
  let terminated = false;
  const target = (type: string) => (type === 'error' ? errors : (port as unknown as EventTarget));
  port.start();
  return {
    postMessage: (message, transfer) => port.postMessage(message, transfer as never),
    addEventListener: (type, listener) => target(type).addEventListener(type, listener),
    removeEventListener: (type, listener) => target(type).removeEventListener(type, listener),
    terminate() {
      terminated = true;
      port.close();
    },
    crash: (message) => errors.dispatchEvent(Object.assign(new Event('error'), { message })),
    get terminated() {
      return terminated;
    },
  };
}
