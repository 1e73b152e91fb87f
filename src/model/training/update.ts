/**
 * The update of a training step once its gradients are there: the global gradient norm, clipping to
 * TrainConfig.clipNorm, and Adam (tfjs's AdamOptimizer),
 *
 *   g <- g x min(1, clip / ||g||),   ||g|| = sqrt(sum over every weight's gradient of its squares),
 *
 * on the host ({@link applyOnHost}: the norm read back first, the path of Trainer.step) or wholly on the
 * device ({@link applyOnDevice}: nothing read back, the path of Trainer.stepOnDevice on WebGPU; the
 * bookkeeping of a device step whose loss and norm are still being read is ./device-step.ts).
 */
import * as tf from '../tf';
import { readSyncAndDispose } from '../ops';
import type { LossAndGrads } from './batch';
import { adamOnHost } from './adam-host';
import { TrainingDivergedError } from './step-control';

/** The parts of tfjs's AdamOptimizer (4.x) a checkpoint saves and restores, exactly as they are. */
export interface AdamInternals {
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
  /** beta1^t and beta2^t, kept as running products (restoring them by pow() would change digits). */
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  iterations_?: number;
}

/** `optimizer`'s internals (protected in tfjs's types). */
export function adamInternals(optimizer: tf.AdamOptimizer): AdamInternals {
  return optimizer as unknown as AdamInternals;
}

/**
 * sqrt(sum of every gradient's squares), on the device. The sums are added 7 at a time, the running
 * total first: one tfjs AddN over the LN-GRU's 11 gradients binds 12 storage buffers, above WebGPU's
 * default limit of 8 per shader stage (the pipeline fails validation). Left to right as one AddN adds
 * them, so the digits are AddN's.
 */
export function globalNorm(grads: Record<string, tf.Tensor>): tf.Scalar {
  return tf.tidy(() => {
    const sums = Object.values(grads).map((g) => g.square().sum());
    let total = tf.addN(sums.slice(0, 7));
    for (let k = 7; k < sums.length; k += 6) total = tf.addN([total, ...sums.slice(k, k + 6)]);
    return total.sqrt();
  }) as tf.Scalar;
}

/** The global norm of the gradients (before clipping), read back. */
export function gradientNorm(grads: Record<string, tf.Tensor>): number {
  return readSyncAndDispose(globalNorm(grads))[0];
}

/** Clips all gradients to the global norm `clip` (`norm` is theirs), applies Adam, frees the gradients. */
export function clipAndApply(
  optimizer: tf.AdamOptimizer,
  grads: Record<string, tf.Tensor>,
  norm: number,
  clip: number,
): void {
  const list = Object.values(grads);
  const scale = norm > clip ? clip / norm : 1;
  // One pass over host memory where the backend allows it, with tfjs's digits (./adam-host.ts).
  if (adamOnHost(optimizer, grads, scale)) {
    tf.dispose(list);
    return;
  }
  tf.tidy(() => {
    const named: tf.NamedTensorMap = {};
    for (const [name, g] of Object.entries(grads)) named[name] = scale === 1 ? g : g.mul(scale);
    // tfjs types the map as variables but takes gradient tensors keyed by variable name.
    optimizer.applyGradients(named as unknown as Parameters<tf.AdamOptimizer['applyGradients']>[0]);
  });
  tf.dispose(list);
}

/**
 * The host step's update once its loss and gradients are there: the loss and the gradient norm read
 * back (the norm computed here unless it came with the gradients), the divergence check, the clipped
 * update; frees the loss and the gradients. Divergence throws TrainingDivergedError for `step`
 * (1-based) before the update: the weights and Adam's moments stay those of the last good step (a
 * checkpoint taken now resumes from there).
 */
export function applyOnHost(
  optimizer: tf.AdamOptimizer,
  { loss: lossT, grads, gradNorm: known }: LossAndGrads,
  clip: number,
  step: number,
): { loss: number; gradNorm: number } {
  const loss = readSyncAndDispose(lossT)[0];
  const gradNorm = known ?? gradientNorm(grads);
  if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
    tf.dispose(Object.values(grads));
    throw new TrainingDivergedError(step, loss, gradNorm);
  }
  clipAndApply(optimizer, grads, gradNorm, clip);
  return { loss, gradNorm };
}

/**
 * The device step's update, with nothing read back: clips the gradients to the global norm on the
 * device, applies Adam, then selects the previous weights, moments and powers back unless this step's
 * loss and norm (and every earlier device step's: `okFlag` holds that, and is updated) are finite. Frees
 * the gradients; returns the norm (before clipping), which the caller frees.
 */
export function applyOnDevice(
  optimizer: tf.AdamOptimizer,
  variables: readonly tf.Variable[],
  grads: Record<string, tf.Tensor>,
  loss: tf.Scalar,
  clip: number,
  okFlag: tf.Variable,
): tf.Scalar {
  const norm = globalNorm(grads);
  const ok = tf.tidy(() => tf.logicalAnd(okFlag, tf.logicalAnd(tf.isFinite(loss), tf.isFinite(norm))));
  okFlag.assign(ok);
  const adam = adamInternals(optimizer);
  const state = (): tf.Variable[] => [
    ...variables,
    ...adam.accumulatedFirstMoment.map((s) => s.variable),
    ...adam.accumulatedSecondMoment.map((s) => s.variable),
    adam.accBeta1,
    adam.accBeta2,
  ];
  // Clones share the buffers: Adam's assign gives its variables new ones, so these keep the old values.
  const old = new Map(state().map((v) => [v, v.clone()]));
  tf.tidy(() => {
    // scale = min(1, clip / norm): the same as clipAndApply's host test, as a tensor.
    const scale = tf.minimum(tf.scalar(1), tf.div(tf.scalar(clip), norm));
    const named: tf.NamedTensorMap = {};
    for (const [name, g] of Object.entries(grads)) named[name] = g.mul(scale);
    optimizer.applyGradients(named as unknown as Parameters<tf.AdamOptimizer['applyGradients']>[0]);
  });
  // The moments Adam created on its first update were zeros before it.
  for (const v of state()) {
    const was = old.get(v);
    tf.tidy(() => v.assign(tf.where(ok, v, was ?? tf.zerosLike(v))));
  }
  tf.dispose([ok, ...old.values()]);
  tf.dispose(Object.values(grads));
  return norm;
}
