import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../../src/model/tf';
import { assembleWasm, HOST_WASM, plainMaddVariant, variantText } from '../../scripts/lib/host-wasm';
import * as bytesModule from '../../src/model/kernels/matmulHost.wasm-bytes';
import {
  hostMatMulBuild,
  installHostMatMul,
  matMulKernel,
  uninstallHostMatMul,
  type MatMulBuild,
} from '../../src/model/kernels/matmul-host';
import { wasmThreadingInfo } from '../../src/model/backend';
import { Rng } from '../../src/model/rng';
import { useBackend } from '../helpers/tf';

function rand(rng: Rng, shape: number[]): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: n }, () => rng.normal()),
    shape,
  );
}

/** C = A B in float64 from the float32 values (the reference). */
function reference(a: Float32Array, b: Float32Array, M: number, K: number, N: number): Float64Array {
  const c = new Float64Array(M * N);
  for (let i = 0; i < M; i++)
    for (let k = 0; k < K; k++) {
      const x = a[i * K + k];
      for (let j = 0; j < N; j++) c[i * N + j] += x * b[k * N + j];
    }
  return c;
}

/** Largest |got - want| over sqrt(K) (the float32 rounding of K-term sums of unit-normal products). */
function err(got: ArrayLike<number>, want: ArrayLike<number>, K: number): number {
  let e = 0;
  for (let i = 0; i < want.length; i++) e = Math.max(e, Math.abs(got[i] - want[i]));
  return e / Math.sqrt(K);
}

/** tf.matMul with tfjs's kernel (XNNPACK) and with ours, the latter's build as installed. */
function both(f: () => tf.Tensor, build: MatMulBuild) {
  uninstallHostMatMul();
  const x = tf.tidy(f);
  expect(installHostMatMul(build)).toBe(build);
  const h = tf.tidy(f);
  const out = {
    xnnpack: x.dataSync() as Float32Array,
    host: h.dataSync() as Float32Array,
    shapes: [x.shape, h.shape],
  };
  tf.dispose([x, h]);
  return out;
}

