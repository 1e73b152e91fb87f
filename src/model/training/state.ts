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

/**
 * A tensor held as it is now: one more reference to the same backend data, no copy. Training never
 * writes a tensor in place: a variable's assign() points the variable at its new value's data and drops
 * its own reference to the old data, which this one keeps alive. So the held tensor keeps the values of
 * the moment it was taken while the trainer steps on. Dispose it when read.
 */
function hold(t: tf.Tensor): tf.Tensor {
  const engine = tf.engine();
  const held = engine.makeTensorFromTensorInfo({ dataId: t.dataId, shape: t.shape, dtype: t.dtype });
  engine.backend.incRef(t.dataId);
  return tf.keep(held); // outside any tidy's reach: it lives until read
}

/** A tensor of a held checkpoint: held on the backend, or already a host copy (the running mean). */
interface HeldTensor {
  name: string;
  shape: number[];
  held?: tf.Tensor;
  data?: Float32Array;
}

/**
 * A checkpoint taken between two steps at no copying cost: every field but the tensors' data, which is
 * held on the backend ({@link hold}) and read later, all at once ({@link readCheckpoint}) or tensor by
 * tensor with turns of the event loop between them ({@link readCheckpointTensors}), while training goes on.
 */
export interface HeldCheckpoint {
  state: Omit<TrainerCheckpoint, 'tensors'>;
  tensors: HeldTensor[];
  /**
   * Adam's bias-correction powers [beta1^t, beta2^t], held like the tensors and written into
   * `state.adam` when they are read: on a device backend (WebGPU, WebGL) a synchronous read stalls the
   * queue, and on a headless software adapter loses the device.
   */
  betaPowers?: tf.Tensor;
}

/** Holds the checkpoint of `parts` after `steps` steps, the sampler at `sampler`. */
export function holdCheckpoint(parts: TrainerParts, steps: number, sampler: SamplerState): HeldCheckpoint {
  const { model, config, dataset } = parts;
  const adam = adamInternals(parts.optimizer);
  const roles = variableRoles(model);
  const held = (name: string, v: tf.Tensor): HeldTensor => ({ name, shape: [...v.shape], held: hold(v) });
  // Adam names a slot `<variable name>/m` (or /v): saved under the weight's name, which does not
  // depend on how many variables the process created before.
  const moments = (list: AdamInternals['accumulatedFirstMoment'], kind: 'm' | 'v') =>
    list.map((s) =>
      held(`adam.${kind}.${roles.get(s.originalName.slice(0, -2)) ?? s.originalName}`, s.variable),
    );
  const order = adam.accumulatedFirstMoment.map((s) => roles.get(s.originalName.slice(0, -2)) ?? '');
  return {
    betaPowers: tf.keep(tf.stack([adam.accBeta1, adam.accBeta2])), // [2]
    state: {
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
        beta1Power: NaN, // set from betaPowers when the checkpoint is read
        beta2Power: NaN,
        order,
      },
      averageCount: parts.average.count,
      averageApplied: parts.average.isApplied,
    },
    // The variables as they are (image.weight [F, H], not the export's torch layout).
    tensors: [
      ...model.variables.map((v, k) => held(`weight.${model.weightShapes[k].name}`, v)),
      ...moments(adam.accumulatedFirstMoment, 'm'),
      ...moments(adam.accumulatedSecondMoment, 'v'),
      // The running mean lives on the host and is updated in place: copied now.
      ...parts.average.checkpointTensors(),
    ],
  };
}

/** Read-back values as the checkpoint's own array: the cpu backend hands out the array it keeps (wasm
 * and WebGPU a fresh one). */
function own(data: Float32Array): Float32Array {
  return tf.getBackend() === 'cpu' ? data.slice() : data;
}

/** Values per part of a big tensor read from a held checkpoint (16 MB of float32): turns come between parts. */
export const CHECKPOINT_PART = 1 << 22;

