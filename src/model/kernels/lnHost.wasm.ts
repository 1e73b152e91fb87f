/**
 * The 'host-ln' layer norms as WebAssembly SIMD (./lnHost.wat, assembled into ./lnHost.wasm-bytes.ts):
 * the loops of ./lngruStep.host.ts four floats at a time. The module has its own memory, so each call
 * copies its inputs in and its results out (memcpy speed; the loops themselves were ~8 ns a value in
 * V8, where the SIMD passes take well under 1). Compiled synchronously on first use (1.6 KB, under
 * the 4 KB that browsers allow a main thread); where WebAssembly SIMD is missing, `lnWasm()` is null
 * and the JS loops run.
 */
import { LN_HOST_WASM } from './lnHost.wasm-bytes';
import { lazyInstance, MemoryLayout as Layout } from './wasm-module';
import type { biasLnForwardJs, lnBackwardJs } from './lngruStep.host';

interface LnExports {
  memory: WebAssembly.Memory;
  lnForward(
    v: number,
    bias: number,
    gain: number,
    shift: number,
    out: number,
    xhat: number,
    rstd: number,
    R: number,
    H: number,
  ): void;
  lnBackward(
    dout: number,
    xhat: number,
    rstd: number,
    gain: number,
    dx: number,
    sg: number,
    ss: number,
    sd: number,
    R: number,
    H: number,
  ): void;
}

/** The compiled module, or null where WebAssembly SIMD is missing. */
export const lnWasm = lazyInstance<LnExports>(LN_HOST_WASM);

/** The module's memory, grown to hold every region `L` took (a few MB at the largest sizes). */
function memoryFor(L: Layout, w: LnExports): ArrayBuffer {
  const mem = L.buffer(w.memory);
  if (!mem) throw new Error('lnHost: the WebAssembly memory cannot grow to hold this layer');
  return mem;
}

/** ./lngruStep.host.ts `biasLnForward` in the module: out, xhat [R, 3H] and rstd [R, 2] from v [R, 3H]. */
export function lnForwardWasm(w: LnExports, ...args: Parameters<typeof biasLnForwardJs>): void {
  const [v, bias, ln, H, out, xhat, rstd] = args;
  const C = 3 * H;
  const R = v.length / C;
  const L = new Layout();
  const [pv, pb, pg, ps, px, pr] = [R * C, C, C, C, R * C, 2 * R].map((n) => L.take(4 * n));
  const mem = memoryFor(L, w);
  const f32 = (at: number, n: number) => new Float32Array(mem, at, n);
  f32(pv, R * C).set(v);
  f32(pb, C).set(bias);
  f32(pg, C).set(ln.gain);
  f32(ps, C).set(ln.shift);
  // out is written over v (each value is read before its own slot is written).
  w.lnForward(pv, pb, pg, ps, pv, px, pr, R, H);
  out.set(f32(pv, R * C));
  xhat.set(f32(px, R * C));
  rstd.set(f32(pr, 2 * R));
}

/** ./lngruStep.host.ts `lnBackward` in the module: dx [R, 3H] from dout; adds to `sums`. */
export function lnBackwardWasm(w: LnExports, ...args: Parameters<typeof lnBackwardJs>): void {
  const [dout, xhat, rstd, gain, H, dx, sums] = args;
  const C = 3 * H;
  const R = dout.length / C;
  const L = new Layout();
  const sizes = [4 * R * C, 4 * R * C, 8 * R, 4 * C, 4 * C, 4 * C, 4 * C];
  const [pd, px, pr, pg, psg, pss, psd] = sizes.map((b) => L.take(b));
  const mem = memoryFor(L, w);
  const f32 = (at: number, n: number) => new Float32Array(mem, at, n);
  f32(pd, R * C).set(dout);
  f32(px, R * C).set(xhat);
  f32(pr, 2 * R).set(rstd);
  f32(pg, C).set(gain);
  // This call's column sums start at zero (float32 over its rows) and are added to the float64 totals.
  const colSums = [psg, pss, psd].map((at) => f32(at, C).fill(0));
  // dx is written over dout (each value is read before its own slot is written).
  w.lnBackward(pd, px, pr, pg, pd, psg, pss, psd, R, H);
  dx.set(f32(pd, R * C));
  [sums.gain, sums.shift, sums.bias].forEach((total, i) => {
    const part = colSums[i];
    for (let j = 0; j < C; j++) total[j] += part[j];
  });
}
