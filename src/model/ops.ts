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

/**
 * x @ w^T for x [B, K] with few rows and a weight w [N, K], as (w @ x^T)^T: for the host-memory
 * backends. The wasm backend's XNNPACK packs a matMul's second operand before it multiplies, once per
 * tensor (bench:model's `matmul_new_weights`: ~30 ms for [1024, 3072]), and a weight is a new tensor
 * after every Adam step: as the second operand, w would be packed afresh in every step and in every
 * thread of a pool; as the first, only x^T (B columns) is. XNNPACK sums over K in the same order either
 * way, and so does the cpu backend: the same bits (tests/model/ops.test.ts).
 */
export function matMulWt(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.matMul(w, x.transpose()).transpose()); // [N, B] -> [B, N]
}

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

/**
 * A pass written as a generator that yields where it may stop for a while (between the time steps of
 * the GRU, between the blocks of a large product: ./gru.ts, ./model.ts, ./trainer.ts). Run to its end
 * without stopping, it is the synchronous pass itself: the same ops in the same order, the same digits.
 */
export type Pass<R> = Generator<void, R, void>;

/** Runs a {@link Pass} to its end at once and returns its result. */
export function runToEnd<R>(pass: Pass<R>): R {
  for (;;) {
    const next = pass.next();
    if (next.done) return next.value;
  }
}

/**
 * The tensors a {@link Pass} makes between its yields. No tf.tidy can span a yield (tidy is
 * synchronous, and while a pass waits other work runs tfjs ops that must not land in its scope), so a
 * pass keeps what it makes here and, in a `finally`, releases all of it except its result: everything
 * when it was abandoned at a yield.
 */
export class PassTensors {
  private list: tf.Tensor[] = [];

  /** Records every tensor in `value` (a tensor, or arrays and objects of them) and returns `value`. */
  keep<T>(value: T): T {
    collectTensors(value, this.list);
    return value;
  }

  /** tf.tidy(fn), keeping what fn returns (tensors made inside and not returned are freed at once). */
  tidy<T>(fn: () => T): T {
    return this.keep(tf.tidy(() => fn() as unknown as tf.TensorContainer) as unknown as T);
  }

  /** Frees every kept tensor that is not in `result` (nothing is kept when the pass was abandoned). */
  release(result?: unknown): void {
    const keep = new Set(collectTensors(result, []));
    tf.dispose(this.list.filter((t) => !keep.has(t)));
    this.list = [];
  }
}

function collectTensors(value: unknown, into: tf.Tensor[]): tf.Tensor[] {
  if (value instanceof tf.Tensor) into.push(value);
  else if (Array.isArray(value)) for (const v of value) collectTensors(v, into);
  else if (value && typeof value === 'object' && !ArrayBuffer.isView(value))
    for (const v of Object.values(value)) collectTensors(v, into);
  return into;
}

/**
 * a @ b for a [M, K], b [K, N], as one product, or, when `blockMacs` is given and the product needs more
 * multiply-adds than that, in row blocks of `a` of about `blockMacs` each, with a yield after each block,
 * so that a pass can stop within a product that takes seconds at the largest sizes. A row of the result
 * depends only on its row of `a`, so the blocks hold the values of the one product. Returns a new tensor.
 */
export function* blockedMatMul(a: tf.Tensor2D, b: tf.Tensor2D, blockMacs?: number): Pass<tf.Tensor2D> {
  const [M, K] = a.shape;
  const N = b.shape[1];
  const rows = blockMacs ? Math.max(1, Math.floor(blockMacs / (K * N))) : M;
  if (rows >= M) return tf.matMul(a, b);
  const parts: tf.Tensor2D[] = [];
  // On host-memory backends the blocks come from one read of a (tf.slice costs the whole input each).
  const data = hasHostMemory() ? (a.dataSync() as Float32Array) : null;
  try {
    for (let r = 0; r < M; r += rows) {
      const n = Math.min(rows, M - r);
      parts.push(
        tf.tidy(() =>
          tf.matMul(
            data ? tf.tensor2d(data.subarray(r * K, (r + n) * K), [n, K]) : a.slice([r, 0], [n, K]),
            b,
          ),
        ),
      );
      yield;
    }
    return tf.concat(parts);
  } finally {
    tf.dispose(parts);
  }
}

/**
 * The values of a float32 tensor, read synchronously, then freed: for the host-memory backends (wasm,
 * cpu: a read is a copy) and the synchronous Node paths; on a device backend use {@link readAndDispose}.
 */
export function readSyncAndDispose(t: tf.Tensor): Float32Array {
  try {
    return t.dataSync() as Float32Array;
  } finally {
    t.dispose();
  }
}

/**
 * The values of float32 `tensors`, read asynchronously (never `dataSync`: on WebGPU it stalls the queue,
 * and on a headless software adapter loses the device), then freed, whether the read succeeds or not.
 */
export async function readAndDispose(...tensors: tf.Tensor[]): Promise<Float32Array[]> {
  try {
    return (await Promise.all(tensors.map((t) => t.data()))) as Float32Array[];
  } finally {
    tf.dispose(tensors);
  }
}
