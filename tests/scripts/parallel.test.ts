/**
 * Data parallelism over worker_threads (scripts/lib/parallel-pool.ts, src/model/parallel/shards.ts): the
 * pure parts (shards, time-major slices, the fixed-order sum), N threads against one thread (the same
 * losses to float32 rounding, with dropout, max-violation and LN-GRU), the same seed and thread count
 * giving the same digits, and `train --threads` end to end (1 thread: the digits of a run without the
 * option).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Trainer } from '../../src/model/trainer';
import { makeSyntheticDataset } from '../../src/model/synthetic';
import { sliceTimeMajor, splitBatch, sumInOrder } from '../../src/model/parallel/shards';
import { ParallelPool } from '../../scripts/lib/parallel-pool';
import type { ModelConfig, TrainConfig } from '../../src/model/types';
import { DEFAULTS } from '../../src/model/defaults';
import { useBackend } from '../helpers/tf';
import * as tf from '../../src/model/tf';
import { runScript } from '../helpers/shared';

const ds = makeSyntheticDataset({ numImages: 120, imageDim: 24, seed: 4 });

let pool: ParallelPool;
beforeAll(async () => {
  await useBackend('wasm');
  pool = await ParallelPool.start(2, 'wasm');
}, 120_000);
afterAll(() => pool?.close());

function losses(
  model: Partial<ModelConfig>,
  train: Partial<TrainConfig>,
  steps: number,
  withPool?: ParallelPool,
): { losses: number[]; norms: number[]; weights: Float32Array } {
  const t = new Trainer(ds, { wordDim: 8, hiddenDim: 16, ...model }, { batchSize: 15, seed: 7, ...train });
  if (withPool) withPool.attach(t);
  const out = { losses: [] as number[], norms: [] as number[] };
  for (let s = 0; s < steps; s++) {
    const r = t.step();
    out.losses.push(r.loss);
    out.norms.push(r.gradNorm);
  }
  const weights = new Float32Array(t.model.getWeights().flatMap((w) => Array.from(w.data)));
  t.dispose();
  return { ...out, weights };
}

describe('shards', () => {
  it('cuts a batch into contiguous shards, the first ones larger, never empty', () => {
    expect(splitBatch(10, 3)).toEqual([
      { start: 0, size: 4 },
      { start: 4, size: 3 },
      { start: 7, size: 3 },
    ]);
    expect(splitBatch(2, 4)).toEqual([
      { start: 0, size: 1 },
      { start: 1, size: 1 },
    ]);
    expect(() => splitBatch(4, 0)).toThrow(/threads must be >= 1, got 0/);
  });

  it('slices time-major ids by columns, keeping every step', () => {
    // T = 2, B = 3: step 0 holds 1 2 3, step 1 holds 4 5 6.
    expect(Array.from(sliceTimeMajor([1, 2, 3, 4, 5, 6], 3, { start: 1, size: 2 }))).toEqual([2, 3, 5, 6]);
  });

  it('sums in the order given, in float32', () => {
    const a = Float32Array.of(1e8, 1);
    const b = Float32Array.of(1, -1e8);
    const c = Float32Array.of(-1e8, 1e8);
    // (1e8 + 1) rounds to 1e8 in float32, so the order shows in the result.
    expect(Array.from(sumInOrder([a, b, c]))).toEqual([0, 0]);
    expect(Array.from(sumInOrder([a, c, b]))).toEqual([1, 0]);
    expect(() => sumInOrder([a, Float32Array.of(1)])).toThrow(/part 1 has 1 values, the sum has 2/);
  });

  it('sums ranges into a shared output with the digits of one sum over all of it', () => {
    const parts = [0, 1, 2].map((k) =>
      Float32Array.from({ length: 101 }, (_, i) => Math.sin(i * 7 + k) * 10 ** (k - 1)),
    );
    const whole = sumInOrder(parts);
    const out = new Float32Array(new SharedArrayBuffer(4 * 101));
    for (const s of splitBatch(101, 3)) sumInOrder(parts, out, s.start, s.start + s.size);
    expect(Array.from(out)).toEqual(Array.from(whole));
    expect(() => sumInOrder(parts, out, 50, 102)).toThrow(/range \[50, 102\) is outside 0..101/);
  });

  it('sums in place when part 0 is the output itself (the pool: thread 0 writes into the sum)', () => {
    const parts = [0, 1, 2].map((k) =>
      Float32Array.from({ length: 101 }, (_, i) => Math.cos(i * 3 + k) * 10 ** (2 - k)),
    );
    const whole = sumInOrder(parts);
    const memory = new SharedArrayBuffer(4 * 101);
    const out = new Float32Array(memory);
    out.set(parts[0]);
    const inPlace = [new Float32Array(memory), parts[1], parts[2]];
    for (const s of splitBatch(101, 2)) sumInOrder(inPlace, out, s.start, s.start + s.size);
    expect(Array.from(out)).toEqual(Array.from(whole));
  });
});

describe('ParallelPool', () => {
  it("trains 2 threads to one thread's losses within float32 tolerance (LN-GRU, dropout, max-violation)", () => {
    const model = { layerNorm: true };
    const train = { dropout: 0.2, maxViolationStep: 2 };
    const one = losses(model, train, 4);
    const before = pool.stepsRun;
    const two = losses(model, train, 4, pool);
    expect(pool.stepsRun - before).toBe(4);
    expect(two.losses).toHaveLength(4);
    two.losses.forEach((l, s) => expect(l).toBeCloseTo(one.losses[s], 4));
    two.norms.forEach((n, s) => expect(n).toBeCloseTo(one.norms[s], 4));
    let worst = 0;
    two.weights.forEach((w, i) => (worst = Math.max(worst, Math.abs(w - one.weights[i]))));
    expect(worst).toBeLessThan(1e-4);
  });

  it('gives the same digits for the same seed and thread count', () => {
    const a = losses({ layerNorm: false }, {}, 3, pool);
    const b = losses({ layerNorm: false }, {}, 3, pool);
    expect(b.losses).toEqual(a.losses);
    expect(b.weights).toEqual(a.weights);
  });
});

describe('ParallelPool failures', () => {
  /** A 2-thread pool whose thread 1 fails as tests/scripts/fixtures/failing-thread.ts is told. */
  const failingPool = (query: string, told: string[]) =>
    ParallelPool.start(2, 'wasm', {
      threadModule: new URL(`./fixtures/failing-thread.ts?${query}`, import.meta.url),
      onFailure: (m) => told.push(m),
    });
  const make = () =>
    new Trainer(ds, { wordDim: 8, hiddenDim: 16, layerNorm: true }, { batchSize: 15, seed: 5, dropout: 0.1 });
  const weights = (t: Trainer) => t.model.getWeights().flatMap((w) => Array.from(w.data));

  it('a thread that dies in the middle of a step: that step and the rest run on this thread, nothing lost', async () => {
    const told: string[] = [];
    const failing = await failingPool('how=exit&at=backward&thread=1&nth=2', told);
    const two = make();
    failing.attach(two);
    two.step(); // over the threads
    const cp = two.checkpoint();
    const t0 = performance.now();
    // Thread 1 exits in step 2's backward pass, the main thread waiting for it.
    const after = [two.step(), two.step()];
    expect(performance.now() - t0).toBeLessThan(60_000); // told at once, not at the answer timeout
    expect(failing.stepsRun).toBe(1);
    expect(told).toHaveLength(1);
    expect(told[0]).toMatch(
      /^threads: thread 1 stopped \(exit code 3\); going on with one thread from the same weights/,
    );
    expect(failing.failure).toBe('thread 1 stopped (exit code 3)');
    // One thread from step 1's checkpoint: the digits of the steps after the failure, and of evaluation.
    const one = make();
    one.restore(cp);
    const alone = [one.step(), one.step()];
    expect(after.map((r) => r.loss)).toEqual(alone.map((r) => r.loss));
    expect(after.map((r) => r.gradNorm)).toEqual(alone.map((r) => r.gradNorm));
    expect(weights(two)).toEqual(weights(one));
    expect(two.evaluate('dev')).toEqual(one.evaluate('dev'));
    [one, two].forEach((t) => t.dispose());
    await failing.close();
  });

  it('a thread that fails between steps: the next step runs on this thread, the failure named', async () => {
    const told: string[] = [];
    const failing = await failingPool('how=throw&at=reduce&thread=1&nth=1', told);
    const two = make();
    failing.attach(two);
    two.step(); // answered; then thread 1 throws from a timer and ends
    await new Promise((resolve) => setTimeout(resolve, 500));
    const r = two.step();
    expect(Number.isFinite(r.loss)).toBe(true);
    expect(failing.stepsRun).toBe(1);
    expect(told).toEqual([
      'threads: thread 1 failed: injected failure; going on with one thread from the same weights (the step is taken again here, nothing is lost)',
    ]);
    two.dispose();
    await failing.close();
  });

  it('an error in the input is not a thread failure: thrown as it is, the threads kept', () => {
    const t = make();
    pool.attach(t);
    const features = tf.zeros([3, 24]) as tf.Tensor2D;
    expect(() => t.model.lossAndGrads(features, new Int32Array(2), [1, 1])).toThrow(
      /batch: 3 images but 2 captions/,
    );
    features.dispose();
    expect(pool.failure).toBeUndefined();
    t.step();
    t.dispose();
  });
});

