/**
 * The wasm backend's matMul (tfjs kernel 'BatchMatMul') by our own WebAssembly SIMD product
 * (./matmulHost.wat) on tfjs's heap, in place of tfjs's XNNPACK kernel: in Node (the CLIs and each
 * thread of the Node pool, ../parallel) and in the page, on tfjs's single-threaded build. The product is
 * most of a training step (35 of a step's GFLOP at hidden 1024 are matMuls) and tfjs's build reaches
 * 27-31 GFLOP/s a core on the 2-core machine; this kernel, with relaxed SIMD's fused multiply-add,
 * 36-46 including its repacking of B (docs/benchmarks.md, `npm run bench:model -- --parts matmul`);
 * with plain SIMD (a runtime without relaxed SIMD) 30-36. In the page with threads, large products
 * split their rows over helper threads that the page's worker starts, on a shared memory of their own
 * ({@link setRowSplitter}, ./matmul-stage.ts, ../../worker/matmul-threads.ts).
 *
 *   C [M, N] = A [M, K] B [K, N], each C[i, j] summed over k in order into one float32 (./matmulHost.wat)
 *
 * Taken here: float32, neither operand transposed (the model's products never are: ../ops.ts), and
 * batches that are equal or whose B is one matrix (then A's batches are rows of one product:
 * [b M, K] B). Everything else goes to tfjs's kernel, as before. B is repacked into 8-column panels
 * (one pass over B), and the last few packings are kept by tensor (./matmul-packings.ts).
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
import { dropPackings, packedB, scratchOffset, type Alloc } from './matmul-packings';
import { MatMulStage, type RowSplitter } from './matmul-stage';
import type { MatMulBuild } from './matmul-choice';

export type { MatMulBuild } from './matmul-choice';
export { MAX_SPLIT } from './matmul-packings';
export type { GemmJob, RowSplitter } from './matmul-stage';

export interface MatMulExports {
  /** Panels bp [ceil(N / 8)][K][8] of B [K, N] (byte offsets; zero columns past N). */
  pack(b: number, bp: number, K: number, N: number): void;
  /** C [M, N] = A [M, K] B for B in panels; `tmp`: 32 bytes of scratch. */
  gemm(a: number, bp: number, c: number, M: number, K: number, N: number, tmp: number): void;
}

/** Each build's bytes (base64) for a plain memory and for a shared one (the stage its threads share). */
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
 * Smallest product (M K N multiply-adds) split over threads: waking the helpers costs about as much as
 * a 12.6 M product saves (768 x 256 x 64 in Node: 0.52 ms on one thread, 0.55 on two), while from 100 M
 * up two threads take half the time (tests/worker/matmul-threads.test.ts's set-up; docs/benchmarks.md).
 */
const SPLIT_MIN_MACS = 1 << 25;

let splitter: RowSplitter | null = null;

/** Large products from now on split their rows with `s`, on its stage (null: on the calling thread alone). */
export function setRowSplitter(s: RowSplitter | null): void {
  splitter = s;
}

/**
 * A stage (./matmul-stage.ts) with `build` of the kernel on it (growing to `maxPages` pages: tests);
 * null where it does not instantiate.
 */
export function matMulStage(build: MatMulBuild, maxPages?: number): MatMulStage | null {
  return MatMulStage.create(build, (memory) => matMulKernel(memory, build)?.exports ?? null, maxPages);
}

interface BatchMatMulArgs {
  inputs: { a: tf.TensorInfo; b: tf.TensorInfo };
  backend: WasmBackendInternals;
  attrs: { transposeA: boolean; transposeB: boolean };
}

const size = (shape: number[]) => shape.reduce((n, d) => n * d, 1);

/** Blocks of tfjs's heap: a tensor's storage each (offsets are stable; the heap may grow, not move). */
function heapAlloc(backend: WasmBackendInternals): Alloc {
  return (bytes) => {
    const t = backend.makeOutput([bytes / 4], 'float32');
    return { at: backend.getMemoryOffset(t.dataId), free: () => backend.disposeData(t.dataId) };
  };
}

/**
 * C = A B on the heap by `kernel`, as a new [batch, M, N] tensor of the backend (`outShape`), or null
 * where the call is not one this kernel takes (see the header).
 */
function hostBatchMatMul(
  { inputs: { a, b }, backend, attrs }: BatchMatMulArgs,
  kernel: MatMulExports,
  memory: WebAssembly.Memory,
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
  // One B for every batch of A: the batches are rows of one product [batchA M, K] B; else one
  // product per batch.
  const [products, rows] = batchB === 1 ? [1, batchA * M] : [batchA, M];
  const keep = batchB === 1;
  // Large products over the threads, on their stage; where it cannot hold them, here.
  const s = splitter && rows >= 8 * splitter.threads && rows * K * N >= SPLIT_MIN_MACS ? splitter : null;
  for (let i = 0; i < products; i++) {
    // Offsets stay valid through the allocations below (the heap may grow, not move).
    const at = {
      a: backend.getMemoryOffset(a.dataId) + 4 * i * M * K,
      b: backend.getMemoryOffset(b.dataId) + 4 * i * K * N,
      c: backend.getMemoryOffset(out.dataId) + 4 * i * M * N,
    };
    if (s?.stage.multiply(s, memory, b.dataId, at, rows, K, N, keep)) continue;
    const p = packedB(backend, heapAlloc(backend), b.dataId, K, N, keep, (to) => {
      kernel.pack(at.b, to, K, N);
      return true;
    });
    if (!p) throw new Error('matMul: no room on the heap for the packed B');
    kernel.gemm(at.a, p.at, at.c, rows, K, N, p.at + scratchOffset(K, N));
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
      return (mem && k && hostBatchMatMul(call, k.exports, mem)) ?? original.kernelFunc(args);
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

/** The build {@link installHostMatMul} made tfjs's matMul, or null while tfjs's own kernel runs. */
export function hostMatMulBuild(): MatMulBuild | null {
  return installed?.build ?? null;
}
