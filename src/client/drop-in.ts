// `Mneme.create(options)` and `Mneme.attach(input, options)`: one client per
// page, attached to the page's own chat input. Both entry points (the ES
// module and the classic script) build this with their own loaders.
import { attachTo, type AttachOptions } from './attach';
import { createMnemeClient, type ClientLoaders, type ClientOptions, type MnemeClient } from './client';
import { augmentFetch } from './fetch-hook';
import { augmentXhr } from './xhr-hook';

export interface DropInOptions extends ClientOptions, Omit<AttachOptions, 'send'> {
  /** The send button, or a CSS selector for it. */
  send?: Element | string | null;
  /**
   * The page's own chat endpoint (OpenAI-shaped JSON with `messages`): its requests, sent with fetch or
   * asynchronous XMLHttpRequest with a string body, get the memories added.
   */
  endpoint?: string;
}

export interface AttachedClient extends MnemeClient {
  /** Stops listening to the page (memory stays open). */
  detach(): void;
}

export interface DropIn {
  create(options?: ClientOptions): MnemeClient;
  attach(input: HTMLElement | string, options?: DropInOptions): AttachedClient;
}

const element = (target: Element | string | null | undefined): Element | null =>
  typeof target === 'string' ? document.querySelector(target) : (target ?? null);

export function dropIn(loaders: ClientLoaders): DropIn {
  return {
    create: (options = {}) => createMnemeClient(options, loaders),
    attach(input, options = {}) {
      const box = element(input);
      if (!(box instanceof HTMLElement)) throw new TypeError(`Mneme.attach: no element matches ${String(input)}`);
      const client = createMnemeClient(options, loaders);
      const detachInput = attachTo(client, box, { send: element(options.send) });
      const detachRequests = options.endpoint ? [augmentFetch(client, options.endpoint), augmentXhr(client, options.endpoint)] : [];
      return Object.assign(client, {
        detach() {
          detachInput();
          for (const undo of detachRequests) undo();
        },
      });
    },
  };
}
