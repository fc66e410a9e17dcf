// The memory inspector: every memory with its tier, heat and theme, hottest
// first; searchable, editable, deletable; export to a file and import from one.
// The working tier is the current message's working set (what is predicted
// while typing, then what the last answer used): shown, never stored. Below
// the list, the saved KV snapshots of the activated tier (OPFS), which a
// reload restores instead of prefilling.
import type { KvSnapshotView, MemoryRow, SchedulerClient } from '../src';
import { h } from './dom';

export interface Inspector {
  element: HTMLElement;
  setClient(client: SchedulerClient | undefined): void;
  refresh(): Promise<void>;
  /** The working set moved (a prediction while typing): re-reads the rows, unless a memory is being edited. */
  workingChanged(): Promise<void>;
}

const TIERS = ['activated', 'working', 'plaintext', 'archived'] as const;
const TIER_TITLES: Record<string, string> = {
  activated: 'Activated: a hot theme, kept at the top of every prompt',
  working: 'Working: picked for the current message (transient, never stored)',
  plaintext: 'Plaintext: stored, found by search when it matches',
  archived: 'Archived: cold and long unused; kept, and restored when it warms up again',
};

export function inspector(onError: (error: unknown) => void, onChange: () => void): Inspector {
  let client: SchedulerClient | undefined;
  const query = h('input', { type: 'search', placeholder: 'Search memories…', ariaLabel: 'Search memories' });
  const counts = h('p', { className: 'counts' });
  const list = h('ul', { className: 'memories', ariaLabel: 'Memories' });
  const snapshots = h('p', { className: 'kv-snapshots', title: 'The activated tier’s KV cache, saved in this browser (OPFS) so a reload restores it instead of prefilling; deleting a memory cuts it' });
  const exportButton = h('button', { type: 'button', className: 'secondary', textContent: 'Export' });
  const importInput = h('input', { type: 'file', accept: 'application/json', hidden: true, ariaLabel: 'Import file' });
  const importButton = h('button', { type: 'button', className: 'secondary', textContent: 'Import' });
  const element = h('section', { className: 'inspector', ariaLabel: 'Memory inspector' },
    h('div', { className: 'row between' }, h('h2', { textContent: 'Memories' }), h('div', { className: 'row' }, exportButton, importButton, importInput)),
    query, counts, list, snapshots);

  function row(m: MemoryRow): HTMLLIElement {
    const text = h('p', { className: 'text', textContent: m.text });
    const heat = h('span', { className: 'heat', title: 'Heat: mentions and uses, halving every 14 days' },
      h('meter', { min: 0, max: 5, value: Math.min(m.heat, 5), ariaLabel: 'heat' }), ` ${m.heat.toFixed(1)}`);
    const meta = h('p', { className: 'meta' },
      h('span', { className: `tier ${m.tier}`, textContent: m.tier, title: TIER_TITLES[m.tier] ?? m.tier }), heat,
      ...(m.theme ? [h('span', { className: 'theme', title: 'Theme', textContent: `# ${m.theme}` })] : []),
      ...m.tags.map((t) => h('span', { className: 'tag', textContent: t })));
    const edit = h('button', { type: 'button', className: 'link', textContent: 'Edit' });
    const remove = h('button', { type: 'button', className: 'link danger', textContent: 'Delete' });
    const li = h('li', { dataset: { id: m.id, tier: m.tier } }, text, meta, h('div', { className: 'actions' }, edit, remove));
    edit.onclick = () => {
      const box = h('textarea', { value: m.text, rows: 2, ariaLabel: 'Edit memory' });
      const save = h('button', { type: 'button', textContent: 'Save' });
      text.replaceWith(box);
      edit.replaceWith(save);
      box.focus();
      save.onclick = () => void client?.call('edit', [m.id, box.value]).then(changed, onError);
    };
    remove.onclick = () => void client?.call('remove', [m.id]).then(changed, onError);
    return li;
  }

  const changed = () => {
    onChange();
    return refresh();
  };
  let seq = 0;
  async function refresh(): Promise<void> {
    if (!client) return;
    const mine = ++seq;
    const q = query.value.trim();
    const [rows, kv] = await Promise.all([client.call('inspect', [q]), client.call('kvSnapshots', []).catch(() => undefined)]);
    if (mine !== seq) return;
    snapshots.textContent = kv ? describeSnapshots(kv) : '';
    const all = q ? undefined : rows;
    counts.textContent = all
      ? TIERS.map((t) => `${all.filter((m) => m.tier === t).length} ${t}`).join(' · ')
      : `${rows.length} found for “${q}”`;
    list.replaceChildren(...(rows.length > 0 ? rows.map(row) : [h('li', { className: 'empty', textContent: q ? 'Nothing matches.' : 'No memories yet. Chat, and what is worth keeping shows up here.' })]));
  }

  let debounce: ReturnType<typeof setTimeout> | undefined;
  query.oninput = () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => void refresh().catch(onError), 80);
  };
  exportButton.onclick = async () => {
    if (!client) return;
    const doc = await client.call('exportAll', []);
    const a = h('a', { href: URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2)], { type: 'application/json' })), download: 'mneme-memories.json' });
    a.click();
    URL.revokeObjectURL(a.href);
  };
  importButton.onclick = () => importInput.click();
  importInput.onchange = async () => {
    const file = importInput.files?.[0];
    importInput.value = '';
    if (!file || !client) return;
    try {
      const report = await client.call('importAll', [JSON.parse(await file.text())]);
      await changed();
      counts.textContent = `Imported ${report.imported}, skipped ${report.skipped}, rejected ${report.rejected.length}. ${counts.textContent}`;
    } catch (error) {
      onError(error);
    }
  };

  return {
    element,
    setClient(next) {
      client = next;
    },
    refresh: () => refresh().catch(onError),
    workingChanged: () => (list.querySelector('textarea') ? Promise.resolve() : refresh().catch(onError)),
  };
}

function describeSnapshots(kv: KvSnapshotView): string {
  if (kv.snapshots.length === 0) return 'Saved KV cache: none yet.';
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  const total = kv.snapshots.reduce((n, s) => n + s.bytes, 0);
  const current = kv.snapshots.find((s) => s.current);
  const restored = kv.restore && kv.restore.restoredTokens > 0 ? `; ${kv.restore.restoredTokens} tokens restored at load` : '';
  return `Saved KV cache: ${kv.snapshots.length} (${mb(total)})${current ? `, this profile’s ${mb(current.bytes)} saved ${new Date(current.writtenAt).toLocaleTimeString()}` : ''}${restored}.`;
}
