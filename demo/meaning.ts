// Search by meaning, as the header shows it: the scheduler worker's static
// embedding model loading (with its progress), ready, or failed with the
// reason, told on the page's error line (memory and lexical search go on).
import type { LoadProgress, SchedulerClient, StaticEmbedderConfig } from '../src';
import { h } from './dom';
import { embedderConfig, type Settings } from './settings';

export interface MeaningBadge {
  readonly element: HTMLElement;
  /** The embedder the settings ask for; one they set wrong is shown as the error and left out, so memory opens without it. */
  config(settings: Settings): StaticEmbedderConfig | undefined;
  /** Follows the embedder of `client`'s worker (`model` undefined: meaning search is off). */
  watch(client: SchedulerClient, model: string | undefined): void;
}

export function meaningBadge(showError: (message: string) => void): MeaningBadge {
  const element = h('span', { className: 'badge meaning', role: 'status', hidden: true });
  let watched: SchedulerClient | undefined;
  const show = (text: string, state: 'loading' | 'ready' | 'error', title = '') => {
    Object.assign(element, { textContent: text, title, hidden: false });
    element.dataset.state = state;
  };
  const failed = (error: unknown) => {
    const reason = error instanceof Error ? error.message : String(error);
    show('meaning search: off', 'error', reason);
    showError(`Search by meaning is off: ${reason} Memory and search by words keep working.`);
  };
  return {
    element,
    config(settings) {
      element.hidden = true;
      try {
        return embedderConfig(settings);
      } catch (error) {
        failed(error);
        return undefined;
      }
    },
    watch(client, model) {
      watched = client;
      if (model === undefined) return;
      show('meaning search: loading…', 'loading', model);
      const onProgress = (p: LoadProgress) => watched === client && p.status !== 'ready' && show(`meaning search: loading ${Math.round(p.fraction * 100)}%`, 'loading', model);
      void client.call('embedderReady', [onProgress], { timeoutMs: 1_800_000 }).then(
        () => watched === client && show('meaning search: on', 'ready', model),
        (error: unknown) => watched === client && failed(error),
      );
    },
  };
}
