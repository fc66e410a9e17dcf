// Loads a WebLLM model in the worker and wraps it as a LoadedEngine: probe the
// GPU, pick the model record (f32 build where shader-f16 is missing), let
// MLCEngine fetch and compile it, then drive its pipeline with our own loop
// (primitives.ts) under the CacheDriver. Failures become MnemeErrors naming
// the setting that fixes them.
import { MLCEngine, prebuiltAppConfig, type InitProgressReport, type ModelRecord } from '@mlc-ai/web-llm';
import { DeviceError, InvalidInputError, ModelError, RpcError } from '../../errors';
import { CacheDriver } from '../driver';
import type { LoadedEngine } from '../engine-service';
import { probeGpu, type GpuProbe } from '../probe';
import type { EngineInfo, LoadProgress } from '../types';
import { selectModel, type ResolvedWebLLMConfig } from './config';
import { reachPipeline, type MlcEngineLike } from './internals';
import { createWebLLMPrimitives } from './primitives';
import { templatePieces } from './template';

/** Greedy decoding: the cache mechanism is checked by comparing token ids, so sampling must not vary. */
const GREEDY = Object.freeze({ temperature: 0, top_p: 0, repetition_penalty: 1, frequency_penalty: 0, presence_penalty: 0 });

/**
 * WebLLM's progress phases, by the text its reports start with (tvmjs in
 * index.js 8196–8225, 8740–8750), and the part of the bar each fills.
 */
const PHASES = [
  { text: 'Fetching param cache', status: 'downloading', from: 0, to: 0.8 },
  { text: 'Loading model from cache', status: 'initializing', from: 0.8, to: 0.9 },
  { text: 'Loading GPU shader modules', status: 'initializing', from: 0.9, to: 0.99 },
] as const;

/** One WebLLM report as LoadProgress; `fraction` never goes below `previous`. WebLLM reports no byte counts. */
export function webllmProgress(report: InitProgressReport, previous: number): LoadProgress {
  const phase = PHASES.find((p) => report.text.startsWith(p.text));
  const share = Math.min(1, Math.max(0, report.progress));
  const fraction = phase ? phase.from + (phase.to - phase.from) * share : previous;
  const status = phase?.status ?? (previous >= 0.8 ? 'initializing' : 'downloading');
  return { status, file: undefined, loaded: 0, total: 0, fraction: Math.max(previous, Math.min(fraction, 0.99)) };
}

export interface WebLLMLoadDeps {
  probe: () => Promise<GpuProbe>;
  modelList: readonly ModelRecord[];
  /** Starts an engine for one model record and loads it; `signal` aborts the load. */
  start: (record: ModelRecord, onReport: (report: InitProgressReport) => void, signal: AbortSignal) => Promise<MlcEngineLike>;
  fetch: typeof fetch;
}

export const WEBLLM_LOAD_DEPS: WebLLMLoadDeps = Object.freeze({
  probe: probeGpu,
  modelList: prebuiltAppConfig.model_list,
  start: startMlcEngine,
  fetch: (input: RequestInfo | URL, init?: RequestInit) => fetch(input, init),
});