describe('the matMul WebAssembly SIMD module (src/model/kernels/matmulHost.wat)', () => {
  let before: MatMulBuild | null;
  beforeAll(async () => {
    await useBackend('wasm');
    before = hostMatMulBuild();
  });
  afterAll(() => {
    uninstallHostMatMul();
    if (before) installHostMatMul(before);
  });

  it('ships the bytes its text assembles to, relaxed and plain, for a plain and a shared memory (npm run build:wasm)', async () => {
    const wat = readFileSync(HOST_WASM.matmul.wat, 'utf8');
    const shipped = bytesModule as Record<string, string>;
    expect(Buffer.from(await assembleWasm(wat)).toString('base64')).toBe(shipped.MATMUL_HOST_WASM);
    expect(plainMaddVariant(wat)).not.toContain('(f32x4.relaxed_');
    expect(HOST_WASM.matmul.variants).toHaveLength(3);
    for (const v of HOST_WASM.matmul.variants ?? [])
      expect(Buffer.from(await assembleWasm(variantText(wat, v))).toString('base64')).toBe(
        shipped[v.constant],
      );
  });

  it('multiplies in Node (scripts/lib/node-backend.ts turns relaxed SIMD on) and is what the wasm backend runs', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    expect(matMulKernel(memory)?.build).toBe('relaxed');
    expect(matMulKernel(memory, 'plain')?.build).toBe('plain');
    // A shared memory (the stage its helper threads share): the builds for it.
    const shared = new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true });
    expect(matMulKernel(shared)?.build).toBe('relaxed');
    expect(matMulKernel(shared, 'plain')?.build).toBe('plain');
    expect(matMulKernel(shared)?.exports).not.toBe(matMulKernel(memory)?.exports);
    // initNodeBackend installed it (the single-threaded build), and says so.
    expect(before).toBe('relaxed');
    expect(wasmThreadingInfo()?.matMul).toBe('relaxed');
  });

  it.each<MatMulBuild>(['relaxed', 'plain'])(
    '%s: products of every shape class agree with float64 and with XNNPACK to float32 rounding',
    (build) => {
      const rng = new Rng(3);
      // Rows in blocks of 4 and a tail; columns in panels of 8, a partial panel, fewer than 8; K of 1.
      for (const [M, K, N] of [
        [8, 16, 16],
        [37, 50, 45],
        [3, 300, 5],
        [1, 1, 1],
        [130, 64, 136],
      ]) {
        const a = rand(rng, [M, K]);
        const b = rand(rng, [K, N]);
        const want = reference(a.dataSync() as Float32Array, b.dataSync() as Float32Array, M, K, N);
        const r = both(() => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D), build);
        expect(err(r.host, want, K)).toBeLessThan(2e-6);
        expect(err(r.host, r.xnnpack, K)).toBeLessThan(4e-6);
        tf.dispose([a, b]);
      }
    },
  );

  it('gives each element the same digits whatever rows and columns are multiplied beside it', () => {
    expect(installHostMatMul('relaxed')).toBe('relaxed');
    const rng = new Rng(5);
    const [M, K, N] = [23, 70, 19];
    const a = rand(rng, [M, K]) as tf.Tensor2D;
    const b = rand(rng, [K, N]) as tf.Tensor2D;
    const whole = tf.matMul(a, b);
    const all = whole.arraySync() as number[][];
    // Row 6 alone (the 1-row loop) and inside a block of 4; column 17 alone (a partial panel of 1) and
    // in columns 16-18; rows 20-22 (the tail) as a block of its own.
    const pieces: [number, number, number, number][] = [
      [6, 7, 0, N],
      [4, 8, 0, N],
      [0, M, 17, 18],
      [0, M, 16, 19],
      [20, 23, 0, N],
      [3, 5, 8, 16],
    ];
    for (const [r0, r1, c0, c1] of pieces) {
      const part = tf.tidy(() =>
        tf.matMul(a.slice([r0, 0], [r1 - r0, K]), b.slice([0, c0], [K, c1 - c0])).arraySync(),
      ) as number[][];
      part.forEach((row, i) => row.forEach((v, j) => expect(v).toBe(all[r0 + i][c0 + j])));
    }
    tf.dispose([a, b, whole]);
  });

  it('takes batched products (equal batches, or one B for all), and leaves transposes and broadcast A to XNNPACK, with no tensor left', () => {
    const rng = new Rng(9);
    const a = rand(rng, [2, 3, 5, 12]);
    const b3 = rand(rng, [2, 3, 12, 10]);
    const b1 = rand(rng, [12, 10]);
    const a1 = rand(rng, [5, 12]);
    const at = rand(rng, [12, 5]);
    const bt = rand(rng, [10, 12]);
    const n0 = tf.memory().numTensors;
    const cases: (() => tf.Tensor)[] = [
      () => tf.matMul(a, b3),
      () => tf.matMul(a, b1),
      () => tf.matMul(a1, b3), // A broadcast over B's batch: tfjs's kernel
      () => tf.matMul(at, b1, true, false),
      () => tf.matMul(a1, bt, false, true),
    ];
    for (const f of cases) {
      const r = both(f, 'relaxed');
      expect(r.host.length).toBe(r.xnnpack.length);
      expect(err(r.host, r.xnnpack, 12)).toBeLessThan(4e-6);
      expect(r.shapes[1]).toEqual(r.shapes[0]);
    }
    expect(tf.memory().numTensors).toBe(n0);
    tf.dispose([a, b3, b1, a1, at, bt]);
  });

  it('packs a B multiplied again once (kept by storage and shape), never a stale or reshaped one, and keeps at most three', () => {
    expect(installHostMatMul('relaxed')).toBe('relaxed');
    const rng = new Rng(17);
    const a = rand(rng, [6, 12]) as tf.Tensor2D;
    const ids0 = tf.backend().numDataIds();
    const check = (b: tf.Tensor2D) =>
      tf.tidy(() => {
        const [K, N] = b.shape;
        const rows = a.slice([0, 0], [6, K]);
        const want = reference(rows.dataSync() as Float32Array, b.dataSync() as Float32Array, 6, K, N);
        expect(err(tf.matMul(rows, b).dataSync(), want, K)).toBeLessThan(2e-6);
      });
    const b = rand(rng, [12, 8]) as tf.Tensor2D;
    check(b);
    check(b); // the kept packing
    const same = b.reshape([8, 12]) as tf.Tensor2D; // the same storage as another shape: packed anew
    check(same);
    for (let i = 0; i < 5; i++) {
      // New tensors of the same shape (the freed storage reused): never the old packing.
      const c = rand(rng, [12, 8]) as tf.Tensor2D;
      check(c);
      c.dispose();
    }
    check(b);
    // The kept packings (at most three) are the only storage left beyond the test's own tensors.
    tf.dispose([b, same]);
    expect(tf.backend().numDataIds() - ids0).toBeLessThanOrEqual(3);
    uninstallHostMatMul(); // frees them
    expect(tf.backend().numDataIds()).toBe(ids0);
    // A B over 32 MiB is packed, used and freed: nothing is kept (a smaller one would be: one more).
    expect(installHostMatMul('relaxed')).toBe('relaxed');
    const big = tf.zeros([2, 4 * 2 ** 20 + 8]) as tf.Tensor2D; // 32 MiB + 64 bytes
    const small = tf.zeros([2, 8]) as tf.Tensor2D;
    const before = tf.backend().numDataIds();
    const product = (m: tf.Tensor2D) =>
      tf.tidy(() => {
        expect(tf.matMul(a.slice([0, 0], [6, 2]), m).shape).toEqual([6, m.shape[1]]);
      });
    product(big);
    expect(tf.backend().numDataIds()).toBe(before);
    product(small);
    expect(tf.backend().numDataIds()).toBe(before + 1);
    tf.dispose([big, small]);
    a.dispose();
  });

  it('multiplies the training step: gradients through a product match XNNPACK to float32 rounding', () => {
    const rng = new Rng(13);
    const x = rand(rng, [24, 40]);
    const w = rand(rng, [40, 33]);
    const f = () => {
      const [gx, gw] = tf.grads((p: tf.Tensor, q: tf.Tensor) =>
        tf
          .matMul(p as tf.Tensor2D, q as tf.Tensor2D)
          .square()
          .sum(),
      )([x, w]);
      return tf.concat([gx.flatten(), gw.flatten()]);
    };
    const r = both(f, 'relaxed');
    let scale = 0;
    for (const v of r.xnnpack) scale = Math.max(scale, Math.abs(v));
    expect(err(r.host, r.xnnpack, 40) / scale).toBeLessThan(1e-6);
    tf.dispose([x, w]);
  });
});
