/**
 * tfjs's WebGPU backend in Node, with no browser: the npm package `webgpu` (Dawn's Node bindings, a
 * prebuilt `dist/<platform>-<arch>/dawn.node`) provides `navigator.gpu`; on Linux Dawn drives the GPU
 * through Vulkan, so it needs the Vulkan loader (`libvulkan.so.1`) and a Vulkan driver (an ICD: the
 * NVIDIA driver's `nvidia_icd.json`, or a software one such as Chromium's SwiftShader). Used by
 * `npm run bench:gpu` (../bench-gpu.ts).
 *
 * Each missing piece is named in the error: no `webgpu` package, no dawn.node for this platform, no
 * Vulkan loader, no adapter (with the Vulkan drivers that were found).
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '../../src/model/tf';
import { initBackend } from '../../src/model/backend';

const require = createRequire(import.meta.url);

/** What is missing for WebGPU in Node; `message` says it in one paragraph. */
export class NodeWebGPUMissing extends Error {
  override name = 'NodeWebGPUMissing';
}

export interface NodeWebGPUOptions {
  /** Dawn's `adapter=` option: an adapter by name (a wrong name makes Dawn list them). */
  adapter?: string;
  /** Dawn's `backend=` option ('vulkan', 'null', ...). */
  backend?: string;
}

export interface NodeWebGPUInfo {
  /** Vendor, architecture, device and description as the adapter reports them, in one line. */
  adapter: string;
  description: string;
  limits: { maxStorageBufferBindingSize: number; maxBufferSize: number };
}

/** Folders where the Vulkan loader looks for drivers (ICD manifests) on Linux, and what they hold. */
function vulkanDrivers(): string[] {
  const fromEnv = (process.env.VK_ICD_FILENAMES ?? process.env.VK_DRIVER_FILES ?? '')
    .split(':')
    .filter(Boolean);
  const dirs = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
  const found = dirs.flatMap((d) =>
    existsSync(d)
      ? readdirSync(d)
          .filter((f) => f.endsWith('.json'))
          .map((f) => path.join(d, f))
      : [],
  );
  return fromEnv.length ? fromEnv.map((f) => `${f} (VK_ICD_FILENAMES)`) : found;
}

/**
 * Whether the dynamic linker finds `lib` (e.g. libvulkan.so.1): Node's dlopen of a library that is not
 * a Node addon loads it and then fails with "did not self-register"; a missing one fails to open.
 */
function sharedLibraryLoads(lib: string): { ok: boolean; why?: string } {
  try {
    process.dlopen({ exports: {} } as NodeJS.Module, lib);
    return { ok: true };
  } catch (e) {
    const m = (e as Error).message;
    if (/cannot open shared object|No such file/i.test(m)) return { ok: false, why: m };
    return { ok: true }; // loaded; it just is not an addon
  }
}

/**
 * Makes Dawn's adapter tfjs's 'webgpu' backend. Throws {@link NodeWebGPUMissing} naming what is missing.
 */
