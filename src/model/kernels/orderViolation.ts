/**
 * Two implementations of the pairwise order-violation energy
 *
 *   E[i, j] = sum_k max(0, c[j, k] - im[i, k])^2          images [N, D], captions [M, D] -> [N, M]
 *   dE/dim[i, k] = -2 sum_j g[i, j] max(0, c[j, k] - im[i, k])
 *   dE/dc[j, k]  =  2 sum_i g[i, j] max(0, c[j, k] - im[i, k])       (g = upstream gradient [N, M])
 *
 * - `orderViolationComposite`: tfjs ops on any backend, in chunks of image rows so that no intermediate
 *   exceeds a budget of n * M * D elements. It is the reference and the path for webgl/webgpu.
 * - `orderViolationHost`: one fused loop over host memory for the cpu and wasm backends, where tensor
 *   data already lives in (wasm or JS) host memory: it reads each element once, builds no
 *   intermediate at all, and is much faster than the composite ops there (docs/benchmarks.md).
 *   Its gradient is the matching fused loop, attached with tf.customGrad. The loops run as
 *   WebAssembly SIMD (./ovHost.wat via ./ovHost.wasm.ts: ~8x the JS loops for E, ~9x for the
 *   gradients at N = M = 128, D = 1024) where the runtime has it; the JS loops below are the fallback
 *   and the reference its tests compare with.
 */
import * as tf from '../tf';
import { orderViolationGradWasm, orderViolationWasm, ovWasm } from './ovHost.wasm';

/** Elements of the largest [n, M, D] intermediate a composite chunk may build (16 MiB of float32). */
export const DEFAULT_CHUNK_ELEMENTS = 1 << 22;

/** Image rows per chunk so that rows * M * D <= budget (at least 1). */
export function chunkRows(M: number, D: number, budget = DEFAULT_CHUNK_ELEMENTS): number {
  return Math.max(1, Math.floor(budget / Math.max(1, M * D)));
}

export function orderViolationComposite(
  images: tf.Tensor2D,
  captions: tf.Tensor2D,
  chunkElements = DEFAULT_CHUNK_ELEMENTS,
): tf.Tensor2D {
  const [N, D] = images.shape;
  const M = captions.shape[0];
  const rows = chunkRows(M, D, chunkElements);
  return tf.tidy(() => {
    const c = captions.expandDims(0); // [1, M, D]
    const parts: tf.Tensor2D[] = [];
    for (let i0 = 0; i0 < N; i0 += rows) {
      const im = images.slice([i0, 0], [Math.min(rows, N - i0), D]).expandDims(1); // [n, 1, D]
      parts.push(tf.relu(c.sub(im)).square().sum(-1) as tf.Tensor2D); // [n, M, D] -> [n, M]
    }
    return parts.length === 1 ? parts[0] : (tf.concat(parts, 0) as tf.Tensor2D);
  });
}

/**
 * Row-matched energies E[i] = sum_k max(0, c[i, k] - im[i, k])^2 for images [N, D] and captions [N, D]
 * -> [N]: the diagonal of the pairwise E without its other N^2 - N entries, for losses over explicit
 * (positive or corrupted) pairs such as the WordNet hypernym pairs (src/model/wordnet). The largest
 * intermediate is [N, D], the size of the inputs, so plain composite ops serve every backend (no
 * chunking, no host loop) and tfjs derives the gradients.
 */
export function orderViolationRowsComposite(images: tf.Tensor2D, captions: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.relu(captions.sub(images)).square().sum(-1) as tf.Tensor1D);
}

/*
 * The host loops are written for V8: relu(d)^2 is computed branch-free as (d + |d|)^2 / 4 (a data-
 * dependent branch mispredicts about half the time on real embeddings: 8x slower), and four captions
 * are processed per pass so that each image element is loaded once for four products.
 */

/** E for row-major host arrays. */
export function orderViolationLoop(
  im: Float32Array,
  c: Float32Array,
  N: number,
  M: number,
  D: number,
): Float32Array {
  const E = new Float32Array(N * M);
  const M4 = M - (M % 4);
  for (let i = 0; i < N; i++) {
    const io = i * D;
    for (let j = 0; j < M4; j += 4) {
      const j0 = j * D;
      const j1 = j0 + D;
      const j2 = j1 + D;
      const j3 = j2 + D;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let k = 0; k < D; k++) {
        const a = im[io + k];
        let d = c[j0 + k] - a;
        d += Math.abs(d); // 2 relu(d)
        s0 += d * d;
        d = c[j1 + k] - a;
        d += Math.abs(d);
        s1 += d * d;
        d = c[j2 + k] - a;
        d += Math.abs(d);
        s2 += d * d;
        d = c[j3 + k] - a;
        d += Math.abs(d);
        s3 += d * d;
      }
      const o = i * M + j;
      E[o] = s0 / 4;
      E[o + 1] = s1 / 4;
      E[o + 2] = s2 / 4;
      E[o + 3] = s3 / 4;
    }
    for (let j = M4; j < M; j++) {
      const jo = j * D;
      let s = 0;
      for (let k = 0; k < D; k++) {
        let d = c[jo + k] - im[io + k];
        d += Math.abs(d);
        s += d * d;
      }
      E[i * M + j] = s / 4;
    }
  }
  return E;
}

