/**
 * The checks a Trainer makes before it allocates anything: a dataset it can train on, a training
 * configuration within its ranges (../defaults.ts holds the ranges), distillation settings. Each
 * throws a message that names the dataset, the option or the value at fault.
 */
import { trainOptionEntries, trainOptionProblem } from '../defaults';
import type { Dataset, TrainConfig } from '../types';

/** Throws a clear message for a dataset the model cannot train on. */
export function validateDataset(ds: Dataset): void {
  const { numImages, imageDim, features } = ds;
  if (!(numImages > 0 && imageDim > 0))
    throw new Error(`dataset '${ds.name}': needs images, got ${numImages} of size ${imageDim}`);
  if (features.length !== numImages * imageDim) {
    throw new Error(
      `dataset '${ds.name}': features hold ${features.length} numbers, expected ${numImages} x ${imageDim}`,
    );
  }
  for (let i = 0; i < features.length; i++) {
    if (!Number.isFinite(features[i])) {
      const img = Math.floor(i / imageDim);
      throw new Error(
        `dataset '${ds.name}': image ${img} has a non-finite feature (${features[i]}) at index ${i % imageDim}`,
      );
    }
  }
  ds.captions.forEach((c, k) => {
    if (!(Number.isInteger(c.image) && c.image >= 0 && c.image < numImages)) {
      throw new Error(
        `dataset '${ds.name}': caption ${k} points at image ${c.image}, expected 0..${numImages - 1}`,
      );
    }
  });
  if (!ds.splits.train?.length) throw new Error(`dataset '${ds.name}': has no training split`);
}

/**
 * Throws for a training option out of its range (dropout, the options of ../defaults.ts,
 * averageFromStep), or for augmentation without other views of `dataset`'s features.
 */
export function checkTrainConfig(t: TrainConfig, dataset: Dataset): void {
  if (t.dropout !== undefined && !(t.dropout >= 0 && t.dropout < 1))
    throw new Error(`train config: dropout must be in [0, 1), got ${t.dropout}`);
  for (const [k, o] of trainOptionEntries()) {
    const v = t[k];
    const problem = v === undefined ? null : trainOptionProblem(o, v);
    if (problem) throw new Error(`train config: ${k} must be ${problem}, got ${v}`);
  }
  const avg = t.averageFromStep;
  if (avg !== undefined && !(Number.isInteger(avg) && avg >= 0))
    throw new Error(`train config: averageFromStep must be a step number (0: none), got ${avg}`);
  if (t.augment) {
    const views = dataset.featureViews ?? [];
    if (!views.length)
      throw new Error(
        `train config: augment needs other views of the features, dataset '${dataset.name}' has none`,
      );
    views.forEach((v, k) => {
      if (v.length !== dataset.features.length)
        throw new Error(
          `dataset '${dataset.name}': feature view ${k} holds ${v.length} numbers, expected ${dataset.features.length}`,
        );
    });
  }
}

/** Throws for a distillation weight or temperature that is not positive. */
export function checkDistill(opts: { weight: number; temperature: number }): void {
  if (!(opts.weight > 0)) throw new Error(`distillation: weight must be > 0, got ${opts.weight}`);
  if (!(opts.temperature > 0))
    throw new Error(`distillation: temperature must be > 0, got ${opts.temperature}`);
}
