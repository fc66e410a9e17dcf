// A shared promise that one caller can stop waiting for.
import { RpcError } from '../errors';

/** `promise`, rejected early for this caller (with RpcError('aborted')) when its own signal aborts; the work itself goes on. */
export function withSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined, label: string): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(new RpcError('aborted', `${label} was aborted`));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new RpcError('aborted', `${label} was aborted`));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