/**
 * A held tensor's values in parts of at most {@link CHECKPOINT_PART} (then released). On wasm each part is
 * read from the heap by itself (the backend reads ranges), so no copy of a whole big tensor is made in
 * one stretch; elsewhere the tensor is read once (asynchronously on WebGPU) and cut into views.
 */
async function* heldParts(t: HeldTensor): AsyncGenerator<Float32Array> {
  const whole = t.data;
  if (whole) {
    for (let at = 0; at < whole.length; at += CHECKPOINT_PART) yield whole.subarray(at, at + CHECKPOINT_PART);
    return;
  }
  const held = t.held!;
  t.held = undefined;
  try {
    if (tf.getBackend() === 'wasm') {
      const wasm = tf.engine().backend as unknown as {
        readSync(id: object, start: number, end: number): Float32Array;
      };
      for (let at = 0; at < held.size; at += CHECKPOINT_PART)
        yield wasm.readSync(held.dataId, at, Math.min(held.size, at + CHECKPOINT_PART));
    } else {
      const all = own((await held.data()) as Float32Array);
      for (let at = 0; at < all.length; at += CHECKPOINT_PART) yield all.subarray(at, at + CHECKPOINT_PART);
    }
  } finally {
    held.dispose();
  }
}

/**
 * Reads a held checkpoint's tensors, each in parts of at most {@link CHECKPOINT_PART} values turned into
 * what the caller stores (`convert`, e.g. a Blob), awaiting `between()` (a turn of the event loop)
 * whenever reading has gone on for `sliceMs` since the last turn: a big model's tensors are read without
 * blocking its worker for more than about one part, a small one's in one go. Releases every held tensor,
 * also on failure.
 */
export async function readCheckpointTensors<T>(
  h: HeldCheckpoint,
  convert: (part: Float32Array) => T,
  between: () => Promise<void>,
  sliceMs = 50,
): Promise<{ name: string; shape: number[]; parts: T[] }[]> {
  try {
    if (h.betaPowers) setBetaPowers(h, (await h.betaPowers.data()) as Float32Array);
    const out: { name: string; shape: number[]; parts: T[] }[] = [];
    let since = performance.now();
    for (const t of h.tensors) {
      const parts: T[] = [];
      for await (const part of heldParts(t)) {
        if (performance.now() - since >= sliceMs) {
          await between();
          since = performance.now();
        }
        parts.push(convert(part));
      }
      out.push({ name: t.name, shape: t.shape, parts });
    }
    return out;
  } finally {
    releaseCheckpoint(h);
  }
}

/** Writes the read bias-correction powers [beta1^t, beta2^t] into the checkpoint's state. */
function setBetaPowers(h: HeldCheckpoint, [b1, b2]: Float32Array): void {
  h.state.adam.beta1Power = b1;
  h.state.adam.beta2Power = b2;
}

/** Releases a held checkpoint's backend tensors that were not read. */
export function releaseCheckpoint(h: HeldCheckpoint): void {
  h.betaPowers?.dispose();
  h.betaPowers = undefined;
  for (const t of h.tensors) {
    t.held?.dispose();
    t.held = undefined;
  }
}

/** The checkpoint of `parts` after `steps` steps, the sampler at `sampler`, read at once. */
export function takeCheckpoint(parts: TrainerParts, steps: number, sampler: SamplerState): TrainerCheckpoint {
  const h = holdCheckpoint(parts, steps, sampler);
  try {
    if (h.betaPowers) setBetaPowers(h, h.betaPowers.dataSync() as Float32Array); // at once, by design
    const tensors = h.tensors.map((t) => {
      if (t.data) return { name: t.name, shape: t.shape, data: t.data };
      return { name: t.name, shape: t.shape, data: own(t.held!.dataSync() as Float32Array) };
    });
    return { ...h.state, tensors };
  } finally {
    releaseCheckpoint(h);
  }
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
