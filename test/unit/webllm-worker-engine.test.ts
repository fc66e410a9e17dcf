// The WebLLM engine end to end in Node: page-side client (worker-engine.ts) →
// RPC over a MessageChannel → engine service → WebLLM loader → our loop, with
// MLCEngine replaced by the WebLLM 0.2.86 TEST DOUBLE
// (test/support/webllm-double.ts) and the GPU by a probe report. The real
// worker, WebGPU and WebLLM's own loading are exercised in
// test/browser-webgpu/webllm.test.ts.
import { prebuiltAppConfig } from '@mlc-ai/web-llm';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngineService } from '../../src/engine/engine-service';
import { createChatCompletions, type MnemeCompletionUsage } from '../../src/engine/openai';
import type { GpuProbe } from '../../src/engine/probe';
import type { Engine, LoadProgress, TokenChunk } from '../../src/engine/types';
import { resolveWebLLMConfig, type WebLLMEngineConfig } from '../../src/engine/webllm/config';
import { loadWebLLM, type WebLLMLoadDeps } from '../../src/engine/webllm/load';
import { createWorkerEngine } from '../../src/engine/worker-engine';
import { DeviceError, InvalidInputError, ModelError } from '../../src/errors';
import { exposeService } from '../../src/rpc/server';
import type { EngineService } from '../../src/rpc/protocol';
import { fakeWorker } from '../support/fake-worker';
import { doubleTokenizer, MlcEngineDouble, type DoubleOptions } from '../support/webllm-double';

const F16: GpuProbe = { webgpu: true, shaderF16: true, summary: 'WebGPU adapter test, with shader-f16', adapter: { vendor: 'test', architecture: '', description: '', isFallbackAdapter: false, features: ['shader-f16'], maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 30 } };
const NO_F16: GpuProbe = { ...F16, shaderF16: false, summary: 'WebGPU fallback (software) adapter, without shader-f16', adapter: { ...(F16.adapter as NonNullable<GpuProbe['adapter']>), features: [], isFallbackAdapter: true } };
const NO_ADAPTER: GpuProbe = { webgpu: true, shaderF16: false, adapter: undefined, summary: 'WebGPU is present but the browser offers no adapter' };

/** Progress reports as WebLLM's reload sends them (index.js 8196–8225, 8740–8750, 18335). */
const REPORTS: Array<[number, string]> = [
  [0, 'Start to fetch params'],
  [0.5, 'Fetching param cache[3/6]: 120MB fetched. 50% completed, 4 secs elapsed.'],
  [1, 'Fetching param cache[6/6]: 240MB fetched. 100% completed, 9 secs elapsed.'],
  [0.5, 'Loading model from cache[3/6]: 120MB loaded. 50% completed, 10 secs elapsed.'],
  [0.25, 'Loading GPU shader modules[10/40]: 25% completed, 11 secs elapsed.'],
  [1, 'Loading GPU shader modules[40/40]: 100% completed, 12 secs elapsed.'],
  [1, 'Finish loading on WebGPU - test'],
];

const ports: MessagePort[] = [];
const doubles: MlcEngineDouble[] = [];
afterEach(() => {
  for (const port of ports.splice(0)) port.close();
  doubles.length = 0;
});

interface Setup {
  probe?: GpuProbe;
  double?: DoubleOptions;
  config?: WebLLMEngineConfig;
  start?: WebLLMLoadDeps['start'];
  fetch?: WebLLMLoadDeps['fetch'];
}

function setup(options: Setup = {}): Engine {
  const deps: WebLLMLoadDeps = {
    probe: async () => options.probe ?? F16,
    modelList: prebuiltAppConfig.model_list,
    start:
      options.start ??
      (async (record, onReport) => {
        for (const [progress, text] of REPORTS) onReport({ progress, timeElapsed: 0, text });
        const double = new MlcEngineDouble(record.model_id, options.double ?? { stopAfter: 6 });
        doubles.push(double);
        return double;
      }),
    fetch: options.fetch ?? (async () => new Response(null, { status: 200 })),
  };
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  exposeService<EngineService<ReturnType<typeof resolveWebLLMConfig>>>(createEngineService((config, onProgress, signal) => loadWebLLM(config, onProgress, signal, deps)), { endpoint: port1 as never });
  return createWorkerEngine({ name: 'webllm', spawn: () => fakeWorker(port2), config: resolveWebLLMConfig(options.config ?? {}, 'http://localhost/'), timeoutMs: 10_000 });
}

