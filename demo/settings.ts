// The demo's settings: who is talking (user, role), which engine and model
// answer, and whether memory is searched by meaning (a static embedding model
// in the scheduler worker). Kept in localStorage; the model is downloaded only once the person
// chose it, and cached by the engine for offline use.
import { resolveStaticEmbedderConfig, STATIC_EMBEDDER_DEFAULTS, type EngineConfig, type StaticEmbedderConfig } from '../src';
import { h, size } from './dom';

export interface ModelPreset {
  engine: 'webllm' | 'transformers';
  id: string;
  label: string;
  /** Download size, approximately. */
  bytes: number;
}

export const PRESETS: readonly ModelPreset[] = [
  { engine: 'transformers', id: 'HuggingFaceTB/SmolLM-360M-Instruct', label: 'SmolLM 360M Instruct (CPU, 8-bit)', bytes: 390e6 },
  { engine: 'transformers', id: 'HuggingFaceTB/SmolLM-135M-Instruct', label: 'SmolLM 135M Instruct (CPU, 8-bit)', bytes: 150e6 },
  { engine: 'webllm', id: 'SmolLM2-360M-Instruct-q4f16_1-MLC', label: 'SmolLM2 360M Instruct (GPU, 4-bit)', bytes: 270e6 },
];

export interface Settings {
  user: string;
  role: string;
  /** 'prompt-api': Chrome's built-in model, run on this page (no download from us; the model setting is not used). */
  engine: 'auto' | 'webllm' | 'transformers' | 'prompt-api';
  model: string;
  /** Where model files come from; '' is the Hugging Face hub. */
  modelBaseUrl: string;
  dtype: 'q8' | 'fp32' | 'q4';
  /** The person chose to download the model (first run asks). */
  modelChosen: boolean;
  /** Search by meaning: a static (model2vec) embedding model in the scheduler worker. */
  meaningSearch: boolean;
  embedderModel: string;
  /** Where the embedding model's files come from; '' is the Hugging Face hub. */
  embedderBaseUrl: string;
}

/** potion-base-8M's download (model.safetensors, float32, and tokenizer.json), approximately. */
export const EMBEDDER_BYTES = 30e6;

const KEY = 'mneme-demo:settings';
export const DEFAULT_SETTINGS: Settings = {
  user: 'me',
  role: '',
  engine: 'auto',
  model: PRESETS[0]!.id,
  modelBaseUrl: '',
  dtype: 'q8',
  modelChosen: false,
  meaningSearch: false,
  embedderModel: STATIC_EMBEDDER_DEFAULTS.model,
  embedderBaseUrl: '',
};

export function loadSettings(): Settings {
  try {
    return { ...DEFAULT_SETTINGS, ...(JSON.parse(localStorage.getItem(KEY) ?? '{}') as Partial<Settings>) };
  } catch {
    return { ...DEFAULT_SETTINGS };
  }
}

export function saveSettings(settings: Settings): void {
  localStorage.setItem(KEY, JSON.stringify(settings));
}

export function presetOf(model: string): ModelPreset | undefined {
  return PRESETS.find((p) => p.id === model);
}

/** The model, as the first-run card and settings describe it. */
export function describeModel(s: Settings): string {
  if (s.engine === 'prompt-api') return "Chrome's built-in model (Gemini Nano), which Chrome downloads and keeps itself where the device supports it";
  const preset = presetOf(s.model);
  const from = s.modelBaseUrl ? ` from ${s.modelBaseUrl}` : ' from Hugging Face';
  return preset ? `${preset.label}, about ${size(preset.bytes)}${from}` : `${s.model}${from}`;
}

/**
 * A preset names its engine; another model id runs on the engine set (automatic: the CPU engine).
 * Chrome's built-in model is served by this page on `promptApiChannel` (servePromptApiEngine).
 */
export function engineConfig(s: Settings, promptApiChannel?: string): EngineConfig {
  if (s.engine === 'prompt-api') return { engine: 'prompt-api', promptApi: { ...(promptApiChannel && { channel: promptApiChannel }) } };
  const kind = presetOf(s.model)?.engine ?? (s.engine === 'auto' ? 'transformers' : s.engine);
  if (kind === 'webllm') return { engine: 'webllm', webllm: { model: s.model } };
  const base = s.modelBaseUrl ? { modelBaseUrl: s.modelBaseUrl, allowRemote: false } : {};
  return { engine: 'transformers', transformers: { ...base, model: s.model, dtype: s.dtype, cacheName: 'mneme-demo-models' } };
}

