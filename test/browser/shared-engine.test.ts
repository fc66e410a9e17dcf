// One engine per origin: an engine served on a BroadcastChannel and driven
// through connectEngine, in real Chromium. The served engine is the dry-run
// engine (a test double: the real SmolLM tokenizer and template, no model), so
// this shows the protocol (calls, streamed chunks, typed errors, timeouts),
// not what a model says; the two-tab e2e test shows it with a real model.
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidInputError, RpcError } from '../../src/errors';
import { layoutPrompt } from '../../src/engine/layout';
import { connectEngine, serveEngine } from '../../src/engine/shared';
import type { Engine, TokenChunk } from '../../src/engine/types';
import { smollmDryRun } from '../support/smollm';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

async function pair(): Promise<{ owner: Engine; remote: Engine }> {
  const channelName = `test-engine-${crypto.randomUUID()}`;
  const owner = await smollmDryRun();
  await owner.load();
  cleanup.push(serveEngine(owner, channelName));
  const remote = connectEngine({ channelName, timeoutMs: 5_000 });
  cleanup.push(() => remote.dispose());
  return { owner, remote };
}

describe('an engine shared between tabs', () => {
  it('answers every Engine call of another tab as the owner would, chunks streamed', async () => {
    const { owner, remote } = await pair();
    const info = await remote.load();
    expect(info).toEqual(owner.info);
    expect(await remote.tokenize(['hello there'])).toEqual(await owner.tokenize(['hello there']));
    const prompt = await layoutPrompt({ system: 'Be brief.', working: ['The tiles arrive Tuesday.'], draft: 'When do the tiles come?' }, info.template, (t) => remote.tokenize(t));
    const prewarmed = await remote.prewarm({ segments: prompt.segments.slice(0, 2) });
    expect(prewarmed.complete).toBe(true);
    const chunks: TokenChunk[] = [];
    const result = await remote.generate(prompt, { maxTokens: 5, chunkTokens: 1, onChunk: (c) => chunks.push(c) });
    expect(result.stats.tokensReused).toBe(prewarmed.held); // the remote prewarm warmed the owner's cache
    expect(chunks.flatMap((c) => c.tokens)).toEqual(result.tokens);
    expect(await remote.held()).toEqual(await owner.held());
  });

  it('rebuilds the owner’s errors as the same typed class', async () => {
    const { remote } = await pair();
    await expect(remote.generate({ segments: [{ kind: 'nonsense' as 'system', tokens: [1] }] })).rejects.toBeInstanceOf(InvalidInputError);
  });

  it('times out, typed, when no tab serves the engine; a disposed one refuses calls', async () => {
    const lonely = connectEngine({ channelName: `nobody-${crypto.randomUUID()}`, timeoutMs: 200 });
    const error = await lonely.load().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RpcError);
    expect((error as RpcError).code).toBe('timeout');
    await lonely.dispose();
    await expect(lonely.tokenize(['x'])).rejects.toBeInstanceOf(InvalidInputError);
  });
});
