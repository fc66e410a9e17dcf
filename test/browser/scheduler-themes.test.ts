// Saved themes in a real store: a scheduler saves the themes it placed, the
// next start restores them instead of placing every memory again (only what
// was added since is placed), an encrypted store keeps them sealed, and a
// delete takes them with it.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMneme, type Mneme } from '../../src/mneme';
import { Scheduler } from '../../src/scheduler/scheduler';
import { ThemeIndex } from '../../src/scheduler/themes';
import { everydayMemories } from '../support/everyday-memories';
import { dumpDatabase, occurrences } from '../support/raw-idb';

const u = { userId: 'u' };
const passphrase = { passphrase: 'correct horse battery staple', iterations: 10_000 };
const open: Mneme[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(open.splice(0).map((m) => m.close()));
});

/** Each memory's theme, as the sets of members that share one. */
const partition = (s: Scheduler) =>
  s.state.themes
    .all()
    .map((t) => [...t.members].sort().join(','))
    .sort();

async function started(m: Mneme): Promise<{ scheduler: Scheduler; placed: number }> {
  const assign = vi.spyOn(ThemeIndex.prototype, 'assign');
  const scheduler = await Scheduler.create(m, { scope: u, saveThemesAfterMs: false });
  const placed = assign.mock.calls.length;
  assign.mockRestore();
  return { scheduler, placed };
}

describe('saved themes', () => {
  for (const encrypted of [false, true]) {
    it(`restore at the next start without placing memories again${encrypted ? ', sealed in an encrypted store' : ''}`, async () => {
      const name = `themes-${crypto.randomUUID()}`;
      const options = { name, ...(encrypted && { encryption: passphrase }) };
      const m = await createMneme(options);
      open.push(m);
      await m.addMany(everydayMemories(120).map((e) => ({ text: e.text, scope: u })));
      const first = await started(m);
      expect(first.placed).toBe(120); // nothing saved yet: every memory is placed
      expect(await first.scheduler.saveThemes()).toBe(true);
      const themes = partition(first.scheduler);
      await first.scheduler.dispose();

      const raw = (await dumpDatabase(name)).snapshots!.filter((r) => r.key === 'themes:u');
      expect(raw).toHaveLength(1);
      // The vocabulary holds the texts' words; sealed, not one of them is readable.
      const readable = occurrences({ themes: raw }, 'gym').themes ?? 0;
      if (encrypted) expect(readable).toBe(0);
      else expect(readable).toBeGreaterThan(0);

      const second = await started(m);
      expect(second.placed).toBe(0);
      expect(partition(second.scheduler)).toEqual(themes);
      await second.scheduler.dispose();

      // Added while no scheduler ran: only that one is placed at the next start.
      await m.add({ text: 'The gym bill went up to 64 euros a month.', scope: u });
      const third = await started(m);
      expect(third.placed).toBe(1);
      await third.scheduler.dispose();
    });
  }

  it('go with a delete, in its transaction, and are saved again without the deleted words', async () => {
    const name = `themes-delete-${crypto.randomUUID()}`;
    const m = await createMneme({ name });
    open.push(m);
    const [secret] = await m.addMany([{ text: 'The locker code is wombat6612', scope: u }, ...everydayMemories(30).map((e) => ({ text: e.text, scope: u }))]);
    const scheduler = await Scheduler.create(m, { scope: u, saveThemesAfterMs: 5 });
    const saved = async () => (await dumpDatabase(name)).snapshots!.filter((r) => r.key === 'themes:u');
    await vi.waitUntil(async () => (await saved()).length === 1, { timeout: 2000 }); // the first start saves what it placed
    expect(occurrences({ s: await saved() }, 'wombat6612').s).toBe(1);

    await m.remove(secret!.id);
    expect(occurrences({ s: await saved() }, 'wombat6612')).toEqual({}); // gone with the delete, before any save
    await vi.waitUntil(async () => (await saved()).length === 1, { timeout: 2000 }); // saved again
    expect(occurrences(await dumpDatabase(name), 'wombat6612')).toEqual({});
    expect(scheduler.state.themes.of(secret!.id)).toBeUndefined();
    await scheduler.dispose();
  });
});
