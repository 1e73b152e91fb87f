/**
 * A trainer's whole state as a checkpoint (../checkpoint.ts holds the format and its files) and back:
 * the weights, Adam's moments and bias-correction powers, the batch sampler's position and generators,
 * the step and epoch counters and the running mean of the weights. Restored into a trainer with the
 * same dataset and configuration, it takes the very steps the saved one would have taken, to the last
 * digit.
 */
import * as tf from '../tf';
import { CHECKPOINT_FORMAT, type TrainerCheckpoint } from '../checkpoint';
import type { OrderEmbeddingModel } from '../model';
import type { Dataset, ModelConfig, TrainConfig } from '../types';
import type { WeightAverage } from './averaging';
import type { SamplerState } from './sampler';
import { adamInternals, type AdamInternals } from './update';

/** What a checkpoint is taken from and restored into (the trainer's parts). */
export interface TrainerParts {
  config: { model: ModelConfig; train: TrainConfig };
  dataset: Dataset;
  vocabSize: number;
  model: OrderEmbeddingModel;
  optimizer: tf.AdamOptimizer;
  average: WeightAverage;
}

/** tf.Variable name -> the weight name (word_embedding, gru.weight_ih, ...) of each model variable. */
function variableRoles(model: OrderEmbeddingModel): Map<string, string> {
  const names = model.weightShapes.map((w) => w.name);
  return new Map(model.variables.map((v, k) => [v.name, names[k]]));
}

/** The checkpoint of `parts` after `steps` steps, the sampler at `sampler`. */
export function takeCheckpoint(parts: TrainerParts, steps: number, sampler: SamplerState): TrainerCheckpoint {
  const { model, config, dataset } = parts;
  const adam = adamInternals(parts.optimizer);
  const roles = variableRoles(model);
  const tensor = (name: string, v: tf.Tensor) => ({
    name,
    shape: [...v.shape],
    data: new Float32Array(v.dataSync()),
  });
  // Adam names a slot `<variable name>/m` (or /v): saved under the weight's name, which does not
  // depend on how many variables the process created before.
  const moments = (list: AdamInternals['accumulatedFirstMoment'], kind: 'm' | 'v') =>
    list.map((s) =>
      tensor(`adam.${kind}.${roles.get(s.originalName.slice(0, -2)) ?? s.originalName}`, s.variable),
    );
  const order = adam.accumulatedFirstMoment.map((s) => roles.get(s.originalName.slice(0, -2)) ?? '');
  return {
    format: CHECKPOINT_FORMAT,
    version: 1,
    model: { ...config.model },
    train: structuredClone(config.train),
    dataset: dataset.name,
    numImages: dataset.numImages,
    vocabSize: parts.vocabSize,
    steps,
    epochs: sampler.epochs,
    rng: sampler.rng,
    viewRng: sampler.viewRng,
    order: [...sampler.order],
    cursor: sampler.cursor,
    captionBatches: sampler.captionBatches.map((b) => [...b]),
    batchCursor: sampler.batchCursor,
    adam: {
      iterations: adam.iterations_ ?? 0,
      beta1Power: adam.accBeta1.dataSync()[0],
      beta2Power: adam.accBeta2.dataSync()[0],
      order,
    },
    averageCount: parts.average.count,
    averageApplied: parts.average.isApplied,
    // The variables as they are (image.weight [F, H], not the export's torch layout).
    tensors: [
      ...model.variables.map((v, k) => tensor(`weight.${model.weightShapes[k].name}`, v)),
      ...moments(adam.accumulatedFirstMoment, 'm'),
      ...moments(adam.accumulatedSecondMoment, 'v'),
      ...parts.average.checkpointTensors(),
    ],
  };
}

/**
 * Loads `cp` into `parts` (weights, Adam, the running mean) after checking that it comes from a trainer
 * with the same configuration and dataset and holds every tensor in its shape (a mismatch throws naming
 * it, before anything changes). Returns the step counter and the sampler state to continue from.
 */
export function restoreCheckpoint(
  parts: TrainerParts,
  cp: TrainerCheckpoint,
): { steps: number; sampler: SamplerState } {
  const { model, config, dataset } = parts;
  for (const part of ['model', 'train'] as const) {
    const a = cp[part] as unknown as Record<string, unknown>;
    const b = config[part] as unknown as Record<string, unknown>;
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)]))
      if (JSON.stringify(a[k]) !== JSON.stringify(b[k]))
        throw new Error(
          `checkpoint: ${part}.${k} is ${JSON.stringify(a[k])}, this trainer's is ${JSON.stringify(b[k])}`,
        );
  }
  if (cp.dataset !== dataset.name || cp.numImages !== dataset.numImages || cp.vocabSize !== parts.vocabSize)
    throw new Error(
      `checkpoint: trained on '${cp.dataset}' (${cp.numImages} images, vocabulary ${cp.vocabSize}), ` +
        `this trainer has '${dataset.name}' (${dataset.numImages} images, vocabulary ${parts.vocabSize})`,
    );
  const byName = new Map(cp.tensors.map((t) => [t.name, t]));
  const need = (name: string, shape: readonly number[]) => {
    const t = byName.get(name);
    if (!t) throw new Error(`checkpoint: missing tensor '${name}'`);
    if (t.shape.join() !== shape.join() || t.data.length !== shape.reduce((a, b) => a * b, 1))
      throw new Error(`checkpoint: tensor '${name}' has shape [${t.shape}], expected [${shape}]`);
    return t;
  };
  const vars = model.variables;
  const names = model.weightShapes.map((w) => w.name);
  const weights = vars.map((v, k) => need(`weight.${names[k]}`, v.shape));
  const roleVar = new Map(names.map((n, k) => [n, vars[k]]));
  const moments = (kind: 'm' | 'v') =>
    cp.adam.order.map((role) => {
      const v = roleVar.get(role);
      if (!v) throw new Error(`checkpoint: Adam moment of unknown weight '${role}'`);
      return { v, t: need(`adam.${kind}.${role}`, v.shape) };
    });
  const first = moments('m');
  const second = moments('v');
  const average = cp.averageCount
    ? model.weightShapes.map(({ name, shape }) => ({ ...need(`average.${name}`, shape), name }))
    : undefined;
  // Everything checked: now change the trainer.
  vars.forEach((v, k) => tf.tidy(() => v.assign(tf.tensor(weights[k].data, v.shape, 'float32'))));
  const adam = adamInternals(parts.optimizer);
  tf.dispose([...adam.accumulatedFirstMoment, ...adam.accumulatedSecondMoment].map((s) => s.variable));
  const slot = (list: typeof first, kind: 'm' | 'v') =>
    list.map(({ v, t }) => ({
      originalName: `${v.name}/${kind}`,
      variable: tf.tidy(() => tf.tensor(t.data, v.shape, 'float32').variable(false)),
    }));
  adam.accumulatedFirstMoment = slot(first, 'm');
  adam.accumulatedSecondMoment = slot(second, 'v');
  tf.tidy(() => {
    adam.accBeta1.assign(tf.scalar(cp.adam.beta1Power));
    adam.accBeta2.assign(tf.scalar(cp.adam.beta2Power));
  });
  adam.iterations_ = cp.adam.iterations;
  parts.average.restore(cp.averageCount, cp.averageApplied, average);
  return {
    steps: cp.steps,
    sampler: {
      rng: cp.rng,
      viewRng: cp.viewRng,
      order: [...cp.order],
      cursor: cp.cursor,
      captionBatches: cp.captionBatches.map((b) => [...b]),
      batchCursor: cp.batchCursor,
      epochs: cp.epochs,
    },
  };
}
