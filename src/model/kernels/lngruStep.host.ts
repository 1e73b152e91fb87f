/**
 * The LN-GRU's layer norms as plain loops over host memory: the 'host-ln' path of ../gru.ts
 * on the wasm and cpu backends, whose tensor data already lives in host memory (the wasm heap, or JS
 * arrays). The composite tfjs version (./lngruStep.ts: statistics by indicator products, gain and shift,
 * and their backward) adds about 11 small ops per step forward and 16 backward, each with a fixed cost
 * on wasm; here one LN is a view of W_hh h_prev, two passes per row, and a new tensor for gh' (and the
 * same backward), so that a step issues the plain GRU's tfjs ops. The gates stay tfjs ops: in V8,
 * scalar exp and tanh over a step's [B, 3H] cost more than wasm's SIMD kernels with their dispatch. The
 * input-side LN over all steps' rows [T*B, 3H] is the same loop once per pass: its composite version
 * (statistics by indicator products, and four column sums as [1, T*B] products) cost more at the
 * playground's size than the loop (docs/benchmarks.md).
 *
 * Layer norm (Ba, Kiros & Hinton 2016) over the groups [:2H] (r and z share one mean and variance) and
 * [2H:] (n) of each row of a [R, 3H] pre-activation v (torch.nn.GRU gate order r, z, n):
 *
 *   LN(v)  = xhat * gain + shift,   xhat = (v - mean(v)) * rstd,   rstd = 1 / sqrt(var(v) + 1e-5)
 *   backward, per group:  dv = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)),  dxhat = dout gain
 *   d gain = sum over rows of dout xhat,   d shift = sum over rows of dout
 *
 * Sums run in float64 in a fixed order, so results are the same run to run. Arrays read from tensors
 * (`dataSync`) are never written here: on the cpu backend they are the tensor's own storage.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '../tf';
import { LN_EPS } from './lngruStep';
import { lnBackwardWasm, lnForwardWasm, lnWasm } from './lnHost.wasm';

/**
 * The values of a float32 tensor on a host-memory backend, read-only and without a copy: on wasm a view
 * of the wasm heap (BackendWasm.typedArrayFromHeap), valid only until the next tfjs op allocates (the
 * heap may grow, which detaches it), so read it at once; on cpu, dataSync's array (the tensor's own). A
 * dataSync on wasm copies into a fresh array: 0.6 ms for [64, 768] and 7 ms for [768, 768] on the
 * 2-core machine (fresh pages; docs/benchmarks.md), where the LN loop over [64, 768] takes 0.3 ms.
 */
export function hostValues(t: tf.Tensor): Float32Array {
  if (tf.getBackend() === 'wasm' && t.dtype === 'float32')
    return (tf.backend() as BackendWasm).typedArrayFromHeap(t) as Float32Array;
  return t.dataSync() as Float32Array;
}

/**
 * A tensor holding a copy of `values` (so the caller may reuse the array): wasm copies into its heap
 * anyway; the cpu backend would keep the array itself, so it gets a copy.
 */
export function hostTensor2d(values: Float32Array, shape: [number, number]): tf.Tensor2D {
  return tf.tensor2d(tf.getBackend() === 'wasm' ? values : values.slice(), shape);
}

/** Gain and shift [3H] of one layer norm, on the host. */
export interface HostLn {
  gain: Float32Array;
  shift: Float32Array;
}

/**
 * out[o + j] = LN(v + bias) for j in [j0, j1) (one group of one row), xhat at the same offsets; returns
 * 1 / sqrt(var + eps). Two passes: v + bias (rounded to float32, as the composite path's add) with its
 * sum and sum of squares, then the normalization. Mean and variance from float64 sums: var = E[v^2] -
 * mean^2 loses digits only when |mean| / std is beyond 1e4, far from pre-activations. The sums run two
 * elements at a time into two accumulators each: one chain of dependent adds per sum ran at half the
 * speed (V8 does not reorder float adds).
 */
function normGroup(
  v: Float32Array,
  o: number,
  bias: Float32Array,
  j0: number,
  j1: number,
  ln: HostLn,
  out: Float32Array,
  xhat: Float32Array,
): number {
  const n = j1 - j0;
  let s0 = 0;
  let s1 = 0;
  let q0 = 0;
  let q1 = 0;
  let j = j0;
  for (; j + 1 < j1; j += 2) {
    const a = (out[o + j] = v[o + j] + bias[j]);
    const b = (out[o + j + 1] = v[o + j + 1] + bias[j + 1]);
    s0 += a;
    s1 += b;
    q0 += a * a;
    q1 += b * b;
  }
  if (j < j1) {
    const a = (out[o + j] = v[o + j] + bias[j]);
    s0 += a;
    q0 += a * a;
  }
  const mean = (s0 + s1) / n;
  const rs = 1 / Math.sqrt(Math.max(0, (q0 + q1) / n - mean * mean) + LN_EPS);
  const { gain, shift } = ln;
  for (j = j0; j < j1; j++) {
    const xh = (out[o + j] - mean) * rs;
    xhat[o + j] = xh;
    out[o + j] = xh * gain[j] + shift[j];
  }
  return rs;
}

