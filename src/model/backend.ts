/**
 * Backend selection for the model core. No DOM and no Node APIs here: the caller says where the tfjs
 * wasm binaries are (a URL path in the browser, a folder in Node; see scripts/lib/node-backend.ts).
 */
import * as tf from './tf';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { installHostMatMul, matMulKernel, uninstallHostMatMul } from './kernels/matmul-host';
import type { MatMulBuild, MatMulChoice } from './kernels/matmul-choice';

export { MATMUL_CHOICES, type MatMulChoice } from './kernels/matmul-choice';

export type BackendName = 'wasm' | 'cpu' | 'webgl' | 'webgpu';

export interface BackendOptions {
  /** Folder or URL prefix that holds tfjs-backend-wasm's *.wasm files (ends with '/'). */
  wasmPath?: string;
  /**
   * wasm only: how many threads multiply (undefined: one per core), where the environment allows
   * threads: our matMul's helper threads (the page's worker starts them), or, with `matMul:
   * 'xnnpack'`, XNNPACK's in tfjs's threaded SIMD build. 1: the single-threaded SIMD build alone.
   */
  threads?: number;
  /** wasm only: give up on tfjs's threaded build (and fall back) when it is not up after this long. */
  threadsTimeoutMs?: number;
  /**
   * wasm only: which kernel multiplies (./kernels/matmul-host.ts): 'host' (the default) our SIMD
   * product, its relaxed-SIMD build where the runtime has relaxed SIMD; 'relaxed' or 'plain' that
   * build; 'xnnpack' tfjs's own. Our kernel runs on the calling thread until the page's worker gives
   * it helper threads (src/worker/matmul-threads.ts).
   */
  matMul?: MatMulChoice;
}

/** How the wasm backend runs: its thread count, and why not more when threads were wanted. */
export interface WasmThreading {
  threads: number;
  /** Set when threads were wanted (none or more than 1 requested) but the single-threaded build runs. */
  why?: string;
  /** The build of our matMul kernel that multiplies, absent where tfjs's does. */
  matMul?: MatMulBuild;
}

let wasmThreading: WasmThreading | null = null;

/** The wasm backend's threading after `initBackend('wasm')`, or null for other backends / before. */
export function wasmThreadingInfo(): WasmThreading | null {
  return tf.getBackend() === 'wasm' ? wasmThreading : null;
}

/** tfjs's test of shared WebAssembly memory, as first answered (initWasm then sets the flag false). */
let sharesMemory: boolean | undefined;

/**
 * Why wasm threads cannot run here, or null when they can. Threads are Web Workers sharing a
 * WebAssembly.Memory (tfjs's threaded build's heap, or our matMul's stage), which needs
 * SharedArrayBuffer, which browsers give only to cross-origin isolated pages (COOP + COEP headers,
 * scripts/lib/vite-security-headers.ts) and their workers. tfjs ships the threaded build with SIMD
 * only, and does not run it in Node (the Node tools have their own threads: scripts/lib/parallel-pool.ts).
 */
export async function threadsUnavailable(): Promise<string | null> {
  if (tf.env().getBool('IS_NODE')) return "tfjs's threaded wasm does not run in Node";
  const g = globalThis as { crossOriginIsolated?: boolean };
  if (g.crossOriginIsolated === false)
    return 'the page is not cross-origin isolated (it was served without the COOP/COEP headers)';
  if (typeof SharedArrayBuffer === 'undefined') return 'this browser has no SharedArrayBuffer';
  if (!(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))) return 'this browser has no WebAssembly SIMD';
  sharesMemory ??= (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) as boolean;
  if (!sharesMemory) return 'this browser cannot share WebAssembly memory between threads';
  return null;
}

/** Most threads tfjs's threaded build runs (its pthread pool holds 8 workers). */
export const MAX_WASM_THREADS = 8;

type NavigatorLike = { hardwareConcurrency?: number };

/** The default thread count: one per logical core (navigator.hardwareConcurrency), 1 to 8. */
export function defaultThreads(): number {
  const n = (globalThis.navigator as NavigatorLike | undefined)?.hardwareConcurrency;
  return Number.isInteger(n) && n! > 0 ? Math.min(n!, MAX_WASM_THREADS) : 1;
}

/**
 * Runs `start` while navigator.hardwareConcurrency reads `2 * threads`. tfjs's threaded build caps its
 * thread pool at hardwareConcurrency / 2 (read once, as the module starts: it assumes two hyperthreads per
 * core), whatever setThreadsCount asks, so on a 2-core machine it would never run more than 1 thread.
 */