export async function initNodeWebGPU(opts: NodeWebGPUOptions = {}): Promise<NodeWebGPUInfo> {
  let pkgDir: string;
  try {
    pkgDir = path.dirname(require.resolve('webgpu/package.json'));
  } catch {
    throw new NodeWebGPUMissing(
      "the npm package 'webgpu' (Dawn for Node) is not installed: carry node_modules/webgpu with the working tree, or run `npm install`",
    );
  }
  const arch = process.platform === 'darwin' ? 'universal' : process.arch;
  const dawn = path.join(pkgDir, 'dist', `${process.platform}-${arch}`, 'dawn.node');
  if (!existsSync(dawn))
    throw new NodeWebGPUMissing(
      `the webgpu package has no prebuilt Dawn for ${process.platform}-${arch}: ${dawn} is missing ` +
        '(it is ~21 MB: was node_modules copied without it?)',
    );
  if (process.platform === 'linux') {
    const vk = sharedLibraryLoads('libvulkan.so.1');
    if (!vk.ok)
      throw new NodeWebGPUMissing(
        'no Vulkan loader: libvulkan.so.1 cannot be loaded (Dawn drives the GPU through Vulkan). ' +
          "On an NVIDIA machine it comes with the driver's Vulkan support (Debian/Ubuntu: libvulkan1, or copy " +
          'libvulkan.so.1 next to the tree and set LD_LIBRARY_PATH to its folder). ' +
          `(${vk.why})`,
      );
  }
  const webgpu = (await import('webgpu')) as unknown as {
    create(flags: string[]): GPU;
    globals: Record<string, unknown>;
  };
  // GPUBufferUsage, GPUMapMode, ...: tfjs reads them as globals, as in a browser.
  Object.assign(globalThis, webgpu.globals);
  const flags = [
    ...(opts.adapter ? [`adapter=${opts.adapter}`] : []),
    ...(opts.backend ? [`backend=${opts.backend}`] : []),
  ];
  let gpu: GPU;
  try {
    gpu = webgpu.create(flags);
  } catch (e) {
    throw new NodeWebGPUMissing(`Dawn refused ${flags.join(' ') || 'its defaults'}: ${(e as Error).message}`);
  }
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    throw new NodeWebGPUMissing(`Dawn's requestAdapter failed: ${(e as Error).message}`);
  }
  if (!adapter) {
    const drivers = vulkanDrivers();
    throw new NodeWebGPUMissing(
      'no WebGPU adapter: Dawn found no usable GPU (its warnings above say why). ' +
        (drivers.length
          ? `Vulkan drivers seen: ${drivers.join(', ')}. `
          : 'No Vulkan driver (ICD manifest) in /usr/share/vulkan/icd.d, /etc/vulkan/icd.d or VK_ICD_FILENAMES. ') +
        "An NVIDIA GPU needs the driver's Vulkan ICD (nvidia_icd.json with libGLX_nvidia.so.0); " +
        'a software adapter for a check: VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json (SwiftShader, from Chromium).',
    );
  }
  const chosen = adapter;
  // tfjs asks for the device with WebGPU's default of 8 storage buffers per shader stage, and its AddN
  // of 8 or more tensors (e.g. the composite LN-GRU backward summing its layer-norm gradients over 12
  // steps) needs more: ask for what the adapter has (a GPU: far more than 8).
  const requestDevice = chosen.requestDevice.bind(chosen);
  chosen.requestDevice = (d?: GPUDeviceDescriptor) =>
    requestDevice({
      ...d,
      requiredLimits: {
        ...d?.requiredLimits,
        maxStorageBuffersPerShaderStage: chosen.limits.maxStorageBuffersPerShaderStage,
      },
    });
  // tfjs's backend asks navigator.gpu for an adapter itself: give it this one. Node 20 has no navigator;
  // Node 21+ has one without `gpu`.
  const nav = { gpu: Object.assign(Object.create(gpu) as GPU, { requestAdapter: async () => chosen }) };
  const g = globalThis as unknown as { navigator?: object };
  if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: nav.gpu, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: nav, configurable: true });
  const name = await initBackend('webgpu');
  if (name !== 'webgpu') throw new NodeWebGPUMissing(`tfjs chose '${name}' instead of webgpu`);
  const info = chosen.info;
  const adapterLine =
    [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' / ') ||
    'unnamed adapter';
  const limits = (tf.backend() as unknown as { device: GPUDevice }).device.limits;
  return {
    adapter: adapterLine,
    description: info.description || info.device || info.architecture || '',
    limits: {
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
    },
  };
}

/**
 * Nominal peak memory bandwidth (GB/s) of a few data-centre GPUs, by the adapter's name (Vulkan's
 * deviceName, e.g. "NVIDIA H100 80GB HBM3"); more specific names first. Vendor data sheets.
 */
export const PEAK_GBPS: readonly { match: RegExp; gbps: number; name: string }[] = [
  { match: /H200/i, gbps: 4800, name: 'H200' },
  { match: /H100.*PCIe/i, gbps: 2000, name: 'H100 PCIe' },
  { match: /H100.*NVL/i, gbps: 3900, name: 'H100 NVL' },
  { match: /H100/i, gbps: 3350, name: 'H100 SXM' },
  { match: /A100.*80\s*GB/i, gbps: 2039, name: 'A100 80GB' },
  { match: /A100/i, gbps: 1555, name: 'A100 40GB' },
];

/** The peak bandwidth for an adapter name, or undefined when the table does not know it. */
export function peakBandwidth(adapterName: string): { gbps: number; name: string } | undefined {
  return PEAK_GBPS.find((p) => p.match.test(adapterName));
}
