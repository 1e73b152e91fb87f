/**
 * The wasm backend's matMul (tfjs kernel 'BatchMatMul') by our own WebAssembly SIMD product
 * (./matmulHost.wat) on tfjs's heap, in place of tfjs's XNNPACK kernel: in Node (the CLIs and each
 * thread of the Node pool, ../parallel) and in the page, on either of tfjs's builds. The product is
 * most of a training step (35 of a step's GFLOP at hidden 1024 are matMuls) and tfjs's build reaches
 * 27-31 GFLOP/s a core on the 2-core machine; this kernel, with relaxed SIMD's fused multiply-add,
 * 36-46 including its repacking of B (docs/benchmarks.md, `npm run bench:model -- --parts matmul`);
 * with plain SIMD (a runtime without relaxed SIMD) 30-36. On tfjs's threaded build (the page with
 * threads; its memory is shared) large products split their rows over helper threads that the page's
 * worker starts ({@link setRowSplitter}, ../../worker/matmul-threads.ts).
 *
 *   C [M, N] = A [M, K] B [K, N], each C[i, j] summed over k in order into one float32 (./matmulHost.wat)
 *
 * Taken here: float32, neither operand transposed (the model's products never are: ../ops.ts), and
 * batches that are equal or whose B is one matrix (then A's batches are rows of one product:
 * [b M, K] B). Everything else goes to tfjs's kernel, as before. B is repacked into 8-column panels on
 * the heap (one pass over B); the last three packings (up to 32 MiB each) are kept, by B's tensor storage (dataId) and shape,
 * so that a B multiplied again (W_hh in each of the GRU backward's T steps) is packed once, as XNNPACK
 * keeps its packing of a weight by tensor. That relies on what XNNPACK's cache relies on, and
 * ../training/adam-host.ts keeps: no tensor's values change in place (a new value is a new tensor).
 *
 * Digits: each element of C is bit for bit the same whatever rows and columns are multiplied beside
 * it (the kernel's order depends on neither M nor N), so a caption embedded in any batch, as a row of
 * A or, in ../ops.ts matMulWt, as a column of B, gets the same digits, as the GRU's per-row tests and
 * the retrieval's rankings need. They differ from XNNPACK's (another summation order, and fused
 * multiply-adds where the CPU has FMA), within float32 rounding.
 */
import * as tf from '../tf';
import {
  MATMUL_HOST_WASM,
  MATMUL_HOST_WASM_PLAIN,
  MATMUL_HOST_WASM_PLAIN_SHARED,
  MATMUL_HOST_WASM_SHARED,
} from './matmulHost.wasm-bytes';
import { isShared, memoryInstance, wasmBackendMemory, type WasmBackendInternals } from './wasm-module';
import type { MatMulBuild } from './matmul-choice';

export type { MatMulBuild } from './matmul-choice';

export interface MatMulExports {
  /** Panels bp [ceil(N / 8)][K][8] of B [K, N] (byte offsets; zero columns past N). */
  pack(b: number, bp: number, K: number, N: number): void;
  /** C [M, N] = A [M, K] B for B in panels; `tmp`: 32 bytes of scratch. */
  gemm(a: number, bp: number, c: number, M: number, K: number, N: number, tmp: number): void;
}

/** Each build's bytes (base64) for a plain memory and for a shared one (tfjs's threaded build). */
export const MATMUL_BYTES: Record<MatMulBuild, { plain: string; shared: string }> = {
  relaxed: { plain: MATMUL_HOST_WASM, shared: MATMUL_HOST_WASM_SHARED },
  plain: { plain: MATMUL_HOST_WASM_PLAIN, shared: MATMUL_HOST_WASM_PLAIN_SHARED },
};

/** A build's instance getters, for a plain and for a shared memory. */
const instancesOf = (bytes: { plain: string; shared: string }) => ({
  plain: memoryInstance<MatMulExports>(bytes.plain),
  shared: memoryInstance<MatMulExports>(bytes.shared),
});
const instances = { relaxed: instancesOf(MATMUL_BYTES.relaxed), plain: instancesOf(MATMUL_BYTES.plain) };

/**
 * The kernel on `memory` (the build for a plain or a shared memory, as it is): the relaxed build where
 * this runtime compiles it, else the plain one (or the one asked for); null where neither instantiates
 * (no WebAssembly SIMD).
 */
export function matMulKernel(
  memory: WebAssembly.Memory,
  only?: MatMulBuild,
): { build: MatMulBuild; exports: MatMulExports } | null {
  const kind = isShared(memory) ? 'shared' : 'plain';
  for (const build of only ? [only] : (['relaxed', 'plain'] as const)) {
    const exports = instances[build][kind](memory);
    if (exports) return { build, exports };
  }
  return null;
}

