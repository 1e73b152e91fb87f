/**
 * The one set of size limits of the playground and the command-line tools, checked before anything is
 * allocated: by the Train form, the worker (start, dataset loads, imports), the CLIs and the run
 * validators (./validate-run.ts). A value past a limit is refused with a message naming it, the value
 * and the limit, never by running out of memory later.
 *
 * The limits leave room for the paper's recipe (H = 1024, W = 300, batch 128 on Flickr8k / Flickr30k)
 * and for larger sizes; together, sizes are bounded by the memory estimate ({@link checkRunSize}), so
 * hidden 4096 with word size 2048 is refused with its estimate. A run's weights must be in its
 * weights.bin (shapes are checked against the byte length), so a small file cannot claim a large model.
 */
import type { ModelConfig, TrainConfig } from './types';

export const LIMITS = {
  /** GRU hidden size = joint-embedding size (the memory estimate binds first for large runs). */
  hiddenDim: 4096,
  /** Word-embedding size. */
  wordDim: 2048,
  /** Image feature size (the MobileNet mean + max features are 2048). */
  imageDim: 8192,
  batchSize: 1024,
  /** Rows of the word-embedding table. */
  vocabSize: 200_000,
  /** Tokens a caption is cut to (TrainConfig.maxLength). */
  maxLength: 200,
  /** Images of a dataset (Flickr30k has 31,783). */
  numImages: 50_000,
  /** Captions of a dataset (Flickr30k has 158,915). */
  numCaptions: 200_000,
  /** Characters of one caption. */
  captionChars: 2_000,
  /** Built-in scenes rendered on request (`?scenes=N`). */
  scenes: 20_000,
  /** One uploaded file (a run .zip, weights.bin, a captions file). */
  uploadBytes: 1024 ** 3,
  /** One entry of a run .zip, declared or actual. */
  zipEntryBytes: 1024 ** 3,
  /** Entries of a run .zip. */
  zipEntries: 64,
  /** Training steps of one run. */
  steps: 10_000_000,
  /**
   * Memory a training run may need (weights, Adam moments, gradients, activations), by the estimate of
   * {@link estimateTrainingBytes}. 2 GiB: a wasm heap holds at most 4 GiB and a tab usually less.
   */
  trainingBytes: 2 * 1024 ** 3,
} as const;

export type LimitName = keyof typeof LIMITS;

/** Tokens a caption is cut to by default (TrainConfig.maxLength; the trainer's default). */
export const DEFAULT_MAX_LENGTH = 50;

/** A readable size: 1.5 GiB, 320 MiB, 12 KiB. */
export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(v)} bytes` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

/**
 * Throws `${what}: expected an integer from ${min} to ${LIMITS[limit]}, got ${value}` unless `value` is
 * such an integer. `what` names the field, flag or file the value came from.
 */
export function checkIntLimit(what: string, value: unknown, limit: LimitName, min = 1): number {
  const max = LIMITS[limit];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new Error(`${what}: expected a whole number from ${min} to ${max}, got ${describeValue(value)}`);
  return value;
}

/** A value as it would be typed: numbers and strings quoted the way JSON writes them. */
export function describeValue(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (value === undefined) return 'nothing';
  try {
    const s = JSON.stringify(value);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return typeof value;
  }
}

/** Number of trainable parameters of the model (word embedding, (LN-)GRU, image projection). */
export function parameterCount(
  m: Pick<ModelConfig, 'vocabSize' | 'wordDim' | 'hiddenDim' | 'imageDim' | 'layerNorm'>,
): number {
  const { vocabSize: V, wordDim: W, hiddenDim: H, imageDim: F } = m;
  const gru = 3 * H * W + 3 * H * H + 6 * H;
  // LN-GRU: a gain and a shift for the [r z] and n parts of both gi and gh (3H each, twice, two kinds).
  const ln = m.layerNorm ? 4 * 3 * H : 0;
  return V * W + gru + ln + F * H + H;
}

/**
 * Estimated peak bytes of a training step, float32 throughout:
 * - 14 copies of the parameters: the weights, their gradients, the clipped gradients, Adam's two moments,
 *   and about 9 temporaries of each variable's size that tfjs's Adam update holds until its tidy ends
 *   (new moments, bias-corrected moments, sqrt, sum, quotient, step, new value);
 * - the BPTT activations of a batch: per token and sequence the gates and states, about 12 H floats, and
 *   the word vector;
 * - the in-batch scores of the loss (a B x B x H violation tensor, in chunks of at most 2^24 elements).
 * An estimate, not a measurement: the report (hidden 4096, word size 2048, batch 64: about 5 GB
 * in the tab) is 4.7 GiB here with a 300-word vocabulary. It is meant to refuse what cannot fit, with a figure a person can act on.
 */
export function estimateTrainingBytes(
  model: Pick<ModelConfig, 'vocabSize' | 'wordDim' | 'hiddenDim' | 'imageDim' | 'layerNorm'>,
  train: Pick<TrainConfig, 'batchSize' | 'maxLength'>,
): number {
  const P = parameterCount(model);
  const { batchSize: B, maxLength: T } = train;
  const H = model.hiddenDim;
  const activations = B * T * (12 * H + model.wordDim);
  const scores = Math.min(B * B * H, 2 ** 24) + 4 * B * B;
  return 4 * (14 * P + activations + scores);
}

/**
 * Checks a run's sizes against {@link LIMITS} and its memory estimate against `budgetBytes` (the
 * training limit by default); throws naming the first size past its limit, or the estimate. Call before
 * building the model.
 */
export function checkRunSize(
  model: Pick<ModelConfig, 'vocabSize' | 'wordDim' | 'hiddenDim' | 'imageDim' | 'layerNorm'>,
  train: Pick<TrainConfig, 'batchSize' | 'maxLength'>,
  budgetBytes: number = LIMITS.trainingBytes,
): number {
  checkIntLimit('hidden size', model.hiddenDim, 'hiddenDim');
  checkIntLimit('word size', model.wordDim, 'wordDim');
  checkIntLimit('image feature size', model.imageDim, 'imageDim');
  checkIntLimit('vocabulary size', model.vocabSize, 'vocabSize', 3);
  checkIntLimit('batch size', train.batchSize, 'batchSize', 2);
  checkIntLimit('caption length (maxLength)', train.maxLength, 'maxLength');
  const bytes = estimateTrainingBytes(model, train);
  if (bytes > budgetBytes)
    throw new Error(
      `this run would need about ${formatBytes(bytes)} of memory (hidden ${model.hiddenDim}, word size ${model.wordDim}, ` +
        `batch ${train.batchSize}, vocabulary ${model.vocabSize}); at most ${formatBytes(budgetBytes)} is allowed: ` +
        `lower the hidden size, word size or batch size`,
    );
  return bytes;
}

/** Checks a dataset's counts against {@link LIMITS} before its features are allocated. */
export function checkDatasetSize(
  what: string,
  numImages: number,
  numCaptions: number,
  imageDim: number,
): void {
  checkIntLimit(`${what}: number of images`, numImages, 'numImages');
  checkIntLimit(`${what}: number of captions`, numCaptions, 'numCaptions', 0);
  checkIntLimit(`${what}: image feature size`, imageDim, 'imageDim');
}
