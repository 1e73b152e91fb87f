/**
 * A training batch's loss and gradients, the work of a step before its update (./update.ts): the next
 * batch drawn from the sampler (./sampler.ts), its captions padded and its image features gathered, the
 * teacher's scores with distillation (../distill.ts), and the model's loss and gradients (../model.ts),
 * as a pass (../ops.ts) that `Trainer.stepAsync` can stop within.
 */
import type * as tf from '../tf';
import type { OrderEmbeddingModel } from '../model';
import { gatherFeatures } from '../evaluate';
import type { Pass } from '../ops';
import { padTimeMajor } from '../tokenizer';
import type { Dataset, TrainConfig } from '../types';
import type { Teacher } from '../distill';
import type { TrainingCaptions } from './captions';
import type { Batch, BatchSampler } from './sampler';

/**
 * A batch's loss (a scalar left on the device) and the gradient of every weight; with their global
 * norm when whoever computed them has it already (the Node pool's threads square their range of the
 * gradient sum as they add it), which the host update then takes instead of computing it.
 */
export type LossAndGrads = { loss: tf.Scalar; grads: Record<string, tf.Tensor>; gradNorm?: number };

/** What a batch's pass reads from its trainer, as it is when the pass starts. */
export interface BatchParts {
  dataset: Dataset;
  captions: TrainingCaptions;
  sampler: BatchSampler;
  model: OrderEmbeddingModel;
  train: TrainConfig;
  teacher?: Teacher;
  /** Steps done (the dropout masks' seed). */
  steps: number;
  /** Whether the loss is the max-violation one (Trainer.maxViolation). */
  maxViolation: boolean;
  /** The next batch from the sampler (Trainer.nextBatch: tests record the batches through it). */
  nextBatch(): Batch;
}

/**
 * The next batch's loss and gradients as a pass that yields within the GRU's forward and backward
 * passes. Until it ends the sampler reads as before the step: it is put back right after the batch is
 * drawn and moved on only when the pass completes, so a checkpoint taken while it waits, or the pass
 * abandoned, leaves the next step drawing this very batch.
 */
export function* batchLossAndGradsPass(parts: BatchParts, blockMacs?: number): Pass<LossAndGrads> {
  const { dataset, sampler, train } = parts;
  const before = sampler.state();
  const { images, captions } = parts.nextBatch();
  const batch = padTimeMajor(captions.map((k) => parts.captions.encoded[k]!)); // ids [T, B]
  const features = gatherFeatures(dataset, images, sampler.views(images.length)); // [B, F]
  const after = sampler.state();
  sampler.restore(before);
  const distill = train.distill;
  if (distill && !parts.teacher)
    throw new Error(`distillation: no teacher loaded (call distillFrom with ${distill.teachers.join(', ')})`);
  const teacherScores = parts.teacher?.scores(images, captions); // [B, B]
  const pass = parts.model.lossAndGradsPass(features, batch.ids, batch.lengths, {
    blockMacs,
    maxViolation: parts.maxViolation,
    // Mask seeds from the seed and the step, not from the batch order's generator: a run with dropout
    // sees the same batches as one without.
    ...(train.dropout
      ? {
          dropout: train.dropout,
          seed: (train.seed * 7919 + 2 * parts.steps) % 2 ** 30,
        }
      : {}),
    ...(distill && teacherScores
      ? { distill: { scores: teacherScores, temperature: distill.temperature, weight: distill.weight } }
      : {}),
  });
  let out: LossAndGrads;
  try {
    out = yield* pass;
  } finally {
    features.dispose();
    teacherScores?.dispose();
  }
  sampler.restore(after);
  return out;
}