describe('loading the WebLLM engine', () => {
  it('reports progress that only grows and ends ready, and what it loaded and why', async () => {
    const engine = setup();
    const events: LoadProgress[] = [];
    const info = await engine.load({ onProgress: (p) => events.push(p) });
    expect(events.map((e) => [e.status, Number(e.fraction.toFixed(4))])).toEqual([
      ['downloading', 0],
      ['downloading', 0.4],
      ['downloading', 0.8],
      ['initializing', 0.85],
      ['initializing', 0.9225],
      ['initializing', 0.99],
      ['initializing', 0.99], // "Finish loading": no phase of its own; the bar holds
      ['ready', 1],
    ]);
    expect(info).toMatchObject({ engine: 'webllm', model: 'SmolLM2-360M-Instruct-q4f16_1-MLC', capabilities: { rollback: 'popn' } });
    expect(info.notes?.[1]).toMatch(/kv_state_popn found/);
    expect(engine.info).toEqual(info);
    await engine.dispose();
  });

  it('picks the f32 build where the adapter lacks shader-f16, and says so', async () => {
    const info = await setup({ probe: NO_F16 }).load();
    expect(info.model).toBe('SmolLM2-360M-Instruct-q4f32_1-MLC');
    expect(info.notes?.[0]).toMatch(/instead of SmolLM2-360M-Instruct-q4f16_1-MLC.*without shader-f16/);
  });

  it('fails with typed errors that cross the worker boundary and name the setting', async () => {
    const noAdapter = await setup({ probe: NO_ADAPTER }).load().catch((e: unknown) => e);
    expect(noAdapter).toBeInstanceOf(DeviceError);
    expect(noAdapter).toMatchObject({ code: 'webgpu-unavailable', message: expect.stringMatching(/Set engine to 'auto'/) });
    const noF32 = await setup({ probe: NO_F16, config: { f32Fallback: false } }).load().catch((e: unknown) => e);
    expect(noF32).toMatchObject({ code: 'shader-f16-unsupported', message: expect.stringMatching(/f32Fallback is off: set model to 'SmolLM2-360M-Instruct-q4f32_1-MLC'/) });
  });

  it('explains a model that is not there: 404, or a host that cannot be reached', async () => {
    const failing: WebLLMLoadDeps['start'] = async () => {
      throw new TypeError("Failed to execute 'add' on 'Cache': Request failed");
    };
    const config = { model: 'my-model', modelUrl: 'http://localhost:9/models/my-model', modelLibUrl: 'http://localhost:9/my-model.wasm' };
    const missing = await setup({ config, start: failing, fetch: async () => new Response(null, { status: 404 }) }).load().catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ModelError);
    expect(missing).toMatchObject({ code: 'model-not-found', message: "No model file at http://localhost:9/models/my-model/resolve/main/mlc-chat-config.json (HTTP 404): check modelUrl. WebLLM said: Failed to execute 'add' on 'Cache': Request failed" });
    const unreachable = await setup({ config, start: failing, fetch: async () => Promise.reject(new TypeError('Failed to fetch')) }).load().catch((e: unknown) => e);
    expect(unreachable).toMatchObject({ code: 'model-not-found', message: expect.stringMatching(/^Cannot reach .*Failed to fetch.*check modelUrl and the network\. WebLLM said: /) });
  });
});

describe('the WebLLM engine through its worker', () => {
  it('streams a reply in chunks and a prewarmed send equals a cold one', async () => {
    const cold = setup();
    const info = await cold.load();
    const parts = { system: 'Be brief.', draft: 'when do the tiles come?' };
    const { layoutPrompt } = await import('../../src/engine/layout');
    const full = await layoutPrompt(parts, info.template, (t) => cold.tokenize(t));
    const chunks: TokenChunk[] = [];
    const coldResult = await cold.generate(full, { onChunk: (c) => chunks.push(c), chunkTokens: 2 });
    expect(chunks.map((c) => c.text).join('')).toBe(coldResult.text);
    expect(chunks.length).toBeGreaterThan(1);

    const warm = setup();
    const typed = await layoutPrompt({ ...parts, draft: 'when do the ti' }, info.template, (t) => warm.tokenize(t), { final: false });
    expect((await warm.prewarm(typed)).complete).toBe(true);
    const sent = await warm.generate(full);
    expect(sent.tokens).toEqual(coldResult.tokens);
    expect(sent.stats.tokensReused).toBe(typed.segments.reduce((n, s) => n + s.tokens.length, 0));
    expect((await warm.held()).segments.at(-1)?.kind).toBe('history'); // the reply became history
  });

  it('an abort interrupts the worker and the call resolves as aborted', async () => {
    const engine = setup({ double: { stopAfter: 10_000 } });
    const info = await engine.load();
    const { layoutPrompt } = await import('../../src/engine/layout');
    const full = await layoutPrompt({ system: '', draft: 'go on forever' }, info.template, (t) => engine.tokenize(t));
    const control = new AbortController();
    const result = await engine.generate(full, { signal: control.signal, maxTokens: 5_000, onChunk: () => control.abort() });
    expect(result.finishReason).toBe('aborted');
    expect(result.tokens.length).toBeLessThan(5_000);
  });
});

