// The demo app: a chat with memory that lives on this device. The scheduler,
// the store and the engine run in workers; this page shows the conversation,
// what is prewarmed while typing, the memory inspector and the settings.
// Memory, search and the inspector work before any model is downloaded.
import { chooseEngineHere, createSchedulerWorker, type SchedulerClient } from '../src';
import { chatPane } from './chat';
import { openConversation } from './conversation';
import { h } from './dom';
import { inspector } from './inspector';
import { meaningBadge } from './meaning';
import { modelCard } from './model-card';
import { DEFAULT_SETTINGS, loadSettings, PRESETS, saveSettings, settingsDialog, type Settings } from './settings';

export interface DemoOptions {
  /** IndexedDB name. Default 'mneme-demo'. */
  dbName?: string;
}

export async function mountDemo(root: HTMLElement, options: DemoOptions = {}): Promise<void> {
  const dbName = options.dbName ?? 'mneme-demo';
  let settings = await initialSettings();
  let client: SchedulerClient | undefined;
  let engineLabel = NO_MODEL;

  const status = h('span', { className: 'status', role: 'status' });
  const offline = h('span', { className: 'badge offline', textContent: 'offline', hidden: navigator.onLine });
  const gear = h('button', { type: 'button', className: 'icon', ariaLabel: 'Settings', title: 'Settings', textContent: '⚙', onclick: () => openSettings() });
  const error = h('p', { className: 'error', role: 'alert' });
  const chat = chatPane();
  const showError = (e: unknown) => (error.textContent = e instanceof Error ? e.message : String(e));
  const memories = inspector(showError, () => void updateStatus());
  const meaning = meaningBadge(showError);
  chat.onSent = () => void memories.refresh().then(updateStatus);
  chat.onPredicted = () => void memories.workingChanged();
  chat.onError = showError;
  const card = modelCard({
    settings: () => settings,
    client: () => client,
    choose: () => {
      settings = { ...settings, modelChosen: true };
      saveSettings(settings);
      void card.load();
    },
    openSettings: () => openSettings(),
    onState: (label, reason = '') => {
      engineLabel = label;
      status.title = reason;
      void updateStatus();
    },
    onReady: (ready) => chat.setClient(ready, true),
  });
  const main = h('main', { dataset: { view: 'chat' } }, h('div', { className: 'left' }, card.element, chat.element), memories.element);
  const tabs = viewTabs(main, () => void memories.refresh());
  root.replaceChildren(
    h('header', {}, h('h1', {}, 'Mneme', h('small', { textContent: 'memory that stays on this device' })), h('div', { className: 'row' }, status, meaning.element, offline, gear)),
    error, tabs, main);
  addEventListener('online', () => (offline.hidden = true));
  addEventListener('offline', () => (offline.hidden = false));

  async function updateStatus() {
    const rows = client ? await client.call('inspect', []).catch(() => []) : [];
    status.textContent = `${settings.user}${settings.role ? ` (${settings.role})` : ''} · ${rows.length} ${rows.length === 1 ? 'memory' : 'memories'} · ${engineLabel}`;
  }

  async function open() {
    card.element.hidden = true; // nothing to load into until the new client is open; offer() or load() shows it again
    await card.stop();
    if (client) {
      await client.call('close', []).catch(() => undefined);
      client.terminate();
    }
    client = createSchedulerWorker();
    const scope = { userId: settings.user, ...(settings.role && { role: settings.role }) };
    const embedder = meaning.config(settings);
    await client.call('open', [{ scope, dbName, ...(embedder && { embedder }) }]);
    meaning.watch(client, embedder?.model);
    await client.call('startSession', [settings.role ? { role: settings.role } : {}]);
    await client.call('tick', []);
    chat.setClient(client, false);
    // The conversation shown is kept apart from the memories, per user and role.
    await chat.setConversation(openConversation(dbName, { user: settings.user, ...(settings.role && { role: settings.role }) }));
    memories.setClient(client);
    engineLabel = NO_MODEL;
    status.title = '';
    await Promise.all([memories.refresh(), updateStatus()]);
    if (settings.modelChosen) await card.load();
    else card.offer();
  }

  function openSettings() {
    const dialog = settingsDialog(settings, (next) => {
      settings = next;
      saveSettings(settings);
      void open().catch(showError);
    });
    root.append(dialog);
    dialog.addEventListener('close', () => dialog.remove());
    dialog.showModal();
  }

  await open().catch(showError);
  chat.focus();
}

const NO_MODEL = 'no model yet: memory and search only';

/** The saved settings; on a first run with a GPU, the GPU preset. */
async function initialSettings(): Promise<Settings> {
  const settings = loadSettings();
  if (settings.modelChosen || settings.model !== DEFAULT_SETTINGS.model || settings.engine !== 'auto') return settings;
  const choice = await chooseEngineHere().catch(() => undefined);
  return choice?.engine === 'webllm' ? { ...settings, model: PRESETS.find((p) => p.engine === 'webllm')!.id } : settings;
}

/** The Chat and Memories tabs (on narrow screens one view shows at a time). */
function viewTabs(main: HTMLElement, onInspector: () => void): HTMLElement {
  const views = { chat: 'Chat', inspector: 'Memories' } as const;
  const tabs: HTMLElement = h('nav', { className: 'tabs' }, ...(Object.keys(views) as (keyof typeof views)[]).map((view) =>
    h('button', { type: 'button', textContent: views[view], className: view === 'chat' ? 'on' : '', onclick: () => show(view) })));
  function show(view: keyof typeof views) {
    main.dataset.view = view;
    for (const b of tabs.querySelectorAll('button')) b.classList.toggle('on', b.textContent === views[view]);
    if (view === 'inspector') onInspector();
  }
  return tabs;
}
