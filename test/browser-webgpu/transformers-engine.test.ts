// The transformers.js engine with `device: 'webgpu'` in Chromium's software
// adapter (SwiftShader, `--enable-unsafe-webgpu`), on the tiny stand-in. The
// model's `present.*` outputs come back as GPU buffers; the engine reads them
// back to owned CPU arrays, so the cache survives any number of reuses. Kept
// short: SwiftShader runs this model about 30× slower than WASM.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { layoutPrompt, type PromptParts } from '../../src/engine/layout';
import { flatten, promptLength } from '../../src/engine/ledger';
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
});
