import { beforeAll, describe, expect, it } from 'vitest';
import { Trainer, TrainingDivergedError } from '../../src/model/trainer';
import { makeSyntheticDataset } from '../../src/model/synthetic';
import { checkpointFromFiles, checkpointToFiles, validateCheckpoint } from '../../src/model/checkpoint';
import type { TrainConfig } from '../../src/model/types';
import { CHECKPOINT_PART, readCheckpointTensors, releaseCheckpoint } from '../../src/model/training/state';
import * as tf from '../../src/model/tf';
import { useBackend } from '../helpers/tf';

beforeAll(() => useBackend('wasm'));

const ds = makeSyntheticDataset({ numImages: 120, imageDim: 24, seed: 4 });
const model = { wordDim: 8, hiddenDim: 16 };

/** Parts of a tensor read back, as one array. */
function joined(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function losses(tr: Trainer, n: number): number[] {
  return Array.from({ length: n }, () => tr.step().loss);
}

describe('checkpoint and restore', () => {
  it.each<[string, Partial<TrainConfig>]>([
    ['image sampling, dropout, averaging', { sampling: 'image', dropout: 0.1, averageFromStep: 4 }],
    ['caption sampling, lr decay', { sampling: 'caption', lrDecayStep: 6, batchSize: 64 }],
  ])('resumes to the uninterrupted losses and weights, to the last digit (%s)', (_, extra) => {
    const train = { batchSize: 16, seed: 9, ...extra };
    const whole = new Trainer(ds, model, train);
    // Past an epoch boundary (120 images / 16 and 600 captions / 16), so the sampler state matters.
    const expected = losses(whole, 14);
    const first = new Trainer(ds, model, train);
    const head = losses(first, 5);
    // Through the files a run folder holds, as `train --resume` reads them.
    const cp = checkpointFromFiles(checkpointToFiles(first.checkpoint()));
    first.dispose();
    const resumed = new Trainer(ds, model, train);
    resumed.restore(cp);
    expect(resumed.stepsDone).toBe(5);
    const tail = losses(resumed, 9);
    expect([...head, ...tail]).toEqual(expected);
    const w1 = whole.model.getWeights();
    const w2 = resumed.model.getWeights();
    w1.forEach((w, k) => expect(Array.from(w2[k].data), w.name).toEqual(Array.from(w.data)));
    if (extra.averageFromStep) expect(resumed.averagedSteps).toBe(whole.averagedSteps);
    whole.dispose();
    resumed.dispose();
  });

  it('a held checkpoint read while the trainer steps on is the checkpoint of the step it was taken at', async () => {
    const train = { batchSize: 16, seed: 9, averageFromStep: 2 };
    const tr = new Trainer(ds, model, train);
    losses(tr, 3);
    const now = tr.checkpoint();
    const tensorsBefore = tf.memory().numTensors;
    const held = tr.holdCheckpoint();
    // The trainer steps on (its variables are assigned new values) before the held tensors are read.
    const later = losses(tr, 2);
    let turns = 0;
    const read = await readCheckpointTensors(
      held,
      (d) => d.slice(),
      async () => {
        turns++;
      },
      0, // a turn before each part
    );
    expect(turns).toBe(now.tensors.length); // small tensors: one part each
    const tensors = read.map(({ name, shape, parts }) => ({ name, shape, data: joined(parts) }));
    expect({ ...held.state, tensors }).toEqual(now);
    expect(tf.memory().numTensors).toBe(tensorsBefore); // every held tensor released
    // And it resumes to the steps the trainer took after it.
    const resumed = new Trainer(ds, model, train);
    resumed.restore({ ...held.state, tensors });
    expect(losses(resumed, 2)).toEqual(later);
    // A held checkpoint that is never read is released.
    const count = tf.memory().numTensors;
    releaseCheckpoint(tr.holdCheckpoint());
    expect(tf.memory().numTensors).toBe(count);
    tr.dispose();
    resumed.dispose();
  });

  it('reads a tensor of more than CHECKPOINT_PART values in parts, with turns between them', async () => {
    // Word size 2000 into hidden 700: the GRU's input weights are [2100, 2000], 4.2 M values (> 4.194 M).
    const big = new Trainer(ds, { wordDim: 2000, hiddenDim: 700 }, { batchSize: 8, seed: 1 });
    const whole = big.checkpoint();
    let turns = 0;
    const read = await readCheckpointTensors(
      big.holdCheckpoint(),
      (d) => d.slice(),
      async () => {
        turns++;
      },
      0,
    );
    const sizes = read.map((t) => t.parts.map((p) => p.length));
    const largest = sizes.find((s) => s.length > 1)!;
    expect(largest).toEqual([CHECKPOINT_PART, 2100 * 2000 - CHECKPOINT_PART]);
    expect(turns).toBe(sizes.flat().length);
    read.forEach((t, k) => {
      expect(t.name).toBe(whole.tensors[k].name);
      // Compared as bytes (a deep comparison of 4 M floats takes minutes).
      expect(Buffer.from(joined(t.parts).buffer).equals(Buffer.from(whole.tensors[k].data.buffer))).toBe(
        true,
      );
    });
    big.dispose();
  });

  it('refuses a checkpoint of another configuration or dataset, naming what differs', () => {
    const a = new Trainer(ds, model, { batchSize: 16, seed: 1 });
    a.step();
    const cp = a.checkpoint();
    a.dispose();
    const b = new Trainer(ds, model, { batchSize: 8, seed: 1 });
    expect(() => b.restore(cp)).toThrow(/checkpoint: train\.batchSize is 16, this trainer's is 8/);
    b.dispose();
    const other = makeSyntheticDataset({ numImages: 100, imageDim: 24, seed: 4 });
    const c = new Trainer(other, model, { batchSize: 16, seed: 1 });
    expect(() => c.restore(cp)).toThrow(/checkpoint: trained on '.*' \(120 images/);
    c.dispose();
  });

  it('validates checkpoint files before allocating: truncated tensors and bad counters are named', () => {
    const a = new Trainer(ds, model, { batchSize: 16, seed: 1 });
    a.step();
    const files = checkpointToFiles(a.checkpoint());
    a.dispose();
    const bin = files['checkpoint.bin'] as ArrayBuffer;
    expect(() =>
      checkpointFromFiles({ ...files, 'checkpoint.bin': bin.slice(0, bin.byteLength - 4) }),
    ).toThrow(/checkpoint\.bin: tensor '.*' .*needs bytes/);
    const state = JSON.parse(files['checkpoint.json'] as string) as Record<string, unknown>;
    expect(() => validateCheckpoint({ ...state, cursor: -1 }, bin)).toThrow(/checkpoint\.json: cursor/);
    expect(() => validateCheckpoint({ ...state, steps: '3' }, bin)).toThrow(/checkpoint\.json: steps: .*"3"/);
  });
});

describe('divergence', () => {
  it('stops before the update with "diverged at step N", keeping the last good weights', () => {
    const tr = new Trainer(ds, model, { batchSize: 16, seed: 3, learningRate: 1e30 });
    let before = tr.model.getWeights();
    let error: unknown;
    for (let i = 0; i < 20 && !error; i++) {
      before = tr.model.getWeights();
      try {
        tr.step();
      } catch (e) {
        error = e;
      }
    }
    expect(error).toBeInstanceOf(TrainingDivergedError);
    const step = (error as TrainingDivergedError).step;
    expect((error as Error).message).toMatch(new RegExp(`^diverged at step ${step}: `));
    expect(tr.stepsDone).toBe(step - 1);
    tr.model.getWeights().forEach((w, k) => expect(Array.from(w.data)).toEqual(Array.from(before[k].data)));
    tr.dispose();
  });
});
