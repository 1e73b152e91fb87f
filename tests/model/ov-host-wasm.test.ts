import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assembleWasm, HOST_WASM } from '../../scripts/lib/host-wasm';
import { OV_HOST_WASM } from '../../src/model/kernels/ovHost.wasm-bytes';
import { orderViolationGradWasm, orderViolationWasm, ovWasm } from '../../src/model/kernels/ovHost.wasm';
import {
  orderViolationGradHostArrays,
  orderViolationGradLoop,
  orderViolationHostArrays,
  orderViolationLoop,
} from '../../src/model/kernels/orderViolation';
import { Rng } from '../../src/model/rng';

function rand(rng: Rng, n: number, scale = 1, offset = 0): Float32Array {
  return Float32Array.from({ length: n }, () => offset + scale * rng.normal());
}

/** max |a - b| / max |b|: the gradients sum terms of both signs, so an element may cancel to ~0. */
function maxErr(a: Float32Array, b: Float32Array): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return err / Math.max(scale, 1e-30);
}

/** Elementwise relative difference (E is a sum of squares: no cancellation). */
function maxRelErr(a: Float32Array, b: Float32Array): number {
  let err = 0;
  for (let i = 0; i < a.length; i++)
    err = Math.max(err, Math.abs(a[i] - b[i]) / Math.max(1e-30, Math.abs(b[i])));
  return err;
}

function wasm() {
  const w = ovWasm();
  if (w === null) throw new Error('no WebAssembly SIMD');
  return w;
}

describe('the order-violation WebAssembly SIMD module (src/model/kernels/ovHost.wat)', () => {
  it('ships the bytes its text assembles to (npm run build:wasm)', async () => {
    const bytes = await assembleWasm(readFileSync(HOST_WASM.ov.wat, 'utf8'));
    expect(Buffer.from(bytes).toString('base64')).toBe(OV_HOST_WASM);
  });

  it('compiles in Node (WebAssembly SIMD)', () => {
    expect(ovWasm()).not.toBeNull();
  });

  // Odd N (a padding image row), M and D not multiples of 4 (padding captions and columns), 1 x 1 x 1,
  // several caption blocks (M 300 at D 1024: blocks of 64 rows), and D > 64 (several float32 partial sums).
  it.each([
    [1, 1, 1],
    [3, 5, 7],
    [4, 8, 64],
    [7, 9, 130],
    [6, 300, 1024],
    [17, 13, 1021],
  ])('equals the JS loops, forward and backward (N %i, M %i, D %i)', (N, M, D) => {
    const rng = new Rng(N * 1000 + M * 10 + D);
    const im = rand(rng, N * D);
    const c = rand(rng, M * D);
    // A sparse upstream gradient, as the contrastive loss gives: whole quads of zeros are skipped.
    const g = Float32Array.from({ length: N * M }, (_, k) => (k % 3 === 0 ? 0 : rng.normal()));
    if (M >= 8) g.fill(0, 0, 4);
    const w = wasm();
    const E = orderViolationWasm(w, im, c, N, M, D);
    expect(E).not.toBeNull();
    expect(maxRelErr(E!, orderViolationLoop(im, c, N, M, D))).toBeLessThan(1e-6);
    const grads = orderViolationGradWasm(w, im, c, g, N, M, D);
    const ref = orderViolationGradLoop(im, c, g, N, M, D);
    expect(grads).not.toBeNull();
    expect(maxErr(grads!.dIm, ref.dIm)).toBeLessThan(2e-6);
    expect(maxErr(grads!.dC, ref.dC)).toBeLessThan(2e-6);
    // The same inputs give the same digits, call after call (memory reused, its padding cleared).
    expect(orderViolationWasm(w, im, c, N, M, D)).toEqual(E);
    expect(orderViolationGradWasm(w, im, c, g, N, M, D)).toEqual(grads);
  });

  it('is exact where the energy is: 0 below the image, D (c - im)^2 above it', () => {
    const D = 6;
    const im = new Float32Array([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
    const c = new Float32Array([-1, -2, 0, -3, -1, 0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 2, 2, 2, 2, 2, 2]);
    expect(Array.from(orderViolationWasm(wasm(), im, c, 2, 3, D)!)).toEqual([0, 1.5, 24, 0, 0, 6]);
  });

  it('keeps a NaN (a diverged embedding gives a non-finite loss, as with the JS loops)', () => {
    const im = new Float32Array([0, NaN, 0, 0, 0]);
    const c = new Float32Array([1, 1, 1, 1, 1]);
    expect(orderViolationWasm(wasm(), im, c, 1, 1, 5)![0]).toBeNaN();
    expect(orderViolationLoop(im, c, 1, 1, 5)[0]).toBeNaN();
  });

  it('skips nothing that counts: an all-zero g gives zero gradients, and NaN weights propagate', () => {
    const rng = new Rng(5);
    const [N, M, D] = [3, 8, 12];
    const im = rand(rng, N * D);
    const c = rand(rng, M * D);
    const zero = orderViolationGradWasm(wasm(), im, c, new Float32Array(N * M), N, M, D)!;
    expect(zero.dIm.every((v) => v === 0) && zero.dC.every((v) => v === 0)).toBe(true);
    const g = new Float32Array(N * M);
    g[M + 5] = NaN; // image 1, caption 5
    const nan = orderViolationGradWasm(wasm(), im, c, g, N, M, D)!;
    const ref = orderViolationGradLoop(im, c, g, N, M, D);
    expect(nan.dIm.slice(D, 2 * D).every(Number.isNaN)).toBe(ref.dIm.slice(D, 2 * D).every(Number.isNaN));
    expect(nan.dC.slice(5 * D, 6 * D).every(Number.isNaN)).toBe(true);
    expect(nan.dIm.slice(0, D).some(Number.isNaN)).toBe(false);
  });

  it('serves the host op: orderViolationHostArrays and its gradient equal the JS loops', () => {
    const rng = new Rng(9);
    const [N, M, D] = [5, 11, 33];
    const im = rand(rng, N * D);
    const c = rand(rng, M * D);
    const g = rand(rng, N * M);
    expect(
      maxRelErr(orderViolationHostArrays(im, c, N, M, D), orderViolationLoop(im, c, N, M, D)),
    ).toBeLessThan(1e-6);
    const a = orderViolationGradHostArrays(im, c, g, N, M, D);
    const b = orderViolationGradLoop(im, c, g, N, M, D);
    expect(maxErr(a.dIm, b.dIm)).toBeLessThan(2e-6);
    expect(maxErr(a.dC, b.dC)).toBeLessThan(2e-6);
  });
});
