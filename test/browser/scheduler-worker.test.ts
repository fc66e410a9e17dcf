import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/errors';
import { createSchedulerWorker } from '../../src/scheduler/client';

describe('scheduler worker', () => {
  it('ranks in its worker: the page posts drafts, superseded ones resolve as such', async () => {
    const scheduler = createSchedulerWorker();
    try {
      await expect(scheduler.call('draft', ['x'])).rejects.toBeInstanceOf(InvalidInputError);
      const opened = await scheduler.call('open', [{ dbName: `w-${crypto.randomUUID()}`, scope: { userId: 'u' }, debounceMs: 40 }]);
      expect(opened).toEqual({ memories: 0, engine: 'none' });
      await scheduler.call('startSession', [{ sessionId: 's1' }]);
      expect(await scheduler.call('observe', [{ text: 'The renovation tiles arrive Tuesday. The electrician comes Friday for the renovation.' }])).toEqual({ created: 2, mentioned: 0 });
      // Keystrokes faster than the debounce: only the last draft is predicted.
      const drafts = ['ren', 'renov', 'renovation til'].map((d) => scheduler.call('draft', [d]));
      const views = await Promise.all(drafts);
      expect(views.slice(0, 2)).toEqual([{ superseded: true }, { superseded: true }]);
      const last = views[2]!;
      expect(last.superseded).toBe(false);
      if (!last.superseded) expect(last.predicted[0]!.text).toBe('The renovation tiles arrive Tuesday.');
      const sent = await scheduler.call('send', [{ text: 'renovation tiles', k: 1 }]);
      expect(sent.results.map((r) => r.text)).toEqual(['The renovation tiles arrive Tuesday.']);
      // No engine: the memories are picked (and are what a model would see), nothing is answered.
      expect(sent).toMatchObject({ answered: false, reply: '', promptTokens: 0 });
      expect(sent.seen.map((r) => r.text)).toEqual(['The renovation tiles arrive Tuesday.']);
      expect(sent.results[0]!.reasons.length).toBeGreaterThan(0);
      await scheduler.call('close', []);
    } finally {
      scheduler.terminate();
    }
  });
});
