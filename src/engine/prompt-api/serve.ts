// The Prompt API exists on pages only, while Mneme's scheduler runs in a
// worker. The page creates the engine and serves it on a BroadcastChannel of
// its own (the protocol every shared engine speaks, ../shared.ts); the worker
// drives it with connectEngine, so drafts prewarm it from the worker and sends
// answer on it, with the same reports as the other engines.
import { serveEngine } from '../shared';
import type { PromptApiEngineConfig } from './config';
import { PromptApiEngine, type PromptApiEngineOptions } from './session';

export interface ServedPromptApiEngine {
  /** The channel to pass to the worker as `promptApi.channel` (with `engine: 'prompt-api'`). */
  readonly channel: string;
  readonly engine: PromptApiEngine;
  /** Stops serving and frees the model's sessions. */
  stop(): Promise<void>;
}

/**
 * Creates the Prompt API engine on this page and serves it to this tab's scheduler worker.
 * @throws InvalidInputError when the config is invalid
 */
export function servePromptApiEngine(config: PromptApiEngineConfig = {}, options: PromptApiEngineOptions = {}): ServedPromptApiEngine {
  const engine = new PromptApiEngine(config, options);
  const channel = config.channel ?? `mneme-prompt-api:${crypto.randomUUID()}`; // one per tab: two pages never answer one call
  const stopServing = serveEngine(engine, channel);
  return {
    channel,
    engine,
    async stop() {
      stopServing();
      await engine.dispose();
    },
  };
}
