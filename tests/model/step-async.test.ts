/**
 * Trainer.stepAsync (issue 17: Pause within 1 s at any size): a step that turns the event loop within the
 * GRU's passes and is abandoned, unapplied, when its signal aborts. Resuming after such a pause must
 * give the uninterrupted run's losses to the last digit.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../../src/model/tf';
import { StepAbortedError, Trainer, type StepControl } from '../../src/model/trainer';
import { TrainingDriver } from '../../src/model/driver';
import { makeSyntheticDataset } from '../../src/model/synthetic';
import type { TrainConfig } from '../../src/model/types';
import { useBackend } from '../helpers/tf';

beforeAll(() => useBackend('wasm'));

const ds = makeSyntheticDataset({ numImages: 120, imageDim: 24, seed: 4 });
const model = { wordDim: 8, hiddenDim: 16 };
const train: Partial<TrainConfig> = { batchSize: 16, seed: 9, dropout: 0.1 };
/** Small enough that every large product of this tiny model is cut into row blocks. */
const blockMacs = 2000;

/** A control that stops at every yield (sliceMs 0) and aborts at its `abortAt`-th stop (0: never). */
function control(abortAt = 0): StepControl & { stops: number; abort: AbortController } {
  const abort = new AbortController();
  const c = {
    stops: 0,
    abort,
    signal: abort.signal,
    sliceMs: 0,
    blockMacs,
    between: async () => {
      c.stops++;
      if (c.stops === abortAt) abort.abort();
      await new Promise((resolve) => setTimeout(resolve, 0));
    },
  };
  return c;
}

function weightsOf(t: Trainer): number[][] {
  return t.model.getWeights().map((w) => Array.from(w.data));
}

describe('Trainer.stepAsync', () => {
  it('gives step()’s losses and weights to the last digit, with its products in row blocks', async () => {
    const sync = new Trainer(ds, model, train);
    const async_ = new Trainer(ds, model, train);
    const a: number[] = [];
    const b: number[] = [];
    let stops = 0;
    for (let i = 0; i < 10; i++) {
      a.push(sync.step().loss);
      const c = control();
      b.push((await async_.stepAsync(c)).loss);
      stops = c.stops;
    }
    // It did stop within the step: every time step of both passes and every block.
    expect(stops).toBeGreaterThan(20);
    expect(b).toEqual(a);
    expect(weightsOf(async_)).toEqual(weightsOf(sync));
    sync.dispose();
    async_.dispose();
  });

  it('abandoned mid-step changes nothing, frees its tensors, and resumes to the uninterrupted losses', async () => {
    const whole = new Trainer(ds, model, train);
    // Past an epoch boundary (120 images / 16), so the sampler position matters.
    const expected = Array.from({ length: 12 }, () => whole.step().loss);
    const probe = new Trainer(ds, model, train);
    const c0 = control();
    await probe.stepAsync(c0);
    probe.dispose();
    const stops = c0.stops;
    for (const abortAt of [1, Math.floor(stops / 2), stops]) {
      const t = new Trainer(ds, model, train);
      const got: number[] = [];
      for (let i = 0; i < 7; i++) got.push(t.step().loss);
      const before = t.checkpoint();
      const tensors = tf.memory().numTensors;
      const c = control(abortAt);
      let during: ReturnType<Trainer['checkpoint']> | null = null;
      const between = c.between;
      // A checkpoint taken while the step waits (the worker stores one on Pause) is the one before it.
      c.between = async () => {
        await between();
        if (c.stops === abortAt) during = t.checkpoint();
      };
      await expect(t.stepAsync(c)).rejects.toBeInstanceOf(StepAbortedError);
      expect(c.stops).toBe(abortAt);
      expect(tf.memory().numTensors).toBe(tensors);
      const after = t.checkpoint();
      for (const cp of [during!, after]) {
        const { tensors: ta, ...rest } = cp;
        const { tensors: tb, ...restBefore } = before;
        expect(rest).toEqual(restBefore);
        ta.forEach((x, k) => expect(Array.from(x.data), x.name).toEqual(Array.from(tb[k].data)));
      }
      for (let i = 7; i < 12; i++) got.push((await t.stepAsync(control())).loss);
      expect(got, `aborted at stop ${abortAt} of ${stops}`).toEqual(expected);
      expect(weightsOf(t)).toEqual(weightsOf(whole));
      t.dispose();
    }
    whole.dispose();
  });

  it('a driver stopped inside the second run’s step goes on from that run, keeping the runs in step', async () => {
    const configs = [train, { ...train, seed: 3 }];
    const reference = configs.map((c) => new Trainer(ds, model, c));
    const expected = reference.map((t) => Array.from({ length: 4 }, () => t.step().loss));
    const trainers = configs.map((c) => new Trainer(ds, model, c));
    const driver = new TrainingDriver(trainers, { steps: 4, evalEvery: 100 });
    const got: number[][] = [[], []];
    // Abort in the third step of the second run, after the first run took its third step.
    let c = control();
    let stepsTaken = 0;
    const outcome = await driver.run({
      stepControl: () => {
        if (++stepsTaken === 6) c = control(3);
        return c;
      },
      onStep: (k, r) => got[k].push(r.loss),
    });
    expect(outcome).toBe('stopped');
    expect(trainers.map((t) => t.stepsDone)).toEqual([3, 2]);
    expect(await driver.run({ stepControl: () => control(), onStep: (k, r) => got[k].push(r.loss) })).toBe(
      'finished',
    );
    expect(got).toEqual(expected);
    [...reference, ...trainers].forEach((t) => t.dispose());
  });
});
