import { describe, expect, it } from 'vitest';
import * as tf from '../../src/model/tf';
import { matMulWt } from '../../src/model/ops';
import { Rng } from '../../src/model/rng';
import { useBackend } from '../helpers/tf';

function random(rng: Rng, shape: [number, number]): tf.Tensor2D {
  return tf.tensor2d(
    Float32Array.from({ length: shape[0] * shape[1] }, () => rng.normal()),
    shape,
  );
}

describe('matMulWt: x @ w^T with the weight as the first operand', () => {
  // [B, K] x [N, K]: the forward's recurrent product at hidden 1024, the same with K and N swapped, a
  // ragged one, one row.
  const SHAPES: [number, number, number][] = [
    [64, 1024, 3072],
    [64, 3072, 1024],
    [5, 33, 7],
    [1, 300, 12],
  ];

  for (const backend of ['wasm', 'cpu'] as const) {
    it(`gives the bits of x @ w^T on ${backend}, and frees what it makes`, async () => {
      await useBackend(backend);
      const rng = new Rng(7);
      for (const [B, K, N] of SHAPES) {
        const x = random(rng, [B, K]);
        const w = random(rng, [N, K]);
        const before = tf.memory().numTensors;
        const y = matMulWt(x, w);
        expect(tf.memory().numTensors).toBe(before + 1);
        expect(y.shape).toEqual([B, N]);
        const plain = tf.tidy(() => tf.matMul(x, w.transpose()));
        const [got, want] = [y.dataSync(), plain.dataSync()];
        let differ = 0;
        for (let i = 0; i < got.length; i++) if (!Object.is(got[i], want[i])) differ++;
        expect(differ, `${B}x${K}x${N} on ${backend}: elements that differ`).toBe(0);
        tf.dispose([x, w, y, plain]);
      }
    });
  }
});
