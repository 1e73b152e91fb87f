/**
 * Training and evaluation of hypernym prediction on a split (./protocols.ts), as in the paper's code:
 * epochs over the training positives, each batch with its positives and one fresh corruption per
 * positive; every `evalEveryExamples` training pairs (100 batches of 1000 in the paper) the threshold is
 * chosen on validation and applied to test.
 *
 * Reported figures:
 * - `bestTest`: the largest test accuracy seen over the evaluations -- what the paper's code kept and
 *   printed ("Best accuracy was ...") and so what its Table 1 reports. Only computed under 'paper'.
 * - `selected`: the test accuracy of the evaluation with the best *validation* accuracy, threshold from
 *   validation -- model and threshold chosen without looking at test. Under 'corrected' the test set is
 *   only scored once, at the end, on the restored best-validation weights.
 */
import * as tf from '../tf';
import { Rng } from '../rng';
import { PairEmbeddings, type PairEnergy } from './model';
import { accuracyAt, bestThreshold, corrupt, type LabeledPairs, type Split } from './protocols';

export interface ExperimentConfig {
  energy: PairEnergy;
  dim: number;
  margin: number;
  learningRate: number;
  /** Positive pairs per step (each with one negative): 500 in the paper. */
  batch: number;
  epochs: number;
  /** Stop after this many steps, whatever `epochs` says. */
  maxSteps?: number;
  evalEveryExamples: number;
  seed: number;
  initScale?: number;
  /**
   * 'constant' (the paper's) or 'linear': decays the learning rate linearly to 0 over the run, which
   * lets the large batches used here settle instead of hovering at the noise level of a fixed step.
   */
  schedule?: 'constant' | 'linear';
}

export const PAPER_CONFIG: Omit<ExperimentConfig, 'energy' | 'seed'> = {
  dim: 50,
  margin: 1,
  learningRate: 0.01,
  batch: 500,
  epochs: 50,
  evalEveryExamples: 100_000,
};

export interface EvalPoint {
  step: number;
  epoch: number;
  /** Mean training loss since the previous evaluation. */
  loss: number;
  valAccuracy: number;
  threshold: number;
  /** Only under 'paper' (the test set is scored at every evaluation there). */
  testAccuracy?: number;
}

export interface ExperimentResult {
  energy: PairEnergy;
  steps: number;
  epochs: number;
  trainSeconds: number;
  evals: EvalPoint[];
  /** Best validation accuracy, its step and threshold, and the test accuracy and energies there. */
  selected: {
    step: number;
    valAccuracy: number;
    threshold: number;
    testAccuracy: number;
    testEnergies: Float32Array;
  };
  /** The paper's figure: the best test accuracy seen over all evaluations ('paper' only). */
  bestTest?: { step: number; testAccuracy: number };
}

export interface ExperimentHooks {
  /** Called after each evaluation (progress output). */
  onEval?: (p: EvalPoint, seconds: number) => void;
}

function scoreSet(model: PairEmbeddings, set: LabeledPairs): Float32Array {
  return model.energies(set.hypo, set.hyper);
}

export function runExperiment(
  split: Split,
  cfg: ExperimentConfig,
  hooks: ExperimentHooks = {},
): ExperimentResult {
  const rng = new Rng(cfg.seed);
  const model = new PairEmbeddings({
    n: split.n,
    dim: cfg.dim,
    energy: cfg.energy,
    margin: cfg.margin,
    learningRate: cfg.learningRate,
    seed: rng.seed(),
    ...(cfg.initScale !== undefined ? { initScale: cfg.initScale } : {}),
  });
  const peekTest = split.protocol === 'paper';
  const P = split.train.hypo.length;
  const B = Math.min(cfg.batch, P);
  const stepsPerEpoch = Math.floor(P / B);
  const totalSteps = Math.min(cfg.maxSteps ?? Infinity, Math.max(1, Math.round(cfg.epochs * stepsPerEpoch)));
  const evalEvery = Math.max(1, Math.round(cfg.evalEveryExamples / (2 * B)));
  const hypo = new Int32Array(2 * B);
  const hyper = new Int32Array(2 * B);
  const positive = new Float32Array(2 * B).fill(1, 0, B);
  const order = Array.from({ length: P }, (_, i) => i);
  const evals: EvalPoint[] = [];
  let best: { point: EvalPoint; weights: tf.Tensor2D } | null = null;
  let bestTest: { step: number; testAccuracy: number } | undefined;
  let lossSum = 0;
  let lossCount = 0;
  let seconds = 0;

  const evaluate = (step: number) => {
    const val = bestThreshold(scoreSet(model, split.val), split.val.label);
    const point: EvalPoint = {
      step,
      epoch: step / stepsPerEpoch,
      loss: lossCount > 0 ? lossSum / lossCount : NaN,
      valAccuracy: val.accuracy,
      threshold: val.threshold,
    };
    if (peekTest) {
      point.testAccuracy = accuracyAt(scoreSet(model, split.test), split.test.label, val.threshold);
      if (!bestTest || point.testAccuracy > bestTest.testAccuracy)
        bestTest = { step, testAccuracy: point.testAccuracy };
    }
    if (!best || point.valAccuracy > best.point.valAccuracy) {
      best?.weights.dispose();
      best = { point, weights: model.snapshot() };
    }
    evals.push(point);
    lossSum = 0;
    lossCount = 0;
    hooks.onEval?.(point, seconds);
  };

  try {
    let cursor = P; // forces a shuffle before the first batch
    for (let step = 1; step <= totalSteps; step++) {
      const t0 = performance.now();
      if (cursor + B > P) {
        rng.shuffle(order);
        cursor = 0;
      }
      for (let b = 0; b < B; b++) {
        const k = order[cursor + b];
        const x = split.train.hypo[k];
        const y = split.train.hyper[k];
        hypo[b] = x;
        hyper[b] = y;
        const [a, c] = corrupt(x, y, split.n, rng, split.trainForbidden);
        hypo[B + b] = a;
        hyper[B + b] = c;
      }
      cursor += B;
      if (cfg.schedule === 'linear') model.setLearningRate(cfg.learningRate * (1 - (step - 1) / totalSteps));
      lossSum += model.step(hypo, hyper, positive);
      lossCount++;
      seconds += (performance.now() - t0) / 1000;
      if (step % evalEvery === 0 || step === totalSteps) evaluate(step);
    }
    const chosen = best as { point: EvalPoint; weights: tf.Tensor2D } | null;
    if (!chosen) throw new Error('runExperiment: no evaluation ran');
    model.restore(chosen.weights);
    const testEnergies = scoreSet(model, split.test);
    const testAccuracy = accuracyAt(testEnergies, split.test.label, chosen.point.threshold);
    return {
      energy: cfg.energy,
      steps: totalSteps,
      epochs: totalSteps / stepsPerEpoch,
      trainSeconds: seconds,
      evals,
      selected: {
        step: chosen.point.step,
        valAccuracy: chosen.point.valAccuracy,
        threshold: chosen.point.threshold,
        testAccuracy,
        testEnergies,
      },
      ...(bestTest ? { bestTest } : {}),
    };
  } finally {
    (best as { weights: tf.Tensor2D } | null)?.weights.dispose();
    model.dispose();
  }
}
