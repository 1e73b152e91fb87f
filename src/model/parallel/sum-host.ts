/**
 * The data-parallel threads' gradient buffers (one per thread, the sum in thread 0's) and their
 * in-order sum ({@link sumInOrder}'s digits): where WebAssembly SIMD runs, all the buffers are regions
 * of one shared WebAssembly memory and ./sumHost.wat adds them four floats at a time, ~5x the JS loop
 * (2.7 M floats: 0.8 vs 4.4 ms alone on the 2-core machine; a 2-thread step's sum phase at hidden 1024:
 * docs/benchmarks.md). Elsewhere, or when the buffers would not fit in 2 GiB, they are separate
 * SharedArrayBuffers and the JS loop sums them. Each thread also squares its range of the sum (in the
 * module, as it adds the last part), so that the step's gradient norm comes with its gradients: one
 * pass over them on the main thread fewer.
 */
import { checkRange, sumInOrder } from './shards';
import { SUM_HOST_WASM } from './sumHost.wasm-bytes';
import { MAX_BYTES, memoryInstance, WASM_PAGE } from '../kernels/wasm-module';

/** The gradient buffers of `parts.length` threads, P floats each, as the pool shares them. */
export interface GradParts {
  /** Thread k's gradients; parts[0] is also the sum (the sum starts as part 0). */
  parts: Float32Array[];
  /** The shared memory the parts are views of, or null (separate SharedArrayBuffers). */
  memory: WebAssembly.Memory | null;
}

interface SumExports {
  addInto(out: number, part: number, n: number): number;
  squares(p: number, n: number): number;
}

/** The module on a memory that holds the parts, or null where it cannot run (no SIMD, no shared memory). */
const kernel = memoryInstance<SumExports>(SUM_HOST_WASM);

/** Buffers for `threads` threads' gradients of P floats each, zeroed. */
export function makeGradParts(threads: number, P: number, simd = true): GradParts {
  const bytes = 4 * P;
  const total = threads * bytes;
  if (simd && total > 0 && total <= MAX_BYTES) {
    try {
      const pages = Math.ceil(total / WASM_PAGE);
      const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
      if (kernel(memory))
        return {
          memory,
          parts: Array.from({ length: threads }, (_, k) => new Float32Array(memory.buffer, k * bytes, P)),
        };
    } catch {
      // no shared WebAssembly memory here: the plain buffers below
    }
  }
  return {
    memory: null,
    parts: Array.from({ length: threads }, () => new Float32Array(new SharedArrayBuffer(bytes))),
  };
}

/**
 * parts[0][lo, hi) += parts[1][lo, hi) + ... + parts[n - 1][lo, hi), added in that order (n = `count`
 * parts, the threads that took part in the step): {@link sumInOrder} into part 0, with the module when
 * the parts share its memory. Returns the sum of squares of the result's range ({@link squaresOf}'s
 * digits), which the module takes in the same pass as the last addition.
 */
export function sumPartsInOrder(g: GradParts, count: number, lo: number, hi: number): number {
  if (!(Number.isInteger(count) && count >= 1 && count <= g.parts.length))
    throw new Error(`sumPartsInOrder: ${count} parts of ${g.parts.length}`);
  const parts = g.parts.slice(0, count);
  const out = parts[0];
  const k = g.memory && kernel(g.memory);
  if (!k || count < 2) {
    if (count > 1) sumInOrder(parts, out, lo, hi);
    return squaresOf(g, lo, hi);
  }
  checkRange('sumPartsInOrder', lo, hi, out.length);
  let squares = 0;
  for (let p = 1; p < parts.length; p++)
    squares = k.addInto(out.byteOffset + 4 * lo, parts[p].byteOffset + 4 * lo, hi - lo);
  return squares;
}

/**
 * The sum of squares of part 0's [lo, hi) in float64 (each square exact). Four lanes over the quads,
 * (l0 + l1) + (l2 + l3), then the tail in order, in the module and in the JS loop alike: the same
 * digits either way.
 */
export function squaresOf(g: GradParts, lo: number, hi: number): number {
  const a = g.parts[0];
  checkRange('squaresOf', lo, hi, a.length);
  const k = g.memory && kernel(g.memory);
  if (k) return k.squares(a.byteOffset + 4 * lo, hi - lo);
  const lanes = [0, 0, 0, 0];
  const quadsEnd = lo + ((hi - lo) & ~3);
  let i = lo;
  for (; i < quadsEnd; i += 4) for (let l = 0; l < 4; l++) lanes[l] += a[i + l] * a[i + l];
  let total = lanes[0] + lanes[1] + (lanes[2] + lanes[3]);
  for (; i < hi; i++) total += a[i] * a[i];
  return total;
}
