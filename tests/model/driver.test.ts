/**
 * The training loop the worker, `train` and `compare` share (src/model/driver.ts): the same steps as a
 * hand-written loop, to the last digit; its evaluation cadence; Pause (a hook stops it) and a cut-short
 * evaluation; step errors; averaging at the end; and the learning-rate schedule.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Trainer } from '../../src/model/trainer';
import { learningRateAt, TrainingDriver } from '../../src/model/driver';
import { makeSyntheticDataset } from '../../src/model/synthetic';
import { DEFAULTS } from '../../src/model/defaults';
import { checkpointFromFiles, checkpointToFiles } from '../../src/model/checkpoint';
import type { TrainConfig } from '../../src/model/types';
import { useBackend } from '../helpers/tf';

beforeAll(() => useBackend('wasm'));

const ds = makeSyntheticDataset({ numImages: 120, imageDim: 24, seed: 4 });
const model = { wordDim: 8, hiddenDim: 16 };

/** Two runs that differ only in layer norm, as compare and the Compare button train them. */
const pair = (train: Partial<TrainConfig> = {}) => [
  new Trainer(ds, { ...model, layerNorm: true }, { batchSize: 16, seed: 7, ...train }),
  new Trainer(ds, { ...model, layerNorm: false }, { batchSize: 16, seed: 7, ...train }),
];

