/**
 * The one scoring function of orderembed: it serves the training loss, evaluation and retrieval.
 *
 * Order embeddings (Vendrov et al. 2016): a caption should lie below its image in the reversed product
 * order of R^D_+, and the order-violation energy measures by how much it does not:
 *
 *   E(image, caption) = || max(0, caption - image) ||^2 = sum_k max(0, c_k - im_k)^2     (squared)
 *
 * E = 0 exactly when caption <= image coordinate-wise. Retrieval ranks by smallest E, so the score is
 * S = -E (higher is better). The symmetric baseline scores by cosine similarity.
 *
 * The pairwise energy needs the elementwise difference of every image with every caption; built with
 * broadcasting it is an [N, M, D] tensor (20 GB for 1000 images x 5000 captions at D = 1024). So it is
 * computed by a fused loop that builds no intermediate (cpu, wasm), by tiled WGSL kernels (webgpu with a
 * live device: ./kernels/orderViolation.wgsl.ts), or in chunks of image rows, each [n, M, D] with
 * n * M * D under a fixed budget (other backends, and webgpu after a lost device).
 */
import * as tf from './tf';
import { hasHostMemory, l2normalize, matMulABt } from './ops';
import type { Measure } from './types';
import {
  orderViolationComposite,
  orderViolationHost,
  orderViolationRowsComposite,
} from './kernels/orderViolation';
import { orderViolationTopKWebGPU, orderViolationWebGPU, type TopK } from './kernels/orderViolation.wgsl';
import { kernelsActive } from './kernels/webgpu';

export { chunkRows, DEFAULT_CHUNK_ELEMENTS } from './kernels/orderViolation';
export type { TopK } from './kernels/orderViolation.wgsl';
/** The order-violation implementations: fused host loop, tfjs composite ops, WGSL kernels. */
export type OrderViolationPath = 'host-fused' | 'composite' | 'webgpu-kernel';

export interface ScoreOptions {
  /** Composite path: budget of elements per [n, M, D] chunk. */
  chunkElements?: number;
  /** Force an implementation (tests compare them); automatic by backend otherwise. */
  path?: OrderViolationPath;
}

function checkPair(images: tf.Tensor, captions: tf.Tensor): void {
  if (images.rank !== 2 || captions.rank !== 2) {
    throw new Error(
      `scores: expected images [N, D] and captions [M, D], got [${images.shape}] and [${captions.shape}]`,
    );
  }
  if (images.shape[1] !== captions.shape[1]) {
    throw new Error(
      `scores: embedding sizes differ: images [${images.shape}] vs captions [${captions.shape}]`,
    );
  }
}

/**
 * Which implementation `orderViolation` uses on a backend (shown in the UI and the benchmarks):
 * 'webgpu-kernel' only while webgpu is the active backend and its device is alive (after a lost device,
 * or for a webgpu backend that is not running, the answer is 'composite').
 */
export function orderViolationPath(backend = tf.getBackend()): OrderViolationPath {
  if (hasHostMemory(backend)) return 'host-fused';
  return backend === 'webgpu' && backend === tf.getBackend() && kernelsActive()
    ? 'webgpu-kernel'
    : 'composite';
}

/**
 * E[i, j] = sum_k max(0, captions[j, k] - images[i, k])^2, [N, M], never materializing [N, M, D]:
 * a fused loop on host-memory backends, chunked composite ops elsewhere (./kernels/orderViolation.ts).
 */
export function orderViolation(
  images: tf.Tensor2D,
  captions: tf.Tensor2D,
  opts: ScoreOptions = {},
): tf.Tensor2D {
  checkPair(images, captions);
  const path = opts.path ?? orderViolationPath();
  if (path === 'host-fused') return orderViolationHost(images, captions);
  if (path === 'webgpu-kernel') return orderViolationWebGPU(images, captions);
  return orderViolationComposite(images, captions, opts.chunkElements);
}

/**
 * Retrieval: the k lowest order-violation energies per query and their gallery indices, scanning the
 * gallery in blocks so that memory stays O(queries x block). `by: 'image'` ranks the captions for each
 * image (rows of E), `by: 'caption'` the images for each caption (columns of E). On webgpu the blocks go
 * through the WGSL energy and merge kernels; elsewhere through `orderViolation` and tf.topk.
 */
