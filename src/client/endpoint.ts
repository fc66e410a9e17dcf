// What the fetch and XMLHttpRequest hooks share: which requests are the page's
// chat requests (their URL path starts with the endpoint's), and the request
// body with the memories added (the same `augment` path), or undefined when it
// goes out as the page made it.
import type { MnemeClient } from './client';
import type { ChatMessage } from './augment';

/** How long a request waits for its memories before going out without them, in ms. */
export const WAIT_MS = 1500;

/** Whether a request URL (relative to the page) is under the endpoint's path. */
export function endpointMatcher(endpoint: string): (url: string | URL) => boolean {
  return (url) => {
    try {
      return new URL(url, location.href).pathname.startsWith(new URL(endpoint, location.href).pathname);
    } catch {
      return false;
    }
  };
}

/** A request body that is OpenAI-shaped JSON: the parsed object, whose `messages` get the memories. */
export interface ChatBody {
  [key: string]: unknown;
  messages: ChatMessage[];
}

/** The body parsed, when it is JSON with a `messages` array; undefined otherwise (it goes out as the page made it). */
export function chatBody(body: string): ChatBody | undefined {
  try {
    const parsed = JSON.parse(body) as Partial<ChatBody> | null;
    return parsed && typeof parsed === 'object' && Array.isArray(parsed.messages) ? (parsed as ChatBody) : undefined;
  } catch {
    return undefined;
  }
}

/** The body with the memories added to its `messages`, or undefined when they take longer than WAIT_MS or fail. */
export async function withMemories(client: MnemeClient, body: ChatBody): Promise<string | undefined> {
  try {
    const timeout = new Promise<undefined>((resolve) => setTimeout(resolve, WAIT_MS));
    const messages = await Promise.race([client.augment(body.messages), timeout]);
    return messages ? JSON.stringify({ ...body, messages }) : undefined;
  } catch {
    return undefined;
  }
}
