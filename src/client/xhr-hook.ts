// For pages that post their chat requests with XMLHttpRequest (axios does):
// an asynchronous request to the endpoint whose body is OpenAI-shaped JSON
// goes out with the memories added, as fetch-hook.ts does for fetch. Its
// send() is held until the memories are ready (at most WAIT_MS). What cannot
// be held safely (a synchronous request, a body that is not a string) goes out
// as the page made it, with one console warning; everything else is untouched.
import type { MnemeClient } from './client';
import { chatBody, endpointMatcher, withMemories } from './endpoint';

/** What open() was given, per request; a new open() replaces it, so a held send knows it is stale. */
interface Opened {
  url: string;
  async: boolean;
}

/** Wraps `XMLHttpRequest.prototype.open/send` for requests whose URL path starts with `endpoint`; returns the undo. */
export function augmentXhr(client: MnemeClient, endpoint: string): () => void {
  if (typeof XMLHttpRequest === 'undefined') return () => {};
  const proto = XMLHttpRequest.prototype;
  const { open } = proto;
  // lib.dom and lib.webworker declare send() apart; one signature that takes both.
  const send = proto.send as (this: XMLHttpRequest, body?: unknown) => void;
  const matches = endpointMatcher(endpoint);
  const opened = new WeakMap<XMLHttpRequest, Opened>();
  let warned = false;
  const warnOnce = (why: string) => {
    if (warned) return;
    warned = true;
    console.warn(`Mneme: only fetch and asynchronous XMLHttpRequest with a JSON string body get memories; a request to ${endpoint} ${why} went out without them.`);
  };

  const wrappedOpen = function (this: XMLHttpRequest, method: string, url: string | URL, async?: boolean) {
    // async defaults to true only when the argument is absent (undefined passed explicitly still means async, per the spec's overload).
    opened.set(this, { url: String(url), async: arguments.length < 3 || async !== false });
    return (open as (...args: unknown[]) => void).apply(this, arguments as unknown as unknown[]);
  } as typeof proto.open;

  const wrappedSend = function (this: XMLHttpRequest, body?: unknown) {
    const request = opened.get(this);
    if (!request || !matches(request.url) || body === undefined || body === null) return send.call(this, body);
    if (!request.async || typeof body !== 'string') {
      warnOnce(!request.async ? '(synchronous XMLHttpRequest)' : `(XMLHttpRequest with a ${Object.prototype.toString.call(body).slice(8, -1)} body)`);
      return send.call(this, body);
    }
    const chat = chatBody(body);
    if (!chat) return send.call(this, body);
    void withMemories(client, chat).then((augmented) => {
      // The page aborted or re-opened the request while the memories were chosen: its new state is its own.
      if (opened.get(this) !== request || this.readyState !== XMLHttpRequest.OPENED) return;
      send.call(this, augmented ?? body);
    });
  };

  proto.open = wrappedOpen;
  proto.send = wrappedSend as typeof proto.send;
  return () => {
    if (proto.open === wrappedOpen) proto.open = open;
    if (proto.send === wrappedSend) proto.send = send as typeof proto.send;
  };
}
