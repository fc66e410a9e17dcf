// For pages that post OpenAI-shaped requests ({ messages: [...] }) to their own
// endpoint with fetch: requests to that endpoint carry the user's memories.
// Anything that is not such a request, or any failure, sends the request as the
// page made it. (XMLHttpRequest: xhr-hook.ts.)
import type { MnemeClient } from './client';
import { chatBody, endpointMatcher, withMemories } from './endpoint';

/** Wraps `window.fetch` for requests whose URL path starts with `endpoint`; returns the undo. */
export function augmentFetch(client: MnemeClient, endpoint: string): () => void {
  const original = globalThis.fetch;
  const matches = endpointMatcher(endpoint);
  const wrapped: typeof fetch = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const chat = matches(url) && typeof init?.body === 'string' ? chatBody(init.body) : undefined;
    if (!chat) return original(input, init);
    const body = await withMemories(client, chat);
    return original(input, body === undefined ? init : { ...init, body });
  };
  globalThis.fetch = wrapped;
  return () => {
    if (globalThis.fetch === wrapped) globalThis.fetch = original;
  };
}
