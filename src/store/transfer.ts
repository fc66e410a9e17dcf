// Export to a versioned JSON document, and import that validates every memory
// and reports what it rejected. A document that is not a Mneme export at all is
// refused whole; a bad memory inside a good document is skipped and reported.
import { InvalidInputError, MalformedImportError, MnemeError } from '../errors';
import type { MemoryFilter } from '../memory/filter';
import { describe, isPlainObject, parseMemoryScope } from '../memory/scope';
import { createRecord, parseOptions, parseTime, type Limits } from '../memory/validate';
import type { CallerScope, MemoryRecord, MemoryScope } from '../memory/types';
import { base64ToBytes, bytesToBase64 } from '../util/base64';
import type { VectorRow } from './schema';
import type { MemoryStore } from './store';

export const EXPORT_FORMAT = 'mneme-export';
export const EXPORT_VERSION = 1;
const MAX_IMPORT = 1_000_000;
/** Memories read per page while exporting, their vectors in one transaction. */
const EXPORT_PAGE = 500;

export interface ExportedVector {
  model: string;
  dim: number;
  /** Little-endian float32, base64. */
  data: string;
}

export type ExportedMemory = MemoryRecord & { vector?: ExportedVector };

export interface ExportDocument {
  format: typeof EXPORT_FORMAT;
  version: typeof EXPORT_VERSION;
  exportedAt: number;
  memories: ExportedMemory[];
}

export interface ImportOptions {
  /** What to do with a memory whose id is already stored. Default 'skip'. */
  onConflict?: 'skip' | 'replace';
  /** Re-home every imported memory into this scope. */
  scope?: MemoryScope;
}

export interface ImportReport {
  imported: number;
  skipped: number;
  rejected: { index: number; reason: string }[];
}

/** Exports the memories a caller may see, newest first, a page at a time (see MemoryStore.page). */
export async function exportMemories(
  store: MemoryStore,
  options: { scope: CallerScope; filter?: MemoryFilter; includeVectors?: boolean; now?: number },
): Promise<ExportDocument> {
  const memories: ExportedMemory[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.page({ ...options, limit: EXPORT_PAGE, ...(cursor !== undefined && { cursor }) });
    const withVector = (options.includeVectors ?? true) ? page.memories.filter((r) => r.embedding).map((r) => r.id) : [];
    const vectors = new Map((await store.getVectors(withVector)).map((v) => [v.id, v]));
    for (const r of page.memories) {
      const v = vectors.get(r.id);
      memories.push(v ? { ...r, vector: { model: v.model, dim: v.dim, data: bytesToBase64(new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength)) } } : r);
    }
    cursor = page.cursor;
  } while (cursor !== undefined);
  return { format: EXPORT_FORMAT, version: EXPORT_VERSION, exportedAt: options.now ?? Date.now(), memories };
}

const META_FIELDS = ['createdAt', 'updatedAt', 'lastAccessedAt', 'accessCount', 'embedding', 'vector'] as const;

function parseVector(value: unknown): { model: string; dim: number; data: Float32Array } {
  if (!isPlainObject(value) || typeof value.model !== 'string' || !Number.isInteger(value.dim) || typeof value.data !== 'string') {
    throw new InvalidInputError('invalid-input', 'vector is { model, dim, data: base64 float32 }.');
  }
  const dim = value.dim as number;
  let bytes: Uint8Array;
  try {
    bytes = base64ToBytes(value.data);
  } catch {
    throw new InvalidInputError('invalid-input', 'vector.data is not valid base64.');
  }
  if (dim <= 0 || bytes.length !== dim * 4) throw new InvalidInputError('invalid-input', `vector.data holds ${bytes.length / 4} floats, not dim = ${dim}.`);
  const data = new Float32Array(bytes.buffer, bytes.byteOffset, dim);
  if (!data.every(Number.isFinite)) throw new InvalidInputError('invalid-input', 'vector.data holds a non-finite number.');
  return { model: value.model, dim, data };
}