/**
 * out = LN(v + bias) per row and group [:2H], [2H:] for v [R, 3H]; xhat [R, 3H] and rstd [R, 2]
 * receive what the backward pass needs. In the SIMD module (./lnHost.wasm.ts) where it runs (its
 * second pass in float32), else as JS loops.
 */
export function biasLnForward(...args: Parameters<typeof biasLnForwardJs>): void {
  const w = lnWasm();
  if (w) lnForwardWasm(w, ...args);
  else biasLnForwardJs(...args);
}

/** {@link biasLnForward} as JS loops: where WebAssembly SIMD is missing, and the module's reference. */
export function biasLnForwardJs(
  v: Float32Array,
  bias: Float32Array,
  ln: HostLn,
  H: number,
  out: Float32Array,
  xhat: Float32Array,
  rstd: Float32Array,
): void {
  const C = 3 * H;
  const R = v.length / C;
  for (let r = 0; r < R; r++) {
    rstd[2 * r] = normGroup(v, r * C, bias, 0, 2 * H, ln, out, xhat);
    rstd[2 * r + 1] = normGroup(v, r * C, bias, 2 * H, C, ln, out, xhat);
  }
}

/** Accumulators of column sums over rows and steps (float64, summed in row order). */
export interface LnGradSums {
  /** d gain: sum of dout * xhat [3H]. */
  gain: Float64Array;
  /** d shift: sum of dout [3H]. */
  shift: Float64Array;
  /**
   * d bias: sum of dx [3H], the gradient of the bias added before the norm (b_ih, b_hh), summed as dx is
   * written instead of by a product of its own over all rows.
   */
  bias: Float64Array;
}

/**
 * LN backward of one group of row `o` (see the header): dv into dx, adding to the gain, shift and bias sums.
 * Two elements at a time, as `normGroup`.
 */
function normGroupBackward(
  dout: Float32Array,
  xhat: Float32Array,
  o: number,
  rs: number,
  gain: Float32Array,
  j0: number,
  j1: number,
  dx: Float32Array,
  sums: LnGradSums,
): void {
  const n = j1 - j0;
  const { gain: sg, shift: ss, bias: sb } = sums;
  let a0 = 0; // sum of dxhat
  let a1 = 0;
  let b0 = 0; // sum of dxhat * xhat
  let b1 = 0;
  let j = j0;
  for (; j + 1 < j1; j += 2) {
    const g = dout[o + j];
    const h = dout[o + j + 1];
    const x = xhat[o + j];
    const y = xhat[o + j + 1];
    sg[j] += g * x;
    sg[j + 1] += h * y;
    ss[j] += g;
    ss[j + 1] += h;
    const dg = g * gain[j];
    const dh = h * gain[j + 1];
    a0 += dg;
    a1 += dh;
    b0 += dg * x;
    b1 += dh * y;
  }
  if (j < j1) {
    const g = dout[o + j];
    const x = xhat[o + j];
    sg[j] += g * x;
    ss[j] += g;
    const dg = g * gain[j];
    a0 += dg;
    b0 += dg * x;
  }
  const m1 = (a0 + a1) / n;
  const m2 = (b0 + b1) / n;
  for (j = j0; j < j1; j++) {
    const d = Math.fround(rs * (dout[o + j] * gain[j] - m1 - xhat[o + j] * m2));
    dx[o + j] = d;
    sb[j] += d;
  }
}

/**
 * Backward of out = LN(v + bias) over all rows of dout [R, 3H]: dx = d v [R, 3H]; adds to `sums`. In
 * the SIMD module (./lnHost.wasm.ts) where it runs, else as JS loops.
 */
export function lnBackward(...args: Parameters<typeof lnBackwardJs>): void {
  const w = lnWasm();
  if (w) lnBackwardWasm(w, ...args);
  else lnBackwardJs(...args);
}

/** {@link lnBackward} as JS loops: where WebAssembly SIMD is missing, and the module's reference. */
export function lnBackwardJs(
  dout: Float32Array,
  xhat: Float32Array,
  rstd: Float32Array,
  gain: Float32Array,
  H: number,
  dx: Float32Array,
  sums: LnGradSums,
): void {
  const C = 3 * H;
  const R = dout.length / C;
  for (let r = 0; r < R; r++) {
    const o = r * C;
    normGroupBackward(dout, xhat, o, rstd[2 * r], gain, 0, 2 * H, dx, sums);
    normGroupBackward(dout, xhat, o, rstd[2 * r + 1], gain, 2 * H, C, dx, sums);
  }
}
