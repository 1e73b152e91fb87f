import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assembleWasm, HOST_WASM } from '../../scripts/lib/host-wasm';
import { LN_HOST_WASM } from '../../src/model/kernels/lnHost.wasm-bytes';
import { lnWasm } from '../../src/model/kernels/lnHost.wasm';
import {
  biasLnForward,
  biasLnForwardJs,
  lnBackward,
  lnBackwardJs,
  type LnGradSums,
} from '../../src/model/kernels/lngruStep.host';
import { Rng } from '../../src/model/rng';

function rand(rng: Rng, n: number, scale = 1, offset = 0): Float32Array {
  return Float32Array.from({ length: n }, () => offset + scale * rng.normal());
}

function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let err = 0;
  for (let i = 0; i < a.length; i++) err = Math.max(err, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return err;
}

describe('the host-ln WebAssembly SIMD module (src/model/kernels/lnHost.wat)', () => {
  it('ships the bytes its text assembles to (npm run build:wasm)', async () => {
    const bytes = await assembleWasm(readFileSync(HOST_WASM.ln.wat, 'utf8'));
    expect(Buffer.from(bytes).toString('base64')).toBe(LN_HOST_WASM);
  });

  it('compiles in Node (WebAssembly SIMD)', () => {
    expect(lnWasm()).not.toBeNull();
  });

  // H = 5: groups of 10 and 5 values, so both the four-at-a-time loops and their scalar tails run; H = 64:
  // the tails never run. Rows offset far from zero check the variance of shifted values.
  it.each([
    [5, 7, 0],
    [64, 9, 3],
    [37, 4, -20],
  ])('equals the JS loops, forward and backward (H %i, %i rows, offset %i)', (H, R, offset) => {
    const rng = new Rng(H * 100 + R);
    const C = 3 * H;
    const v = rand(rng, R * C, 2, offset);
    const bias = rand(rng, C, 0.1);
    const ln = { gain: rand(rng, C, 0.2, 1), shift: rand(rng, C, 0.1) };
    const run = (fwd: typeof biasLnForward, bwd: typeof lnBackward) => {
      const out = new Float32Array(R * C);
      const xhat = new Float32Array(R * C);
      const rstd = new Float32Array(2 * R);
      fwd(v, bias, ln, H, out, xhat, rstd);
      const dout = rand(new Rng(7), R * C);
      const dx = new Float32Array(R * C);
      // Sums carried in from an earlier call are added to, not replaced (a step's rows add up over steps).
      const sums: LnGradSums = {
        bias: Float64Array.from({ length: C }, (_, j) => -j),
        gain: Float64Array.from({ length: C }, (_, j) => j),
        shift: new Float64Array(C).fill(0.5),
      };
      bwd(dout, xhat, rstd, ln.gain, H, dx, sums);
      return { out, xhat, rstd, dx, sums };
    };
    const wasm = run(biasLnForward, lnBackward);
    const js = run(biasLnForwardJs, lnBackwardJs);
    expect(maxRelErr(wasm.rstd, js.rstd)).toBeLessThan(1e-6);
    expect(maxRelErr(wasm.xhat, js.xhat)).toBeLessThan(2e-6);
    expect(maxRelErr(wasm.out, js.out)).toBeLessThan(2e-6);
    expect(maxRelErr(wasm.dx, js.dx)).toBeLessThan(2e-6);
    // The module sums one call's rows in float32 (the JS loops in float64): float32 rounding apart.
    expect(maxRelErr(wasm.sums.gain, js.sums.gain)).toBeLessThan(5e-6);
    expect(maxRelErr(wasm.sums.shift, js.sums.shift)).toBeLessThan(5e-6);
    expect(maxRelErr(wasm.sums.bias, js.sums.bias)).toBeLessThan(5e-6);
    // d bias is the column sum of dx (added to what was carried in).
    for (let j = 0; j < C; j++) {
      let col = -j;
      for (let r = 0; r < R; r++) col += wasm.dx[r * C + j];
      expect(wasm.sums.bias[j]).toBeCloseTo(col, 5);
    }
    // Each group is normalized: mean 0 and variance 1 (up to eps) before gain and shift.
    const g = wasm.xhat.subarray(0, 2 * H);
    const mean = g.reduce((a, b) => a + b, 0) / g.length;
    expect(Math.abs(mean)).toBeLessThan(1e-5);
    // The same inputs give the same digits, call after call (memory reused and grown).
    expect(run(biasLnForward, lnBackward)).toEqual(wasm);
  });
});
