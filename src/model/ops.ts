/**
 * Matrix products whose gradients use only plain (non-transposed) matMuls.
 *
 * Why: on tfjs's wasm backend, matMul with transposeA/transposeB runs 10-50x slower than a plain matMul
 * (measured in docs/benchmarks.md), and the built-in MatMul gradient uses exactly those flags. An
 * explicit transpose followed by a plain matMul is far cheaper, so every product on the training path
 * goes through these helpers.
 */
import * as tf from './tf';

/** y = x @ w for x [R, K], w [K, C]; gradients dx = dy @ w^T, dw = x^T @ dy with explicit transposes. */
export const dense: (x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D = tf.customGrad(((
  x: tf.Tensor,
  w: tf.Tensor,
  save: tf.GradSaveFunc,
) => {
  save([x, w]);
  return {
    value: tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as tf.Tensor2D[];
      const dy2 = dy as tf.Tensor2D;
      return [tf.matMul(dy2, ws.transpose()), tf.matMul(xs.transpose(), dy2)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (
  x: tf.Tensor2D,
  w: tf.Tensor2D,
) => tf.Tensor2D;

/** y = a @ b^T for a [N, K], b [M, K] (pairwise dot products), with plain-matMul gradients. */
export const matMulABt: (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D = tf.customGrad(((
  a: tf.Tensor,
  b: tf.Tensor,
  save: tf.GradSaveFunc,
) => {
  save([a, b]);
  return {
    value: tf.matMul(a as tf.Tensor2D, (b as tf.Tensor2D).transpose()),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [as, bs] = saved as tf.Tensor2D[];
      const dy2 = dy as tf.Tensor2D;
      return [tf.matMul(dy2, bs), tf.matMul(dy2.transpose(), as)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (
  a: tf.Tensor2D,
  b: tf.Tensor2D,
) => tf.Tensor2D;

/** Row-wise l2 normalisation x / ||x|| (with a tiny floor so an all-zero row stays finite). */
export function l2normalize(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => x.div(x.square().sum(-1, true).add(1e-12).sqrt()));
}

/**
 * Column sums of m [R, C] -> [C], as ones[1, R] @ m: on the wasm backend a reduction over axis 0 of a
 * [1536, 3072] matrix takes ~30 ms, the matMul well under 1 ms.
 */
export function sumRows(m: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(
    () => tf.matMul(tf.ones([1, m.shape[0]]) as tf.Tensor2D, m).reshape([m.shape[1]]) as tf.Tensor1D,
  );
}
