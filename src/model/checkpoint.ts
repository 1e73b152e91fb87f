/**
 * Training checkpoints: what Trainer.checkpoint() returns and Trainer.restore() takes (the weights,
 * Adam's moments and bias-correction powers, the batch sampler's position and generators, the counters,
 * the running mean of the weights), and its two files in a run folder:
 *
 * - `checkpoint.json`: everything but the tensors, plus a manifest of them (name, shape, byte offset);
 * - `checkpoint.bin`: the tensors as little-endian float32, concatenated in manifest order.
 *
 * Restored into a trainer with the same dataset and configuration, a checkpoint continues the run
 * exactly: the resumed losses equal the uninterrupted run's to the last digit (tests/model/checkpoint).
 * Everything read back is validated (shapes against byte lengths, counters, sampler indices) before any
 * tensor is allocated.
 */
import { asText, float32FromLittleEndian, float32ToLittleEndian, type Bytes } from './data/binary';
import { LIMITS } from './limits';
import type { NamedWeight } from './model';
import type { ModelConfig, TrainConfig } from './types';
import type { SamplerState } from './training/sampler';
import { field, validateModelConfig, validateTrainConfig } from './validate-run';

export const CHECKPOINT_FORMAT = 'orderembed-checkpoint';
export const CHECKPOINT_FILES = { state: 'checkpoint.json', tensors: 'checkpoint.bin' } as const;

export interface TrainerCheckpoint extends SamplerState {
  format: typeof CHECKPOINT_FORMAT;
  version: 1;
  model: ModelConfig;
  train: TrainConfig;
  /** The dataset it trained on: its name, image count and training vocabulary size (checked on restore). */
  dataset: string;
  numImages: number;
  vocabSize: number;
  steps: number;
  // epochs, the generators' states and the position in the epoch: SamplerState (./training/sampler.ts).
  adam: {
    iterations: number;
    /** beta1^t, beta2^t as the optimizer holds them (float32). */
    beta1Power: number;
    beta2Power: number;
    /** The weight of each Adam slot, in slot order. */
    order: string[];
  };
  averageCount: number;
  averageApplied: boolean;
  /** `weight.<name>`, `adam.m.<name>`, `adam.v.<name>`, `average.<name>`. */
  tensors: NamedWeight[];
}

/** The checkpoint as its two files (checkpoint.json, checkpoint.bin). */
export function checkpointToFiles(cp: TrainerCheckpoint): Record<string, string | ArrayBuffer> {
  const { tensors, ...state } = cp;
  const total = tensors.reduce((n, t) => n + t.data.length, 0);
  const all = new Float32Array(total);
  let at = 0;
  const manifest = tensors.map((t) => {
    all.set(t.data, at);
    const entry = { name: t.name, shape: [...t.shape], offset: at * 4 };
    at += t.data.length;
    return entry;
  });
  return {
    [CHECKPOINT_FILES.state]: JSON.stringify({ ...state, tensors: manifest }) + '\n',
    [CHECKPOINT_FILES.tensors]: float32ToLittleEndian(all),
  };
}

const { rec, str, num, int, bool, arr } = field;

/**
 * A checkpoint read back (from files, or from IndexedDB with its tensors' data inline), validated field
 * by field; `bin` holds the tensors when the manifest gives offsets. Throws naming the file and field.
 */
