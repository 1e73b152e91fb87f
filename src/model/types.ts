/**
 * Shared plain-data types of the model core. Everything here is structured-cloneable so that it can
 * cross the worker boundary unchanged.
 */

import type { TrainOptionKey } from './defaults';

/** Which similarity the model is trained and evaluated with. */
export type Measure = 'order' | 'cosine';

export interface ModelConfig {
  /** Number of rows of the word-embedding table (including the padding and unknown ids). */
  vocabSize: number;
  /** Word-embedding size (the GRU's input size). */
  wordDim: number;
  /** GRU hidden size, which is also the size of the joint (order-)embedding space (as in the paper). */
  hiddenDim: number;
  /** Size of the precomputed image feature. */
  imageDim: number;
  /** LN-GRU when true, plain GRU when false. */
  layerNorm: boolean;
  measure: Measure;
  /** Hinge margin: 0.05 for order, 0.2 for cosine by default. */
  margin: number;
  /** VSE++ max-violation loss instead of the summed (paper) loss. */
  maxViolation: boolean;
}

/** The numeric options of the table in ./defaults.ts (TRAIN_OPTIONS), each absent when at its default. */
export type TrainOptionFields = { [K in TrainOptionKey]?: number };

export interface TrainConfig extends TrainOptionFields {
  batchSize: number;
  learningRate: number;
  /** Clip gradients to this global norm. */
  clipNorm: number;
  seed: number;
  /** Words seen fewer times in the training captions map to the unknown-word id. */
  minWordCount: number;
  /** Captions are cut to this many tokens. */
  maxLength: number;
  /**
   * What an epoch is and how batches are drawn:
   * - 'image': every training image once, with one of its captions drawn at random (short epochs; the
   *   batch is padded to its longest caption);
   * - 'caption': every training caption once, in batches of captions of (nearly) the same length, as the
   *   order-embeddings code does (its HomogeneousData iterator): 5x longer epochs, and almost no padding,
   *   so a step costs what its captions need.
   */
  sampling: 'image' | 'caption';
  /**
   * Step decay: after this many steps the learning rate becomes `learningRate x lrDecayFactor` (VSE++ drops it
   * 10x once the dev score plateaus). Absent or 0: a constant learning rate, as in the paper's code.
   */
  lrDecayStep?: number;
  /** Factor of the step decay (default 0.1). */
  lrDecayFactor?: number;
  /**
   * VSE++ warm-up: after this many steps of the summed loss, train with the max-violation loss (the
   * model's `maxViolation` set from the start collapses the order embedding on Flickr8k; see
   * docs/results.md). Absent or 0: the model's `maxViolation` throughout.
   */
  maxViolationStep?: number;
  /**
   * Inverted dropout of this rate on the image features and the word vectors during training (a
   * regularizer: Flickr8k's 6000 training photos are overfit by H = 1024). Absent or 0: none, as in the
   * paper's code.
   */
  dropout?: number;
  /**
   * Polyak averaging (as in SWA, in the low-learning-rate phase): from this step on, the trainer keeps
   * the running mean of the weights after every step; {@link Trainer.withAveragedWeights} evaluates it
   * and {@link Trainer.applyAveragedWeights} makes it the model's weights. Training itself is unchanged.
   * Absent or 0: no averaging.
   */
  averageFromStep?: number;
  /**
   * Training-time augmentation: each training pair's image feature is drawn at random from `features`
   * and the dataset's `featureViews` (needs at least one view). Evaluation always uses `features`.
   */
  augment?: boolean;
  /** Run folder (or label) of the weights training started from, when not from a random init. */
  initFrom?: string;
  /** The pretrained word vectors the word embedding started from (Trainer.initWordVectors), if any. */
  wordVectors?: string;
  /**
   * Distillation from an ensemble (Trainer.distillFrom): the teachers' labels (run folders), the weight
   * of the distillation loss and its temperature.
   */
  distill?: { teachers: string[]; weight: number; temperature: number };
}

/** One direction of retrieval metrics. R@K in percent, ranks 1-based. */
export interface RecallMetrics {
  r1: number;
  r5: number;
  r10: number;
  medr: number;
  meanr: number;
}

export interface EvalMetrics {
  /** Image -> caption (caption retrieval / annotation). */
  i2t: RecallMetrics;
  /** Caption -> image (image retrieval / search). */
  t2i: RecallMetrics;
  /** Sum of the six R@K. */
  rsum: number;
}

export interface StepResult {
  step: number;
  epoch: number;
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Wall-clock ms of this step. */
  ms: number;
}

/**
 * A captioned-image dataset: image features plus captions that point at their image.
 * `features` is row-major [numImages, imageDim].
 */
export interface Dataset {
  name: string;
  imageDim: number;
  features: Float32Array;
  numImages: number;
  captions: { image: number; text: string }[];
  /** Image indices of each available split; an absent split is simply missing. */
  splits: Partial<Record<'train' | 'dev' | 'test', number[]>>;
  /**
   * Other views of the same images, [numImages, imageDim] each (e.g. the features of the mirrored
   * photos), for training-time augmentation (TrainConfig.augment); evaluation uses `features`.
   */
  featureViews?: Float32Array[];
}