async function withLogicalCores<T>(threads: number, start: () => Promise<T>): Promise<T> {
  const nav = globalThis.navigator as NavigatorLike | undefined;
  if (!nav) return start();
  Object.defineProperty(nav, 'hardwareConcurrency', { value: 2 * threads, configurable: true });
  try {
    return await start();
  } finally {
    delete nav.hardwareConcurrency; // the prototype's getter again
  }
}

/** setBackend('wasm'), rejected after `ms` (a threaded build whose pthread workers never load hangs). */
async function setWasmBackend(ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`its threads were not up after ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([tf.setBackend('wasm'), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Sets up the wasm backend. With our matMul kernel (the default): tfjs's single-threaded SIMD build,
 * and, where threads are wanted and can run, `threads` of them for the kernel's large products (helper
 * workers the page's worker starts on a stage of their own: ./kernels/matmul-stage.ts,
 * src/worker/matmul-threads.ts); tfjs's threaded build ran its other ops about 17% slower, on one
 * thread or more (docs/benchmarks.md). With tfjs's matMul ('xnnpack'): the threaded SIMD build with
 * `threads` threads where it can run. Else, or where that build fails or hangs, the single-threaded
 * build, saying why in `wasmThreadingInfo()` (nothing else has been set up yet, so nothing is lost).
 */
async function initWasm(opts: BackendOptions): Promise<boolean> {
  uninstallHostMatMul(); // tfjs's own until a build is up
  if (opts.wasmPath) setWasmPaths(opts.wasmPath);
  const wanted = Math.min(opts.threads ?? defaultThreads(), MAX_WASM_THREADS);
  const why = wanted > 1 ? await threadsUnavailable() : 'one thread was requested';
  if (why === null && opts.matMul === 'xnnpack') {
    setThreadsCount(wanted);
    let failure: string;
    try {
      if (await withLogicalCores(wanted, () => setWasmBackend(opts.threadsTimeoutMs ?? 30_000))) {
        await tf.ready();
        wasmThreading = { threads: getThreadsCount() };
        return true;
      }
      failure = 'tfjs could not initialise it';
    } catch (e) {
      failure = (e as Error).message ?? String(e);
    }
    wasmThreading = { threads: 1, why: `the threaded wasm build did not start (${failure})` };
  } else {
    wasmThreading = { threads: 1, ...(wanted > 1 && why !== null ? { why } : {}) };
  }
  // The single-threaded SIMD build (tfjs picks the threaded one whenever this flag is true).
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  if (!(await tf.setBackend('wasm'))) return false;
  await tf.ready();
  useHostMatMul(opts, wasmThreading);
  if (why === null && opts.matMul !== 'xnnpack') {
    // The count the products will run on, once the worker's helpers are up (it says otherwise).
    if (wasmThreading.matMul && hostMatMulShares(wasmThreading.matMul)) wasmThreading.threads = wanted;
    else
      wasmThreading.why = `our matMul kernel${buildAsked(opts) ? `'s ${buildAsked(opts)} build` : ''} does not run here`;
  }
  return true;
}

/** The build of our kernel `opts` names (undefined: the better one here; also for 'xnnpack'). */
function buildAsked(opts: BackendOptions): MatMulBuild | undefined {
  return opts.matMul === 'relaxed' || opts.matMul === 'plain' ? opts.matMul : undefined;
}

/** Whether `build` of our matMul kernel instantiates on a shared memory here (its helpers' stage). */
function hostMatMulShares(build: MatMulBuild): boolean {
  const probe = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  return matMulKernel(probe, build) !== null;
}

/** Makes our matMul kernel the wasm backend's, unless `opts` asks for tfjs's; notes the build in `t`. */
function useHostMatMul(opts: BackendOptions, t: WasmThreading): void {
  const build = opts.matMul === 'xnnpack' ? null : installHostMatMul(buildAsked(opts));
  if (build) t.matMul = build;
}

/**
 * Make `preferred` the active tfjs backend and return its name. The webgl and webgpu backends are
 * imported lazily so that Node never loads them.
 */
export async function initBackend(
  preferred: BackendName = 'wasm',
  opts: BackendOptions = {},
): Promise<string> {
  let ok: boolean | undefined;
  if (preferred === 'wasm') {
    ok = await initWasm(opts);
  } else if (preferred === 'webgpu') {
    await import('@tensorflow/tfjs-backend-webgpu');
  } else if (preferred === 'webgl') {
    // tfjs-backend-webgl is part of the @tensorflow/tfjs bundle.
    // webgl is registered by @tensorflow/tfjs (see ./tf).
  }
  ok ??= await tf.setBackend(preferred);
  if (!ok) throw new Error(`tfjs backend '${preferred}' could not be initialised`);
  await tf.ready();
  return tf.getBackend();
}