export async function loadWebLLM(
  config: ResolvedWebLLMConfig,
  onProgress: (progress: LoadProgress) => void,
  signal: AbortSignal,
  deps: WebLLMLoadDeps = WEBLLM_LOAD_DEPS,
): Promise<LoadedEngine> {
  const probe = await deps.probe();
  const selection = selectModel(config, deps.modelList, probe);
  const { record } = selection;
  let fraction = 0;
  const onReport = (report: InitProgressReport) => {
    const progress = webllmProgress(report, fraction);
    fraction = progress.fraction;
    onProgress(progress);
  };
  let engine: MlcEngineLike;
  try {
    engine = await deps.start(record, onReport, signal);
  } catch (error) {
    if (signal.aborted) throw new RpcError('aborted', `Loading ${record.model_id} was aborted`);
    throw await explainLoadFailure(error, record, config, deps.fetch);
  }
  const pipeline = reachPipeline(engine, record.model_id);
  const primitives = createWebLLMPrimitives(engine, pipeline);
  const encode = (text: string): number[] => Array.from(pipeline.tokenizer.encode(text));
  const template = templatePieces(pipeline.config.conv_template, encode);
  const decode = (ids: readonly number[]): string => pipeline.tokenizer.decode(Int32Array.from(ids));
  const driver = new CacheDriver(primitives, { template, decode, sliceTokens: config.sliceTokens });
  const info: EngineInfo = Object.freeze({
    engine: 'webllm',
    model: record.model_id,
    device: probe.summary,
    capabilities: primitives.capabilities,
    template,
    notes: Object.freeze([selection.note, primitives.rollbackNote]),
  });
  onProgress({ status: 'ready', file: undefined, loaded: 0, total: 0, fraction: 1 });
  return {
    info,
    driver,
    tokenize: (texts) => texts.map(encode),
    async dispose() {
      primitives.dispose();
      await engine.unload();
    },
  };
}

/** The real thing: one MLCEngine holding one model, loaded with greedy sampling. */
async function startMlcEngine(record: ModelRecord, onReport: (report: InitProgressReport) => void, signal: AbortSignal): Promise<MlcEngineLike> {
  const engine = new MLCEngine({ appConfig: { model_list: [record] }, initProgressCallback: onReport });
  const onAbort = () => void engine.unload(); // unload aborts a reload in flight
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await engine.reload(record.model_id, GREEDY);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  return engine;
}

/**
 * Turns a failed load into a MnemeError that says what to change. WebLLM's own
 * errors are recognized by name; a failed fetch (the Cache API's add rejects
 * with a bare TypeError) is explained by asking the model's URLs again.
 */
export async function explainLoadFailure(error: unknown, record: ModelRecord, config: ResolvedWebLLMConfig, fetchFn: typeof fetch): Promise<Error> {
  const name = error instanceof Error ? error.name : '';
  const detail = error instanceof Error ? error.message : String(error);
  if (name === 'WebGPUNotAvailableError') {
    return new DeviceError('webgpu-unavailable', `WebLLM found no WebGPU device: set engine to 'auto' or 'transformers' to run on the CPU`, { cause: error });
  }
  if (name === 'ShaderF16SupportError') {
    return new DeviceError('shader-f16-unsupported', `${record.model_id} needs shader-f16, which this GPU lacks: leave f32Fallback on or set model to an f32 build`, { cause: error });
  }
  if (name === 'ModelNotFoundError') return new InvalidInputError('invalid-input', `WebLLM has no record of ${record.model_id}: check model`);
  const setting = config.modelUrl ? 'modelUrl' : 'model';
  const probes: Array<[url: string, setting: string]> = [
    [new URL('mlc-chat-config.json', webllmModelUrl(record.model)).href, setting],
    [record.model_lib, config.modelLibUrl ? 'modelLibUrl' : setting],
  ];
  for (const [url, fix] of probes) {
    let status: number;
    try {
      status = (await fetchFn(url, { method: 'HEAD', cache: 'no-store' })).status;
    } catch (reachError) {
      const why = reachError instanceof Error ? reachError.message : String(reachError);
      return new ModelError('model-not-found', `Cannot reach ${url} (${why}): check ${fix} and the network. WebLLM said: ${detail}`, { cause: error });
    }
    if (status >= 400) return new ModelError('model-not-found', `No model file at ${url} (HTTP ${status}): check ${fix}. WebLLM said: ${detail}`, { cause: error });
  }
  return new ModelError('model-load-failed', `WebLLM could not load ${record.model_id}: ${detail}`, { cause: error });
}

/** The URL WebLLM reads a model's files under: `resolve/main/` is appended unless there is a `/resolve/…/` part (index.js 11280–11287). */
function webllmModelUrl(model: string): string {
  let url = model.endsWith('/') ? model : `${model}/`;
  if (!/.+\/resolve\/.+\//.test(url)) url += 'resolve/main/';
  return new URL(url, globalThis.location?.href).href;
}