describe('ParallelPool embedding passes', () => {
  it("evaluates to one thread's metrics (embeddings the same to float32 rounding)", () => {
    const make = () => new Trainer(ds, { wordDim: 8, hiddenDim: 16 }, { batchSize: 15, seed: 3 });
    const [one, two] = [make(), make()];
    pool.attach(two);
    const before = pool.stepsRun;
    for (let s = 0; s < 2; s++) [one, two].forEach((t) => t.step());
    expect(pool.stepsRun - before).toBe(2);
    const embeds = pool.embedsRun;
    const captions = Array.from({ length: 40 }, (_, k) => k);
    const [e1, e2] = [one, two].map((t) => t.embedCaptions(captions, 20).arraySync().flat());
    e2.forEach((v, i) => expect(v).toBeCloseTo(e1[i], 5));
    const images = Array.from({ length: 30 }, (_, k) => k);
    const [i1, i2] = [one, two].map((t) => t.embedImages(images).arraySync().flat());
    i2.forEach((v, i) => expect(v).toBeCloseTo(i1[i], 5));
    expect(pool.embedsRun - embeds).toBe(3); // 2 batches of 20 captions, 1 of 30 images
    const [m1, m2] = [one, two].map((t) => t.evaluate('dev'));
    expect(m2.rsum).toBeCloseTo(m1.rsum, 6);
    // Weights changed outside a step (restore, averaged weights) reach the threads.
    const halved = (t: Trainer) =>
      t.model.getWeights().map((w) => ({ ...w, data: w.data.map((x) => x / 2) }));
    for (const t of [one, two]) t.model.setWeights(halved(t));
    const [h1, h2] = [one, two].map((t) => t.embedCaptions(captions, 20).arraySync().flat());
    h2.forEach((v, i) => expect(v).toBeCloseTo(h1[i], 5));
    expect(h2).not.toEqual(e2);
    [one, two].forEach((t) => t.dispose());
  });
});

