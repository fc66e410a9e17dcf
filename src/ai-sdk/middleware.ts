// Mneme as AI SDK middleware, for any model (a server's or one on the device):
// `wrapLanguageModel({ model, middleware: mnemeMiddleware(client) })`. Each
// call's prompt gets the memories for the user's last message, escaped, in its
// system message (exactly as the client's `augment`); the user's message is
// observed at send and the reply once it is complete. Drafts go to
// `client.draft` as the user types, and predict as they do for the drop-in.
import type { LanguageModelV4, LanguageModelV4Middleware } from '@ai-sdk/provider';
import type { MnemeClient } from '../client/client';
import { InvalidInputError } from '../errors';
import { replyText } from './messages';
import { observeReply, observeUser, observingStream } from './observe';
import { MNEME_PROVIDER } from './provider';

/**
 * Middleware that adds the client's memories to every prompt and observes each turn.
 * A Mneme model (`mnemeLanguageModel`) already does both, so it passes through unchanged.
 * @throws InvalidInputError when `client` is not a Mneme client
 */
export function mnemeMiddleware(client: MnemeClient): LanguageModelV4Middleware {
  if (typeof client?.augment !== 'function' || typeof client.observe !== 'function') {
    throw new InvalidInputError('invalid-input', "mnemeMiddleware takes a Mneme client: create() from 'mneme/client'.");
  }
  const isMneme = (model: LanguageModelV4) => model.provider === MNEME_PROVIDER;
  return {
    specificationVersion: 'v4',
    async transformParams({ params, model }) {
      return isMneme(model) ? params : { ...params, prompt: await client.augment(params.prompt) };
    },
    async wrapGenerate({ doGenerate, params, model }) {
      if (isMneme(model)) return doGenerate();
      const user = observeUser(client, params.prompt);
      const result = await doGenerate();
      await observeReply(client, user, replyText(result.content));
      return result;
    },
    async wrapStream({ doStream, params, model }) {
      if (isMneme(model)) return doStream();
      const user = observeUser(client, params.prompt);
      const { stream, ...rest } = await doStream();
      return { ...rest, stream: stream.pipeThrough(observingStream((reply) => observeReply(client, user, reply))) }; // it ends once the reply is in memory
    },
  };
}
