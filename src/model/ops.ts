/**
 * Small tensor helpers chosen for speed on tfjs's wasm backend, where some general-purpose ops are
 * slow (measured in docs/benchmarks.md): matMul with transposeA/transposeB runs 10-50x slower than a
 * plain matMul (and the built-in MatMul gradient uses exactly those flags), reductions over axis 0
 * transpose first, and split/slice cost time in proportion to their whole input.
 */
import * as tf from './tf';

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

/** Backends whose tensors live in host memory (wasm heap or JS arrays). */
export function hasHostMemory(backend = tf.getBackend()): boolean {
  return backend === 'cpu' || backend === 'wasm';
}

/**
 * Split m [P * R, C] into P row blocks [R, C]. On the wasm backend tf.split/tf.slice cost time in
 * proportion to the whole input, not the slice (113 ms to cut [1536, 3072] into 12 steps), so on
 * host-memory backends the blocks are copied out of one read of the data instead (~10 ms).
 */
export function splitRows(m: tf.Tensor2D, parts: number): tf.Tensor2D[] {
  const [rows, C] = m.shape;
  if (rows % parts !== 0) throw new Error(`splitRows: ${rows} rows do not split into ${parts} equal parts`);
  const R = rows / parts;
  if (!hasHostMemory()) return tf.split(m, parts, 0);
  const data = m.dataSync() as Float32Array;
  return Array.from({ length: parts }, (_, p) =>
    tf.tensor2d(data.subarray(p * R * C, (p + 1) * R * C), [R, C]),
  );
}

/** m [R, C] -> m[:, :at], m[:, at:] (two slices: cheaper than tf.split's SplitV on wasm). */
export function splitCols(m: tf.Tensor2D, at: number): [tf.Tensor2D, tf.Tensor2D] {
  const [R, C] = m.shape;
  return [tf.slice(m, [0, 0], [R, at]), tf.slice(m, [0, at], [R, C - at])];
}

/** tanh(x) = 2 sigmoid(2x) - 1: the same function, 4x faster than tf.tanh on the wasm backend. */
export function tanh(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.sigmoid(x.mul(2)).mul(2).sub(1));
}

/** A trainable variable initialised from `init`, which is then freed (tf.variable keeps its own handle). */
export function variableOf(init: tf.Tensor): tf.Variable {
  const v = tf.variable(init, true);
  init.dispose();
  return v;
}