/**
 * A product's row blocks on several threads (tfjs's threaded build: its memory is shared, so other
 * workers can run the kernel on it; ../../worker/matmul-threads.ts): `run` computes C = A B for the B
 * already packed at `bp`, the calling thread taking the first block of rows and the others one each,
 * and returns when all are done. Each row is computed as it would be alone (the kernel's digits do not
 * depend on the rows beside it), so the product has the same digits on any number of threads.
 */
export interface RowSplitter {
  /** Threads it runs on, the calling one included (at most {@link MAX_SPLIT}). */
  readonly threads: number;
  run(job: GemmJob): void;
}

/** One product for a {@link RowSplitter} (byte offsets; `tmp`: 32 bytes of scratch per thread). */
export interface GemmJob {
  a: number;
  bp: number;
  c: number;
  M: number;
  K: number;
  N: number;
  tmp: number;
}

/** Most threads a product is split over (scratch is kept for this many). */
export const MAX_SPLIT = 8;

/**
 * Smallest product (M K N multiply-adds) split over threads: waking the helpers costs about as much as
 * a 12.6 M product saves (768 x 256 x 64 in Node: 0.52 ms on one thread, 0.55 on two), while from 100 M
 * up two threads take half the time (tests/worker/matmul-threads.test.ts's set-up; docs/benchmarks.md).
 */
const SPLIT_MIN_MACS = 1 << 25;

let splitter: RowSplitter | null = null;

/** Products from now on split their rows with `s` (null: on the calling thread alone). */
export function setRowSplitter(s: RowSplitter | null): void {
  splitter = s;
}

interface BatchMatMulArgs {
  inputs: { a: tf.TensorInfo; b: tf.TensorInfo };
  backend: WasmBackendInternals;
  attrs: { transposeA: boolean; transposeB: boolean };
}

const size = (shape: number[]) => shape.reduce((n, d) => n * d, 1);

/** A B packed into panels on the heap (`panels`, then 32 bytes of scratch per thread), by its storage and shape. */
interface Packed {
  dataId: unknown;
  K: number;
  N: number;
  panels: { dataId: object };
}

/** Packings kept per backend, most recent first. */
const packings = new WeakMap<WasmBackendInternals, Packed[]>();
/**
 * Three: W_hh and W_ih packed ahead of the backward (../gru-composite.ts packBackwardWeights), and
 * the one product's B between them (d W_hh's h_prev), so that W_ih is still packed for d x.
 */
const KEPT_PACKINGS = 3;

/**
 * Largest packing kept (bytes): W_hh at hidden 1024 is 12 MiB; a B beyond this (a whole gallery of
 * captions in a cosine model's scoring) is packed, used and freed, so kept packings never hold more
 * than 3 x 32 MiB of the heap.
 */
const KEPT_MAX_BYTES = 32 * 2 ** 20;

/** Frees the packings kept for `backend`. */
function dropPackings(backend: WasmBackendInternals): void {
  for (const p of packings.get(backend) ?? []) backend.disposeData(p.panels.dataId);
  packings.delete(backend);
}

/**
 * B [K, N] (tensor `b`, at byte offset `offset` of its storage) in panels, with 32 bytes of scratch
 * per thread after them: a kept packing of the same storage and shape, else a new one (the oldest dropped).
 * Returns the panels' byte offset.
 */
function packed(
  backend: WasmBackendInternals,
  kernel: MatMulExports,
  b: tf.TensorInfo,
  offset: number,
  K: number,
  N: number,
  keep: boolean,
): { at: number; release: () => void } {
  keep &&= 4 * K * N <= KEPT_MAX_BYTES;
  const list = packings.get(backend) ?? [];
  packings.set(backend, list);
  const hit = keep ? list.findIndex((p) => p.dataId === b.dataId && p.K === K && p.N === N) : -1;
  if (hit >= 0) {
    const [p] = list.splice(hit, 1);
    list.unshift(p);
    return { at: backend.getMemoryOffset(p.panels.dataId), release: () => {} };
  }
  const Np = Math.ceil(N / 8) * 8;
  const panels = backend.makeOutput([K * Np + 8 * MAX_SPLIT], 'float32');
  const at = backend.getMemoryOffset(panels.dataId);
  kernel.pack(backend.getMemoryOffset(b.dataId) + offset, at, K, N);
  if (!keep) return { at, release: () => backend.disposeData(panels.dataId) };
  list.unshift({ dataId: b.dataId, K, N, panels });
  for (const old of list.splice(KEPT_PACKINGS)) backend.disposeData(old.panels.dataId);
  return { at, release: () => {} };
}

