// Maps what IndexedDB throws to Mneme's error family.
import { InvalidInputError, MnemeError, StorageError, StorageQuotaError } from '../errors';

export function storageError(error: unknown, doing: string): MnemeError {
  if (error instanceof MnemeError) return error;
  const name = error instanceof DOMException || error instanceof Error ? error.name : '';
  if (name === 'QuotaExceededError') {
    return new StorageQuotaError(
      `The browser's storage quota is full while ${doing}; nothing of this write was kept. Delete or archive memories, or ask the browser for persistent storage (navigator.storage.persist()).`,
      { cause: error },
    );
  }
  if (name === 'ConstraintError') {
    return new InvalidInputError('invalid-input', `A memory with that id already exists (while ${doing}); use update() to change it.`);
  }
  if (name === 'InvalidStateError') {
    return new StorageError('store-closed', `The memory store is closed (while ${doing}); open it again with openMemoryStore().`, { cause: error });
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new StorageError('storage-failed', `IndexedDB failed while ${doing}: ${detail}`, { cause: error });
}

/** Runs an IndexedDB operation and rethrows its failure as a MnemeError. */
export async function guard<T>(doing: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw storageError(error, doing);
  }
}
