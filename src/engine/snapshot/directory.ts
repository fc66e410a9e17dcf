// Saved KV snapshots in the Origin Private File System: one file per user,
// role and model (named by a hash of the three, so no name leaks), sealed with
// the store's key when the store is encrypted, evicted oldest first under a
// size cap. OPFS is touched on first use only, so this module imports under
// Node.
import { StorageError, StorageQuotaError } from '../../errors';
import { sha256Hex } from '../../util/sha256';
import { evictions, type SavedEntry } from './evict';
import { decodeSnapshot, encodeSnapshot, type KvSnapshot } from './format';

/** How the store seals bytes (src/store/reader.ts `bytesSealer`): under its key when encrypted, as they are otherwise. */
export interface BytesSealer {
  readonly sealed: boolean;
  sealBytes(bytes: Uint8Array): Promise<Uint8Array>;
  openBytes(bytes: Uint8Array): Promise<Uint8Array>;
}

export interface SnapshotDirectoryOptions {
  /** The OPFS folder, one per database (e.g. 'mneme-kv-mneme'). */
  folder: string;
  sealer: BytesSealer;
  /** Most bytes all snapshots of the folder take together. Default 256 MiB. */
  capBytes?: number;
}

export const SNAPSHOT_DEFAULTS = Object.freeze({ capBytes: 256 * 1024 * 1024 });

const SUFFIX = '.kv';
/** First byte of a file: how its payload is stored. */
const PLAIN = 0;
const SEALED = 1;

export class SnapshotDirectory {
  private readonly capBytes: number;

  constructor(private readonly options: SnapshotDirectoryOptions) {
    this.capBytes = options.capBytes ?? SNAPSHOT_DEFAULTS.capBytes;
  }

  /** The file name of the snapshot of a user, role and model. */
  static async name(owner: { userId: string; role?: string | undefined }, model: string): Promise<string> {
    return (await sha256Hex(JSON.stringify([owner.userId, owner.role ?? null, model]))) + SUFFIX;
  }

  /** Writes (replacing) a snapshot, then evicts the oldest under the cap. Returns the bytes written. */
  async write(name: string, snapshot: KvSnapshot): Promise<number> {
    const { sealer } = this.options;
    const payload = encodeSnapshot(snapshot);
    const body = sealer.sealed ? await sealer.sealBytes(payload) : payload;
    const bytes = new Uint8Array(body.length + 1);
    bytes[0] = sealer.sealed ? SEALED : PLAIN;
    bytes.set(body, 1);
    await this.io(`writing KV snapshot ${name}`, async () => {
      const file = await (await this.folder()).getFileHandle(name, { create: true });
      const writable = await file.createWritable();
      await writable.write(bytes);
      await writable.close();
    });
    for (const old of evictions(await this.list(), this.capBytes, name)) await this.remove(old);
    return bytes.length;
  }

  /** The snapshot saved under `name`, or undefined; one that cannot be opened (another key, another format, damaged) is deleted. */
  async read(name: string): Promise<KvSnapshot | undefined> {
    const bytes = await this.io(`reading KV snapshot ${name}`, async () => {
      const handle = await (await this.folder()).getFileHandle(name).catch(() => undefined);
      return handle && new Uint8Array(await (await handle.getFile()).arrayBuffer());
    });
    if (!bytes) return undefined;
    const { sealer } = this.options;
    try {
      if (bytes[0] !== (sealer.sealed ? SEALED : PLAIN)) throw new Error('stored with another encryption setting');
      const body = bytes.subarray(1);
      return decodeSnapshot(sealer.sealed ? await sealer.openBytes(body) : body);
    } catch {
      await this.remove(name);
      return undefined;
    }
  }

  async remove(name: string): Promise<void> {
    await this.io(`deleting KV snapshot ${name}`, async () => {
      await (await this.folder()).removeEntry(name).catch((error: unknown) => {
        if ((error as DOMException)?.name !== 'NotFoundError') throw error;
      });
    });
  }

  /** Every saved snapshot of the folder with its size and when it was written. */
  async list(): Promise<SavedEntry[]> {
    return this.io('listing KV snapshots', async () => {
      const out: SavedEntry[] = [];
      for await (const [name, handle] of entries(await this.folder())) {
        if (handle.kind !== 'file' || !name.endsWith(SUFFIX)) continue;
        const file = await (handle as FileSystemFileHandle).getFile();
        out.push({ name, bytes: file.size, writtenAt: file.lastModified });
      }
      return out;
    });
  }

  private async folder(): Promise<FileSystemDirectoryHandle> {
    const root = await navigator.storage.getDirectory();
    return root.getDirectoryHandle(this.options.folder, { create: true });
  }

  private async io<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      const message = `${what} in the Origin Private File System failed: ${String(error)}`;
      if ((error as DOMException)?.name === 'QuotaExceededError') throw new StorageQuotaError(`${message}; free space or lower the snapshot cap (kvSnapshots.capBytes)`, { cause: error });
      throw new StorageError('storage-failed', message, { cause: error });
    }
  }
}

/** A directory's entries (the async iterator TypeScript's DOM types leave out). */
function entries(folder: FileSystemDirectoryHandle): AsyncIterable<[string, FileSystemHandle]> {
  return (folder as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries();
}