export function orderViolationTopK(
  queries: tf.Tensor2D,
  gallery: tf.Tensor2D,
  k: number,
  opts: { by: 'image' | 'caption'; blockRows?: number; path?: OrderViolationPath },
): TopK {
  if (opts.by === 'image') checkPair(queries, gallery);
  else checkPair(gallery, queries);
  const path = opts.path ?? orderViolationPath();
  if (path === 'webgpu-kernel') return orderViolationTopKWebGPU(queries, gallery, k, opts);
  const M = gallery.shape[0];
  if (!(Number.isInteger(k) && k >= 1 && k <= M)) {
    throw new Error(`orderViolationTopK: k must be an integer in 1..${M} (gallery rows), got ${k}`);
  }
  const block = opts.blockRows ?? 4096;
  return tf.tidy(() => {
    let scores: tf.Tensor2D | null = null; // -E of the best so far [Q, k]
    let indices: tf.Tensor2D | null = null; // [Q, k]
    for (let j0 = 0; j0 < M; j0 += block) {
      const count = Math.min(block, M - j0);
      const g = gallery.slice([j0, 0], [count, gallery.shape[1]]);
      const E =
        opts.by === 'image'
          ? orderViolation(queries, g, { path }) // [Q, count]
          : (orderViolation(g, queries, { path }).transpose() as tf.Tensor2D); // [count, Q] -> [Q, count]
      const top = tf.topk(E.neg(), Math.min(k, count)); // highest -E = lowest E
      const idx = top.indices.add(tf.scalar(j0, 'int32')) as tf.Tensor2D;
      if (scores === null || indices === null) {
        scores = top.values as tf.Tensor2D;
        indices = idx;
      } else {
        const allS = tf.concat([scores, top.values], 1); // [Q, k + k']
        const allI = tf.concat([indices, idx], 1);
        const merged = tf.topk(allS, k);
        scores = merged.values as tf.Tensor2D;
        // Per-row gather through flat indices (tf.gather with batchDims fails on the wasm backend).
        const [Q, width] = allI.shape;
        const flat = merged.indices.add(tf.range(0, Q * width, width, 'int32').expandDims(1)); // [Q, k]
        indices = tf.gather(allI.reshape([Q * width]), flat.reshape([Q * k])).reshape([Q, k]) as tf.Tensor2D;
      }
    }
    return { energies: scores!.neg(), indices: indices! } as unknown as tf.TensorContainer;
  }) as unknown as TopK;
}

function checkRows(images: tf.Tensor, captions: tf.Tensor): void {
  if (images.rank !== 2 || captions.rank !== 2 || images.shape[0] !== captions.shape[0]) {
    throw new Error(
      `row scores: expected images and captions of the same [N, D], got [${images.shape}] and [${captions.shape}]`,
    );
  }
  checkPair(images, captions);
}

/**
 * Row-matched order-violation energy, the diagonal of `orderViolation` computed alone:
 *
 *   E[i] = sum_k max(0, captions[i, k] - images[i, k])^2,   [N]
 *
 * for losses over explicit pairs (image i with caption i; in the WordNet experiment the hyponym in
 * `images`, the hypernym in `captions`: the more general item is the one that should lie below).
 */
export function orderViolationRows(images: tf.Tensor2D, captions: tf.Tensor2D): tf.Tensor1D {
  checkRows(images, captions);
  return orderViolationRowsComposite(images, captions);
}

/** Row-matched cosine similarity, the diagonal of `cosineSimilarity`, [N]. */
export function cosineSimilarityRows(images: tf.Tensor2D, captions: tf.Tensor2D): tf.Tensor1D {
  checkRows(images, captions);
  return tf.tidy(() => l2normalize(images).mul(l2normalize(captions)).sum(-1) as tf.Tensor1D);
}

/** Row-matched scores, higher is better: -E for order embeddings, cosine for the symmetric baseline. */
export function rowScores(images: tf.Tensor2D, captions: tf.Tensor2D, measure: Measure): tf.Tensor1D {
  return measure === 'order'
    ? tf.tidy(() => orderViolationRows(images, captions).neg() as tf.Tensor1D)
    : cosineSimilarityRows(images, captions);
}

/** Cosine similarity of l2-normalized rows, [N, M]. */
export function cosineSimilarity(images: tf.Tensor2D, captions: tf.Tensor2D): tf.Tensor2D {
  checkPair(images, captions);
  return tf.tidy(() => matMulABt(l2normalize(images), l2normalize(captions)));
}

/**
 * Score matrix S[i, j] of image i and caption j, higher is better: -E for order embeddings, cosine
 * similarity for the symmetric baseline. Differentiable (used inside the loss).
 */
export function scores(
  images: tf.Tensor2D,
  captions: tf.Tensor2D,
  measure: Measure,
  opts: ScoreOptions = {},
): tf.Tensor2D {
  return measure === 'order'
    ? tf.tidy(() => orderViolation(images, captions, opts).neg() as tf.Tensor2D)
    : cosineSimilarity(images, captions);
}

/**
 * Scores of a large gallery in blocks of captions: calls `scores` on each block and hands each [N, m]
 * block to `onBlock` as a Float32Array (row-major), then frees it. Used by retrieval and calibration,
 * where N x M can be large but no gradient is needed (the composite path's [n, m, D] intermediate stays
 * bounded by the block). Every block is dispatched before the first is read, and each is read
 * asynchronously: no synchronous read on a device backend (on WebGPU `dataSync` stalls the queue, and on
 * a headless software adapter loses the device), and `images` and `captions` are not touched after the
 * first await (a cache that owns them may replace them while the caller waits).
 */
export async function scoreBlocks(
  images: tf.Tensor2D,
  captions: tf.Tensor2D,
  measure: Measure,
  blockSize: number,
  onBlock: (block: Float32Array, start: number, count: number) => void,
): Promise<void> {
  const [M, D] = captions.shape;
  const blocks: { s: tf.Tensor2D; start: number; count: number }[] = [];
  for (let j0 = 0; j0 < M; j0 += blockSize) {
    const count = Math.min(blockSize, M - j0);
    const s = tf.tidy(() => scores(images, captions.slice([j0, 0], [count, D]), measure)); // [N, count]
    blocks.push({ s, start: j0, count });
  }
  try {
    for (const { s, start, count } of blocks) onBlock((await s.data()) as Float32Array, start, count);
  } finally {
    tf.dispose(blocks.map((b) => b.s));
  }
}
