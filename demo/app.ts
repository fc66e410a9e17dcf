// The demo app: a chat with memory that lives on this device. The scheduler,
// the store and the engine run in workers; this page shows the conversation,
// what is prewarmed while typing, the memory inspector and the settings.
// Memory, search and the inspector work before any model is downloaded.
import { chooseEngineHere, createSchedulerWorker, type LoadProgress, type SchedulerClient } from '../src';
import { chatPane } from './chat';
import { openConversation } from './conversation';
import { h, size } from './dom';
import { inspector } from './inspector';
import { DEFAULT_SETTINGS, describeModel, engineConfig, loadSettings, PRESETS, presetOf, saveSettings, settingsDialog } from './settings';

export interface DemoOptions {
  /** IndexedDB name. Default 'mneme-demo'. */
  dbName?: string;
}

export async function mountDemo(root: HTMLElement, options: DemoOptions = {}): Promise<void> {
  const dbName = options.dbName ?? 'mneme-demo';
  let settings = loadSettings();
  if (!settings.modelChosen && settings.model === DEFAULT_SETTINGS.model && settings.engine === 'auto') {
    const choice = await chooseEngineHere().catch(() => undefined);
    if (choice?.engine === 'webllm') settings = { ...settings, model: PRESETS.find((p) => p.engine === 'webllm')!.id };
  }
  let client: SchedulerClient | undefined;

  const status = h('span', { className: 'status', role: 'status' });
  const offline = h('span', { className: 'badge offline', textContent: 'offline', hidden: navigator.onLine });
  const gear = h('button', { type: 'button', className: 'icon', ariaLabel: 'Settings', title: 'Settings', textContent: '⚙' });
  const error = h('p', { className: 'error', role: 'alert' });
  const card = h('section', { className: 'model-card', ariaLabel: 'Model' });
  const chat = chatPane();
  const showError = (e: unknown) => (error.textContent = e instanceof Error ? e.message : String(e));
  const memories = inspector(showError, () => void updateStatus());
  chat.onSent = () => void memories.refresh().then(updateStatus);
  chat.onPredicted = () => void memories.workingChanged();
  chat.onError = showError;
  const tabs = h('nav', { className: 'tabs' },
    h('button', { type: 'button', textContent: 'Chat', className: 'on', onclick: () => show('chat') }),
    h('button', { type: 'button', textContent: 'Memories', onclick: () => show('inspector') }));
  const main = h('main', { dataset: { view: 'chat' } }, h('div', { className: 'left' }, card, chat.element), memories.element);
  root.replaceChildren(
    h('header', {}, h('h1', {}, 'Mneme', h('small', { textContent: 'memory that stays on this device' })), h('div', { className: 'row' }, status, offline, gear)),
    error, tabs, main);
  function show(view: 'chat' | 'inspector') {
    main.dataset.view = view;
    for (const b of tabs.querySelectorAll('button')) b.classList.toggle('on', b.textContent === (view === 'chat' ? 'Chat' : 'Memories'));
    if (view === 'inspector') void memories.refresh();
  }
  addEventListener('online', () => (offline.hidden = true));
  addEventListener('offline', () => (offline.hidden = false));

  let engineLabel = 'no model yet: memory and search only';
  async function updateStatus() {
    const rows = client ? await client.call('inspect', []).catch(() => []) : [];
    status.textContent = `${settings.user}${settings.role ? ` (${settings.role})` : ''} · ${rows.length} ${rows.length === 1 ? 'memory' : 'memories'} · ${engineLabel}`;
  }

  function firstRunCard() {
    const preset = presetOf(settings.model);
    card.replaceChildren(
      h('h2', { textContent: 'No model on this device yet' }),
      h('p', { textContent: `Chat, memory and search work now. For answers, Mneme can download ${describeModel(settings)}, once; it is cached for offline use.` }),
      h('div', { className: 'row' },
        h('button', { type: 'button', className: 'download', textContent: preset ? `Download (${size(preset.bytes)})` : 'Download', onclick: () => void chooseModel() }),
        h('button', { type: 'button', className: 'secondary', textContent: 'Choose another', onclick: () => openSettings() }),
        h('button', { type: 'button', className: 'link', textContent: 'Not now', onclick: () => (card.hidden = true) })));
    card.hidden = false;
  }

  async function chooseModel() {
    settings = { ...settings, modelChosen: true };
    saveSettings(settings);
    await loadModel();
  }

  async function loadModel() {
    if (!client) return;
    const bar = h('progress', { max: 1, value: 0, ariaLabel: 'Model download' });
    const detail = h('span', { className: 'detail', textContent: 'starting…' });
    card.replaceChildren(h('h2', { textContent: `Loading ${settings.model}` }), bar, detail);
    card.hidden = false;
    engineLabel = 'loading the model…';
    void updateStatus();
    const onProgress = (p: LoadProgress) => {
      bar.value = p.fraction;
      detail.textContent = p.status === 'downloading' ? `${p.file ?? ''} ${size(p.loaded)} of ${size(p.total)}` : p.status === 'initializing' ? 'starting the model…' : 'ready';
    };
    try {
      const loaded = await client.call('loadEngine', [engineConfig(settings), onProgress], { timeoutMs: 1_800_000 });
      // The one engine of the scheduler worker: it prewarms while the person types, and it answers.
      engineLabel = `${loaded.model} on ${loaded.engine === 'webllm' ? 'the GPU' : 'the CPU'}${loaded.gpuFailure ? ' (the GPU engine failed)' : ''}${loaded.shared ? ', shared with another tab' : ''}`;
      status.title = loaded.gpuFailure ? `The GPU engine failed, so the CPU engine answers: ${loaded.gpuFailure}` : loaded.reason;
      card.hidden = true;
      chat.setClient(client, true);
    } catch (e) {
      engineLabel = 'model failed: memory and search only';
      card.replaceChildren(
        h('h2', { textContent: 'The model could not load' }),
        h('p', { className: 'error', textContent: e instanceof Error ? e.message : String(e) }),
        h('p', { textContent: 'Memory, search and the inspector keep working.' }),
        h('div', { className: 'row' }, h('button', { type: 'button', textContent: 'Try again', onclick: () => void loadModel() }), h('button', { type: 'button', className: 'secondary', textContent: 'Settings', onclick: () => openSettings() })));
    }
    void updateStatus();
  }

  async function open() {
    if (client) {
      await client.call('close', []).catch(() => undefined);
      client.terminate();
    }
    client = createSchedulerWorker();
    const scope = { userId: settings.user, ...(settings.role && { role: settings.role }) };
    await client.call('open', [{ scope, dbName }]);
    await client.call('startSession', [settings.role ? { role: settings.role } : {}]);
    await client.call('tick', []);
    chat.setClient(client, false);
    // The conversation shown is kept apart from the memories, per user and role.
    await chat.setConversation(openConversation(dbName, { user: settings.user, ...(settings.role && { role: settings.role }) }));
    memories.setClient(client);
    engineLabel = 'no model yet: memory and search only';
    status.title = '';
    await Promise.all([memories.refresh(), updateStatus()]);
    if (settings.modelChosen) await loadModel();
    else firstRunCard();
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
  gear.onclick = openSettings;

  await open().catch(showError);
  chat.focus();
}
