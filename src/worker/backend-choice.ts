/**
 * Which tfjs backend to run on, and why. 'auto' prefers a hardware WebGPU adapter; on a software
 * adapter (SwiftShader, llvmpipe: what machines without a GPU get) tfjs's WASM backend is several
 * times faster on the CPU, so it comes first there; then WebGL, then plain JS (cpu).
 */
import type { BackendChoice, BackendName } from './protocol';

/** What the browser says about a WebGPU adapter (GPUAdapterInfo plus isFallbackAdapter). */
export interface AdapterFacts {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

export type WebGpuProbe =
  { available: false; why: string } | { available: true; software: boolean; name: string };

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|software|basic render|warp/i;

/** True for CPU-emulated adapters. */
export function isSoftwareAdapter(f: AdapterFacts): boolean {
  if (f.isFallbackAdapter) return true;
  return [f.vendor, f.architecture, f.device, f.description].some((s) => s !== undefined && SOFTWARE.test(s));
}

export function adapterName(f: AdapterFacts): string {
  return [f.vendor, f.architecture, f.device, f.description].filter(Boolean).join(' ') || 'unnamed adapter';
}

interface GpuLike {
  requestAdapter(opts?: Record<string, unknown>): Promise<
    | (AdapterFacts & {
        info?: AdapterFacts;
        requestAdapterInfo?: () => Promise<AdapterFacts>;
      })
    | null
  >;
}

/** Asks the browser for a WebGPU adapter and classifies it. Never throws. */
export async function probeWebGpu(): Promise<WebGpuProbe> {
  const gpu = (globalThis.navigator as { gpu?: GpuLike } | undefined)?.gpu;
  if (!gpu) return { available: false, why: 'this browser has no WebGPU (navigator.gpu)' };
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return { available: false, why: 'no WebGPU adapter was offered' };
    const info: AdapterFacts =
      adapter.info ?? (adapter.requestAdapterInfo ? await adapter.requestAdapterInfo() : {});
    const facts = { ...info, isFallbackAdapter: adapter.isFallbackAdapter ?? info.isFallbackAdapter };
    return { available: true, software: isSoftwareAdapter(facts), name: adapterName(facts) };
  } catch (e) {
    return { available: false, why: `requesting a WebGPU adapter failed: ${(e as Error).message}` };
  }
}

/** The order in which to try backends for a choice, with the reason for the first one. */
export function planBackends(
  choice: BackendChoice,
  probe: WebGpuProbe,
): { order: BackendName[]; reason: string } {
  if (choice !== 'auto') {
    const rest = (['wasm', 'webgl', 'cpu'] as const).filter((b) => b !== choice);
    // Honoured, but said: on a software adapter every step and query is several times slower than WASM.
    const slow =
      choice === 'webgpu' && probe.available && probe.software
        ? `; the WebGPU adapter is a software one (${probe.name}), slower than WASM on this CPU`
        : '';
    return { order: [choice, ...rest], reason: `requested ${choice}${slow}` };
  }
  if (probe.available && !probe.software)
    return {
      order: ['webgpu', 'wasm', 'webgl', 'cpu'],
      reason: `auto: hardware WebGPU adapter (${probe.name})`,
    };
  if (probe.available)
    return {
      order: ['wasm', 'webgl', 'cpu'],
      reason: `auto: the WebGPU adapter is a software one (${probe.name}); WASM is faster on this CPU`,
    };
  return { order: ['wasm', 'webgl', 'cpu'], reason: `auto: ${probe.why}; WASM runs on the CPU` };
}
