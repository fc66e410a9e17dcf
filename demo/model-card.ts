// The model card: what the first run offers to download, the download's
// progress, and what failed. It loads the one engine of the scheduler worker
// (which prewarms while the person types, and answers); Chrome's built-in
// model runs on this page, which serves it to the worker.
import { servePromptApiEngine, type LoadProgress, type SchedulerClient, type ServedPromptApiEngine } from '../src';
import { h, size } from './dom';
import { describeModel, engineConfig, presetOf, type Settings } from './settings';

export interface ModelCardOptions {
  settings(): Settings;
  client(): SchedulerClient | undefined;
  /** The person chose to download the model shown. */
  choose(): void;
  openSettings(): void;
  /** The engine's state in a few words for the status line, and the longer reason behind it. */
  onState(label: string, reason?: string): void;
  /** The engine answers now. */
  onReady(client: SchedulerClient): void;
}

export interface ModelCard {
  readonly element: HTMLElement;
  /** Offers the model the settings name (nothing is downloaded until the person chooses it). */
  offer(): void;
  load(): Promise<void>;
  /** Stops serving the built-in model, if this page did. */
  stop(): Promise<void>;
}

export function modelCard(o: ModelCardOptions): ModelCard {
  const element = h('section', { className: 'model-card', ariaLabel: 'Model' });
  let served: ServedPromptApiEngine | undefined;
  const row = (...children: HTMLElement[]) => h('div', { className: 'row' }, ...children);
  const button = (textContent: string, onclick: () => void, className = '') => h('button', { type: 'button', textContent, onclick, ...(className && { className }) });

  function offer() {
    const settings = o.settings();
    const preset = settings.engine === 'prompt-api' ? undefined : presetOf(settings.model);
    const action = settings.engine === 'prompt-api' ? 'Use it' : preset ? `Download (${size(preset.bytes)})` : 'Download';
    element.replaceChildren(
      h('h2', { textContent: 'No model on this device yet' }),
      h('p', { textContent: `Chat, memory and search work now. For answers, Mneme can use ${describeModel(settings)}.` }),
      row(button(action, o.choose, 'download'), button('Choose another', o.openSettings, 'secondary'), button('Not now', () => (element.hidden = true), 'link')));
    element.hidden = false;
  }

  function progress(): (p: LoadProgress) => void {
    const bar = h('progress', { max: 1, value: 0, ariaLabel: 'Model download' });
    const detail = h('span', { className: 'detail', textContent: 'starting…' });
    element.replaceChildren(h('h2', { textContent: `Loading ${o.settings().model}` }), bar, detail);
    element.hidden = false;
    return (p) => {
      bar.value = p.fraction;
      detail.textContent = p.status === 'downloading' ? `${p.file ?? ''} ${size(p.loaded)} of ${size(p.total)}` : p.status === 'initializing' ? 'starting the model…' : 'ready';
    };
  }

  function failed(e: unknown) {
    o.onState('model failed: memory and search only');
    element.replaceChildren(
      h('h2', { textContent: 'The model could not load' }),
      h('p', { className: 'error', textContent: e instanceof Error ? e.message : String(e) }),
      h('p', { textContent: 'Memory, search and the inspector keep working.' }),
      row(button('Try again', () => void load()), button('Settings', o.openSettings, 'secondary')));
  }

  async function load() {
    const client = o.client();
    if (!client) return;
    const onProgress = progress();
    o.onState('loading the model…');
    try {
      await stop();
      const settings = o.settings();
      if (settings.engine === 'prompt-api') served = servePromptApiEngine();
      const loaded = await client.call('loadEngine', [engineConfig(settings, served?.channel), onProgress], { timeoutMs: 1_800_000 });
      if (o.client() !== client) return; // memory was reopened meanwhile (new settings): that client is gone
      const where = { webllm: 'the GPU', transformers: 'the CPU', 'prompt-api': "Chrome's built-in model" }[loaded.engine] ?? loaded.engine;
      const label = `${loaded.model} on ${where}${loaded.gpuFailure ? ' (the GPU engine failed)' : ''}${loaded.shared ? ', shared with another tab' : ''}`;
      o.onState(label, loaded.gpuFailure ? `The GPU engine failed, so the CPU engine answers: ${loaded.gpuFailure}` : loaded.reason);
      element.hidden = true;
      o.onReady(client);
    } catch (e) {
      if (o.client() !== client) return;
      await stop();
      failed(e);
    }
  }

  async function stop() {
    const was = served;
    served = undefined;
    await was?.stop();
  }

  return { element, offer, load, stop };
}
