// Engine choice in Chromium as the other browser tests run it (GPU disabled,
// no WebGPU flag): the probe finds no adapter, so the transformers.js engine is
// chosen; and a WebLLM engine forced here fails in its real worker with a typed
// error naming the setting. WebGPU itself: test/browser-webgpu/.
import { describe, expect, it } from 'vitest';
import { chooseEngineHere } from '../../src/engine/choose';
import { probeGpu } from '../../src/engine/probe';
import { createWebLLMEngine } from '../../src/engine/webllm';
import { DeviceError } from '../../src/errors';

describe('engine choice without WebGPU', () => {
  it('picks the transformers.js engine and says why', async () => {
    const probe = await probeGpu();
    expect(probe.adapter).toBeUndefined();
    const choice = await chooseEngineHere();
    expect(choice).toMatchObject({ engine: 'transformers', forced: false });
    expect(choice.reason).toMatch(/^WebGPU is (not available|present but).*: the transformers\.js engine runs the model on the CPU \(WASM\)$/);
  });

  it('a WebLLM engine started anyway fails in its worker with DeviceError naming the engine setting', async () => {
    const engine = createWebLLMEngine();
    const error = await engine.load().catch((e: unknown) => e);
    await engine.dispose();
    expect(error).toBeInstanceOf(DeviceError);
    expect(error).toMatchObject({ code: 'webgpu-unavailable', message: expect.stringMatching(/Set engine to 'auto' \(or 'transformers'\)/) });
  });
});
