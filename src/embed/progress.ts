// Folds transformers.js's per-file progress events into one LoadProgress a UI
// can draw: bytes over all files, a fraction that never goes back, and few
// enough events that each one is worth a message between threads. Pure.
import type { LoadProgress } from './types';

/** The fields of transformers.js's `ProgressInfo` events that matter here. */
export interface TransformersProgressEvent {
  status: string;
  file?: string;
  loaded?: number;
  total?: number;
  /** On 'progress_total': every expected file with its size, known before it downloads. */
  files?: Record<string, { loaded: number; total: number }>;
}

/** Bytes arriving is this much of the bar; the rest is the runtime starting the model. */
export const DOWNLOAD_SHARE = 0.95;

interface FileState {
  loaded: number;
  total: number;
  done: boolean;
}

export class LoadProgressTracker {
  readonly #files = new Map<string, FileState>();
  readonly #minStep: number;
  readonly #minIntervalMs: number;
  #fraction = 0;
  #file: string | undefined;
  #last: (LoadProgress & { at: number }) | undefined;

  /** An event is reported when its status or file changes, or the bar moved `minStep`, or `minIntervalMs` passed. */
  constructor(options: { minStep?: number; minIntervalMs?: number } = {}) {
    this.#minStep = options.minStep ?? 0.01;
    this.#minIntervalMs = options.minIntervalMs ?? 100;
  }

  /** Feeds one event; returns what to report now, or undefined when it adds nothing worth a message. */
  update(event: TransformersProgressEvent, now: number): LoadProgress | undefined {
    const file = event.file;
    switch (event.status) {
      case 'initiate':
      case 'download':
        if (file !== undefined) this.#state(file);
        break;
      case 'progress': {
        if (file === undefined) break;
        const state = this.#state(file);
        state.loaded = Math.max(state.loaded, finite(event.loaded));
        state.total = Math.max(state.total, finite(event.total), state.loaded);
        break;
      }
      case 'progress_total':
        for (const [name, sizes] of Object.entries(event.files ?? {})) {
          const state = this.#state(name);
          state.total = Math.max(state.total, finite(sizes.total));
        }
        return undefined; // carries no news of its own; the per-file event follows
      case 'done':
        if (file !== undefined) {
          const state = this.#state(file);
          state.total = Math.max(state.total, state.loaded);
          state.loaded = state.total;
          state.done = true;
        }
        break;
      default:
        return undefined; // 'ready' of the pipeline: `ready()` reports the end
    }
    if (file !== undefined) this.#file = file;
    return this.#report(now, false);
  }

  /** The last event: the model answered; fraction 1. */
  ready(now: number): LoadProgress {
    this.#fraction = 1;
    return this.#report(now, true) as LoadProgress;
  }

  #state(file: string): FileState {
    let state = this.#files.get(file);
    if (!state) {
      state = { loaded: 0, total: 0, done: false };
      this.#files.set(file, state);
    }
    return state;
  }

  #report(now: number, ready: boolean): LoadProgress | undefined {
    let loaded = 0;
    let total = 0;
    let allDone = this.#files.size > 0;
    for (const state of this.#files.values()) {
      loaded += state.loaded;
      total += state.total;
      allDone &&= state.done;
    }
    if (!ready && total > 0) this.#fraction = Math.max(this.#fraction, Math.min(1, loaded / total) * DOWNLOAD_SHARE);
    const status: LoadProgress['status'] = ready ? 'ready' : allDone ? 'initializing' : 'downloading';
    const progress: LoadProgress = { status, file: this.#file, loaded, total, fraction: this.#fraction };

    const last = this.#last;
    const worthIt =
      !last ||
      ready ||
      status !== last.status ||
      progress.file !== last.file ||
      progress.fraction - last.fraction >= this.#minStep ||
      (now - last.at >= this.#minIntervalMs && (progress.fraction !== last.fraction || loaded !== last.loaded));
    if (!worthIt) return undefined;
    this.#last = { ...progress, at: now };
    return progress;
  }
}

function finite(value: number | undefined): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}
