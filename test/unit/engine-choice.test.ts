// Engine choice and WebLLM model selection: the GPU probe over stand-in
// `navigator.gpu` objects, the built-in model's probe over a double of
// `LanguageModel`, the choice and its reason, and which model record a config
// selects on which adapter (WebLLM's real prebuilt list).
import { prebuiltAppConfig } from '@mlc-ai/web-llm';
import { describe, expect, it } from 'vitest';
import { chooseEngine } from '../../src/engine/choose';
import { createEngine } from '../../src/engine/create';
import { inspectBuiltInModel, inspectGpu, type GpuAdapterLike, type GpuLike, type GpuProbe } from '../../src/engine/probe';
import { f32Twin, needsF16, resolveWebLLMConfig, selectModel } from '../../src/engine/webllm/config';
import { DeviceError, InvalidInputError } from '../../src/errors';
import { LanguageModelDouble } from '../support/prompt-api-double';

function adapter(features: string[], info: GpuAdapterLike['info'] = { vendor: 'google', architecture: 'swiftshader', isFallbackAdapter: true }): GpuAdapterLike {
  const set = new Set(features);
  return { features: set, limits: { maxBufferSize: 2 ** 28, maxStorageBufferBindingSize: 2 ** 27 }, info };
}
const gpu = (result: GpuAdapterLike | null | Error): GpuLike => ({
  requestAdapter: async () => {
    if (result instanceof Error) throw result;
    return result;
  },
});

describe('probing the GPU', () => {
  it('reports no WebGPU, no adapter, a failing request, and an adapter with its features', async () => {
    expect(await inspectGpu(undefined)).toMatchObject({ webgpu: false, adapter: undefined, summary: expect.stringMatching(/no navigator\.gpu/) });
    expect(await inspectGpu(gpu(null))).toMatchObject({ webgpu: true, adapter: undefined, summary: expect.stringMatching(/no adapter/) });
    expect(await inspectGpu(gpu(new Error('denied')))).toMatchObject({ adapter: undefined, summary: expect.stringMatching(/failed: denied/) });
    const soft = await inspectGpu(gpu(adapter(['timestamp-query', 'float32-filterable'])));
    expect(soft).toMatchObject({ webgpu: true, shaderF16: false, adapter: { vendor: 'google', isFallbackAdapter: true, features: ['float32-filterable', 'timestamp-query'] } });
    expect(soft.summary).toBe('WebGPU fallback (software) adapter google swiftshader, without shader-f16');
    expect(Object.isFrozen(soft) && Object.isFrozen(soft.adapter)).toBe(true);
    expect((await inspectGpu(gpu(adapter(['shader-f16'], {})))).summary).toBe('WebGPU adapter unnamed, with shader-f16');
  });
});

const probe = (features: string[] | undefined): Promise<GpuProbe> => inspectGpu(features ? gpu(adapter(features)) : gpu(null));

describe('choosing the engine', () => {
  it('WebLLM with a hardware adapter, transformers.js with a software one or none, each with its reason', async () => {
    const withGpu = chooseEngine(await inspectGpu(gpu(adapter(['shader-f16'], { vendor: 'nvidia', architecture: 'hopper' }))));
    expect(withGpu).toMatchObject({ engine: 'webllm', forced: false, reason: 'WebGPU adapter nvidia hopper, with shader-f16: WebLLM runs the model on the GPU' });
    const software = chooseEngine(await probe([]));
    expect(software).toMatchObject({ engine: 'transformers', forced: false, reason: expect.stringMatching(/fallback \(software\) adapter.*slower than WASM.*set engine to 'webllm'/) });
    const without = chooseEngine(await probe(undefined));
    expect(without).toMatchObject({ engine: 'transformers', forced: false, reason: expect.stringMatching(/no adapter.*transformers\.js engine/) });
  });

  it('the configuration overrides the probe, and says when that cannot work', async () => {
    expect(chooseEngine(await probe([]), { engine: 'transformers' })).toMatchObject({ engine: 'transformers', forced: true });
    expect(chooseEngine(await probe(undefined), { engine: 'webllm' }).reason).toMatch(/set in the configuration.*will fail to load here/);
    const none = await probe(undefined);
    expect(() => chooseEngine(none, { engine: 'gpu' as never })).toThrow(InvalidInputError);
  });
});