const train = (args: string[]) => runScript('train.ts', args);

describe('train --threads', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'orderembed-threads-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('1 thread logs the losses of the one-thread path to the last digit; 2 threads the same to float32 rounding', async () => {
    const steps = 5;
    const args = `--images 160 --hidden 16 --word-dim 8 --batch 16 --steps ${steps}`.split(' ');
    const common = [
      ...args,
      '--log-every',
      '1',
      '--eval-every',
      String(steps),
      '--eval-images',
      '40',
      '--json',
    ];
    const dirs = ['one', 'two'].map((n) => path.join(tmp, n));
    const [one, two] = await Promise.all([
      train([...common, '--threads', '1', '--out', dirs[0]]),
      train([...common, '--threads', '2', '--out', dirs[1]]),
    ]);
    expect(one.code, one.stderr).toBe(0);
    expect(two.code, two.stderr).toBe(0);
    expect(one.stderr).toContain('backend wasm, 1 thread;');
    expect(two.stderr).toContain('backend wasm, 2 threads;');
    const logged = (dir: string) =>
      readFileSync(path.join(dir, 'log.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { loss: number }).loss);
    // The one-thread path, recorded here: a Trainer with train's configuration for these flags.
    const { paper } = DEFAULTS;
    const seed = paper.train.seed;
    const t = new Trainer(
      makeSyntheticDataset({ numImages: 160, seed }),
      {
        layerNorm: paper.model.layerNorm,
        measure: paper.model.measure,
        hiddenDim: 16,
        wordDim: 8,
        maxViolation: false,
      },
      { seed, batchSize: 16, learningRate: paper.train.learningRate, sampling: paper.train.sampling },
    );
    const recorded = Array.from({ length: steps }, () => t.step().loss);
    t.dispose();
    expect(logged(dirs[0])).toEqual(recorded);
    const parallel = logged(dirs[1]);
    expect(parallel).toHaveLength(steps);
    parallel.forEach((l, s) => expect(l).toBeCloseTo(recorded[s], 3));
  }, 120_000);
});