/** Gradients of sum(g * E) with respect to the images and captions, for row-major host arrays. */
export function orderViolationGradLoop(
  im: Float32Array,
  c: Float32Array,
  g: Float32Array,
  N: number,
  M: number,
  D: number,
): { dIm: Float32Array; dC: Float32Array } {
  // dE/dc = 2 relu(d) = d + |d| per pair, weighted by g; dE/dim is its negative.
  const dIm = new Float32Array(N * D);
  const dC = new Float32Array(M * D);
  const M4 = M - (M % 4);
  for (let i = 0; i < N; i++) {
    const io = i * D;
    const go = i * M;
    for (let j = 0; j < M4; j += 4) {
      const w0 = g[go + j];
      const w1 = g[go + j + 1];
      const w2 = g[go + j + 2];
      const w3 = g[go + j + 3];
      if (w0 === 0 && w1 === 0 && w2 === 0 && w3 === 0) continue;
      const j0 = j * D;
      const j1 = j0 + D;
      const j2 = j1 + D;
      const j3 = j2 + D;
      for (let k = 0; k < D; k++) {
        const a = im[io + k];
        let d0 = c[j0 + k] - a;
        d0 = w0 * (d0 + Math.abs(d0));
        let d1 = c[j1 + k] - a;
        d1 = w1 * (d1 + Math.abs(d1));
        let d2 = c[j2 + k] - a;
        d2 = w2 * (d2 + Math.abs(d2));
        let d3 = c[j3 + k] - a;
        d3 = w3 * (d3 + Math.abs(d3));
        dC[j0 + k] += d0;
        dC[j1 + k] += d1;
        dC[j2 + k] += d2;
        dC[j3 + k] += d3;
        dIm[io + k] -= d0 + d1 + d2 + d3;
      }
    }
    for (let j = M4; j < M; j++) {
      const w = g[go + j];
      if (w === 0) continue;
      const jo = j * D;
      for (let k = 0; k < D; k++) {
        let d = c[jo + k] - im[io + k];
        d = w * (d + Math.abs(d));
        dC[jo + k] += d;
        dIm[io + k] -= d;
      }
    }
  }
  return { dIm, dC };
}

/** E for row-major host arrays: the WebAssembly module where it runs and holds the call, else the JS loop. */
export function orderViolationHostArrays(
  im: Float32Array,
  c: Float32Array,
  N: number,
  M: number,
  D: number,
): Float32Array {
  const w = ovWasm();
  return (w && orderViolationWasm(w, im, c, N, M, D)) ?? orderViolationLoop(im, c, N, M, D);
}

/** The gradients for row-major host arrays: the WebAssembly module where it can, else the JS loop. */
export function orderViolationGradHostArrays(
  im: Float32Array,
  c: Float32Array,
  g: Float32Array,
  N: number,
  M: number,
  D: number,
): { dIm: Float32Array; dC: Float32Array } {
  const w = ovWasm();
  return (w && orderViolationGradWasm(w, im, c, g, N, M, D)) ?? orderViolationGradLoop(im, c, g, N, M, D);
}

const hostOp = tf.customGrad(((images: tf.Tensor, captions: tf.Tensor, save: tf.GradSaveFunc) => {
  save([images, captions]);
  const [N, D] = images.shape;
  const M = captions.shape[0];
  const E = orderViolationHostArrays(
    images.dataSync() as Float32Array,
    captions.dataSync() as Float32Array,
    N,
    M,
    D,
  );
  return {
    value: tf.tensor2d(E, [N, M]),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [im, c] = saved;
      const { dIm, dC } = orderViolationGradHostArrays(
        im.dataSync() as Float32Array,
        c.dataSync() as Float32Array,
        dy.dataSync() as Float32Array,
        N,
        M,
        D,
      );
      return [tf.tensor2d(dIm, [N, D]), tf.tensor2d(dC, [M, D])];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]);

/** Fused host version (cpu and wasm backends only: elsewhere dataSync would stall on a GPU readback). */
export function orderViolationHost(images: tf.Tensor2D, captions: tf.Tensor2D): tf.Tensor2D {
  return hostOp(images, captions) as tf.Tensor2D;
}
