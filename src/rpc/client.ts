// The calling side of a worker. comlink's request/response has no reject path
// (a call to a dead worker hangs forever), so every call here also has a
// timeout, an optional AbortSignal, and rejects when the worker dies.
import { proxy, releaseProxy, wrap, type Remote } from 'comlink';
import { fromWire, InvalidInputError, RpcError } from '../errors';
import { asMnemeError } from './error-transfer';
import type { Args, MethodName, Result, RpcEndpoint, Service } from './protocol';

/** What the client needs of a worker; a `Worker` is one. */
export interface WorkerLike {
  postMessage(message: unknown, transfer: Transferable[]): void;
  addEventListener(type: 'message' | 'error', listener: (event: Event) => void): void;
  removeEventListener(type: 'message' | 'error', listener: (event: Event) => void): void;
  terminate(): void;
}

export interface RpcClientOptions {
  /** Names the worker in error messages, e.g. 'embed'. */
  name: string;
  /** Default time limit of a call in ms. */
  timeoutMs: number;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** This call's time limit in ms; defaults to the client's `timeoutMs`. */
  timeoutMs?: number;
}

export interface RpcClient<S extends Service<S>> {
  /** Function arguments (progress callbacks) are carried by `Comlink.proxy` and fall silent once the call settles. */
  call<M extends MethodName<S>>(method: M, args: Args<S, M>, options?: CallOptions): Promise<Result<S, M>>;
  /** Stops the worker; pending calls reject with `RpcError('worker-crashed')`. */
  terminate(): void;
  /** False once the worker crashed or was terminated. */
  readonly alive: boolean;
}

export function createRpcClient<S extends Service<S>>(worker: WorkerLike, options: RpcClientOptions): RpcClient<S> {
  const badDefault = badTimeout(options.timeoutMs);
  if (badDefault) throw badDefault;
  const remote: Remote<RpcEndpoint> = wrap<RpcEndpoint>(worker);
  const pending = new Map<number, (error: RpcError) => void>();
  let nextId = 1;
  let death: RpcError | undefined;

  const die = (error: RpcError) => {
    if (death) return;
    death = error;
    worker.removeEventListener('error', onError);
    worker.terminate();
    remote[releaseProxy]();
    for (const fail of [...pending.values()]) fail(error);
    pending.clear();
  };
  const onError = (event: Event) => {
    event.preventDefault(); // handled: every pending call rejects with it
    const message = (event as Partial<ErrorEvent>).message;
    const detail = typeof message === 'string' && message !== '' ? `: ${message}` : '';
    die(new RpcError('worker-crashed', `The ${options.name} worker crashed${detail}`));
  };
  worker.addEventListener('error', onError);

  function call<M extends MethodName<S>>(method: M, args: Args<S, M>, callOptions: CallOptions = {}): Promise<Result<S, M>> {
    const timeoutMs = callOptions.timeoutMs ?? options.timeoutMs;
    const bad = badTimeout(timeoutMs);
    if (bad) return Promise.reject(bad);
    const { signal } = callOptions;
    const label = `${options.name}.${method}`;
    if (death) return Promise.reject(death);
    if (signal?.aborted) return Promise.reject(new RpcError('aborted', `${label} was aborted before it started`));

    const id = nextId++;
    let settled = false;
    // Callbacks cross as comlink proxies; once the call settles they fall silent.
    const wireArgs = (args as readonly unknown[]).map((arg) =>
      typeof arg === 'function' ? proxy((...a: unknown[]) => (settled ? undefined : (arg as (...x: unknown[]) => unknown)(...a))) : arg,
    );

    return new Promise<Result<S, M>>((resolve, reject) => {
      /** Settles once; `cancelRemote` tells the worker to stop this call. */
      const settle = (outcome: { value: Result<S, M> } | { error: unknown; cancelRemote: boolean }) => {
        if (settled) return;
        settled = true;
        pending.delete(id);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if ('value' in outcome) return resolve(outcome.value);
        if (outcome.cancelRemote) remote.cancel(id).catch(() => undefined);
        reject(outcome.error);
      };
      const onAbort = () => settle({ error: new RpcError('aborted', `${label} was aborted`), cancelRemote: true });
      const timer = setTimeout(() => {
        const message = `${label} did not finish within ${timeoutMs} ms (raise timeoutMs if the work is legitimately slow)`;
        settle({ error: new RpcError('timeout', message), cancelRemote: true });
      }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      pending.set(id, (error) => settle({ error, cancelRemote: false }));
      remote.call(id, method, ...wireArgs).then(
        // A handler's error arrives in an error reply and is rebuilt as its own subclass.
        (reply) => settle(reply.type === 'value' ? { value: reply.value as Result<S, M> } : { error: fromWire(reply.error), cancelRemote: false }),
        // A failure of the transport itself (arguments or a result that cannot be cloned) is wrapped here.
        (error: unknown) => settle({ error: asMnemeError(error), cancelRemote: false }),
      );
    });
  }

  return {
    get alive() {
      return death === undefined;
    },
    terminate() {
      die(new RpcError('worker-crashed', `The ${options.name} worker was terminated`));
    },
    call,
  };
}

function badTimeout(ms: number): InvalidInputError | undefined {
  if (Number.isFinite(ms) && ms > 0) return undefined;
  return new InvalidInputError('invalid-input', `timeoutMs must be a positive number of milliseconds, got ${ms}`);
}
