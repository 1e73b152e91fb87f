/**
 * The host-fused order-violation energy and its gradients as WebAssembly SIMD (./ovHost.wat, assembled
 * into ./ovHost.wasm-bytes.ts): the loops of ./orderViolation.ts four floats at a time, in tiles of
 * 2 images x 4 captions for E. The module has its own memory, so each call copies its inputs in and
 * its results out, padded (rows to a multiple of 4 floats, captions to a multiple of 4, images to a
 * multiple of 2, all with zeros) so that the module has no scalar tails; the copies are memcpy speed
 * against N M D / 4 SIMD steps. The memory grows to the largest call seen (evaluation: 1000 images and
 * a 2048-caption block at D = 1024 take 20 MiB) and stays. Compiled synchronously on first use (under
 * the 4 KB that browsers allow a main thread); where WebAssembly SIMD is missing, `ovWasm()` is null and
 * the JS loops run, as they do for a call whose arrays would not fit in a 32-bit memory.
 */
import { OV_HOST_WASM } from './ovHost.wasm-bytes';
import { lazyInstance, MemoryLayout as Layout } from './wasm-module';

interface OvExports {
  memory: WebAssembly.Memory;
  ovForward(im: number, c: number, E: number, N: number, M: number, D: number, jb: number): void;
  ovBackward(
    im: number,
    c: number,
    g: number,
    dIm: number,
    dC: number,
    N: number,
    M: number,
    D: number,
  ): void;
}

/** The compiled module, or null where WebAssembly SIMD is missing. */
export const ovWasm = lazyInstance<OvExports>(OV_HOST_WASM);

const up = (n: number, m: number) => Math.ceil(n / m) * m;

/** Copies rows [R, D] into the module at `at` as rows of Dp floats (the padding must already be 0). */
function putRows(mem: ArrayBuffer, at: number, x: Float32Array, R: number, D: number, Dp: number): void {
  if (D === Dp) {
    new Float32Array(mem, at, R * D).set(x.subarray(0, R * D));
    return;
  }
  const dst = new Float32Array(mem, at, R * Dp);
  for (let r = 0; r < R; r++) dst.set(x.subarray(r * D, r * D + D), r * Dp);
}

/** Rows [R, Dp] of the module at `at`, without their padding, as a new [R, D] array. */
function getRows(mem: ArrayBuffer, at: number, R: number, D: number, Dp: number): Float32Array {
  const src = new Float32Array(mem, at, R * Dp);
  if (D === Dp) return src.slice();
  const out = new Float32Array(R * D);
  for (let r = 0; r < R; r++) out.set(src.subarray(r * Dp, r * Dp + D), r * D);
  return out;
}

/**
 * Caption rows per block of the forward pass: a multiple of 4 whose rows fill at most 256 KiB, so a
 * block stays in L2 while every image pair reads it (at least 4 rows, at most all of them).
 */
function captionBlock(Mp: number, Dp: number): number {
  return Math.min(Mp, Math.max(4, Math.floor((1 << 18) / (16 * Dp)) * 4));
}

/** ./orderViolation.ts `orderViolationLoop` in the module: E [N, M]; null where the memory cannot hold the call. */
export function orderViolationWasm(
  w: OvExports,
  im: Float32Array,
  c: Float32Array,
  N: number,
  M: number,
  D: number,
): Float32Array | null {
  if (N === 0 || M === 0 || D === 0) return new Float32Array(N * M);
  const [Np, Mp, Dp] = [up(N, 2), up(M, 4), up(D, 4)];
  const L = new Layout();
  const [pi, pc, pe] = [Np * Dp, Mp * Dp, Np * Mp].map((n) => L.take(4 * n));
  const mem = L.buffer(w.memory);
  if (mem === null) return null;
  // Padding rows and columns must read as 0 (the memory holds whatever an earlier call left).
  if (Np !== N || Mp !== M || Dp !== D) new Float32Array(mem, pi, (pe - pi) / 4).fill(0);
  putRows(mem, pi, im, N, D, Dp);
  putRows(mem, pc, c, M, D, Dp);
  w.ovForward(pi, pc, pe, Np, Mp, Dp, captionBlock(Mp, Dp));
  return getRows(mem, pe, N, M, Mp);
}

/**
 * ./orderViolation.ts `orderViolationGradLoop` in the module: dIm [N, D] and dC [M, D] from the upstream
 * gradient g [N, M]; null where the memory cannot hold the call.
 */
export function orderViolationGradWasm(
  w: OvExports,
  im: Float32Array,
  c: Float32Array,
  g: Float32Array,
  N: number,
  M: number,
  D: number,
): { dIm: Float32Array; dC: Float32Array } | null {
  if (N === 0 || M === 0 || D === 0) return { dIm: new Float32Array(N * D), dC: new Float32Array(M * D) };
  const [Mp, Dp] = [up(M, 4), up(D, 4)];
  const L = new Layout();
  const [pi, pc, pg, pdi, pdc] = [N * Dp, Mp * Dp, N * Mp, N * Dp, Mp * Dp].map((n) => L.take(4 * n));
  const end = L.take(0);
  const mem = L.buffer(w.memory);
  if (mem === null) return null;
  // Padding reads as 0 (a zero weight: its caption quad is skipped or adds 0) and dIm, dC start at 0.
  const from = Mp !== M || Dp !== D ? pi : pdi;
  new Float32Array(mem, from, (end - from) / 4).fill(0);
  putRows(mem, pi, im, N, D, Dp);
  putRows(mem, pc, c, M, D, Dp);
  putRows(mem, pg, g, N, M, Mp);
  w.ovBackward(pi, pc, pg, pdi, pdc, N, Mp, Dp);
  return { dIm: getRows(mem, pdi, N, D, Dp), dC: getRows(mem, pdc, M, D, Dp) };
}
