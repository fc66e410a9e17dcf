// Reads an IndexedDB database as it lies on disk, below Mneme's API: every
// value of every object store, so tests can look for text that should be gone.
import { openDB } from 'idb';

export type RawDump = Record<string, { key: IDBValidKey; value: unknown }[]>;

export async function dumpDatabase(name: string): Promise<RawDump> {
  const db = await openDB(name);
  const dump: RawDump = {};
  try {
    for (const store of db.objectStoreNames) {
      const tx = db.transaction(store, 'readonly');
      const [keys, values] = await Promise.all([tx.store.getAllKeys(), tx.store.getAll(), tx.done]);
      dump[store] = keys.map((key, i) => ({ key, value: values[i] }));
    }
  } finally {
    db.close();
  }
  return dump;
}

/** Every string in a value, however deep, and the text of every byte array (UTF-8 and UTF-16), for plaintext searches. */
export function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
    const bytes = value instanceof ArrayBuffer ? new Uint8Array(value) : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    out.push(new TextDecoder('utf-8').decode(bytes), new TextDecoder('utf-16le').decode(bytes.length % 2 ? bytes.subarray(1) : bytes));
  } else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (value instanceof Map) for (const [k, v] of value) strings([k, v], out);
  else if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) strings([k, v], out);
  return out;
}

/** The stores (and how many occurrences in each) where `needle` appears anywhere at rest. */
export function occurrences(dump: RawDump, needle: string): Record<string, number> {
  const found: Record<string, number> = {};
  for (const [store, rows] of Object.entries(dump)) {
    const n = rows.reduce((sum, row) => sum + strings([row.key, row.value]).filter((s) => s.includes(needle)).length, 0);
    if (n > 0) found[store] = n;
  }
  return found;
}

/**
 * Every file of the origin's private file system (OPFS), with its path and bytes, as it lies on disk. A file
 * another test deletes while this one walks is skipped (tests of one browser share the origin's OPFS).
 */
export async function dumpOpfs(): Promise<{ path: string; bytes: Uint8Array }[]> {
  const out: { path: string; bytes: Uint8Array }[] = [];
  const gone = (error: unknown) => {
    if ((error as DOMException)?.name !== 'NotFoundError') throw error;
  };
  const walk = async (dir: FileSystemDirectoryHandle, path: string): Promise<void> => {
    for await (const [name, handle] of (dir as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries()) {
      if (handle.kind === 'directory') await walk(handle as FileSystemDirectoryHandle, `${path}${name}/`).catch(gone);
      else {
        const bytes = await (handle as FileSystemFileHandle).getFile().then((f) => f.arrayBuffer()).catch(gone);
        if (bytes) out.push({ path: `${path}${name}`, bytes: new Uint8Array(bytes) });
      }
    }
  };
  await walk(await navigator.storage.getDirectory(), '');
  return out;
}