/**
 * C = A B on the heap by `kernel`, as a new [batch, M, N] tensor of the backend (`outShape`), or null
 * where the call is not one this kernel takes (see the header).
 */
function hostBatchMatMul(
  { inputs: { a, b }, backend, attrs }: BatchMatMulArgs,
  kernel: MatMulExports,
): tf.TensorInfo | null {
  if (attrs.transposeA || attrs.transposeB || a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  if (a.shape.length < 2 || b.shape.length < 2) return null;
  const [M, K] = a.shape.slice(-2);
  const [Kb, N] = b.shape.slice(-2);
  const batchA = size(a.shape.slice(0, -2));
  const batchB = size(b.shape.slice(0, -2));
  if (K !== Kb || M === 0 || K === 0 || N === 0) return null;
  if (batchB !== 1 && batchB !== batchA) return null; // broadcast A over B's batch: tfjs's kernel
  // The output's shape as tfjs's kernel gives it: the batch dims broadcast, then [M, N].
  const outer = batchA >= batchB ? a.shape.slice(0, -2) : b.shape.slice(0, -2);
  const out = backend.makeOutput([...outer, M, N], 'float32');
  const tmp = 4 * K * Math.ceil(N / 8) * 8; // the scratch after the panels
  // One B for every batch of A: the batches are rows of one product [batchA M, K] B; else one
  // product per batch.
  const [products, rows] = batchB === 1 ? [1, batchA * M] : [batchA, M];
  for (let i = 0; i < products; i++) {
    // Offsets after every allocation (each is stable; the heap may grow, not move).
    const p = packed(backend, kernel, b, 4 * i * K * N, K, N, batchB === 1);
    const pa = backend.getMemoryOffset(a.dataId) + 4 * i * M * K;
    const pc = backend.getMemoryOffset(out.dataId) + 4 * i * M * N;
    const job = { a: pa, bp: p.at, c: pc, M: rows, K, N, tmp: p.at + tmp };
    if (splitter && rows >= 8 * splitter.threads && rows * K * N >= SPLIT_MIN_MACS) splitter.run(job);
    else kernel.gemm(job.a, job.bp, job.c, job.M, job.K, job.N, job.tmp);
    p.release();
  }
  return out;
}

/** What {@link installHostMatMul} replaced (to put back), and the build it installed. */
let installed: { original: tf.KernelConfig; build: MatMulBuild } | null = null;

/**
 * Makes the wasm backend's matMul this kernel (the build named, or the better one this runtime
 * compiles), on either of tfjs's builds; returns the build now multiplying, or null where it cannot
 * (another backend, no WebAssembly SIMD), leaving tfjs's kernel. Calls it does not take go to tfjs's
 * kernel (see the header). Call after setBackend('wasm').
 */
export function installHostMatMul(only?: MatMulBuild): MatMulBuild | null {
  if (tf.getBackend() !== 'wasm') return null;
  const memory = wasmBackendMemory(tf.backend() as unknown as WasmBackendInternals);
  const chosen = memory && matMulKernel(memory, only);
  if (!chosen) return null;
  uninstallHostMatMul();
  const original = tf.getKernel('BatchMatMul', 'wasm');
  if (!original) return null;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({
    ...original,
    kernelFunc: (args) => {
      const call = args as unknown as BatchMatMulArgs;
      // The kernel for this call's backend's memory (a backend made anew gets its own instance).
      const mem = wasmBackendMemory(call.backend);
      const k = mem && matMulKernel(mem, chosen.build);
      return (k && hostBatchMatMul(call, k.exports)) ?? original.kernelFunc(args);
    },
  });
  installed = { original, build: chosen.build };
  return chosen.build;
}

/** Puts tfjs's own matMul back (a no-op where {@link installHostMatMul} did not replace it). */
export function uninstallHostMatMul(): void {
  if (!installed) return;
  if (tf.getBackend() === 'wasm') dropPackings(tf.backend() as unknown as WasmBackendInternals);
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel(installed.original);
  installed = null;
}

/** The installed kernel and the wasm backend's memory it runs on, or null while tfjs's own kernel runs. */
export function hostMatMulKernel(): {
  memory: WebAssembly.Memory;
  build: MatMulBuild;
  exports: MatMulExports;
} | null {
  if (!installed || tf.getBackend() !== 'wasm') return null;
  const memory = wasmBackendMemory(tf.backend() as unknown as WasmBackendInternals);
  const k = memory && matMulKernel(memory, installed.build);
  return k && memory ? { memory, ...k } : null;
}

/** The build {@link installHostMatMul} made tfjs's matMul, or null while tfjs's own kernel runs. */
export function hostMatMulBuild(): MatMulBuild | null {
  return installed?.build ?? null;
}
