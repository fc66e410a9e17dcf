// The Prompt API engine as Mneme runs it: the page serves it (the API exists on
// pages only) and the real scheduler worker drives it over the shared-engine
// channel, so drafts prewarm it from the worker and sends answer on it. The
// model is a double of `LanguageModel` (test/support/prompt-api-double.ts says
// what it cannot show); the worker, the channel, the store and the prediction
// path are the real ones.
import { describe, expect, it } from 'vitest';
import { servePromptApiEngine } from '../../src/engine/prompt-api';
import { InvalidInputError } from '../../src/errors';
import { createSchedulerWorker } from '../../src/scheduler/client';
import { LanguageModelDouble } from '../support/prompt-api-double';

describe('the Prompt API engine driven by the scheduler worker', () => {
  it('a draft prewarms a clone on the page, and the send answers on it with the same reports', async () => {
    const model = new LanguageModelDouble();
    const served = servePromptApiEngine({}, { api: model });
    const scheduler = createSchedulerWorker();
    try {
      await scheduler.call('open', [{ dbName: `p-${crypto.randomUUID()}`, scope: { userId: 'u' }, debounceMs: 10 }]);
      await expect(scheduler.call('loadEngine', [{ engine: 'prompt-api' }])).rejects.toBeInstanceOf(InvalidInputError); // no channel: it names servePromptApiEngine
      const loaded = await scheduler.call('loadEngine', [{ engine: 'prompt-api', promptApi: { channel: served.channel } }]);
      expect(loaded).toMatchObject({ engine: 'prompt-api', model: 'chrome-built-in', shared: false, reason: expect.stringMatching(/page serves Chrome's built-in model/) });
      await scheduler.call('startSession', [{ sessionId: 's1' }]);
      await scheduler.call('observe', [{ text: 'The renovation tiles arrive Tuesday. The electrician comes Friday for the renovation.' }]);
      const draft = await scheduler.call('draft', ['when do the renovation tiles']);
      expect(draft.superseded).toBe(false);
      if (draft.superseded) return;
      expect(draft.prewarmed).toBe(true);
      expect(draft.held).toBeGreaterThan(0);
      const prewarmed = model.live().flatMap((s) => s.later.map((m) => m.content)).join('\n');
      expect(prewarmed).toContain('renovation tiles arrive Tuesday');
      const clones = model.log.filter((c) => c === 'clone').length;
      const sent = await scheduler.call('send', [{ text: 'when do the renovation tiles arrive?', k: 2 }]);
      expect(sent.answered).toBe(true);
      expect(sent.reply).toContain('renovation tiles arrive Tuesday'); // the double answers with what its context holds
      expect(sent.heldFinal).toBeGreaterThan(0);
      expect(sent.tokensReused).toBeGreaterThan(0);
      expect(sent.promptTokens).toBeGreaterThan(sent.tokensReused);
      expect(model.log.filter((c) => c === 'clone').length).toBe(clones); // answered on the prewarmed clone
      await scheduler.call('close', []);
    } finally {
      scheduler.terminate();
      await served.stop();
    }
  });
});
