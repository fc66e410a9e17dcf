// Errors cross a worker boundary as { name, code, message } and are rebuilt as
// the same MnemeError subclass (src/errors.ts). comlink's 'throw' transfer
// handler is the hook; both sides install it before they talk.
import { transferHandlers, type TransferHandler } from 'comlink';
import { fromWire, isMnemeError, MnemeError, toWire, type WireError } from '../errors';

/** Any thrown value as a MnemeError: Mneme's own pass through, the rest become code 'internal'. */
export function asMnemeError(value: unknown): MnemeError {
  if (isMnemeError(value)) return value;
  if (value instanceof Error) return new MnemeError('internal', `${value.name}: ${value.message}`, { cause: value });
  return new MnemeError('internal', `Non-error value thrown: ${String(value)}`, { cause: value });
}

type Thrown = { value: unknown };

let installed = false;

/** Idempotent; called by `createRpcClient` and `exposeService`. */
export function installErrorTransfer(): void {
  if (installed) return;
  const comlinkThrow = transferHandlers.get('throw');
  if (!comlinkThrow) throw new MnemeError('internal', "comlink has no 'throw' transfer handler to replace");
  const handler: TransferHandler<Thrown, WireError> = {
    // comlink marks thrown values with a private symbol; its own check finds them.
    canHandle: (value: unknown): value is Thrown => comlinkThrow.canHandle(value),
    serialize: ({ value }) => [toWire(asMnemeError(value)), []],
    deserialize: (wire) => {
      throw fromWire(wire);
    },
  };
  transferHandlers.set('throw', handler as TransferHandler<unknown, unknown>);
  installed = true;
}
