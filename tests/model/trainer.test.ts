import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../../src/model/tf';
import { Trainer } from '../../src/model/trainer';
import { Vocabulary } from '../../src/model/tokenizer';
import { makeSyntheticDataset } from '../../src/model/synthetic';
import type { Dataset } from '../../src/model/types';
import { useBackend } from '../helpers/tf';

const small = { wordDim: 16, hiddenDim: 32 };

beforeAll(() => useBackend('wasm'));

/** The images of every batch the trainer draws from now on, recorded as its steps take them. */
function recordBatches(tr: Trainer): number[][] {
  const seen: number[][] = [];
  const t = tr as unknown as { nextBatch(): { images: number[]; captions: number[] } };
  const next = t.nextBatch.bind(tr);
  t.nextBatch = () => {
    const b = next();
    seen.push(b.images);
    return b;
  };
  return seen;
}

describe('Trainer', () => {
  it('learns the synthetic data: loss falls and dev recall rises far above chance', () => {
    const ds = makeSyntheticDataset({ numImages: 600, imageDim: 64, seed: 3 });
    const tr = new Trainer(ds, small, { batchSize: 32, seed: 1 });
    const before = tr.evaluate('dev');
    const losses: number[] = [];
    for (let i = 0; i < 150; i++) losses.push(tr.step().loss);
    const after = tr.evaluate('dev');
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    expect(mean(losses.slice(-20))).toBeLessThan(0.5 * mean(losses.slice(0, 20)));
    // 100 dev images: chance R@10 is 10%.
    expect(after.rsum).toBeGreaterThan(before.rsum + 100);
    expect(after.t2i.r10).toBeGreaterThan(30);
    tr.dispose();
  });

  it('is deterministic given the seed', () => {
    const ds = makeSyntheticDataset({ numImages: 100, imageDim: 32 });
    const run = (seed: number) => {
      const tr = new Trainer(ds, { ...small, layerNorm: true }, { batchSize: 16, seed });
      const l = Array.from({ length: 5 }, () => tr.step().loss);
      tr.dispose();
      return l;
    };
    expect(run(5)).toEqual(run(5));
    expect(run(5)).not.toEqual(run(6));
  });

  it('drops the learning rate by the decay factor after lrDecayStep steps, keeping the Adam state', () => {
    const ds = makeSyntheticDataset({ numImages: 100, imageDim: 32 });
    const run = (train: { lrDecayStep?: number; lrDecayFactor?: number }) => {
      const tr = new Trainer(ds, small, { batchSize: 16, seed: 5, learningRate: 0.01, ...train });
      const rates: number[] = [];
      const losses: number[] = [];
      for (let i = 0; i < 6; i++) {
        rates.push(tr.learningRate);
        losses.push(tr.step().loss);
      }
      tr.dispose();
      return { rates, losses };
    };
    const flat = run({});
    const decayed = run({ lrDecayStep: 3, lrDecayFactor: 0.1 });
    expect(flat.rates).toEqual([0.01, 0.01, 0.01, 0.01, 0.01, 0.01]);
    expect(decayed.rates.map((r) => Number(r.toPrecision(6)))).toEqual([
      0.01, 0.01, 0.01, 0.001, 0.001, 0.001,
    ]);
    // The 4th update is the first with the lower rate: its effect shows in the 5th step's loss.
    expect(decayed.losses.slice(0, 4)).toEqual(flat.losses.slice(0, 4));
    expect(decayed.losses[4]).not.toEqual(flat.losses[4]);
  });

  it('switches to the max-violation loss after maxViolationStep steps (VSE++ warm-up)', () => {
    const ds = makeSyntheticDataset({ numImages: 100, imageDim: 32 });
    const run = (train: { maxViolationStep?: number }, maxViolation = false) => {
      const tr = new Trainer(ds, { ...small, maxViolation }, { batchSize: 16, seed: 5, ...train });
      const modes: boolean[] = [];
      const losses: number[] = [];
      for (let i = 0; i < 5; i++) {
        modes.push(tr.maxViolation);
        losses.push(tr.step().loss);
      }
      tr.dispose();
      return { modes, losses };
    };
    const summed = run({});
    const warm = run({ maxViolationStep: 2 });
    const hard = run({}, true);
    expect(summed.modes).toEqual([false, false, false, false, false]);
    expect(warm.modes).toEqual([false, false, true, true, true]);
    expect(hard.modes).toEqual([true, true, true, true, true]);
    expect(warm.losses.slice(0, 2)).toEqual(summed.losses.slice(0, 2));
    // The 3rd step's loss is the max-violation loss of the same batch (the hardest negative per row and
    // column), which is at most the summed loss over all negatives.
    expect(warm.losses[2]).not.toEqual(summed.losses[2]);
    expect(warm.losses[2]).toBeLessThanOrEqual(summed.losses[2]);
    expect(hard.losses[0]).toBeLessThanOrEqual(summed.losses[0]);
  });

  it('dropout: reproducible from the seed, and the same batches as without it', () => {
    const ds = makeSyntheticDataset({ numImages: 100, imageDim: 32 });
    const run = (dropout?: number) => {
      const tr = new Trainer(ds, small, { batchSize: 16, seed: 5, dropout });
      const batches = recordBatches(tr);
      const losses: number[] = [];
      for (let i = 0; i < 12; i++) losses.push(tr.step().loss);
      tr.dispose();
      return { batches, losses };
    };
    const plain = run();
    const a = run(0.3);
    expect(a).toEqual(run(0.3));
    expect(a.batches).toEqual(plain.batches);
    expect(a.losses).not.toEqual(plain.losses);
    expect(() => new Trainer(ds, small, { dropout: 1 })).toThrow(
      'train config: dropout must be in [0, 1), got 1',
    );
  });

  it('augment draws each pair’s image feature from the views, with the same batches as without', () => {
    const ds = makeSyntheticDataset({ numImages: 100, imageDim: 32 });
    const withViews: Dataset = { ...ds, featureViews: [ds.features.map((x) => x * 0.5 + 0.1)] };
    const run = (data: Dataset, augment: boolean) => {
      const tr = new Trainer(data, small, { batchSize: 16, seed: 5, augment });
      const seen = recordBatches(tr);
      const losses = Array.from({ length: 8 }, () => tr.step().loss);
      const dev = tr.evaluate('dev');
      tr.dispose();
      return { seen, losses, dev };
    };
    const plain = run(withViews, false);
    const aug = run(withViews, true);
    expect(aug.seen).toEqual(plain.seen);
    expect(aug.losses[0]).not.toEqual(plain.losses[0]);
    expect(run(withViews, true).losses).toEqual(aug.losses);
    // Without augmentation the views are ignored.
    expect(run(ds, false).losses).toEqual(plain.losses);
    expect(() => new Trainer(ds, small, { augment: true })).toThrow(
      `train config: augment needs other views of the features, dataset '${ds.name}' has none`,
    );
    const short: Dataset = { ...ds, featureViews: [ds.features.subarray(32)] };
    expect(() => new Trainer(short, small, { augment: true })).toThrow(
      /feature view 0 holds \d+ numbers, expected/,
    );
  });

  it('averageFromStep keeps the mean of the weights from that step on, without changing training', () => {
    const ds = makeSyntheticDataset({ numImages: 100, imageDim: 32 });
    const plain = new Trainer(ds, small, { batchSize: 16, seed: 5 });
    const avg = new Trainer(ds, small, { batchSize: 16, seed: 5, averageFromStep: 3 });
    const snapshots: Float32Array[][] = [];
    for (let s = 1; s <= 6; s++) {
      expect(avg.step().loss).toEqual(plain.step().loss);
      expect(avg.averagedSteps).toBe(Math.max(0, s - 2));
      if (s >= 3) snapshots.push(plain.model.getWeights().map((w) => w.data));
    }
    const trained = avg.model.getWeights();
    const n = tf.memory().numTensors;
    const mean = avg.withAveragedWeights(() => avg.model.getWeights());
    expect(tf.memory().numTensors).toBe(n);
    // The trained weights are back after the averaged ones were used.
    expect(avg.model.getWeights()).toEqual(trained);
    mean.forEach((w, i) => {
      expect(w.name).toBe(trained[i].name);
      const expected = snapshots[0][i].map((_, j) => snapshots.reduce((t, snap) => t + snap[i][j], 0) / 4);
      for (let j = 0; j < w.data.length; j += 7) expect(w.data[j]).toBeCloseTo(expected[j], 5);
      // Averaging weights that moved gives something else than the last ones.
      if (i === 0) expect(Array.from(w.data)).not.toEqual(Array.from(trained[i].data));
    });
    avg.applyAveragedWeights();
    expect(avg.model.getWeights()).toEqual(mean);
    expect(avg.config.train.averageFromStep).toBe(3);
    // After applying, steps train on from the averaged weights and no longer average.
    avg.step();
    expect(avg.averagedSteps).toBe(0);
    expect(() => avg.withAveragedWeights(() => 0)).toThrow(
      'no averaged weights: they were already applied to the model',
    );

    const early = new Trainer(ds, small, { batchSize: 16, averageFromStep: 10 });
    early.step();
    expect(() => early.applyAveragedWeights()).toThrow(
      'no averaged weights yet: averaging starts at step 10, 1 steps done',
    );
    expect(() => plain.withAveragedWeights(() => 0)).toThrow(
      'no averaged weights: averageFromStep is not set',
    );
    expect(() => new Trainer(ds, small, { averageFromStep: 2.5 })).toThrow(
      'train config: averageFromStep must be a step number (0: none), got 2.5',
    );
    [plain, avg, early].forEach((t) => t.dispose());
  });

  it('initFrom starts from another run’s weights, and refuses another architecture or vocabulary', () => {
    const ds = makeSyntheticDataset({ numImages: 100, imageDim: 32 });
    const a = new Trainer(ds, small, { batchSize: 16, seed: 1 });
    for (let i = 0; i < 3; i++) a.step();
    const b = new Trainer(ds, small, { batchSize: 16, seed: 2 });
    const embed = (tr: Trainer) => {
      const e = tr.embedCaptions([0, 1, 2]);
      const v = Array.from(e.dataSync());
      e.dispose();
      return v;
    };
    expect(embed(b)).not.toEqual(embed(a));
    b.initFrom({ model: a.config.model, vocab: a.vocab, weights: a.model.getWeights() }, 'runs/a');
    expect(embed(b)).toEqual(embed(a));
    expect(b.config.train.initFrom).toBe('runs/a');
    expect(Number.isFinite(b.step().loss)).toBe(true);

    const wide = new Trainer(ds, { ...small, hiddenDim: 48 }, { batchSize: 16 });
    expect(() =>
      b.initFrom(
        { model: wide.config.model, vocab: wide.vocab, weights: wide.model.getWeights() },
        'runs/wide',
      ),
    ).toThrow(/runs\/wide: model hiddenDim is 48, this run's is 32/);
    // The same words in another order: every shape matches, but word ids would mean other words.
    const tokens = a.vocab.toJSON().tokens;
    const swapped = Vocabulary.fromJSON({
      tokens: [...tokens.slice(0, 2), tokens[3], tokens[2], ...tokens.slice(4)],
    });
    expect(() =>
      b.initFrom({ model: a.config.model, vocab: swapped, weights: a.model.getWeights() }, 'runs/other'),
    ).toThrow(
      `runs/other: model file from another vocabulary (${tokens.length} words against ${tokens.length} from these training captions; word 2 is ${JSON.stringify(tokens[3])}, here ${JSON.stringify(tokens[2])})`,
    );
    [a, b, wide].forEach((t) => t.dispose());
  });

  it("sampling 'caption' visits every training caption once per epoch in length-sorted batches", () => {
    const ds = makeSyntheticDataset({ numImages: 300, imageDim: 16, seed: 2 });
    const tr = new Trainer(ds, small, { batchSize: 32, seed: 7, sampling: 'caption' });
    const trainImages = new Set(ds.splits.train);
    const trainCaptions = ds.captions.flatMap((c, k) => (trainImages.has(c.image) ? [k] : []));
    // Reach into the batch source: the order of an epoch is what this test is about.
    const next = () =>
      (tr as unknown as { nextBatch(): { images: number[]; captions: number[] } }).nextBatch();
    const len = (k: number) => ds.captions[k].text.trim().split(/\s+/).length;
    const seen: number[] = [];
    let spread = 0;
    for (let s = 0; s < tr.stepsPerEpoch && seen.length < trainCaptions.length - 1; s++) {
      const { images, captions } = next();
      expect(images).toEqual(captions.map((k) => ds.captions[k].image));
      expect(new Set(images).size).toBe(images.length); // no image twice in a batch
      expect(captions.length).toBeGreaterThanOrEqual(2);
      const lengths = captions.map(len);
      spread = Math.max(spread, Math.max(...lengths) - Math.min(...lengths));
      seen.push(...captions);
    }
    expect(tr.epochsDone).toBe(0);
    // Every caption once (a lone leftover caption may wait for the next epoch).
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBeGreaterThanOrEqual(trainCaptions.length - 1);
    expect(seen.every((k) => trainImages.has(ds.captions[k].image))).toBe(true);
    const allLengths = trainCaptions.map(len);
    expect(spread).toBeLessThan(Math.max(...allLengths) - Math.min(...allLengths));
    next();
    expect(tr.epochsDone).toBe(1);
    tr.dispose();
  });

  it.each([
    [true, 'order'],
    [false, 'order'],
    [false, 'cosine'],
  ] as const)('does not leak tensors over training steps (layerNorm %s, %s)', (layerNorm, measure) => {
    const ds = makeSyntheticDataset({ numImages: 120, imageDim: 32 });
    const tr = new Trainer(
      ds,
      { ...small, layerNorm, measure, maxViolation: measure === 'cosine' },
      { batchSize: 16 },
    );
    tr.step(); // Adam creates its moment variables on the first step
    const n = tf.memory().numTensors;
    for (let i = 0; i < 25; i++) tr.step();
    tr.evaluate('dev');
    expect(tf.memory().numTensors).toBe(n);
    tr.dispose();
  });

  it('evaluates a whole split or averages over folds of 1000 images', () => {
    const ds = makeSyntheticDataset({ numImages: 2400, imageDim: 16, devFraction: 2100 / 2400 });
    const tr = new Trainer(ds, { wordDim: 8, hiddenDim: 8 }, { batchSize: 16 });
    const dev = ds.splits.dev!;
    const whole = tr.evaluate('dev');
    const folds = tr.evaluate('dev', { folds: true });
    const f0 = tr.evaluate('dev', { maxImages: 1000 });
    // The folds average two 1000-image folds (the last 100 images are left out, as for COCO 1k).
    const tr2Fold = (() => {
      const sub = { ...ds, splits: { train: ds.splits.train, dev: dev.slice(1000, 2000) } };
      const t2 = new Trainer(sub, { wordDim: 8, hiddenDim: 8 }, { batchSize: 16 });
      const m = t2.evaluate('dev');
      t2.dispose();
      return m;
    })();
    expect(folds.i2t.r10).toBeCloseTo((f0.i2t.r10 + tr2Fold.i2t.r10) / 2, 6);
    expect(folds.t2i.meanr).toBeCloseTo((f0.t2i.meanr + tr2Fold.t2i.meanr) / 2, 6);
    // Smaller galleries are easier: a fold's recall is at least the whole split's on average.
    expect(folds.rsum).toBeGreaterThanOrEqual(whole.rsum);
    expect(() => tr.evaluate('test')).toThrow(/has no 'test' split/);
    tr.dispose();
  });

  it('clips the gradient to the global norm', () => {
    const ds = makeSyntheticDataset({ numImages: 100, imageDim: 32 });
    const tr = new Trainer(ds, small, { batchSize: 16, clipNorm: 1e-3, learningRate: 0.1 });
    const r = tr.step();
    expect(r.gradNorm).toBeGreaterThan(1e-3); // it was clipped, and training still runs
    expect(Number.isFinite(tr.step().loss)).toBe(true);
    tr.dispose();
  });

  it('reports bad data clearly', () => {
    const ds = makeSyntheticDataset({ numImages: 20, imageDim: 8 });
    const nan: Dataset = { ...ds, features: ds.features.slice() };
    nan.features[3 * 8 + 5] = NaN;
    expect(() => new Trainer(nan, small)).toThrow(/image 3 has a non-finite feature \(NaN\) at index 5/);
    const empty: Dataset = { ...ds, captions: [...ds.captions] };
    empty.captions[7] = { image: 1, text: '   ' };
    expect(() => new Trainer(empty, small)).toThrow(/caption 7 is empty/);
    const wrongImage: Dataset = { ...ds, captions: [...ds.captions, { image: 99, text: 'a dog' }] };
    expect(() => new Trainer(wrongImage, small)).toThrow(/caption 100 points at image 99, expected 0..19/);
    const badSize: Dataset = { ...ds, features: ds.features.subarray(1) };
    expect(() => new Trainer(badSize, small)).toThrow(/features hold 159 numbers, expected 20 x 8/);
    expect(() => new Trainer({ ...ds, splits: { dev: [1] } }, small)).toThrow(/no training split/);
    expect(() => new Trainer(ds, { ...small, hiddenDim: 0 })).toThrow(
      /hidden size: expected a whole number from 1 to 4096, got 0/,
    );
    // Checked before the model is allocated (src/model/limits.ts).
    expect(() => new Trainer(ds, { ...small, hiddenDim: 4096, wordDim: 2048 })).toThrow(
      /would need about [\d.]+ GiB of memory \(hidden 4096, word size 2048/,
    );
  });

  it('drops training captions with only unknown words and still evaluates them', () => {
    const ds = makeSyntheticDataset({ numImages: 40, imageDim: 8 });
    const withUnk: Dataset = { ...ds, captions: [...ds.captions, { image: 0, text: 'zyzzyva quux' }] };
    const tr = new Trainer(withUnk, small, { batchSize: 8, minWordCount: 2 });
    expect(tr.droppedCaptions).toEqual([{ index: ds.captions.length, text: 'zyzzyva quux' }]);
    tr.step();
    expect(tr.evaluate('train').i2t.r10).toBeGreaterThanOrEqual(0);
    // Free texts: placed when they hold a known word, rejected by name otherwise.
    const e = tr.embedTexts(['a red zyzzyva']);
    expect(e.shape).toEqual([1, 32]);
    e.dispose();
    expect(() => tr.embedTexts(['a red circle', 'zyzzyva quux'])).toThrow(
      /text 1 \("zyzzyva quux"\) has no word of the vocabulary/,
    );
    expect(() => tr.embedTexts([''])).toThrow(/caption 0 is empty/);
    tr.dispose();
  });
});
