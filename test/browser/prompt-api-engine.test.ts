// The Prompt API engine as Mneme runs it: the page serves it (the API exists on
// pages only) and the real scheduler worker drives it over the shared-engine
// channel, so drafts prewarm it from the worker and sends answer on it. The
// model is a double of `LanguageModel` (test/support/prompt-api-double.ts says
// what it cannot show); the worker, the channel, the store and the prediction
// path are the real ones; so is the cache guard, which must empty the page's
// sessions when a memory they hold is deleted.
import { describe, expect, it, vi } from 'vitest';
import { createMnemeClient } from '../../src/client/client';
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

describe('the cache guard over the Prompt API engine', () => {
  it('a deleted memory that a draft prewarmed leaves no session on the page', async () => {
    const model = new LanguageModelDouble();
    const served = servePromptApiEngine({}, { api: model });
    const scheduler = createSchedulerWorker();
    const holding = () => model.live().flatMap((s) => s.messages().map((m) => m.content)).join('\n');
    try {
      await scheduler.call('open', [{ dbName: `g-${crypto.randomUUID()}`, scope: { userId: 'u' }, debounceMs: 10 }]);
      await scheduler.call('loadEngine', [{ engine: 'prompt-api', promptApi: { channel: served.channel } }]);
      await scheduler.call('startSession', [{ sessionId: 's1' }]);
      await scheduler.call('observe', [{ text: 'My bank PIN hint is the old dog. The dentist is on Friday.' }]);
      const draft = await scheduler.call('draft', ['what was my bank PIN hint']);
      expect(!draft.superseded && draft.held).toBeGreaterThan(0);
      expect(holding()).toContain('bank PIN hint');
      const [pin] = await scheduler.call('inspect', ['bank PIN hint']);
      await scheduler.call('remove', [pin!.id]);
      await vi.waitFor(() => expect(holding()).not.toContain('bank PIN hint'), { timeout: 5000 });
      await scheduler.call('close', []);
    } finally {
      scheduler.terminate();
      await served.stop();
    }
  });
});

/** Runs `work` with the page's LanguageModel replaced by `model` (this file runs in its own frame). */
async function withPageModel(model: LanguageModelDouble, work: () => Promise<void>): Promise<void> {
  const real = Object.getOwnPropertyDescriptor(globalThis, 'LanguageModel');
  Object.defineProperty(globalThis, 'LanguageModel', { value: model, configurable: true, writable: true });
  try {
    await work();
  } finally {
    if (real) Object.defineProperty(globalThis, 'LanguageModel', real);
    else delete (globalThis as { LanguageModel?: unknown }).LanguageModel;
  }
}

describe('the drop-in client on a page with a ready built-in model', () => {
  it("chooses the Prompt API engine on the page with engine 'auto' (no GPU here), serves it, and answers on it", async () => {
    // Each test of this block replaces the page's LanguageModel while it runs. The built-in model is probed once
    // per context: nothing in this file probes it before this test, and both doubles here answer 'available'.
    const model = new LanguageModelDouble();
    await withPageModel(model, async () => {
      const client = createMnemeClient({ dbName: `c-${crypto.randomUUID()}`, log: false }, { worker: () => createSchedulerWorker() });
      try {
        expect(await client.ready).toBe(true);
        const loaded = await client.loadEngine();
        expect(loaded).toEqual({ model: 'chrome-built-in', engine: 'prompt-api', shared: false });
        await client.observe('My sister Ana lives in Lisbon.');
        const reply = await client.chat.completions.create({ messages: [{ role: 'user', content: 'where does my sister Ana live?' }] });
        expect('choices' in reply && reply.choices[0]!.message.content).toContain('Lisbon');
      } finally {
        await client.close();
      }
    });
    expect(model.live()).toEqual([]); // closing the client stopped serving and freed every session
  });

  it('a built-in model that fails to start gives way to the engine the worker picks, reported as degraded', async () => {
    const model = new LanguageModelDouble({ failCreate: 'OperationError' });
    await withPageModel(model, async () => {
      const degraded: string[] = [];
      const engine = { transformers: { modelBaseUrl: '/test/fixtures/generated/models', model: 'mneme/standin-smollm-tiny', allowRemote: false, dtype: 'fp32' as const, cacheName: 'mneme-test-prompt-api-fallback' } };
      const client = createMnemeClient({ dbName: `f-${crypto.randomUUID()}`, log: false, engine }, { worker: () => createSchedulerWorker() });
      client.on('degraded', (d) => degraded.push(`${d.what}: ${d.reason}`));
      try {
        const loaded = await client.loadEngine();
        expect(loaded).toMatchObject({ engine: 'transformers', model: 'mneme/standin-smollm-tiny' });
        expect(degraded).toEqual([expect.stringMatching(/^built-in-engine: Chrome's built-in model could not start/)]);
      } finally {
        await client.close();
      }
    });
    expect(model.live()).toEqual([]);
  });
});
