// Reads that scale, in real IndexedDB: cursor pages walk a scope newest first
// along the by-owner-time index (own and shared memories merged, scope rules,
// filters and governance applied) and add up to `list` and `count`; `get`
// takes a scope; export reads a page and its vectors per transaction.
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/errors';
import { createMneme, type Mneme } from '../../src/mneme';
import type { MemoryRecord } from '../../src/memory/types';

const alice = { userId: 'alice' };
const open: Mneme[] = [];
afterEach(async () => {
  for (const m of open.splice(0)) await m.close();
});

let clock = 1_000;
async function mneme(): Promise<Mneme> {
  const m = await createMneme({ name: `reads-${crypto.randomUUID()}`, now: () => clock, governance: { allow: (r) => !r.tags.includes('denied'), redact: (r) => r } });
  open.push(m);
  return m;
}

/** 1,300 memories over many times (some sharing one): alice's own, role-narrowed, denied, shared, and bob's. */
async function populate(m: Mneme): Promise<void> {
  for (let batch = 0; batch < 13; batch++) {
    clock = 1_000 + Math.floor(batch / 2) * 10; // two batches share each time: ties go by id
    await m.addMany(
      Array.from({ length: 100 }, (_, i) => {
        const kind = (batch * 100 + i) % 5;
        const scope = kind === 1 ? { ...alice, role: 'doctor' } : kind === 2 ? { shared: true as const } : kind === 3 ? { userId: 'bob' } : alice;
        return { text: `note ${batch}-${i}`, scope, tags: kind === 4 && i % 3 === 0 ? ['denied'] : ['t'], importance: 0.5 };
      }),
    );
  }
}

async function walk(m: Mneme, options: Parameters<Mneme['page']>[0]): Promise<MemoryRecord[]> {
  const out: MemoryRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await m.page({ ...options, ...(cursor !== undefined && { cursor }) });
    expect(page.memories.length).toBeLessThanOrEqual(options.limit ?? 100);
    out.push(...page.memories);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return out;
}

describe('paged reads', () => {
  it('walk a scope newest first, page by page, and add up to list and count', async () => {
    const m = await mneme();
    await populate(m);
    for (const scope of [alice, { ...alice, role: 'doctor' }, { userId: 'bob' }]) {
      const all = await m.list({ scope });
      const visible = [...m.records()].filter((r) => ('shared' in r.scope || (r.scope.userId === scope.userId && (r.scope.role === undefined || r.scope.role === (scope as { role?: string }).role))) && !r.tags.includes('denied'));
      expect(all.map((r) => r.id).sort()).toEqual(visible.map((r) => r.id).sort());
      for (let i = 1; i < all.length; i++) {
        const [a, b] = [all[i - 1]!, all[i]!];
        expect(a.createdAt > b.createdAt || (a.createdAt === b.createdAt && a.id > b.id)).toBe(true);
      }
      for (const limit of [3, 37, 500]) expect((await walk(m, { scope, limit })).map((r) => r.id)).toEqual(all.map((r) => r.id));
      expect(await m.count({ scope })).toBe(all.length);
      expect((await m.list({ scope, offset: 40, limit: 25 })).map((r) => r.id)).toEqual(all.slice(40, 65).map((r) => r.id));
    }
    const filtered = await walk(m, { scope: alice, filter: { createdFrom: 1_020, createdTo: 1_040 }, limit: 50 });
    expect(filtered.length).toBeGreaterThan(0);
    expect(filtered.every((r) => r.createdAt >= 1_020 && r.createdAt < 1_040)).toBe(true);
    expect(await m.count({ scope: alice, filter: { createdFrom: 1_020, createdTo: 1_040 } })).toBe(filtered.length);
  });

  it('refuses a cursor it did not make and a bad limit, and gives an empty page past the end', async () => {
    const m = await mneme();
    await m.add({ text: 'only one', scope: alice });
    for (const cursor of ['nope', 42, '']) await expect(m.page({ scope: alice, cursor: cursor as never })).rejects.toBeInstanceOf(InvalidInputError);
    for (const limit of [-1, 1.5, '3']) await expect(m.page({ scope: alice, limit: limit as never })).rejects.toBeInstanceOf(InvalidInputError);
    const first = await m.page({ scope: alice, limit: 1 });
    expect(first.memories).toHaveLength(1);
    expect(await m.page({ scope: alice, limit: 1, cursor: first.cursor! })).toEqual({ memories: [] });
    expect(await m.page({ scope: alice, limit: 0 })).toEqual({ memories: [] });
  });

  it('get takes the caller’s scope, and hides what it may not see', async () => {
    const m = await mneme();
    const note = await m.add({ text: 'the doctor’s note', scope: { ...alice, role: 'doctor' } });
    await expect(m.get(note.id, undefined as never)).rejects.toMatchObject({ code: 'bad-scope' });
    expect(await m.get(note.id, { scope: alice })).toBeUndefined();
    expect((await m.get(note.id, { scope: { ...alice, role: 'doctor' } }))?.text).toBe('the doctor’s note');
  });

  it('exports page by page with each page’s vectors, as they are stored', async () => {
    const m = await mneme();
    const embedding = { model: 'test/fixed', dim: 4 };
    const records = await m.store.addMany(
      Array.from({ length: 1_200 }, (_, i) => ({ text: `exported ${i}`, scope: alice })),
      { vectors: Array.from({ length: 1_200 }, (_, i) => Float32Array.from([i, 1, 2, 3])), embedding },
    );
    const doc = await m.exportMemories({ scope: alice });
    expect(doc.memories).toHaveLength(1_200);
    expect(doc.memories.map((r) => r.id)).toEqual((await m.list({ scope: alice })).map((r) => r.id));
    const byId = new Map(records.map((r, i) => [r.id, i]));
    for (const e of doc.memories) {
      const bytes = Uint8Array.from(atob(e.vector!.data), (c) => c.charCodeAt(0));
      expect(new Float32Array(bytes.buffer)[0]).toBe(byId.get(e.id));
    }
  });
});
