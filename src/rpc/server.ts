// The worker side: exposes a service's handler as the one `RpcEndpoint`
// through comlink. Each call gets an AbortSignal that `cancel(id)` fires;
// errors leave as MnemeErrors in an error reply (see protocol.ts), never
// through comlink's global 'throw' handler.
import { expose, releaseProxy, type Endpoint } from 'comlink';
import { isMnemeError, MnemeError, RpcError, toWire } from '../errors';
import { asMnemeError } from './error-transfer';
import type { CallContext, RpcEndpoint, RpcReply, Service, ServiceHandler } from './protocol';

export interface ExposeOptions {
  /** Defaults to the worker's global scope. */
  endpoint?: Endpoint;
  /** Turns a non-Mneme error a handler threw into the service's own kind; otherwise it crosses with code 'internal'. */
  toError?: (error: unknown) => MnemeError;
}

/** A progress callback that crossed as a comlink proxy: calling it returns a promise of delivery. */
type RemoteCallback = ((...args: unknown[]) => Promise<unknown>) & { [releaseProxy]?: () => void };

export function exposeService<S extends Service<S>>(handler: ServiceHandler<S>, options: ExposeOptions = {}): RpcEndpoint {
  const running = new Map<number, AbortController>();

  const endpoint: RpcEndpoint = {
    async call(id, method, ...args): Promise<RpcReply> {
      const run = Object.hasOwn(handler, method) ? (handler as Record<string, unknown>)[method] : undefined;
      if (typeof run !== 'function') return failed(new MnemeError('internal', `This worker has no method '${method}'`));
      const controller = new AbortController();
      running.set(id, controller);
      const context: CallContext = { id, signal: controller.signal };
      const callbacks = args.filter((a): a is RemoteCallback => typeof a === 'function');
      const localArgs = args.map((a) => (typeof a === 'function' ? quiet(a as RemoteCallback) : a));
      try {
        return { type: 'value', value: await (run as (c: CallContext, ...a: unknown[]) => Promise<unknown>).call(handler, context, ...localArgs) };
      } catch (error) {
        if (controller.signal.aborted) return failed(new RpcError('aborted', `${method} was cancelled`));
        return failed(options.toError && !isMnemeError(error) ? options.toError(error) : asMnemeError(error));
      } finally {
        running.delete(id);
        for (const callback of callbacks) callback[releaseProxy]?.();
      }
    },
    cancel(id) {
      running.get(id)?.abort(new RpcError('aborted', `call ${id} was cancelled`));
    },
  };
  expose(endpoint, options.endpoint);
  return endpoint;
}

function failed(error: MnemeError): RpcReply {
  return { type: 'error', error: toWire(error) };
}

/** A remote callback that never throws into the handler: a caller gone away is not the handler's failure. */
function quiet(callback: RemoteCallback) {
  return (...args: unknown[]): Promise<unknown> => {
    try {
      return callback(...args).catch(() => undefined);
    } catch {
      return Promise.resolve(undefined); // released after its call ended
    }
  };
}
