// Which engine runs the model on this device: WebLLM where WebGPU gives a
// hardware adapter; else Chrome's built-in model (the Prompt API) where it is
// ready ('available': nothing to download); else the transformers.js engine
// (WASM) — a software (fallback) adapter included, as it is slower than WASM.
// The device is probed once (probe.ts); the choice itself is pure, configured
// per call, and says why.
import { InvalidInputError } from '../errors';
import { probeBuiltInModel, probeGpu, type BuiltInModelProbe, type GpuProbe } from './probe';

export const ENGINE_KINDS = ['webllm', 'prompt-api', 'transformers'] as const;
export type EngineKind = (typeof ENGINE_KINDS)[number];

export interface EngineChoiceConfig {
  /** 'auto' (default) picks by the device; 'webllm', 'prompt-api' or 'transformers' forces one. */
  engine?: 'auto' | EngineKind;
}

export interface EngineChoice {
  readonly engine: EngineKind;
  /** Why, in one sentence a log or a settings page can show. */
  readonly reason: string;
  readonly forced: boolean;
  readonly probe: GpuProbe;
  readonly builtIn: BuiltInModelProbe;
}

/** The built-in model as a choice sees it when it was not probed (Node, or a caller that only probed the GPU). */
export const BUILT_IN_NOT_PROBED: BuiltInModelProbe = Object.freeze({ present: false, availability: undefined, summary: 'the built-in model was not probed' });

/**
 * Picks the engine for a probed device.
 * @throws InvalidInputError when `config.engine` is not 'auto', 'webllm', 'prompt-api' or 'transformers'
 */
export function chooseEngine(probe: GpuProbe, config: EngineChoiceConfig = {}, builtIn: BuiltInModelProbe = BUILT_IN_NOT_PROBED): EngineChoice {
  const wanted = config.engine ?? 'auto';
  if (wanted !== 'auto' && !ENGINE_KINDS.includes(wanted)) {
    throw new InvalidInputError('invalid-input', `engine must be 'auto', ${ENGINE_KINDS.map((k) => `'${k}'`).join(', ')}, got ${JSON.stringify(wanted)}`);
  }
  const choice = (engine: EngineKind, reason: string, forced = false): EngineChoice => Object.freeze({ engine, forced, probe, builtIn, reason });
  if (wanted !== 'auto') {
    const fails = (wanted === 'webllm' && !probe.adapter) || (wanted === 'prompt-api' && builtIn.availability !== 'available' && builtIn !== BUILT_IN_NOT_PROBED);
    const found = wanted === 'prompt-api' ? builtIn.summary : probe.summary;
    return choice(wanted, `engine '${wanted}' was set in the configuration (${found}${fails ? "; it will fail to load here, set engine to 'auto' to fall back" : ''})`, true);
  }
  if (probe.adapter && !probe.adapter.isFallbackAdapter) return choice('webllm', `${probe.summary}: WebLLM runs the model on the GPU`);
  const seen = builtIn === BUILT_IN_NOT_PROBED ? probe.summary : `${probe.summary}; ${builtIn.summary}`;
  if (builtIn.availability === 'available') return choice('prompt-api', `${seen}: Chrome's built-in model answers through the Prompt API (nothing to download)`);
  if (probe.adapter) {
    return choice('transformers', `${seen}: a software adapter runs a model slower than WASM, so the transformers.js engine does (set engine to 'webllm' to use the adapter anyway)`);
  }
  return choice('transformers', `${seen}: the transformers.js engine runs the model on the CPU (WASM)`);
}

/** Probes this context's GPU and built-in model (once each) and picks the engine. */
export async function chooseEngineHere(config: EngineChoiceConfig = {}): Promise<EngineChoice> {
  const [gpu, builtIn] = await Promise.all([probeGpu(), probeBuiltInModel()]);
  return chooseEngine(gpu, config, builtIn);
}