/**
 * The scheduler worker's embedder, when meaning search is on; a relative base URL is made absolute against this page.
 * @throws InvalidInputError naming a setting that is not valid
 */
export function embedderConfig(s: Settings): StaticEmbedderConfig | undefined {
  if (!s.meaningSearch) return undefined;
  const base = s.embedderBaseUrl ? { modelBaseUrl: s.embedderBaseUrl, allowRemote: false } : {};
  return resolveStaticEmbedderConfig({ ...base, model: s.embedderModel, cacheName: 'mneme-demo-models' }, location.href);
}

const ENGINE_LABELS: Record<Settings['engine'], string> = {
  auto: 'Automatic (the GPU if this device has one)',
  webllm: 'WebLLM on the GPU',
  transformers: 'transformers.js on the CPU',
  'prompt-api': "Chrome's built-in model (Gemini Nano)",
};

/** The settings dialog; `onSave` gets the new settings. */
export function settingsDialog(current: Settings, onSave: (next: Settings) => void): HTMLDialogElement {
  const user = h('input', { name: 'user', value: current.user, required: true, autocomplete: 'off' });
  const role = h('input', { name: 'role', value: current.role, placeholder: 'any (e.g. work)', autocomplete: 'off' });
  const engine = h('select', { name: 'engine' }, ...(['auto', 'webllm', 'transformers', 'prompt-api'] as const).map((e) =>
    h('option', { value: e, textContent: ENGINE_LABELS[e], selected: e === current.engine })));
  const model = h('input', { name: 'model', value: current.model, autocomplete: 'off' });
  model.setAttribute('list', 'model-presets');
  const presets = h('datalist', { id: 'model-presets' }, ...PRESETS.map((p) => h('option', { value: p.id, label: `${p.label} · ${size(p.bytes)}` })));
  const base = h('input', { name: 'modelBaseUrl', value: current.modelBaseUrl, placeholder: 'Hugging Face hub', autocomplete: 'off' });
  const dtype = h('select', { name: 'dtype' }, ...(['q8', 'q4', 'fp32'] as const).map((d) => h('option', { value: d, textContent: d, selected: d === current.dtype })));
  const meaning = h('input', { type: 'checkbox', name: 'meaningSearch', checked: current.meaningSearch });
  const embedder = h('input', { name: 'embedderModel', value: current.embedderModel, autocomplete: 'off' });
  const embedderBase = h('input', { name: 'embedderBaseUrl', value: current.embedderBaseUrl, placeholder: 'Hugging Face hub', autocomplete: 'off' });
  const field = (label: string, input: HTMLElement, hint = '') => h('label', { className: 'field' }, h('span', { textContent: label }), input, ...(hint ? [h('small', { textContent: hint })] : []));
  const form = h('form', { method: 'dialog' },
    h('h2', { textContent: 'Settings' }),
    field('User', user, 'Each user has their own memories.'),
    field('Role', role, 'Memories made in a role are seen only in it.'),
    field('Engine', engine),
    field('Model', model, 'A preset or any model id.'),
    presets,
    field('Download models from', base, 'Leave empty for the Hugging Face hub.'),
    field('Weights', dtype),
    field('Search by meaning', meaning, `A static embedding model in the memory worker ranks what you type by meaning, not only by its words (about ${size(EMBEDDER_BYTES)} for ${STATIC_EMBEDDER_DEFAULTS.model}, downloaded once, then cached).`),
    field('Embedding model', embedder, 'A model2vec model id.'),
    field('Download it from', embedderBase, 'Leave empty for the Hugging Face hub.'),
    h('div', { className: 'row end' }, h('button', { type: 'button', className: 'secondary', value: 'cancel', textContent: 'Cancel', onclick: () => dialog.close() }), h('button', { type: 'submit', textContent: 'Save' })),
  );
  const dialog = h('dialog', { className: 'settings' }, form);
  form.onsubmit = () => {
    const changedModel = model.value.trim() !== current.model || base.value.trim() !== current.modelBaseUrl || dtype.value !== current.dtype || engine.value !== current.engine;
    onSave({
      user: user.value.trim() || 'me',
      role: role.value.trim(),
      engine: engine.value as Settings['engine'],
      model: model.value.trim() || DEFAULT_SETTINGS.model,
      modelBaseUrl: base.value.trim(),
      dtype: dtype.value as Settings['dtype'],
      modelChosen: current.modelChosen && !changedModel,
      meaningSearch: meaning.checked,
      embedderModel: embedder.value.trim() || DEFAULT_SETTINGS.embedderModel,
      embedderBaseUrl: embedderBase.value.trim(),
    });
  };
  return dialog;
}
