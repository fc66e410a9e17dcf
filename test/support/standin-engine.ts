// The transformers.js engine on the tiny stand-in SmolLM (real tokenizer and
// chat template, random weights) served by the test server, for browser tests.
import { createTransformersEngine, type TransformersEngineConfig } from '../../src/engine/transformers';
import type { Engine, GenerateResult, PromptTokens } from '../../src/engine/types';

export function standinEngine(device: 'wasm' | 'webgpu', cacheName: string): Engine {
  const config: TransformersEngineConfig = {
    modelBaseUrl: '/test/fixtures/generated/models',
    model: 'mneme/standin-smollm-tiny',
    allowRemote: false,
    dtype: 'fp32',
    device,
    sliceTokens: 16,
    cacheName,
  };
  return createTransformersEngine(config);
}

/** A cold reply on any engine: a prewarm of nothing empties its cache first. */
export async function coldGenerate(engine: Engine, prompt: PromptTokens, maxTokens: number): Promise<GenerateResult> {
  await engine.prewarm({ segments: [] });
  const result = await engine.generate(prompt, { maxTokens });
  if (result.stats.tokensReused !== 0) throw new Error(`a cold generate reused ${result.stats.tokensReused} tokens`);
  return result;
}
