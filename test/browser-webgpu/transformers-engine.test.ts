// The transformers.js engine with `device: 'webgpu'` in Chromium's software
// adapter (SwiftShader, `--enable-unsafe-webgpu`), on the tiny stand-in. The
// model's `present.*` outputs come back as GPU buffers; the engine keeps them
// there and feeds them back, reading them back only to roll back or to save a
// snapshot, so the cache survives any number of reuses and a decoded token
// moves only its logits. Kept short: SwiftShader runs this model about 30×
// slower than WASM.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { layoutPrompt, type PromptParts } from '../../src/engine/layout';
import { flatten, promptLength, sliceSegments } from '../../src/engine/ledger';
import type { Engine } from '../../src/engine/types';
import { coldGenerate, standinEngine } from '../support/standin-engine';

const REPLY = 4;
const parts: PromptParts = {
  system: 'You are helpful.',
  activated: ['Alice lives in Lyon.'],
  working: ['The tiles arrive on Tuesday.'],
  draft: 'When do the tiles arrive?',
};

let gpu: Engine;
let cpu: Engine;
beforeAll(async () => {
  gpu = standinEngine('webgpu', 'mneme-test-engine-webgpu');
  await gpu.load();
  cpu = standinEngine('wasm', 'mneme-test-engine-webgpu');
  await cpu.load();
}, 120_000);
afterAll(async () => {
  await gpu?.dispose();
  await cpu?.dispose();
});

describe('transformers.js engine on WebGPU (software adapter)', () => {
  test('prewarmed, rolled back and reused caches give the cold reply, which equals the WASM one', async () => {
    expect(gpu.info).toMatchObject({ device: 'webgpu', capabilities: { rollback: 'popn' } });
    const layout = (p: PromptParts, final = true) => layoutPrompt(p, gpu.info!.template, (texts) => gpu.tokenize(texts), { final });
    const full = await layout(parts);
    const other = await layout({ ...parts, working: ['The plumber comes on Thursday.'] }, false);

    await gpu.prewarm(other); // a working set that will not be sent: rolled back below
    const prewarm = await gpu.prewarm(await layout({ ...parts, draft: 'When do the' }, false));
    expect(prewarm.stats.tokensRolledBack).toBeGreaterThan(0);
    const warm = await gpu.generate(full, { maxTokens: REPLY });
    expect(warm.stats.tokensReused).toBeGreaterThan(promptLength(full) - 12);

    const cold = await coldGenerate(gpu, full, REPLY);
    expect(warm.tokens).toEqual(cold.tokens);
    const again = await gpu.generate(full, { maxTokens: REPLY }); // the third use of the same cache
    expect(again.tokens).toEqual(cold.tokens);
    expect(flatten(await gpu.held()).length).toBeGreaterThan(promptLength(full));

    expect((await coldGenerate(cpu, full, REPLY)).tokens).toEqual(cold.tokens);
  }, 180_000);

  test('a decoded token moves the same bytes whatever the context length (the cache stays on the GPU)', async () => {
    const layout = (p: PromptParts) => layoutPrompt(p, gpu.info!.template, (texts) => gpu.tokenize(texts));
    /**
     * The bytes one more token's forward pass moves on a cache of the prompt less its last token (what a decode step
     * does). The pass before it runs first: a rollback reads the cache back, and that pass uploads it again, once.
     */
    const onePass = async (p: PromptParts) => {
      const prompt = await layout(p);
      const length = promptLength(prompt);
      await gpu.prewarm({ segments: sliceSegments(prompt, 0, length - 2) });
      await gpu.prewarm({ segments: sliceSegments(prompt, 0, length - 1) });
      const step = await gpu.prewarm(prompt);
      expect(step.stats.tokensPrefilled).toBe(1);
      return { bytes: step.stats.bytesMoved!, context: length };
    };
    const short = await onePass(parts);
    const long = await onePass({ ...parts, working: Array.from({ length: 12 }, (_, i) => `Note ${i}: the tiles arrive on day ${i} of the month, weather permitting.`) });
    expect(long.context).toBeGreaterThan(short.context * 3);
    expect(short.bytes).toBe(49152 * 4); // one row of logits, nothing of the cache
    expect(long.bytes).toBe(short.bytes);

    // A snapshot reads the cache back once; written into the WASM engine, it gives the same reply.
    const prompt = await layout(parts);
    await gpu.prewarm(prompt);
    const prefix = await gpu.exportPrefix!(promptLength(prompt) - 3);
    await cpu.importPrefix!(prefix);
    expect((await cpu.generate(prompt, { maxTokens: REPLY })).tokens).toEqual((await coldGenerate(gpu, prompt, REPLY)).tokens);
  }, 240_000);
});
