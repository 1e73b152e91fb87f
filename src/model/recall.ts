/**
 * Retrieval metrics (Recall@K, median and mean rank) for image-caption retrieval in both directions,
 * from a dense score matrix.
 *
 * Conventions (the same as /shared/testvectors/recall.json and the order-embeddings / VSE++ papers):
 * - `scores` is row-major [N, M]: `scores[i * M + j]` is the score of image i vs caption j, and HIGHER
 *   IS BETTER. For order embeddings pass the negated order-violation energy (-E); for cosine pass the
 *   cosine similarity.
 * - `captionImage[j]` is the index (in [0, N)) of caption j's image; an image usually has 5 captions.
 * - Ranks are 0-based: rank 0 means "retrieved first".
 * - Image -> caption (i2t, annotation): the rank of image i is the rank of its BEST-ranked own caption
 *   among all M captions.
 * - Caption -> image (t2i, search): the rank of caption j is the rank of its image among all N images.
 * - Ties: a rank counts only the items scoring STRICTLY better than the ground truth, so a tie is
 *   resolved in the ground truth's favour (optimistic). This makes the ranks independent of the item
 *   order and lets them be computed without sorting. A degenerate model that gives every pair the same
 *   score would therefore get R@1 = 100; real scores essentially never tie.
 * - NaN scores are rejected with an error (they would silently count as "not better").
 *
 * Both rank functions are O(N * M) time with one pass over the matrix and O(N + M) extra memory.
 */
import type { EvalMetrics, RecallMetrics } from './types';

/** A row-major [numImages, numCaptions] score matrix. */
export type ScoreArray = Float32Array | Float64Array;

function checkInputs(
  scores: ScoreArray,
  numImages: number,
  numCaptions: number,
  captionImage: ArrayLike<number>,
): void {
  if (!Number.isInteger(numImages) || numImages < 1) {
    throw new Error(`numImages must be a positive integer, got ${numImages}`);
  }
  if (!Number.isInteger(numCaptions) || numCaptions < 1) {
    throw new Error(`numCaptions must be a positive integer, got ${numCaptions}`);
  }
  if (scores.length !== numImages * numCaptions) {
    throw new Error(
      `scores has ${scores.length} entries, expected numImages * numCaptions = ` +
        `${numImages} * ${numCaptions} = ${numImages * numCaptions} (row-major [image, caption])`,
    );
  }
  if (captionImage.length !== numCaptions) {
    throw new Error(
      `captionImage has ${captionImage.length} entries, expected one per caption (${numCaptions})`,
    );
  }
  for (let j = 0; j < numCaptions; j++) {
    const img = captionImage[j]!;
    if (!Number.isInteger(img) || img < 0 || img >= numImages) {
      throw new Error(`captionImage[${j}] = ${img} is not an image index in [0, ${numImages})`);
    }
  }
}

function nanError(i: number, j: number): Error {
  return new Error(`scores[${i}, ${j}] is NaN; retrieval metrics need finite or infinite scores`);
}

/**
 * Image -> caption ranks: for each image i, the 0-based rank of its best-ranked own caption among all
 * captions, i.e. the number of captions scoring strictly higher than the best own caption. Throws if
 * an image has no caption.
 */
export function ranksI2T(
  scores: ScoreArray,
  numImages: number,
  numCaptions: number,
  captionImage: ArrayLike<number>,
): Int32Array {
  checkInputs(scores, numImages, numCaptions, captionImage);
  const M = numCaptions;
  // Best own-caption score of each image (one pass over the ground-truth entries).
  const best = new Float64Array(numImages).fill(-Infinity);
  const hasCaption = new Uint8Array(numImages);
  for (let j = 0; j < M; j++) {
    const i = captionImage[j]!;
    const s = scores[i * M + j]!;
    if (Number.isNaN(s)) throw nanError(i, j);
    hasCaption[i] = 1;
    if (s > best[i]!) best[i] = s;
  }
  const ranks = new Int32Array(numImages);
  for (let i = 0; i < numImages; i++) {
    if (!hasCaption[i]) {
      throw new Error(`image ${i} has no caption in captionImage; every image needs at least one caption`);
    }
    const b = best[i]!;
    const row = i * M;
    let better = 0;
    for (let j = 0; j < M; j++) {
      const s = scores[row + j]!;
      if (s > b) better++;
      else if (s !== s) throw nanError(i, j);
    }
    ranks[i] = better;
  }
  return ranks;
}

