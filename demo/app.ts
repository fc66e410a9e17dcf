// The demo page: add, list, edit, delete, search, export and import memories.
// Everything stays in this browser; the optional model downloads once and is cached.
import { createMneme, createWorkerEmbedder, MnemeError, type Mneme, type MemoryRecord, type SearchResult } from '../src';

export interface DemoOptions {
  /** IndexedDB name. Default 'mneme-demo'. */
  dbName?: string;
  /** Whether semantic search may be offered (it downloads a model). Default true. */
  offerModel?: boolean;
}

const MODEL = { id: 'Xenova/all-MiniLM-L6-v2', size: '23 MB' };
const MODEL_KEY = 'mneme-demo:model-enabled';

function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> & { dataset?: Record<string, string> } = {}, ...children: (Node | string)[]) {
  const el = document.createElement(tag);
  const { dataset, ...rest } = props;
  Object.assign(el, rest);
  if (dataset) Object.assign(el.dataset, dataset);
  el.append(...children);
  return el;
}

export async function mountDemo(root: HTMLElement, options: DemoOptions = {}): Promise<{ mneme: () => Mneme; close: () => Promise<void> }> {
  const dbName = options.dbName ?? 'mneme-demo';
  let user = 'me';
  let mneme: Mneme;

  const status = h('span', { className: 'status', role: 'status' });
  const bar = h('progress', { className: 'bar', max: 1, value: 0, hidden: true });
  const modelButton = h('button', { type: 'button', className: 'secondary', textContent: `Enable semantic search (downloads ${MODEL.size} once)` });
  modelButton.hidden = options.offerModel === false;
  const userInput = h('input', { value: user, ariaLabel: 'User', className: 'user' });

  const text = h('textarea', { placeholder: 'Something worth remembering…', rows: 2, ariaLabel: 'Memory text', name: 'text' });
  const tags = h('input', { placeholder: 'tags, comma separated', ariaLabel: 'Tags', name: 'tags' });
  const addForm = h('form', { className: 'add' }, text, h('div', { className: 'row' }, tags, h('button', { type: 'submit', textContent: 'Remember' })));
  const error = h('p', { className: 'error', role: 'alert' });

  const query = h('input', { type: 'search', placeholder: 'Search memories…', ariaLabel: 'Search' });
  const list = h('ul', { className: 'memories', ariaLabel: 'Memories' });
  const heading = h('h2', { textContent: 'All memories' });
  const exportButton = h('button', { type: 'button', className: 'secondary', textContent: 'Export' });
  const importInput = h('input', { type: 'file', accept: 'application/json', hidden: true });
  const importButton = h('button', { type: 'button', className: 'secondary', textContent: 'Import' });

  root.replaceChildren(
    h('header', {},
      h('h1', {}, 'Mneme', h('small', { textContent: ' memory that stays on this device' })),
      h('div', { className: 'row' }, h('label', {}, 'User ', userInput), status, bar, modelButton),
    ),
    h('main', {}, addForm, error, query, h('div', { className: 'row between' }, heading, h('div', { className: 'row' }, exportButton, importButton, importInput)), list),
  );

  const scope = () => ({ userId: user });
  const show = (e: unknown) => {
    error.textContent = e instanceof MnemeError ? e.message : String(e);
  };
  const setStatus = () => {
    const model = { none: 'lexical search', loading: 'loading model…', ready: 'semantic + lexical search', failed: 'model failed: lexical search' }[mneme.modelStatus];
    status.textContent = `${mneme.size} memories · ${model}`;
  };

  function item(m: MemoryRecord, hit?: SearchResult): HTMLLIElement {
    const body = h('p', { className: 'text', textContent: m.text });
    const meta = h('p', { className: 'meta' }, h('span', { className: `tier ${m.tier}`, textContent: m.tier }), ...m.tags.map((t) => h('span', { className: 'tag', textContent: t })));
    if (hit) {
      const p = hit.parts;
      const why = [p.lexical !== undefined && `words #${p.lexicalRank}`, p.dense !== undefined && `meaning #${p.denseRank} (${p.dense.toFixed(2)})`].filter(Boolean).join(' · ');
      meta.append(h('span', { className: 'score', textContent: `score ${hit.score.toFixed(2)} — ${why}` }));
    }
    const edit = h('button', { type: 'button', className: 'link', textContent: 'Edit' });
    const remove = h('button', { type: 'button', className: 'link danger', textContent: 'Delete' });
    const li = h('li', { dataset: { id: m.id } }, body, meta, h('div', { className: 'actions' }, edit, remove));
    edit.onclick = () => {
      const box = h('textarea', { value: m.text, rows: 2, ariaLabel: 'Edit memory' });
      const save = h('button', { type: 'button', textContent: 'Save' });
      body.replaceWith(box);
      edit.replaceWith(save);
      box.focus();
      save.onclick = () => void mneme.update(m.id, { text: box.value }).then(refresh, show);
    };
    remove.onclick = () => void mneme.remove(m.id).then(refresh, show);
    return li;
  }

  let searchSeq = 0;
  async function refresh(): Promise<void> {
    error.textContent = '';
    setStatus();
    const q = query.value.trim();
    const seq = ++searchSeq;
    if (q === '') {
      const all = await mneme.list({ scope: scope() });
      if (seq !== searchSeq) return;
      heading.textContent = `All memories (${all.length})`;
      list.replaceChildren(...(all.length > 0 ? all.map((m) => item(m)) : [h('li', { className: 'empty', textContent: 'Nothing remembered yet. Add something above; it never leaves this device.' })]));
    } else {
      const hits = await mneme.searchMemory(q, { scope: scope(), k: 20 });
      if (seq !== searchSeq) return;
      heading.textContent = `Results for “${q}” (${hits.length})`;
      list.replaceChildren(...hits.map((r) => item(r.memory, r)));
    }
  }

  async function open(withModel: boolean): Promise<void> {
    await mneme?.close();
    const embedder = withModel ? createWorkerEmbedder({ model: MODEL.id }) : undefined;
    mneme = await createMneme({ name: dbName, ...(embedder && { embedder }) });
    modelButton.hidden = withModel || options.offerModel === false;
    mneme.on('model-progress', (p) => {
      bar.hidden = p.fraction >= 1;
      bar.value = p.fraction;
    });
    mneme.on('model-ready', () => void refresh());
    mneme.on('model-error', (e) => {
      bar.hidden = true;
      show(e);
      setStatus();
    });
    await refresh();
  }

  addForm.onsubmit = (e) => {
    e.preventDefault();
    const tagList = tags.value.split(',').map((t) => t.trim()).filter(Boolean);
    mneme.add({ text: text.value, scope: scope(), tags: tagList, source: 'manual' }).then(() => {
      text.value = '';
      tags.value = '';
      return refresh();
    }, show);
  };
  let debounce: ReturnType<typeof setTimeout> | undefined;
  query.oninput = () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => void refresh().catch(show), 80);
  };
  userInput.onchange = () => {
    user = userInput.value.trim() || 'me';
    void refresh().catch(show);
  };
  modelButton.onclick = () => {
    localStorage.setItem(MODEL_KEY, '1');
    void open(true);
  };
  exportButton.onclick = async () => {
    const doc = await mneme.exportMemories({ scope: scope() });
    const a = h('a', { href: URL.createObjectURL(new Blob([JSON.stringify(doc)], { type: 'application/json' })), download: `mneme-${user}.json` });
    a.click();
    URL.revokeObjectURL(a.href);
  };
  importButton.onclick = () => importInput.click();
  importInput.onchange = async () => {
    const file = importInput.files?.[0];
    if (!file) return;
    try {
      const report = await mneme.importMemories(JSON.parse(await file.text()));
      await refresh();
      error.textContent = `Imported ${report.imported}, skipped ${report.skipped}, rejected ${report.rejected.length}.`;
    } catch (e) {
      show(e);
    }
  };

  await open(options.offerModel !== false && localStorage.getItem(MODEL_KEY) === '1');
  return { mneme: () => mneme, close: () => mneme.close() };
}
