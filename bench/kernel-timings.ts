/**
 * The timings behind `npm run bench:kernels` (scripts/bench-kernels.ts): the WGSL kernels against the
 * composite tfjs ops they replace (scoring, top-k, the LN-GRU step and its backward, a whole training
 * step) and the image encoders, each the median of a few runs after a warm-up. Exposed through
 * ./kernels-page.ts.
 *
 * This file holds scoring and top-k retrieval; the LN-GRU timings are in ./lngru-timings.ts, the whole
 * training step in ./train-step-timings.ts, the image encoders in ./encoder-timings.ts and the timing
 * itself in ./timing.ts. All the benchmarks are importable from here.
 */
import * as tf from '../src/model/tf';
import { orderViolationTopKWebGPU } from '../src/model/kernels/orderViolation.wgsl';
import { orderViolation, orderViolationTopK, type OrderViolationPath } from '../src/model/scoring';
import { settle, time } from './timing';

export { benchEncoder } from './encoder-timings';
export { benchBackwardTail, benchLnGru, benchStep } from './lngru-timings';
export { benchTrainStep } from './train-step-timings';

/**
 * Scoring N x M at D, forward energies (and forward + both gradients), per path. A path in
 * `partialRows` is timed on its first rows of images only and scaled by N / rows (the composite path
 * works one image row per chunk at these sizes, so its time is linear in N); the result names it.
 */
export async function benchScoring(s: {
  N: number;
  M: number;
  D: number;
  reps: number;
  grads?: boolean;
  paths: OrderViolationPath[];
  partialRows?: Partial<Record<OrderViolationPath, number>>;
}) {
  const im = tf.randomUniform([s.N, s.D], 0, 1 / Math.sqrt(s.D), 'float32', 1) as tf.Tensor2D;
  const cap = tf.randomUniform([s.M, s.D], 0, 1 / Math.sqrt(s.D), 'float32', 2) as tf.Tensor2D;
  const out: Record<string, number> = {};
  for (const path of s.paths) {
    const rows = Math.min(s.N, s.partialRows?.[path] ?? s.N);
    const q = rows === s.N ? im : im.slice([0, 0], [rows, s.D]);
    const scale = s.N / rows;
    const tag = rows === s.N ? path : `${path}~${rows}rows`;
    out[`${tag}_fwd`] =
      scale * (await time(() => settle(orderViolation(q, cap, { path })), s.reps, `${tag}_fwd`));
    if (s.grads) {
      const f = (a: tf.Tensor, b: tf.Tensor) =>
        orderViolation(a as tf.Tensor2D, b as tf.Tensor2D, { path }).sum();
      out[`${tag}_fwdbwd`] =
        scale * (await time(() => settle(tf.grads(f)([q, cap])), s.reps, `${tag}_fwdbwd`));
    }
    if (q !== im) q.dispose();
  }
  tf.dispose([im, cap]);
  return out;
}

/**
 * Retrieval: top-10 captions for each of N images over a gallery of M, held as blocks of `blockRows`
 * rows (a 10^5 x 1024 gallery is larger than one storage binding). Paths in `partialBlocks` scan only
 * that many blocks and are scaled to the whole gallery.
 */
export async function benchTopK(s: {
  N: number;
  M: number;
  D: number;
  reps: number;
  blockRows: number;
  paths: OrderViolationPath[];
  partialBlocks?: Partial<Record<OrderViolationPath, number>>;
}) {
  const im = tf.randomUniform([s.N, s.D], 0, 1 / Math.sqrt(s.D), 'float32', 1) as tf.Tensor2D;
  const blocks: tf.Tensor2D[] = [];
  for (let j = 0; j < s.M; j += s.blockRows) {
    const m = Math.min(s.blockRows, s.M - j);
    blocks.push(tf.randomUniform([m, s.D], 0, 1 / Math.sqrt(s.D), 'float32', 2 + j) as tf.Tensor2D);
  }
  const out: Record<string, number> = {};
  for (const path of s.paths) {
    const nb = Math.min(blocks.length, s.partialBlocks?.[path] ?? blocks.length);
    const part = blocks.slice(0, nb);
    const rows = part.reduce((a, b) => a + b.shape[0], 0);
    const tag = nb === blocks.length ? path : `${path}~${rows}rows`;
    const ms = await time(
      async () => {
        if (path === 'webgpu-kernel') {
          const r = orderViolationTopKWebGPU(im, part, 10, { by: 'image' });
          await settle([r.energies, r.indices]);
        } else {
          // Per block on this path, then a merge of the per-block top-10s (as orderViolationTopK does).
          const rs = part.map((g) =>
            orderViolationTopK(im, g, 10, { by: 'image', path, blockRows: s.blockRows }),
          );
          const all = tf.concat(
            rs.map((r) => r.energies),
            1,
          );
          const best = tf.topk(all.neg(), 10);
          await settle([best.values, best.indices, all, ...rs.flatMap((r) => [r.energies, r.indices])]);
        }
      },
      s.reps,
      `${tag}_topk`,
    );
    out[`${tag}_topk`] = (ms * s.M) / rows;
  }
  tf.dispose([im, ...blocks]);
  return out;
}
