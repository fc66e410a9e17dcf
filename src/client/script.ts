// The classic script, `<script src="mneme.js" data-input="#message" data-send="#send" data-user="alice">`
// (plus `data-engine="auto"` to load the on-device engine at once, so typing prewarms it, and
// `data-embedder="static"` to rank drafts by meaning with a static embedding model in the worker).
// It defines `window.Mneme` ({ create, attach }) and, with data-input, attaches
// itself once the page has loaded. Its worker (mneme-worker.js: memory, the
// scheduler and the one engine) sits next to it with its chunks, loaded only when used.
import { createRpcClient } from '../rpc/client';
import type { SchedulerService } from '../scheduler/service';
import type { StaticEmbedderConfig } from '../embed/static-config';
import type { EngineConfig } from '../engine/create';
import { InvalidInputError } from '../errors';
import { dropIn, type DropIn, type DropInOptions } from './drop-in';

declare global {
  interface Window {
    Mneme: DropIn & { attached?: ReturnType<DropIn['attach']> };
  }
}

const script = document.currentScript as HTMLScriptElement | null;
const base = script?.src ?? location.href;
const beside = (file: string) => new URL(file, base).href;

const Mneme: Window['Mneme'] = dropIn({
  worker: () => createRpcClient<SchedulerService>(new Worker(beside('mneme-worker.js'), { type: 'module', name: 'mneme-scheduler' }), { name: 'scheduler', timeoutMs: 60_000 }),
});
window.Mneme = Mneme;

/** data-embedder="static", with data-embedder-model and data-embedder-base-url (its modelBaseUrl; relative to the page). */
function embedderOf(attributes: DOMStringMap): StaticEmbedderConfig {
  if (attributes.embedder !== 'static') throw new InvalidInputError('invalid-input', `data-embedder must be "static", got ${JSON.stringify(attributes.embedder)}`);
  return { ...(attributes.embedderModel && { model: attributes.embedderModel }), ...(attributes.embedderBaseUrl && { modelBaseUrl: attributes.embedderBaseUrl }) };
}

const data = script?.dataset;
if (data?.input) {
  const start = () => {
    try {
      const options: DropInOptions = { send: data.send ?? null };
      if (data.user) options.user = data.user;
      if (data.role) options.role = data.role;
      if (data.endpoint) options.endpoint = data.endpoint;
      // data-engine="auto" (or "transformers", "webllm"): load the on-device engine now, so the first message typed is prewarmed.
      if (data.engine) options.engine = { engine: data.engine as NonNullable<EngineConfig['engine']> };
      if (data.embedder) options.embedder = embedderOf(data);
      Mneme.attached = Mneme.attach(data.input!, options);
      if (data.engine) Mneme.attached.loadEngine().catch(() => undefined); // a failure is a 'degraded' event and a console warning
    } catch (error) {
      console.warn('Mneme:', error instanceof Error ? error.message : error); // the page goes on without memory
    }
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
  else start();
}