describe('TrainingDriver', () => {
  it('takes the steps of a hand-written loop, runs in turn, to the last digit', async () => {
    const byHand = pair();
    const expected = byHand.map(() => [] as number[]);
    for (let s = 0; s < 9; s++) byHand.forEach((t, k) => expected[k].push(t.step().loss));
    const driven = pair();
    const got = driven.map(() => [] as number[]);
    const order: number[] = [];
    const outcome = await new TrainingDriver(driven, { steps: 9, evalEvery: 4 }).run({
      onStep: (k, r) => {
        got[k].push(r.loss);
        order.push(k);
      },
    });
    expect(outcome).toBe('finished');
    expect(got).toEqual(expected);
    expect(order.slice(0, 4)).toEqual([0, 1, 0, 1]);
    expect(driven.map((t) => t.stepsDone)).toEqual([9, 9]);
    [...byHand, ...driven].forEach((t) => t.dispose());
  });

  it('evaluates every evalEvery steps and at the last (and first, if asked), after that step', async () => {
    const [t] = pair();
    const events: string[] = [];
    const driver = new TrainingDriver([t], { steps: 7, evalEvery: 3, evaluateFirst: true });
    await driver.run({
      evaluate: (s) => void events.push(`eval ${s} (${t.stepsDone} done)`),
      afterStep: (s) => void events.push(`after ${s}`),
    });
    expect(events.filter((e) => e.startsWith('eval'))).toEqual([
      'eval 0 (0 done)',
      'eval 3 (3 done)',
      'eval 6 (6 done)',
      'eval 7 (7 done)',
    ]);
    // afterStep once per step, after its evaluation.
    expect(events.filter((e) => e.startsWith('after'))).toEqual(
      [0, 1, 2, 3, 4, 5, 6, 7].map((s) => `after ${s}`),
    );
    expect(events.indexOf('after 3')).toBe(events.indexOf('eval 3 (3 done)') + 1);
    expect(driver.evaluationDue(6)).toBe(true);
    expect(driver.evaluationDue(5)).toBe(false);
    t.dispose();
  });

  it('stops when keepGoing says so and goes on from there; a cut evaluation is redone first', async () => {
    const [whole] = pair();
    const expected = Array.from({ length: 8 }, () => whole.step().loss);
    const [t] = pair();
    const driver = new TrainingDriver([t], { steps: 8, evalEvery: 4, chunkMs: 0 });
    const losses: number[] = [];
    let paused = false;
    let cut = true;
    const evals: number[] = [];
    const hooks = {
      keepGoing: () => !paused,
      onStep: (_: number, r: { loss: number; step: number }) => {
        losses.push(r.loss);
        if (r.step === 3) paused = true; // Pause during step 3: it is kept
      },
      evaluate: (s: number) => {
        evals.push(s);
        if (s === 4 && cut) {
          cut = false;
          paused = true; // Pause during the evaluation: cut short, still due
          return false;
        }
        return true;
      },
    };
    expect(await driver.run(hooks)).toBe('stopped');
    expect(t.stepsDone).toBe(3);
    paused = false;
    expect(await driver.run(hooks)).toBe('stopped');
    expect(driver.evalPending).toBe(true);
    expect(t.stepsDone).toBe(4);
    paused = false;
    expect(await driver.run(hooks)).toBe('finished');
    expect(evals).toEqual([4, 4, 8]);
    expect(losses).toEqual(expected);
    whole.dispose();
    t.dispose();
  });

  it('ends chunks after chunkMs or where an evaluation is due, calling afterChunk between them', async () => {
    const [t] = pair();
    const chunks: number[] = [];
    await new TrainingDriver([t], { steps: 6, evalEvery: 4, chunkMs: 60_000 }).run({
      afterChunk: () => void chunks.push(t.stepsDone),
    });
    expect(chunks).toEqual([4, 6]);
    t.dispose();
  });

  it('reports a failing step through onStepError (the run ends "failed"), else rejects', async () => {
    const failing = () => {
      const t = new Trainer(ds, model, { batchSize: 16, seed: 3, learningRate: 1e30 });
      return t;
    };
    const t = failing();
    const errors: [number, string][] = [];
    const outcome = await new TrainingDriver([t], { steps: 50, evalEvery: 50 }).run({
      onStepError: (k, e) => void errors.push([k, (e as Error).message]),
    });
    expect(outcome).toBe('failed');
    expect(errors).toHaveLength(1);
    expect(errors[0][0]).toBe(0);
    expect(errors[0][1]).toMatch(/^diverged at step \d+/);
    const u = failing();
    await expect(new TrainingDriver([u], { steps: 50, evalEvery: 50 }).run()).rejects.toThrow(
      /diverged at step/,
    );
    t.dispose();
    u.dispose();
  });

  it('finish() makes the averaged weights the model, and names runs that ended before averaging', async () => {
    const avg = new Trainer(ds, model, { batchSize: 16, seed: 2, averageFromStep: 3 });
    const late = new Trainer(ds, model, { batchSize: 16, seed: 2, averageFromStep: 30 });
    const driver = new TrainingDriver([avg, late], { steps: 5, evalEvery: 5 });
    await driver.run();
    const mean = avg.withAveragedWeights(() => avg.model.getWeights());
    const trainedLate = late.model.getWeights();
    expect(driver.finish()).toEqual([late]);
    avg.model.getWeights().forEach((w, k) => expect(Array.from(w.data)).toEqual(Array.from(mean[k].data)));
    late.model
      .getWeights()
      .forEach((w, k) => expect(Array.from(w.data)).toEqual(Array.from(trainedLate[k].data)));
    avg.dispose();
    late.dispose();
  });

  it('refuses a bad cadence', () => {
    const [t] = pair();
    expect(() => new TrainingDriver([t], { steps: 5, evalEvery: 0 })).toThrow(
      'training driver: evalEvery must be a positive whole number, got 0',
    );
    expect(() => new TrainingDriver([], { steps: 5, evalEvery: 1 })).toThrow('training driver: no trainer');
    t.dispose();
  });
});

describe('learningRateAt', () => {
  const base = { ...DEFAULTS.paper.train, learningRate: 0.01 };
  it('is constant without a schedule, and decays by lrDecayFactor (default 0.1) from lrDecayStep on', () => {
    expect([0, 1, 1000].map((s) => learningRateAt(base, s))).toEqual([0.01, 0.01, 0.01]);
    const decay = { ...base, lrDecayStep: 3 };
    expect([0, 2, 3, 9].map((s) => learningRateAt(decay, s))).toEqual([0.01, 0.01, 0.01 * 0.1, 0.01 * 0.1]);
    expect(learningRateAt({ ...decay, lrDecayFactor: 0.5 }, 3)).toBe(0.005);
  });
});

