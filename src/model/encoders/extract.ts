/**
 * Batched feature extraction over a whole image set, with progress, cancellation and per-image
 * failures that do not stop the run (a broken photo among thousands should cost one row, not the job).
 */
import * as tf from '../tf';
import type { ImageEncoder } from './encoder';
import { cropsOf } from './image';
import type { RgbImage } from './types';
import { yieldToEventLoop } from '../training/step-control';

export interface ExtractOptions {
  /** 1: whole photo; 10: the paper's 10-crop average (ten times the compute). Default 1. */
  crops?: 1 | 10;
  /**
   * Mirror every photo left-right: the features of the mirror images, a second view of the same photos
   * for training-time augmentation. 1-crop only. Default false.
   */
  mirror?: boolean;
  /** Photos per forward pass (each contributes `crops` network inputs). Default 16 (1-crop), 4 (10-crop). */
  batchSize?: number;
  /** After each batch: photos done (failed ones included), total, photos per second so far. */
  onProgress?: (done: number, total: number, imagesPerSec: number) => void;
  /** Checked between batches; when aborted the promise rejects with an Error named 'AbortError'. */
  signal?: AbortSignal;
  /** A photo that could not be loaded or encoded; its feature row is NaN and its index is in `failed`. */
  onError?: (i: number, err: Error) => void;
}

export interface ExtractResult {
  /** Row-major [count, featureDim]; rows of failed photos are NaN. */
  features: Float32Array;
  /** Indices of the photos that failed, ascending. */
  failed: number[];
}

function abortError(done: number, total: number): Error {
  const err = new Error(`feature extraction cancelled after ${done} of ${total} images`);
  err.name = 'AbortError';
  return err;
}

function asError(x: unknown): Error {
  return x instanceof Error ? x : new Error(String(x));
}

type Loaded = { i: number; img: RgbImage } | { i: number; err: Error };

function loadBatch(indices: number[], getImage: (i: number) => Promise<RgbImage>): Promise<Loaded[]> {
  return Promise.all(
    indices.map(async (i): Promise<Loaded> => {
      try {
        return { i, img: await getImage(i) };
      } catch (err) {
        return { i, err: asError(err) };
      }
    }),
  );
}

/**
 * Features of images 0..count-1. Photos are loaded one batch ahead of the network (in the browser,
 * fetching and decoding run off the main thread meanwhile), cropped, encoded and averaged over crops.
 */
export async function extractFeatures(
  encoder: ImageEncoder,
  count: number,
  getImage: (i: number) => Promise<RgbImage>,
  opts: ExtractOptions = {},
): Promise<ExtractResult> {
  const crops = opts.crops ?? 1;
  if (crops !== 1 && crops !== 10) throw new Error(`crops must be 1 or 10, got ${String(crops)}`);
  if (opts.mirror && crops !== 1)
    throw new Error(
      'mirrored features are a 1-crop view: 10-crop features already average every crop with its mirror',
    );
  const batchSize = Math.max(1, Math.floor(opts.batchSize ?? (crops === 10 ? 4 : 16)));
  const dim = encoder.featureDim;
  const features = new Float32Array(count * dim);
  const failed: number[] = [];
  const fail = (i: number, err: Error): void => {
    failed.push(i);
    features.fill(NaN, i * dim, (i + 1) * dim);
    opts.onError?.(i, err);
  };

  const batches: number[][] = [];
  for (let start = 0; start < count; start += batchSize) {
    batches.push(Array.from({ length: Math.min(batchSize, count - start) }, (_, k) => start + k));
  }

  const t0 = performance.now();
  let done = 0;
  let next: Promise<Loaded[]> | null = batches.length ? loadBatch(batches[0], getImage) : null;
  for (let b = 0; b < batches.length; b++) {
    if (opts.signal?.aborted) throw abortError(done, count);
    const loaded = await next!;
    next = b + 1 < batches.length ? loadBatch(batches[b + 1], getImage) : null;
    if (opts.signal?.aborted) throw abortError(done, count);

    // Crop each photo on its own, so that a photo with inconsistent pixels fails alone.
    const inputs: tf.Tensor4D[] = [];
    const rows: number[] = [];
    for (const item of loaded) {
      if ('err' in item) {
        fail(item.i, item.err);
        continue;
      }
      try {
        const c = cropsOf(item.img, encoder.preset, crops); // [crops, S, S, 3]
        if (opts.mirror) {
          inputs.push(tf.reverse(c, 2)); // along the width axis
          c.dispose();
        } else inputs.push(c);
        rows.push(item.i);
      } catch (err) {
        fail(item.i, new Error(`image ${item.i}: ${asError(err).message}`));
      }
    }
    if (rows.length) {
      let feats: tf.Tensor;
      try {
        feats = tf.tidy(() => {
          const x = inputs.length === 1 ? inputs[0] : (tf.concat(inputs, 0) as tf.Tensor4D); // [n * crops, S, S, 3]
          const y = encoder.encodeBatch(x); // [n * crops, D]
          return crops === 1 ? y : y.reshape([rows.length, crops, dim]).mean(1); // [n, D]
        });
      } finally {
        tf.dispose(inputs);
      }
      let data: Float32Array;
      try {
        data = (await feats.data()) as Float32Array;
      } finally {
        feats.dispose();
      }
      rows.forEach((i, k) => features.set(data.subarray(k * dim, (k + 1) * dim), i * dim));
    }
    done += loaded.length;
    const secs = (performance.now() - t0) / 1000;
    opts.onProgress?.(done, count, secs > 0 ? done / secs : 0);
    await yieldToEventLoop();
  }
  failed.sort((a, b) => a - b);
  return { features, failed };
}
