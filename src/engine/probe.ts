// What this device offers an engine: WebGPU, an adapter, and its features.
// Probed once per page or worker into a frozen object (nothing is touched
// until the first call, so this module imports under Node); configuration is
// never stored here.

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