describe('learning-rate warm-up (TRAIN_OPTIONS.warmupSteps)', () => {
  const base = { ...DEFAULTS.paper.train, learningRate: 0.01 };

  it('grows linearly to the rate over the first N steps, then holds it (and composes with the decay)', () => {
    const warm = { ...base, warmupSteps: 4 };
    const rates = [0, 1, 2, 3, 4, 50].map((s) => learningRateAt(warm, s));
    const expected = [1, 2, 3, 4, 4, 4].map((k) => (0.01 * k) / 4);
    rates.forEach((r, i) => expect(r).toBeCloseTo(expected[i], 15));
    expect(rates[3]).toBe(0.01); // the full rate at the N-th step exactly
    const both = { ...warm, lrDecayStep: 2 };
    expect(learningRateAt(both, 1)).toBeCloseTo((0.01 * 2) / 4, 15);
    expect(learningRateAt(both, 2)).toBeCloseTo((0.001 * 3) / 4, 15);
    expect(learningRateAt(both, 9)).toBeCloseTo(0.001, 15);
  });

  it('0 (the default) is the constant rate itself, and reproduces the losses without the option', () => {
    for (const s of [0, 1, 7])
      expect(Object.is(learningRateAt({ ...base, warmupSteps: 0 }, s), 0.01)).toBe(true);
    const run = (train: Partial<TrainConfig>) => {
      const t = new Trainer(ds, model, { batchSize: 16, seed: 11, learningRate: 0.01, ...train });
      const l = Array.from({ length: 6 }, () => t.step().loss);
      t.dispose();
      return l;
    };
    const without = run({});
    expect(run({ warmupSteps: 0 })).toEqual(without);
    // A warm-up changes training from the second step on (the first loss is taken before any update).
    const warm = run({ warmupSteps: 5 });
    expect(warm[0]).toBe(without[0]);
    expect(warm.slice(1)).not.toEqual(without.slice(1));
  });

  it('the Trainer steps at the scheduled rate, refuses a bad value, and resumes mid-warm-up exactly', () => {
    const train = { batchSize: 16, seed: 3, learningRate: 0.02, warmupSteps: 6 };
    const t = new Trainer(ds, model, train);
    const seen: number[] = [];
    for (let s = 0; s < 3; s++) {
      seen.push(t.learningRate);
      t.step();
    }
    expect(seen).toEqual([0, 1, 2].map((s) => learningRateAt(t.config.train, s)));
    expect(seen[0]).toBeCloseTo(0.02 / 6, 15);
    // Through a run folder's checkpoint files: the option is kept and honoured.
    const cp = checkpointFromFiles(checkpointToFiles(t.checkpoint()));
    expect(cp.train.warmupSteps).toBe(6);
    const expected = Array.from({ length: 5 }, () => t.step().loss);
    const resumed = new Trainer(ds, model, cp.train);
    resumed.restore(cp);
    expect(Array.from({ length: 5 }, () => resumed.step().loss)).toEqual(expected);
    expect(() => new Trainer(ds, model, { warmupSteps: 2.5 })).toThrow(
      'train config: warmupSteps must be a whole number from 0 to 10000000, got 2.5',
    );
    expect(() => new Trainer(ds, model, { warmupSteps: -1 })).toThrow(/warmupSteps must be a whole number/);
    t.dispose();
    resumed.dispose();
  });
});

describe('one loop', () => {
  it('the worker, train and compare train through the driver, not loops of their own', () => {
    const root = path.resolve(import.meta.dirname, '..', '..');
    // The worker's training session (src/worker/session.ts) holds its driver.
    for (const file of ['src/worker/session.ts', 'scripts/train.ts', 'scripts/compare.ts']) {
      const src = readFileSync(path.join(root, file), 'utf8');
      expect(src, file).toMatch(/new TrainingDriver\(/);
      expect(src, file).not.toMatch(/\.step\(\)/);
    }
    // No other file of the worker steps a trainer by itself (hierarchy.ts steps the WordNet
    // hierarchy model, which is not an image-caption Trainer).
    const workerFiles = readdirSync(path.join(root, 'src/worker')).filter((f) => f.endsWith('.ts'));
    for (const name of workerFiles.filter((f) => f !== 'hierarchy.ts'))
      expect(readFileSync(path.join(root, 'src/worker', name), 'utf8'), name).not.toMatch(/\.step\(\)/);
  });
});