export function validateCheckpoint(
  v: unknown,
  bin?: Bytes,
  file: string = CHECKPOINT_FILES.state,
): TrainerCheckpoint {
  const c = rec(file, v);
  if (c.format !== CHECKPOINT_FORMAT)
    throw new Error(`${file}: format is ${JSON.stringify(c.format)}, expected '${CHECKPOINT_FORMAT}'`);
  if (c.version !== 1) throw new Error(`${file}: version ${JSON.stringify(c.version)} is not supported`);
  const model = validateModelConfig(`${file}: model`, c.model);
  const train = validateTrainConfig(`${file}: train`, c.train);
  const numImages = int(`${file}: numImages`, c.numImages, 1, LIMITS.numImages);
  const index = (where: string) => (x: unknown) => int(where, x, 0, numImages * 100);
  const a = rec(`${file}: adam`, c.adam);
  const maxTensors = 64;
  const tensors = arr(`${file}: tensors`, c.tensors, maxTensors).map((t, i) => {
    const at = `${file}: tensors[${i}]`;
    const e = rec(at, t);
    const name = str(`${at}.name`, e.name, 200);
    const shape = arr(`${at}.shape`, e.shape, 4).map((d, k) => int(`${at}.shape[${k}]`, d, 1, 2 ** 31));
    const size = shape.reduce((x, y) => x * y, 1);
    if (size * 4 > LIMITS.uploadBytes) throw new Error(`${at}: tensor '${name}' [${shape}] is too large`);
    let data: Float32Array;
    if (e.data instanceof Float32Array) data = e.data;
    else {
      if (!bin) throw new Error(`${at}: tensor '${name}' has no data (missing ${CHECKPOINT_FILES.tensors})`);
      const offset = int(`${at}.offset`, e.offset, 0);
      if (offset % 4) throw new Error(`${at}.offset: expected a multiple of 4, got ${offset}`);
      data = float32FromLittleEndian(
        bin,
        `${CHECKPOINT_FILES.tensors}: tensor '${name}' [${shape}]`,
        offset,
        size,
      );
    }
    if (data.length !== size)
      throw new Error(`${at}: tensor '${name}' holds ${data.length} values, shape [${shape}]`);
    return { name, shape, data };
  });
  if (bin) {
    const used = tensors.reduce((n, t) => n + t.data.length * 4, 0);
    if (used !== bin.byteLength)
      throw new Error(
        `${CHECKPOINT_FILES.tensors}: holds ${bin.byteLength} bytes, the manifest describes ${used}`,
      );
  }
  return {
    format: CHECKPOINT_FORMAT,
    version: 1,
    model,
    train,
    dataset: str(`${file}: dataset`, c.dataset, 4096),
    numImages,
    vocabSize: int(`${file}: vocabSize`, c.vocabSize, 3, LIMITS.vocabSize),
    steps: int(`${file}: steps`, c.steps, 0, LIMITS.steps),
    epochs: int(`${file}: epochs`, c.epochs, 0, LIMITS.steps),
    rng: int(`${file}: rng`, c.rng, 0, 2 ** 32 - 1),
    viewRng: int(`${file}: viewRng`, c.viewRng, 0, 2 ** 32 - 1),
    order: arr(`${file}: order`, c.order, LIMITS.numImages).map((x, i) => index(`${file}: order[${i}]`)(x)),
    cursor: int(`${file}: cursor`, c.cursor, 0, LIMITS.numImages),
    captionBatches: arr(`${file}: captionBatches`, c.captionBatches, LIMITS.numCaptions).map((b, i) =>
      arr(`${file}: captionBatches[${i}]`, b, LIMITS.batchSize).map((x, k) =>
        int(`${file}: captionBatches[${i}][${k}]`, x, 0, LIMITS.numCaptions),
      ),
    ),
    batchCursor: int(`${file}: batchCursor`, c.batchCursor, 0, LIMITS.numCaptions),
    adam: {
      iterations: int(`${file}: adam.iterations`, a.iterations, 0, LIMITS.steps),
      beta1Power: num(`${file}: adam.beta1Power`, a.beta1Power, 0, 1),
      beta2Power: num(`${file}: adam.beta2Power`, a.beta2Power, 0, 1),
      order: arr(`${file}: adam.order`, a.order, maxTensors).map((x, i) =>
        str(`${file}: adam.order[${i}]`, x, 200),
      ),
    },
    averageCount: int(`${file}: averageCount`, c.averageCount, 0, LIMITS.steps),
    averageApplied: bool(`${file}: averageApplied`, c.averageApplied),
    tensors,
  };
}

/** A checkpoint from its two files, validated. */
export function checkpointFromFiles(files: Record<string, string | Bytes | undefined>): TrainerCheckpoint {
  const text = files[CHECKPOINT_FILES.state];
  const bin = files[CHECKPOINT_FILES.tensors];
  if (text === undefined) throw new Error(`missing file '${CHECKPOINT_FILES.state}'`);
  if (bin === undefined || typeof bin === 'string')
    throw new Error(`missing or not binary: '${CHECKPOINT_FILES.tensors}'`);
  let state: unknown;
  try {
    state = JSON.parse(asText(text));
  } catch {
    throw new Error(`${CHECKPOINT_FILES.state}: not valid JSON`);
  }
  return validateCheckpoint(state, bin);
}
