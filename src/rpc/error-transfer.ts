// Errors cross a worker boundary as { name, code, message } inside Mneme's own
// reply (protocol.ts `RpcReply`) and are rebuilt as the same MnemeError subclass
// (src/errors.ts). comlink's global 'throw' transfer handler is left as it is:
// a host app sharing comlink keeps its own errors.
import { isMnemeError, MnemeError } from '../errors';

/** Any thrown value as a MnemeError: Mneme's own pass through, the rest become code 'internal'. */
export function asMnemeError(value: unknown): MnemeError {
  if (isMnemeError(value)) return value;
  if (value instanceof Error) return new MnemeError('internal', `${value.name}: ${value.message}`, { cause: value });
  return new MnemeError('internal', `Non-error value thrown: ${String(value)}`, { cause: value });
}
