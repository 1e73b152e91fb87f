/**
 * Polyak averaging (TrainConfig.averageFromStep): the running mean of the weights after every step from
 * `averageFromStep` on,
 *
 *   avg_n = avg_{n-1} + (w_n - avg_{n-1}) / n,
 *
 * which equals (w_1 + ... + w_n) / n without keeping the n weight sets. The mean often evaluates
 * better than the last weights (the noise of the last steps averages out); training itself goes on with
 * the trained weights, and the mean becomes the model's only when applied at the end.
 */
import type { NamedWeight, OrderEmbeddingModel } from '../model';
import type { TrainConfig } from '../types';

export class WeightAverage {
  private mean?: { count: number; weights: NamedWeight[] };
  private applied = false;

  /** `train` is read live: its averageFromStep says from which step on. */
  constructor(private readonly train: Pick<TrainConfig, 'averageFromStep'>) {}

  /** Whether the weights after step `step` (1-based) go into the mean. */
  due(step: number): boolean {
    const from = this.train.averageFromStep;
    return Boolean(from && step >= from && !this.applied);
  }

  /** Steps whose weights the mean holds (0 before averageFromStep, or without averaging). */
  get count(): number {
    return this.mean?.count ?? 0;
  }

  /** Whether the mean was made the model's weights ({@link apply}). */
  get isApplied(): boolean {
    return this.applied;
  }

  /** Adds one step's weights (PyTorch layout, as OrderEmbeddingModel.getWeights) to the mean. */
  add(weights: NamedWeight[]): void {
    if (!this.mean) {
      this.mean = { count: 1, weights };
      return;
    }
    const count = ++this.mean.count;
    this.mean.weights.forEach((avg, i) => {
      const w = weights[i].data;
      const a = avg.data;
      for (let j = 0; j < a.length; j++) a[j] += (w[j] - a[j]) / count;
    });
  }

  /**
   * Runs `fn` with the mean in `model` (e.g. an evaluation), then puts the trained weights back. Throws
   * when no step has been averaged yet (`steps`: the steps done, for the message).
   */
  withMean<T>(model: OrderEmbeddingModel, steps: number, fn: () => T): T {
    const mean = this.require(steps);
    const trained = model.getWeights();
    model.setWeights(mean.weights);
    try {
      return fn();
    } finally {
      model.setWeights(trained);
    }
  }

  /** Makes the mean `model`'s weights and stops averaging. Throws when no step has been averaged. */
  apply(model: OrderEmbeddingModel, steps: number): void {
    model.setWeights(this.require(steps).weights);
    this.mean = undefined;
    this.applied = true;
  }

  /** The mean's weights, named `average.<name>` (copies), for a checkpoint. */
  checkpointTensors(): NamedWeight[] {
    return this.mean?.weights.map((w) => ({ ...w, name: `average.${w.name}`, data: w.data.slice() })) ?? [];
  }

  /** Continues from a checkpoint's count, applied flag and mean weights (copied). */
  restore(count: number, applied: boolean, weights: readonly NamedWeight[] | undefined): void {
    this.mean = weights
      ? {
          count,
          weights: weights.map((w) => ({ name: w.name, shape: [...w.shape], data: w.data.slice() })),
        }
      : undefined;
    this.applied = applied;
  }

  private require(steps: number): { count: number; weights: NamedWeight[] } {
    if (!this.mean) {
      const from = this.train.averageFromStep;
      throw new Error(
        this.applied
          ? 'no averaged weights: they were already applied to the model'
          : from
            ? `no averaged weights yet: averaging starts at step ${from}, ${steps} steps done`
            : 'no averaged weights: averageFromStep is not set',
      );
    }
    return this.mean;
  }
}
