// Opening Chrome's built-in model: its availability checked, a measuring
// session created (no context: it counts texts and says how large the window
// is), and the framing the model adds to every input measured once.
import { DeviceError, isMnemeError, ModelError } from '../../errors';
import type { LoadProgress } from '../types';
import { measureContext, type LanguageModelApi, type LanguageModelCreateOptions, type LanguageModelSession } from './api';

const FALL_BACK = "Set engine to 'auto' (or 'transformers') to run a model Mneme loads instead.";

/** The typed error for a context without `LanguageModel`, saying what to do. */
export function builtInModelAbsent(): DeviceError {
  const worker = typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined';
  const where = worker
    ? 'it exists on pages only, never in workers: create the engine on the page and serve it to the worker with servePromptApiEngine()'
    : 'it needs Chrome 148 or later on a desktop that can run Gemini Nano';
  return new DeviceError('built-in-model-unavailable', `This context has no built-in model (the Prompt API's LanguageModel): ${where}. ${FALL_BACK}`);
}

/** What every session is created with: the conversation's languages, when configured. */
export type SessionOptions = Pick<LanguageModelCreateOptions, 'expectedInputs' | 'expectedOutputs'>;

export function sessionOptions(languages: string[] | undefined): SessionOptions {
  return languages ? { expectedInputs: [{ type: 'text', languages }], expectedOutputs: [{ type: 'text', languages }] } : {};
}

export async function openBuiltInModel(
  api: LanguageModelApi | undefined,
  session: SessionOptions,
  options: { onProgress?: (progress: LoadProgress) => void; signal?: AbortSignal },
): Promise<{ root: LanguageModelSession; framing: number }> {
  if (!api) throw builtInModelAbsent();
  const availability = await api.availability(session);
  if (availability === 'unavailable') {
    const languages = session.expectedInputs?.[0]?.languages;
    const which = languages ? ` for the languages ${languages.join(', ')} (promptApi.languages)` : '';
    throw new DeviceError('built-in-model-unavailable', `LanguageModel.availability() says 'unavailable'${which}: this browser or device cannot run its built-in model (too little disk, memory or GPU, or it is turned off). ${FALL_BACK}`);
  }
  const { onProgress, signal } = options;
  const monitor = (target: EventTarget) =>
    target.addEventListener('downloadprogress', (event) => {
      const loaded = (event as ProgressEvent).loaded;
      onProgress?.({ status: 'downloading', file: undefined, loaded, total: 1, fraction: Math.min(loaded, 0.99) });
    });
  try {
    const root = await api.create({ ...session, monitor, ...(signal && { signal }) });
    onProgress?.({ status: 'ready', file: undefined, loaded: 1, total: 1, fraction: 1 });
    // The explainer counts the control tokens of an input in its usage; those of an empty one are the framing.
    const framing = await measureContext(root, '').catch(() => 0);
    return { root, framing };
  } catch (error) {
    if (isMnemeError(error)) throw error;
    throw new ModelError('model-load-failed', `Chrome's built-in model could not start (availability was '${availability}'): ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
