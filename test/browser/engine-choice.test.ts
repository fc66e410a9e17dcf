// Engine choice in Chromium as the other browser tests run it (GPU disabled,
// no WebGPU flag): the probe finds no adapter; this Debian Chromium does expose
// `LanguageModel`, but with no model component its availability() answers
// 'unavailable'. So the transformers.js engine is chosen and the reason says
// both; a WebLLM engine or a Prompt API engine
// forced here fails with a typed error naming the setting. WebGPU itself:
// test/browser-webgpu/.
import { describe, expect, it } from 'vitest';
import { chooseEngineHere } from '../../src/engine/choose';
import { createPromptApiEngine, languageModelHere } from '../../src/engine/prompt-api';
import { probeBuiltInModel, probeGpu } from '../../src/engine/probe';
import { createWebLLMEngine } from '../../src/engine/webllm';
import { DeviceError } from '../../src/errors';

describe('engine choice without WebGPU or a built-in model', () => {
  it('picks the transformers.js engine and says why', async () => {
    const probe = await probeGpu();
    expect(probe.adapter).toBeUndefined();
    expect(languageModelHere()).toBeDefined();
    expect(await probeBuiltInModel()).toMatchObject({ present: true, availability: 'unavailable' });
    const choice = await chooseEngineHere();
    expect(choice).toMatchObject({ engine: 'transformers', forced: false, builtIn: { availability: 'unavailable' } });
    expect(choice.reason).toMatch(/^WebGPU is (not available|present but).*; the built-in model is unavailable on this device \(LanguageModel\.availability\(\) is 'unavailable'\): the transformers\.js engine runs the model on the CPU \(WASM\)$/);
  });

  it('a WebLLM engine started anyway fails in its worker with DeviceError naming the engine setting', async () => {
    const engine = createWebLLMEngine();
    const error = await engine.load().catch((e: unknown) => e);
    await engine.dispose();
    expect(error).toBeInstanceOf(DeviceError);
    expect(error).toMatchObject({ code: 'webgpu-unavailable', message: expect.stringMatching(/Set engine to 'auto' \(or 'transformers'\)/) });
  });

  it('a Prompt API engine forced here fails to load with DeviceError naming the engine setting', async () => {
    const forced = await chooseEngineHere({ engine: 'prompt-api' });
    expect(forced.reason).toMatch(/will fail to load here, set engine to 'auto' to fall back/);
    const engine = createPromptApiEngine();
    const error = await engine.load().catch((e: unknown) => e);
    await engine.dispose();
    expect(error).toBeInstanceOf(DeviceError);
    expect(error).toMatchObject({ code: 'built-in-model-unavailable', message: expect.stringMatching(/availability\(\) says 'unavailable'.*Set engine to 'auto' \(or 'transformers'\)/) });
  });
});
