// What this device offers an engine: WebGPU, an adapter, and its features;
// and the browser's built-in model (the Prompt API), and whether it is ready.
// Probed once per page or worker into a frozen object (nothing is touched
// until the first call, so this module imports under Node); configuration is
// never stored here.
import { languageModelHere, type LanguageModelApi, type LanguageModelAvailability } from './prompt-api/api';

/** The parts of the WebGPU API the probe reads (TypeScript's DOM types carry none of it). */
export interface GpuLike {
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<GpuAdapterLike | null>;
}

export interface GpuAdapterLike {
  readonly features: { has(feature: string): boolean; forEach(callback: (feature: string) => void): void };
  readonly limits: { readonly maxBufferSize: number; readonly maxStorageBufferBindingSize: number };
  readonly info?: { vendor?: string; architecture?: string; description?: string; isFallbackAdapter?: boolean };
  readonly isFallbackAdapter?: boolean;
}

export interface AdapterReport {
  readonly vendor: string;
  readonly architecture: string;
  readonly description: string;
  /** True for a software or otherwise degraded adapter (e.g. SwiftShader): correct but slow. */
  readonly isFallbackAdapter: boolean;
  /** Feature names, sorted. */
  readonly features: readonly string[];
  readonly maxBufferSize: number;
  readonly maxStorageBufferBindingSize: number;
}

export interface GpuProbe {
  /** `navigator.gpu` exists. */
  readonly webgpu: boolean;
  /** The adapter the browser gave, if any. */
  readonly adapter: AdapterReport | undefined;
  /** The adapter can run f16 shaders (WebLLM's q4f16 / q0f16 models need it). */
  readonly shaderF16: boolean;
  /** One line on what was found, for logs and for the engine choice's reason. */
  readonly summary: string;
}

let probed: Promise<GpuProbe> | undefined;

/** This context's GPU, probed on the first call; later calls share the same frozen result. */
export function probeGpu(): Promise<GpuProbe> {
  probed ??= inspectGpu((globalThis.navigator as { gpu?: GpuLike } | undefined)?.gpu);
  return probed;
}

/** Inspects one WebGPU entry point (`navigator.gpu`, or a stand-in in tests). Never throws. */
export async function inspectGpu(gpu: GpuLike | undefined): Promise<GpuProbe> {
  if (!gpu || typeof gpu.requestAdapter !== 'function') {
    return freeze({ webgpu: false, adapter: undefined, shaderF16: false, summary: 'WebGPU is not available in this browser (no navigator.gpu)' });
  }
  let adapter: GpuAdapterLike | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return freeze({ webgpu: true, adapter: undefined, shaderF16: false, summary: `WebGPU is present but requesting an adapter failed: ${detail}` });
  }
  if (!adapter) {
    return freeze({ webgpu: true, adapter: undefined, shaderF16: false, summary: 'WebGPU is present but the browser offers no adapter (GPU blocked or disabled)' });
  }
  const features: string[] = [];
  adapter.features.forEach((feature) => features.push(feature));
  features.sort();
  const info = adapter.info ?? {};
  const report: AdapterReport = Object.freeze({
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    description: info.description ?? '',
    isFallbackAdapter: info.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false,
    features: Object.freeze(features),
    maxBufferSize: adapter.limits.maxBufferSize,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
  });
  const shaderF16 = adapter.features.has('shader-f16');
  const name = [report.vendor, report.architecture].filter((s) => s !== '').join(' ') || 'unnamed';
  const kind = report.isFallbackAdapter ? 'fallback (software) adapter' : 'adapter';
  return freeze({ webgpu: true, adapter: report, shaderF16, summary: `WebGPU ${kind} ${name}, ${shaderF16 ? 'with' : 'without'} shader-f16` });
}

function freeze(probe: GpuProbe): GpuProbe {
  return Object.freeze(probe);
}

/** Whether this context has the browser's built-in model (the Prompt API's `LanguageModel`), and in what state. */
export interface BuiltInModelProbe {
  /** `LanguageModel` exists here (pages of Chrome 148+; never workers). */
  readonly present: boolean;
  /** What `LanguageModel.availability()` answered; undefined when absent or when it failed. */
  readonly availability: LanguageModelAvailability | undefined;
  /** One line on what was found, for logs and for the engine choice's reason. */
  readonly summary: string;
}

let builtInProbed: Promise<BuiltInModelProbe> | undefined;

/** This context's built-in model, probed on the first call; later calls share the same frozen result. */
export function probeBuiltInModel(): Promise<BuiltInModelProbe> {
  builtInProbed ??= inspectBuiltInModel(languageModelHere());
  return builtInProbed;
}

/** Asks one `LanguageModel` (or a double in tests) for its availability. Never throws. */
export async function inspectBuiltInModel(api: LanguageModelApi | undefined): Promise<BuiltInModelProbe> {
  if (!api) return Object.freeze({ present: false, availability: undefined, summary: 'no built-in model here (no LanguageModel: Chrome 148+ pages only, never workers)' });
  try {
    const availability = await api.availability();
    const what: Record<LanguageModelAvailability, string> = {
      available: 'ready',
      downloadable: 'not downloaded yet',
      downloading: 'still downloading',
      unavailable: 'unavailable on this device',
    };
    return Object.freeze({ present: true, availability, summary: `the built-in model is ${what[availability] ?? `'${String(availability)}'`} (LanguageModel.availability() is '${String(availability)}')` });
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return Object.freeze({ present: true, availability: undefined, summary: `LanguageModel is present but availability() failed: ${detail}` });
  }
}