describe('the WebLLM engine refuses bad input across the worker', () => {
  it('a malformed prompt, a prompt past the context, and a disposed engine', async () => {
    const engine = setup({ double: { contextWindowSize: 64 } });
    await expect(engine.prewarm({ segments: [{ kind: 'draft', tokens: [-1] }] })).rejects.toThrow(InvalidInputError);
    await expect(engine.generate({ segments: [{ kind: 'draft', tokens: new Array(65).fill(120) }] })).rejects.toMatchObject({ code: 'context-overflow' });
    await expect(engine.tokenize('text' as never)).rejects.toThrow(/array of strings/);
    await engine.dispose();
    await expect(engine.held()).rejects.toThrow(/disposed/);
  });
});

describe('OpenAI-shaped chat.completions.create over the engine', () => {
  const messages = [
    { role: 'system' as const, content: 'Be brief.' },
    { role: 'user' as const, content: 'when do the tiles come?' },
  ];

  it('answers as WebLLM does, non-streaming and streaming, with usage', async () => {
    const api = createChatCompletions(setup());
    const reply = await api.chat.completions.create({ messages, max_tokens: 32 });
    expect(reply).toMatchObject({ object: 'chat.completion', model: 'SmolLM2-360M-Instruct-q4f16_1-MLC', choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant' } }] });
    expect(reply.choices[0]?.message.content).toMatch(/^[a-z]{6}$/);
    expect(reply.usage).toMatchObject({ completion_tokens: 6, total_tokens: (reply.usage?.prompt_tokens ?? 0) + 6 });

    const chunks = [];
    for await (const chunk of await createChatCompletions(setup()).chat.completions.create({ messages, stream: true, stream_options: { include_usage: true } })) chunks.push(chunk);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(reply.choices[0]?.message.content);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: 6 } });
  });

  it('a follow-up that extends the conversation prefills only the new turn', async () => {
    const engine = setup();
    const api = createChatCompletions(engine);
    const first = await api.chat.completions.create({ messages });
    const before = doubles[0]?.pipeline.forwards.flat().length ?? 0;
    const followUp = [...messages, { role: 'assistant' as const, content: first.choices[0]?.message.content ?? '' }, { role: 'user' as const, content: 'and the paint?' }];
    const second = await api.chat.completions.create({ messages: followUp });
    const prefilled = (doubles[0]?.pipeline.forwards.flat().length ?? 0) - before;
    expect((second.usage as MnemeCompletionUsage).extra.tokens_reused).toBe((first.usage?.prompt_tokens ?? 0) + 6 + 2);
    // Only the new user turn and the reply header, then the 6 reply tokens and the turn end fed after them.
    const newTurn = doubleTokenizer.encode('<|im_start|>user\nand the paint?<|im_end|>\n<|im_start|>assistant\n').length;
    expect(prefilled).toBe(newTurn + 6 + 2);
  });

  it('interruptGenerate stops a reply in progress, as in WebLLM', async () => {
    const api = createChatCompletions(setup({ double: { stopAfter: 10_000 } }));
    const stream = await api.chat.completions.create({ messages, stream: true, max_tokens: 5_000 });
    const chunks = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
      if (chunks.length === 2) api.interruptGenerate();
    }
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('abort');
    expect(chunks.length).toBeLessThan(100);
  });

  it('refuses requests it cannot answer as asked', async () => {
    const api = createChatCompletions(setup());
    await expect(api.chat.completions.create({ messages: [] })).rejects.toThrow(InvalidInputError);
    await expect(api.chat.completions.create({ messages: [{ role: 'system', content: 'x' }] })).rejects.toThrow(/last message must be the user's/);
    await expect(api.chat.completions.create({ messages, tools: [] })).rejects.toThrow(/'tools' is not supported/);
    await expect(api.chat.completions.create({ messages, n: 2 })).rejects.toThrow(/n must be 1/);
  });
});