/** Validates one exported memory; throws InvalidInputError with the reason. */
export function parseExportedMemory(value: unknown, limits: Limits, newId: () => string): { record: MemoryRecord; vector?: VectorRow } {
  if (!isPlainObject(value)) throw new InvalidInputError('invalid-input', `a memory is an object (got ${describe(value)}).`);
  const input: Record<string, unknown> = { ...value };
  for (const f of META_FIELDS) delete input[f];
  const record = createRecord(input, limits, 0, newId);
  record.createdAt = parseTime(value.createdAt, 'createdAt');
  record.updatedAt = value.updatedAt === undefined ? record.createdAt : parseTime(value.updatedAt, 'updatedAt');
  record.lastAccessedAt = value.lastAccessedAt === undefined ? record.createdAt : parseTime(value.lastAccessedAt, 'lastAccessedAt');
  const count = value.accessCount ?? 0;
  if (!Number.isInteger(count) || (count as number) < 0) throw new InvalidInputError('invalid-input', 'accessCount is a whole number ≥ 0.');
  record.accessCount = count as number;
  if (value.vector === undefined) return { record };
  const v = parseVector(value.vector);
  record.embedding = { model: v.model, dim: v.dim };
  return { record, vector: { id: record.id, ...v } };
}

function parseDocument(doc: unknown): unknown[] {
  if (!isPlainObject(doc) || doc.format !== EXPORT_FORMAT) {
    throw new MalformedImportError(`This is not a Mneme export: expected { format: "${EXPORT_FORMAT}", version, memories } (got ${describe(doc)}).`);
  }
  if (doc.version !== EXPORT_VERSION) {
    throw new MalformedImportError(`Export version ${describe(doc.version)} is not supported; this Mneme reads version ${EXPORT_VERSION}.`);
  }
  if (!Array.isArray(doc.memories)) throw new MalformedImportError('The export has no memories array.');
  if (doc.memories.length > MAX_IMPORT) throw new MalformedImportError(`The export holds ${doc.memories.length} memories; import at most ${MAX_IMPORT} at a time.`);
  return doc.memories;
}

/** Imports an export document in one transaction; memories that fail validation are reported, not written. */
export async function importMemories(store: MemoryStore, doc: unknown, importOptions?: ImportOptions): Promise<ImportReport> {
  const items = parseDocument(doc);
  const options = parseOptions(importOptions, 'importMemories');
  const onConflict = options.onConflict ?? 'skip';
  if (onConflict !== 'skip' && onConflict !== 'replace') throw new InvalidInputError('invalid-input', 'onConflict is "skip" or "replace".');
  const scope = options.scope === undefined ? undefined : parseMemoryScope(options.scope);
  const report: ImportReport = { imported: 0, skipped: 0, rejected: [] };
  const accepted = new Map<string, { record: MemoryRecord; vector?: VectorRow }>();
  items.forEach((item, index) => {
    try {
      const parsed = parseExportedMemory(item, store.limits, () => crypto.randomUUID());
      if (scope) parsed.record.scope = scope;
      if (accepted.has(parsed.record.id)) throw new InvalidInputError('invalid-input', `id "${parsed.record.id}" appears twice in the export.`);
      accepted.set(parsed.record.id, parsed);
    } catch (error) {
      if (!(error instanceof MnemeError)) throw error;
      report.rejected.push({ index, reason: error.message });
    }
  });
  if (onConflict === 'skip') {
    for (const id of await store.has([...accepted.keys()])) {
      accepted.delete(id);
      report.skipped++;
    }
  }
  const entries = [...accepted.values()];
  await store.putRecords(
    entries.map((e) => e.record),
    entries.flatMap((e) => (e.vector ? [e.vector] : [])),
  );
  report.imported = entries.length;
  return report;
}
