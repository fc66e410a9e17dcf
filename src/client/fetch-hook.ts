// For pages that post OpenAI-shaped requests ({ messages: [...] }) to their own
// endpoint: requests to that endpoint carry the user's memories. Anything that
// is not such a request, or any failure, sends the request as the page made it.
import type { MnemeClient } from './client';
import type { ChatMessage } from './augment';

/** How long a request waits for its memories before going out without them, in ms. */
const WAIT_MS = 1500;

/** Wraps `window.fetch` for requests whose URL path starts with `endpoint`; returns the undo. */
export function augmentFetch(client: MnemeClient, endpoint: string): () => void {
  const original = globalThis.fetch;
  const matches = (url: string) => new URL(url, location.href).pathname.startsWith(new URL(endpoint, location.href).pathname);
  const wrapped: typeof fetch = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!matches(url) || typeof init?.body !== 'string') return original(input, init);
    try {
      const body = JSON.parse(init.body) as { messages?: ChatMessage[] };
      if (!Array.isArray(body.messages)) return original(input, init);
      const timeout = new Promise<undefined>((resolve) => setTimeout(resolve, WAIT_MS));
      const messages = await Promise.race([client.augment(body.messages), timeout]);
      return original(input, messages ? { ...init, body: JSON.stringify({ ...body, messages }) } : init);
    } catch {
      return original(input, init);
    }
  };
  globalThis.fetch = wrapped;
  return () => {
    if (globalThis.fetch === wrapped) globalThis.fetch = original;
  };
}
