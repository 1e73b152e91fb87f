/**
 * Flickr8k splits made here and checked (./flickr8k.ts): the seeded split by file name of a folder
 * without split lists, in the standard 6000 / 1000 / 1000 proportions, and the warnings about split
 * sizes that make recall@K too coarse or a batch too large.
 */
import type { SplitName } from './flickr8k';

/** The standard Flickr8k split sizes (Hodosh et al. 2013): the proportions of a seeded split. */
export const STANDARD_SPLIT_SIZES: Readonly<Record<SplitName, number>> = {
  train: 6000,
  dev: 1000,
  test: 1000,
};
/** Seed of the split made for a folder without split lists. */
export const SEEDED_SPLIT_SEED = 1;

/** 32-bit FNV-1a of a string's UTF-16 code units, then a murmur3 finalizer (so similar names scatter). */
function hashName(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A seeded split of images by file name, in the proportions of {@link STANDARD_SPLIT_SIZES}
 * (6000 / 1000 / 1000 of 8000): the images are ordered by a hash of `seed` and their name, and the first
 * eighth becomes dev, the next eighth test, the rest train (at least one training image). The split of a
 * photo depends only on its name, the seed and how many photos there are, never on the order of the
 * files, so every copy of the same photos splits the same way. Returns image indices (sorted) per split;
 * a split that would be empty (fewer than 4 images) is absent.
 */
export function seededSplit(
  names: readonly string[],
  seed: number = SEEDED_SPLIT_SEED,
): Partial<Record<SplitName, number[]>> {
  const n = names.length;
  const total = STANDARD_SPLIT_SIZES.train + STANDARD_SPLIT_SIZES.dev + STANDARD_SPLIT_SIZES.test;
  const order = [...names.keys()]
    .map((i) => ({ i, h: hashName(`${seed}:${names[i]}`) }))
    .sort((a, b) => a.h - b.h || (names[a.i] < names[b.i] ? -1 : names[a.i] > names[b.i] ? 1 : a.i - b.i))
    .map((x) => x.i);
  const nDev = Math.min(Math.round((n * STANDARD_SPLIT_SIZES.dev) / total), Math.max(0, n - 1));
  const nTest = Math.min(Math.round((n * STANDARD_SPLIT_SIZES.test) / total), Math.max(0, n - 1 - nDev));
  const sorted = (list: number[]) => list.sort((a, b) => a - b);
  const out: Partial<Record<SplitName, number[]>> = {};
  const dev = order.slice(0, nDev);
  const test = order.slice(nDev, nDev + nTest);
  const train = order.slice(nDev + nTest);
  if (train.length) out.train = sorted(train);
  if (dev.length) out.dev = sorted(dev);
  if (test.length) out.test = sorted(test);
  return out;
}

/** Fewer dev images than this make recall@K too coarse to compare runs by (one image = 1/n of R@K). */
export const MIN_MEANINGFUL_DEV_IMAGES = 100;

/**
 * Warnings about splits too small to train or evaluate meaningfully: a dev split of fewer than
 * {@link MIN_MEANINGFUL_DEV_IMAGES} images (R@K moves in steps of 100/n points), none at all, and (when
 * `batchSize` is given) a batch larger than the training split (every step then sees the same images).
 */
export function splitSizeWarnings(
  splits: Partial<Record<SplitName, readonly number[]>>,
  batchSize?: number,
): string[] {
  const out: string[] = [];
  const train = splits.train?.length ?? 0;
  const dev = splits.dev?.length ?? 0;
  if (!dev) out.push('no dev split: training shows no recall curves');
  else if (dev < MIN_MEANINGFUL_DEV_IMAGES)
    out.push(
      `the dev split has only ${dev} image${dev === 1 ? '' : 's'}: recall@K moves in steps of ${(100 / dev).toFixed(1)} points, too coarse to compare runs (${MIN_MEANINGFUL_DEV_IMAGES}+ images make it meaningful)`,
    );
  const batch = batchSize === undefined ? null : batchWarning(train, batchSize);
  if (batch) out.push(batch);
  return out;
}

/**
 * The warning for a batch larger than the training split (every step then holds every training image:
 * no sampling noise, and the in-batch negatives are the same each step), or null.
 */
export function batchWarning(trainImages: number, batchSize: number): string | null {
  if (!(trainImages > 0 && batchSize > trainImages)) return null;
  return `the batch (${batchSize}) is larger than the training split (${trainImages} images): every step sees the whole split; use a batch of at most ${trainImages}`;
}