describe("probing Chrome's built-in model", () => {
  it('reports it absent, in each availability, and when availability() fails', async () => {
    expect(await inspectBuiltInModel(undefined)).toMatchObject({ present: false, availability: undefined, summary: expect.stringMatching(/no built-in model here/) });
    const ready = await inspectBuiltInModel(new LanguageModelDouble({ availability: 'available' }));
    expect(ready).toEqual({ present: true, availability: 'available', summary: "the built-in model is ready (LanguageModel.availability() is 'available')" });
    expect(Object.isFrozen(ready)).toBe(true);
    expect((await inspectBuiltInModel(new LanguageModelDouble({ availability: 'downloadable' }))).summary).toMatch(/not downloaded yet/);
    const failing = { availability: () => Promise.reject(new Error('blocked by policy')), create: () => Promise.reject(new Error('unused')) };
    expect(await inspectBuiltInModel(failing)).toMatchObject({ present: true, availability: undefined, summary: expect.stringMatching(/availability\(\) failed: blocked by policy/) });
  });
});

describe('choosing between WebLLM, the built-in model and transformers.js', () => {
  const builtIn = (availability: 'available' | 'downloadable' | 'unavailable') => inspectBuiltInModel(new LanguageModelDouble({ availability }));
  const hardware = () => inspectGpu(gpu(adapter(['shader-f16'], { vendor: 'nvidia', architecture: 'hopper' })));

  it('a hardware adapter comes first, then a ready built-in model, then transformers.js', async () => {
    expect(chooseEngine(await hardware(), {}, await builtIn('available'))).toMatchObject({ engine: 'webllm', forced: false });
    const noGpu = chooseEngine(await probe(undefined), {}, await builtIn('available'));
    expect(noGpu).toMatchObject({ engine: 'prompt-api', forced: false, builtIn: { availability: 'available' } });
    expect(noGpu.reason).toMatch(/no adapter.*; the built-in model is ready.*: Chrome's built-in model answers through the Prompt API \(nothing to download\)$/);
    expect(chooseEngine(await probe([]), {}, await builtIn('available')).engine).toBe('prompt-api'); // a software adapter does not beat it
    const later = chooseEngine(await probe(undefined), {}, await builtIn('downloadable'));
    expect(later).toMatchObject({ engine: 'transformers', reason: expect.stringMatching(/not downloaded yet.*transformers\.js engine runs the model on the CPU/) });
    expect(chooseEngine(await probe(undefined), {}, await inspectBuiltInModel(undefined)).reason).toMatch(/no built-in model here.*transformers\.js/);
  });

  it("'prompt-api' may be forced, and the reason says when it cannot load here", async () => {
    expect(chooseEngine(await hardware(), { engine: 'prompt-api' }, await builtIn('available'))).toMatchObject({ engine: 'prompt-api', forced: true, reason: expect.not.stringMatching(/fail/) });
    expect(chooseEngine(await probe(undefined), { engine: 'prompt-api' }, await builtIn('unavailable')).reason).toMatch(/unavailable on this device.*will fail to load here, set engine to 'auto'/);
    const none = await probe(undefined);
    expect(() => chooseEngine(none, { engine: 'gemini' as never })).toThrow(/'auto', 'webllm', 'prompt-api', 'transformers'/);
  });
});

describe('creating the engine for this device', () => {
  it('in Node (no WebGPU) it is the transformers.js engine, unless configured otherwise; nothing starts until used', async () => {
    const auto = await createEngine();
    expect(auto.choice).toMatchObject({ engine: 'transformers', forced: false, reason: expect.stringMatching(/no navigator\.gpu/) });
    expect(auto.engine.info).toBeUndefined();
    expect((await createEngine({ engine: 'webllm' })).choice).toMatchObject({ engine: 'webllm', forced: true });
    const builtIn = await createEngine({ engine: 'prompt-api' });
    expect(builtIn.choice).toMatchObject({ engine: 'prompt-api', forced: true, reason: expect.stringMatching(/no built-in model here.*will fail to load here/) });
    await expect(builtIn.engine.load()).rejects.toMatchObject({ name: 'DeviceError', code: 'built-in-model-unavailable' });
  });

  it("validates every engine's settings whichever is chosen", async () => {
    await expect(createEngine({ webllm: { sliceTokens: 0 } })).rejects.toThrow(/sliceTokens must be a positive integer/);
    await expect(createEngine({ engine: 'webllm', transformers: { dtype: 'q3' as never } })).rejects.toThrow(InvalidInputError);
    await expect(createEngine({ promptApi: { reserveTokens: -1 } })).rejects.toThrow(/promptApi\.reserveTokens must be a whole number/);
  });
});

describe('selecting the WebLLM model', () => {
  const list = prebuiltAppConfig.model_list;
  const resolve = (config = {}) => resolveWebLLMConfig(config, 'http://localhost:5173/app/');

  it('the default is a small instruct model from the prebuilt list, f16 where the GPU has it', async () => {
    const selected = selectModel(resolve(), list, await probe(['shader-f16']));
    expect(selected.record.model_id).toBe('SmolLM2-360M-Instruct-q4f16_1-MLC');
    expect(selected.record.model_lib).toMatch(/^https:\/\/.*\.wasm$/);
    expect(selected.replaced).toBeUndefined();
  });

  it('falls back to the f32 build without shader-f16, or says which setting to change', async () => {
    const soft = await probe([]);
    expect(selectModel(resolve(), list, soft)).toMatchObject({ record: { model_id: 'SmolLM2-360M-Instruct-q4f32_1-MLC' }, replaced: 'SmolLM2-360M-Instruct-q4f16_1-MLC' });
    expect(selectModel(resolve({ model: 'Qwen2.5-0.5B-Instruct-q4f16_1-MLC' }), list, soft).record.model_id).toBe('Qwen2.5-0.5B-Instruct-q4f32_1-MLC');
    expect(() => selectModel(resolve({ f32Fallback: false }), list, soft)).toThrow(/f32Fallback is off: set model to 'SmolLM2-360M-Instruct-q4f32_1-MLC'/);
    const selfHosted = resolve({ model: 'Mine-q4f16_1-MLC', modelUrl: '/models/mine', modelLibUrl: '/libs/mine.wasm' });
    expect(() => selectModel(selfHosted, list, soft)).toThrow(DeviceError);
    expect(selectModel(resolve({ model: 'SmolLM2-360M-Instruct-q4f32_1-MLC' }), list, soft).replaced).toBeUndefined();
  });

  it('uses a self-hosted model by URL, resolved against the page', async () => {
    const config = resolve({ model: 'Mine-q4f32_1-MLC', modelUrl: '../models/mine/', modelLibUrl: '/libs/mine.wasm' });
    expect(selectModel(config, list, await probe([])).record).toEqual({ model_id: 'Mine-q4f32_1-MLC', model: 'http://localhost:5173/models/mine', model_lib: 'http://localhost:5173/libs/mine.wasm' });
    const prebuiltElsewhere = selectModel(resolve({ modelUrl: 'https://cdn.example/smol/' }), list, await probe(['shader-f16'])).record;
    expect(prebuiltElsewhere).toMatchObject({ model: 'https://cdn.example/smol', model_lib: expect.stringMatching(/SmolLM2-360M-Instruct-q4f16_1/) });
  });

  it('refuses an unknown model, no adapter, and bad settings, naming the setting', async () => {
    const [soft, none] = await Promise.all([probe([]), probe(undefined)]);
    expect(() => selectModel(resolve({ model: 'GPT-9' }), list, soft)).toThrow(/Unknown WebLLM model 'GPT-9': set model to .*or set modelUrl and modelLibUrl/);
    expect(() => selectModel(resolve(), list, none)).toThrow(expect.objectContaining({ code: 'webgpu-unavailable' }));
    expect(() => resolve({ model: '' })).toThrow(/model must be/);
    expect(() => resolve({ modelUrl: 'http://[bad' })).toThrow(/modelUrl "http:\/\/\[bad" is not a valid URL/);
    expect(() => resolve({ sliceTokens: 0 })).toThrow(/sliceTokens/);
    expect(() => resolve({ f32Fallback: 'yes' as never })).toThrow(/f32Fallback must be true or false/);
    expect(() => resolve({ modelLibUrl: 'file:///lib.wasm' })).toThrow(/modelLibUrl must be an http\(s\) URL/);
  });

  it('knows an f16 build by its features or its quantization name', () => {
    expect(needsF16({ model_id: 'X-q4f16_1-MLC', model: '', model_lib: '' })).toBe(true);
    expect(needsF16({ model_id: 'X-q0f16-MLC', model: '', model_lib: '' })).toBe(true);
    expect(needsF16({ model_id: 'X-q4f32_1-MLC', model: '', model_lib: '' })).toBe(false);
    expect(f32Twin('Llama-3.2-1B-Instruct-q0f16-MLC')).toBe('Llama-3.2-1B-Instruct-q0f32-MLC');
    expect(f32Twin('X-q4f32_1-MLC')).toBeUndefined();
  });
});
