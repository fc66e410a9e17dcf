// The WebLLM engine in real Chromium with WebGPU on (`--enable-unsafe-webgpu`):
// on these machines that is the software adapter (SwiftShader: no GPU, no
// shader-f16). No model weights exist here and every host but localhost is
// unresolvable (vite.config.ts), so what this shows is everything up to the
// weights: adapter detection, the feature check choosing the f32 build, the
// worker starting WebLLM, and a missing model failing with a typed error that
// names the setting to fix.
import { describe, expect, it } from 'vitest';
import { chooseEngineHere } from '../../src/engine/choose';
import { probeGpu } from '../../src/engine/probe';
import { createWebLLMEngine } from '../../src/engine/webllm';
import { DeviceError, ModelError } from '../../src/errors';

async function loadFailure(config: Parameters<typeof createWebLLMEngine>[0]): Promise<unknown> {
  const engine = createWebLLMEngine(config, { loadTimeoutMs: 30_000 });
  try {
    return await engine.load().then(() => expect.unreachable('the load should fail'), (error: unknown) => error);
  } finally {
    await engine.dispose();
  }
}

describe('WebGPU in Chromium', () => {
  it('finds the adapter once and reports its features', async () => {
    const probe = await probeGpu();
    expect(probe).toMatchObject({ webgpu: true, adapter: { vendor: expect.any(String) } });
    expect(probe.shaderF16).toBe(probe.adapter?.features.includes('shader-f16'));
    expect(Object.isFrozen(probe)).toBe(true);
    expect(await probeGpu()).toBe(probe);
  });

  it('chooses WebLLM only for a hardware adapter, and says why', async () => {
    const { probe } = await chooseEngineHere();
    const choice = await chooseEngineHere();
    expect(choice.engine).toBe(probe.adapter?.isFallbackAdapter ? 'transformers' : 'webllm');
    expect(choice.reason).toContain(probe.summary);
    expect((await chooseEngineHere({ engine: 'webllm' })).engine).toBe('webllm');
  });
});

describe('the WebLLM engine worker', () => {
  it('picks the f32 build without shader-f16, starts WebLLM, and reports the model it cannot reach', async () => {
    const probe = await probeGpu();
    // The default model is f16; without shader-f16 its f32 build is chosen. Its host does not resolve here.
    const error = await loadFailure({});
    expect(error).toBeInstanceOf(ModelError);
    const model = probe.shaderF16 ? 'SmolLM2-360M-Instruct-q4f16_1-MLC' : 'SmolLM2-360M-Instruct-q4f32_1-MLC';
    expect(error).toMatchObject({
      code: 'model-not-found',
      // WebLLM's own config fetch is what failed: the worker ran WebLLM's reload.
      message: expect.stringMatching(new RegExp(`^Cannot reach https://huggingface\\.co/mlc-ai/${model}/resolve/main/mlc-chat-config\\.json .*: check model and the network\\. WebLLM said: Failed to fetch$`)),
    });
  });

  it('a self-hosted model URL that answers 404 fails with model-not-found naming modelUrl', async () => {
    const modelUrl = new URL('/no-such-model/', location.href).href;
    const error = await loadFailure({ model: 'SmolLM2-360M-Instruct-q4f32_1-MLC', modelUrl });
    expect(error).toBeInstanceOf(ModelError);
    expect(error).toMatchObject({ code: 'model-not-found', message: `No model file at ${modelUrl}resolve/main/mlc-chat-config.json (HTTP 404): check modelUrl. WebLLM said: Failed to execute 'add' on 'Cache': Request failed` });
  });

  it('a model whose config is there but whose WebGPU library is not: model-not-found naming modelLibUrl', async () => {
    // test/fixtures/webllm/config-only holds only an mlc-chat-config.json: WebLLM reads it, then fails on the library.
    const modelUrl = new URL('/test/fixtures/webllm/config-only/', location.href).href;
    const modelLibUrl = new URL('/test/fixtures/webllm/config-only/missing-webgpu.wasm', location.href).href;
    const error = await loadFailure({ model: 'ConfigOnly-q4f32_1-MLC', modelUrl, modelLibUrl });
    expect(error).toBeInstanceOf(ModelError);
    expect(error).toMatchObject({ code: 'model-not-found', message: expect.stringMatching(new RegExp(`^No model file at ${modelLibUrl} \\(HTTP 404\\): check modelLibUrl\\. WebLLM said: `)) });
  });

  it('an unreachable self-hosted host fails the same way', async () => {
    const error = await loadFailure({ model: 'Mine-q4f32_1-MLC', modelUrl: 'http://127.0.0.1:9/models/mine/', modelLibUrl: 'http://127.0.0.1:9/mine.wasm' });
    expect(error).toMatchObject({ code: 'model-not-found', message: expect.stringMatching(/^Cannot reach http:\/\/127\.0\.0\.1:9\/models\/mine\/resolve\/main\/mlc-chat-config\.json .*check modelUrl/) });
  });

  it('an f16-only self-hosted model on an adapter without shader-f16 is refused before any download', async (ctx) => {
    const probe = await probeGpu();
    ctx.skip(probe.shaderF16, `this adapter has shader-f16 (${probe.summary}), so it runs f16 models and there is nothing to refuse; the refusal is covered in the unit tests`);
    const error = await loadFailure({ model: 'Mine-q4f16_1-MLC', modelUrl: 'http://127.0.0.1:9/models/mine/', modelLibUrl: 'http://127.0.0.1:9/mine.wasm' });
    expect(error).toBeInstanceOf(DeviceError);
    expect(error).toMatchObject({ code: 'shader-f16-unsupported', message: expect.stringMatching(/Mine-q4f16_1-MLC needs shader-f16.*set model to 'Mine-q4f32_1-MLC'/) });
  });
});