/**
 * Caption -> image ranks: for each caption j, the 0-based rank of its image among all images, i.e. the
 * number of images scoring strictly higher with caption j than caption j's own image.
 */
export function ranksT2I(
  scores: ScoreArray,
  numImages: number,
  numCaptions: number,
  captionImage: ArrayLike<number>,
): Int32Array {
  checkInputs(scores, numImages, numCaptions, captionImage);
  const M = numCaptions;
  const target = new Float64Array(M);
  for (let j = 0; j < M; j++) {
    const s = scores[captionImage[j]! * M + j]!;
    if (Number.isNaN(s)) throw nanError(captionImage[j]!, j);
    target[j] = s;
  }
  const ranks = new Int32Array(M);
  // Row-major traversal (cache friendly): accumulate each column's count of better images.
  for (let i = 0; i < numImages; i++) {
    const row = i * M;
    for (let j = 0; j < M; j++) {
      const s = scores[row + j]!;
      if (s > target[j]!) ranks[j] = ranks[j]! + 1;
      else if (s !== s) throw nanError(i, j);
    }
  }
  return ranks;
}

/**
 * Summarises 0-based ranks: R@K = 100 * fraction of ranks < K (K = 1, 5, 10); medr = floor(median) + 1
 * where the median of an even count is the mean of the two middle values; meanr = mean + 1.
 */
export function recallMetrics(ranks: ArrayLike<number>): RecallMetrics {
  const n = ranks.length;
  if (n === 0) throw new Error('recallMetrics needs at least one rank, got 0');
  let r1 = 0;
  let r5 = 0;
  let r10 = 0;
  let sum = 0;
  const sorted = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const r = ranks[k]!;
    if (!Number.isInteger(r) || r < 0) throw new Error(`rank ${k} is ${r}, expected a non-negative integer`);
    if (r < 1) r1++;
    if (r < 5) r5++;
    if (r < 10) r10++;
    sum += r;
    sorted[k] = r;
  }
  sorted.sort();
  const mid = n >> 1;
  const median = n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return {
    r1: (100 * r1) / n,
    r5: (100 * r5) / n,
    r10: (100 * r10) / n,
    medr: Math.floor(median) + 1,
    meanr: sum / n + 1,
  };
}

/** Sum of the six R@K of both directions. */
export function rsumOf(i2t: RecallMetrics, t2i: RecallMetrics): number {
  return i2t.r1 + i2t.r5 + i2t.r10 + t2i.r1 + t2i.r5 + t2i.r10;
}

/**
 * Full evaluation of one score matrix (higher = better, row-major [numImages, numCaptions]) in both
 * directions. To follow the usual Flickr/COCO protocol on 1000-image folds, call this once per fold
 * (with that fold's images and their captions only) and combine with {@link averageOverFolds}.
 */
export function evaluateScores(
  scores: ScoreArray,
  numImages: number,
  numCaptions: number,
  captionImage: ArrayLike<number>,
): EvalMetrics {
  const i2t = recallMetrics(ranksI2T(scores, numImages, numCaptions, captionImage));
  const t2i = recallMetrics(ranksT2I(scores, numImages, numCaptions, captionImage));
  return { i2t, t2i, rsum: rsumOf(i2t, t2i) };
}

function meanRecall(parts: RecallMetrics[]): RecallMetrics {
  const n = parts.length;
  const mean = (f: (m: RecallMetrics) => number): number => parts.reduce((acc, m) => acc + f(m), 0) / n;
  return {
    r1: mean((m) => m.r1),
    r5: mean((m) => m.r5),
    r10: mean((m) => m.r10),
    medr: mean((m) => m.medr),
    meanr: mean((m) => m.meanr),
  };
}

/**
 * Averages per-fold metrics field by field (e.g. the five 1000-image folds of COCO 5K). Each field,
 * including medr and rsum, is the plain mean over folds, so medr may be fractional.
 */
export function averageOverFolds(metrics: readonly EvalMetrics[]): EvalMetrics {
  if (metrics.length === 0) throw new Error('averageOverFolds needs at least one fold, got 0');
  return {
    i2t: meanRecall(metrics.map((m) => m.i2t)),
    t2i: meanRecall(metrics.map((m) => m.t2i)),
    rsum: metrics.reduce((acc, m) => acc + m.rsum, 0) / metrics.length,
  };
}
