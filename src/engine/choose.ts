// Which engine runs the model on this device: WebLLM where WebGPU gives a
// hardware adapter, the transformers.js engine (WASM) everywhere else — a
// software (fallback) adapter included, as it is slower than WASM. The device is
// probed once (probe.ts); the choice itself is pure, configured per call, and
// says why.
import { InvalidInputError } from '../errors';
import { probeGpu, type GpuProbe } from './probe';

export const ENGINE_KINDS = ['webllm', 'transformers'] as const;
export type EngineKind = (typeof ENGINE_KINDS)[number];

export interface EngineChoiceConfig {
  /** 'auto' (default) picks by the device; 'webllm' or 'transformers' forces one. */
  engine?: 'auto' | EngineKind;
}

export interface EngineChoice {
  readonly engine: EngineKind;
  /** Why, in one sentence a log or a settings page can show. */
  readonly reason: string;
  readonly forced: boolean;
  readonly probe: GpuProbe;
}

/**
 * Picks the engine for a probed device.
 * @throws InvalidInputError when `config.engine` is not 'auto', 'webllm' or 'transformers'
 */
export function chooseEngine(probe: GpuProbe, config: EngineChoiceConfig = {}): EngineChoice {
  const wanted = config.engine ?? 'auto';
  if (wanted !== 'auto' && !ENGINE_KINDS.includes(wanted)) {
    throw new InvalidInputError('invalid-input', `engine must be 'auto', 'webllm' or 'transformers', got ${JSON.stringify(wanted)}`);
  }
  if (wanted !== 'auto') {
    const caveat = wanted === 'webllm' && !probe.adapter ? '; it will fail to load here, set engine to \'auto\' to fall back' : '';
    return Object.freeze({ engine: wanted, forced: true, probe, reason: `engine '${wanted}' was set in the configuration (${probe.summary}${caveat})` });
  }
  if (probe.adapter && !probe.adapter.isFallbackAdapter) {
    return Object.freeze({ engine: 'webllm', forced: false, probe, reason: `${probe.summary}: WebLLM runs the model on the GPU` });
  }
  if (probe.adapter) {
    const reason = `${probe.summary}: a software adapter runs a model slower than WASM, so the transformers.js engine does (set engine to 'webllm' to use the adapter anyway)`;
    return Object.freeze({ engine: 'transformers', forced: false, probe, reason });
  }
  return Object.freeze({ engine: 'transformers', forced: false, probe, reason: `${probe.summary}: the transformers.js engine runs the model on the CPU (WASM)` });
}

/** Probes this context's GPU (once) and picks the engine. */
export async function chooseEngineHere(config: EngineChoiceConfig = {}): Promise<EngineChoice> {
  return chooseEngine(await probeGpu(), config);
}
