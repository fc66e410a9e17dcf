// One typed error family. Every failure Mneme reports is a MnemeError with a
// stable `code`; subclasses let callers catch a kind with `instanceof`.
// Errors cross worker boundaries as { name, code, message } and are rebuilt
// as the same subclass on the other side (see `toWire` / `fromWire`).

export type MnemeErrorCode =
  | 'invalid-input'
  | 'text-empty'
  | 'text-too-long'
  | 'bad-scope'
  /** A prompt longer than the model's context window. */
  | 'context-overflow'
  /** A saved KV cache was made by another model, revision, dtype or cache shape than the engine's. */
  | 'snapshot-mismatch'
  | 'not-found'
  | 'malformed-import'
  | 'quota-exceeded'
  /** The passphrase or key does not open this encrypted database. */
  | 'wrong-key'
  /** An encryption option that cannot be a key (empty passphrase, not an AES-GCM CryptoKey). */
  | 'invalid-key'
  /** The database is encrypted and was opened without a passphrase or key. */
  | 'locked'
  | 'storage-failed'
  | 'store-closed'
  /** Another tab opened the database at a newer schema version (or deleted it); this tab's connection closed for it. Reload the page. */
  | 'store-upgraded'
  /** Opening waited too long for another tab's connection to an older version to close. */
  | 'store-blocked'
  | 'model-load-failed'
  /** The model's files are not where the configuration points (HTTP 404, or the host cannot be reached). */
  | 'model-not-found'
  | 'remote-loading-disabled'
  | 'embedding-failed'
  /** The engine failed while prefilling or generating. */
  | 'generation-failed'
  /** No WebGPU, or no adapter, where an engine needs one. */
  | 'webgpu-unavailable'
  /** The model needs f16 shaders and this GPU has none. */
  | 'shader-f16-unsupported'
  /** The page's Content-Security-Policy blocked a script, worker or WebAssembly compile Mneme needs; the message names the directive. */
  | 'csp-blocked'
  /** The browser's built-in model (the Prompt API's `LanguageModel`) is absent here (another browser, a worker) or says 'unavailable'. */
  | 'built-in-model-unavailable'
  | 'timeout'
  | 'aborted'
  | 'worker-crashed'
  /** A failure Mneme did not anticipate (a bug, or a non-Mneme error from a dependency). */
  | 'internal';

export class MnemeError extends Error {
  override name = 'MnemeError';
  constructor(
    readonly code: MnemeErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The caller passed something Mneme cannot accept; nothing was changed. */
export class InvalidInputError extends MnemeError {
  override name = 'InvalidInputError';
  constructor(
    code: Extract<MnemeErrorCode, 'invalid-input' | 'text-empty' | 'text-too-long' | 'bad-scope' | 'context-overflow' | 'snapshot-mismatch'>,
    message: string,
  ) {
    super(code, message);
  }
}

export class NotFoundError extends MnemeError {
  override name = 'NotFoundError';
  constructor(message: string) {
    super('not-found', message);
  }
}

/** An import document was rejected as a whole (not a Mneme export, or an unknown version). */
export class MalformedImportError extends MnemeError {
  override name = 'MalformedImportError';
  constructor(message: string) {
    super('malformed-import', message);
  }
}

/** The browser refused to store more. Nothing of the failed write was kept; the store stays usable. */
export class StorageQuotaError extends MnemeError {
  override name = 'StorageQuotaError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('quota-exceeded', message, options);
  }
}

export class StorageError extends MnemeError {
  override name = 'StorageError';
  constructor(code: Extract<MnemeErrorCode, 'storage-failed' | 'store-closed' | 'store-upgraded' | 'store-blocked'>, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** An encrypted database could not be unlocked; nothing in it was changed. */
export class EncryptionError extends MnemeError {
  override name = 'EncryptionError';
  constructor(code: Extract<MnemeErrorCode, 'wrong-key' | 'invalid-key' | 'locked'>, message: string) {
    super(code, message);
  }
}

export class ModelError extends MnemeError {
  override name = 'ModelError';
  constructor(
    code: Extract<MnemeErrorCode, 'model-load-failed' | 'model-not-found' | 'remote-loading-disabled' | 'embedding-failed' | 'generation-failed'>,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** The device cannot run the engine or model asked for; the message names the setting that gets around it. */
export class DeviceError extends MnemeError {
  override name = 'DeviceError';
  constructor(code: Extract<MnemeErrorCode, 'webgpu-unavailable' | 'shader-f16-unsupported' | 'csp-blocked' | 'built-in-model-unavailable'>, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** A call across a worker boundary did not complete: it timed out, was aborted, or the worker died. */
export class RpcError extends MnemeError {
  override name = 'RpcError';
  constructor(code: Extract<MnemeErrorCode, 'timeout' | 'aborted' | 'worker-crashed'>, message: string) {
    super(code, message);
  }
}

export interface WireError {
  name: string;
  code: MnemeErrorCode;
  message: string;
}

export function toWire(error: MnemeError): WireError {
  return { name: error.name, code: error.code, message: error.message };
}

const CLASSES: Record<string, (code: MnemeErrorCode, message: string) => MnemeError> = {
  InvalidInputError: (code, m) => new InvalidInputError(code as never, m),
  NotFoundError: (_c, m) => new NotFoundError(m),
  MalformedImportError: (_c, m) => new MalformedImportError(m),
  StorageQuotaError: (_c, m) => new StorageQuotaError(m),
  StorageError: (code, m) => new StorageError(code as never, m),
  EncryptionError: (code, m) => new EncryptionError(code as never, m),
  ModelError: (code, m) => new ModelError(code as never, m),
  DeviceError: (code, m) => new DeviceError(code as never, m),
  RpcError: (code, m) => new RpcError(code as never, m),
};

/** Rebuilds an error that crossed a worker boundary as the subclass it was thrown as. */
export function fromWire(wire: WireError): MnemeError {
  const make = CLASSES[wire.name];
  return make ? make(wire.code, wire.message) : new MnemeError(wire.code, wire.message);
}

export function isMnemeError(value: unknown): value is MnemeError {
  return value instanceof MnemeError;
}
