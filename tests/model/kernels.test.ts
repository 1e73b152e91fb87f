/**
 * The parts of the WGSL kernel work that need no GPU (wasm backend): path choice, the kernel state,
 * limit checks and their messages, and the composite top-k retrieval against a brute-force ranking.
 * The kernels themselves run in Chromium: tests/e2e/kernels.e2e.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../../src/model/tf';
import { LayerNormGRU, GRU } from '../../src/model/gru';
import { orderViolation, orderViolationPath, orderViolationTopK } from '../../src/model/scoring';
import { topKBlockRows } from '../../src/model/kernels/orderViolation.wgsl';
import {
  checkBinding,
  checkDispatch,
  kernelState,
  kernelsActive,
  onKernelStateChange,
  setKernelsEnabled,
} from '../../src/model/kernels/webgpu';
import { useBackend } from '../helpers/tf';

beforeAll(() => useBackend('wasm'));

describe('kernel paths off webgpu', () => {
  it('uses no kernel on wasm: scoring is host-fused, the LN-GRU has its layer norms on the host', () => {
    expect(kernelsActive()).toBe(false);
    expect(orderViolationPath()).toBe('host-fused');
    // A webgpu backend that is not the running one (or whose device is gone) gets the composite path.
    expect(orderViolationPath('webgpu')).toBe('composite');
    const g = new LayerNormGRU(3, 4);
    expect(g.path).toBe('host-ln');
    g.dispose();
  });

  it('refuses the kernel path where it cannot run, naming why', () => {
    const g = new LayerNormGRU(3, 4);
    const x = tf.zeros([2, 2, 3]) as tf.Tensor3D;
    expect(() => g.forward(x, [2, 1], { path: 'webgpu-kernel' })).toThrow(
      /need the webgpu backend with a live device/,
    );
    const p = new GRU(3, 4);
    expect(() => p.forward(x, [2, 1], { path: 'webgpu-kernel' })).toThrow(/for the LN-GRU only/);
    const a = tf.ones([2, 3]) as tf.Tensor2D;
    expect(() => orderViolation(a, a, { path: 'webgpu-kernel' })).toThrow(/needs? the webgpu backend/);
    tf.dispose([x, a]);
    g.dispose();
    p.dispose();
  });

  it('reports kernel state changes to listeners', () => {
    const seen: string[] = [];
    const off = onKernelStateChange((s) => seen.push(s.status));
    setKernelsEnabled(false);
    expect(kernelState()).toEqual({ status: 'disabled', message: expect.stringMatching(/turned off/) });
    setKernelsEnabled(true);
    off();
    setKernelsEnabled(false);
    setKernelsEnabled(true);
    expect(seen).toEqual(['disabled', 'unavailable']);
  });
});

describe('device limits', () => {
  const limits = { maxStorageBufferBindingSize: 128 << 20, maxComputeWorkgroupsPerDimension: 65535 };

  it('names the tensor, its size and the limit when it does not fit one binding', () => {
    expect(() => checkBinding('op', 'captions [M, D]', [100000, 1024], limits)).toThrow(
      "op: captions [M, D] [100000,1024] needs 390.6 MiB, above this device's maxStorageBufferBindingSize (128.0 MiB); pass it in smaller chunks",
    );
    expect(() => checkBinding('op', 'x', [8192, 1024], limits)).not.toThrow();
    expect(() => checkDispatch('op', [70000, 1, 1], limits)).toThrow(
      /dispatch \[70000,1,1\] .* maxComputeWorkgroupsPerDimension \(65535\)/,
    );
  });

  it('sizes top-k gallery blocks so that the block and its energies fit a binding', () => {
    expect(topKBlockRows(128, 1024, 128 << 20)).toBe(8192); // capped
    expect(topKBlockRows(128, 1024, 16 << 20)).toBe(4096); // 4096 x 1024 x 4 B = 16 MiB
    expect(topKBlockRows(100000, 8, 16 << 20)).toBe(41); // the energy block [Q, m] is the bound
    expect(topKBlockRows(1, 1 << 30, 16)).toBe(1);
  });
});

describe('top-k retrieval (composite and host paths)', () => {
  const N = 9;
  const M = 23;
  const D = 6;
  const k = 4;
  /** Brute force: for each row of E (or column), the k smallest, ties to the lower index. */
  function brute(E: number[][], byRows: boolean): { idx: number[][]; val: number[][] } {
    const rows = byRows ? E : E[0].map((_, j) => E.map((r) => r[j]));
    const idx = rows.map((r) =>
      r
        .map((v, j) => [v, j])
        .sort((a, b) => a[0] - b[0] || a[1] - b[1])
        .slice(0, k)
        .map((p) => p[1]),
    );
    return { idx, val: idx.map((is, q) => is.map((j) => rows[q][j])) };
  }

  it.each(['host-fused', 'composite'] as const)(
    '%s: equals a brute-force ranking both ways, over blocks',
    (path) => {
      const im = tf.randomUniform([N, D], 0, 1, 'float32', 21) as tf.Tensor2D;
      const cap = tf.randomUniform([M, D], 0, 1, 'float32', 22) as tf.Tensor2D;
      const E = orderViolation(im, cap).arraySync();
      for (const by of ['image', 'caption'] as const) {
        const ref = brute(E, by === 'image');
        const [q, g] = by === 'image' ? [im, cap] : [cap, im];
        const r = orderViolationTopK(q, g, k, { by, blockRows: 5, path });
        expect(r.indices.shape).toEqual([by === 'image' ? N : M, k]);
        expect(r.indices.dtype).toBe('int32');
        const val = r.energies.arraySync();
        ref.val.forEach((row, i) => row.forEach((v, j) => expect(val[i][j]).toBeCloseTo(v, 5)));
        // Indices: equal where energies are not tied.
        const idx = r.indices.arraySync();
        ref.idx.forEach((row, i) =>
          row.forEach((j, s) => {
            if (ref.val[i].filter((v) => v === ref.val[i][s]).length === 1) expect(idx[i][s]).toBe(j);
          }),
        );
        tf.dispose([r.indices, r.energies]);
      }
      tf.dispose([im, cap]);
    },
  );

  it('rejects k outside 1..gallery size and mismatched sizes', () => {
    const a = tf.ones([3, 4]) as tf.Tensor2D;
    expect(() => orderViolationTopK(a, a, 4, { by: 'image' })).toThrow(/k must be an integer in 1\.\.3/);
    expect(() => orderViolationTopK(a, tf.ones([3, 5]) as tf.Tensor2D, 1, { by: 'image' })).toThrow(
      /embedding sizes differ/,
    );
  });
});
