/**
 * Embeddings of the nodes of a hierarchy, trained on (hyponym, hypernym) pairs (Vendrov et al. 2016,
 * Sect. 2 and 4.1).
 *
 * Order embeddings: every node u gets a free vector w_u and the embedding f(u) = |w_u| in R^D_+ (the same
 * non-negativity by absolute value as the caption encoder of ../model.ts; the paper's Torch code clamped
 * the vectors at 0 after each step instead). "x is-a y" should read f(x) >= f(y) coordinate-wise: the more
 * general node lies nearer the origin. The energy is the shared order-violation energy of ../scoring.ts,
 * row-matched, with the hyponym in the images' place and the hypernym in the captions' place (an image is
 * more specific than its caption):
 *
 *   E(x, y) = || max(0, f(y) - f(x)) ||^2                                      (paper Eq. 2)
 *
 * Symmetric variant (the paper's "order-embeddings (symmetric)"; its code used the cosine): free vectors
 * f(u) = w_u and E(x, y) = 1 - cos(f(x), f(y)), from the same scoring code.
 *
 * Max-margin loss over a batch of positive pairs P and corrupted pairs N (paper Eq. 3, averaged rather
 * than summed, as the Torch code's HingeEmbeddingCriterion did; Adam makes the scale immaterial):
 *
 *   L = ( sum_{(x,y) in P} E(x, y) + sum_{(x',y') in N} max(0, alpha - E(x', y')) ) / (|P| + |N|)
 *
 * Adam on the whole table (the paper: lr 0.01, alpha = 1, D = 50).
 */
import * as tf from '../tf';
import { readSyncAndDispose } from '../ops';
import { cosineSimilarityRows, orderViolationRows } from '../scoring';
import { Rng } from '../rng';

export type PairEnergy = 'order' | 'symmetric';

export interface PairEmbeddingConfig {
  /** Number of nodes. */
  n: number;
  /** Embedding size (50 in the paper). */
  dim: number;
  energy: PairEnergy;
  /** alpha (1 in the paper). */
  margin: number;
  /** Adam learning rate (0.01 in the paper). */
  learningRate: number;
  seed: number;
  /** Initial w ~ U(-initScale, initScale). */
  initScale?: number;
}

/**
 * Row lookup table[ids] whose gradient is a scatter-add (ScatterNd) into the table's shape. Not tf.gather:
 * its gradient needs UnsortedSegmentSum, which the wasm backend lacks, and on wasm the GatherV2 kernel
 * takes ~30 ms for 16k rows of 50 where GatherNd takes 0.4 ms.
 */
export const gatherRows: (table: tf.Tensor2D, ids: tf.Tensor1D) => tf.Tensor2D = tf.customGrad(((
  table: tf.Tensor,
  ids: tf.Tensor,
  save: tf.GradSaveFunc,
) => {
  save([ids]);
  const shape = table.shape as [number, number];
  return {
    value: tf.tidy(() => tf.gatherND(table, ids.expandDims(1))),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [
      tf.scatterND(saved[0].expandDims(1), dy, shape),
      tf.zerosLike(saved[0]),
    ],
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (
  table: tf.Tensor2D,
  ids: tf.Tensor1D,
) => tf.Tensor2D;

/** Row-matched energies of embedded pairs (hyponyms x, hypernyms y), from the shared scoring code. */
export function pairEnergies(x: tf.Tensor2D, y: tf.Tensor2D, energy: PairEnergy): tf.Tensor1D {
  return energy === 'order'
    ? orderViolationRows(x, y)
    : tf.tidy(() => tf.scalar(1).sub(cosineSimilarityRows(x, y)) as tf.Tensor1D);
}

/** The max-margin loss above; `isPositive` is 1 for pairs of P, 0 for pairs of N. */
export function maxMarginLoss(E: tf.Tensor1D, isPositive: tf.Tensor1D, margin: number): tf.Scalar {
  return tf.tidy(() => {
    const neg = tf.relu(tf.scalar(margin).sub(E));
    return E.mul(isPositive)
      .add(neg.mul(tf.scalar(1).sub(isPositive)))
      .mean() as tf.Scalar;
  });
}

export class PairEmbeddings {
  readonly config: Required<PairEmbeddingConfig>;
  private readonly table: tf.Variable<tf.Rank.R2>;
  private readonly optimizer: tf.AdamOptimizer;

  constructor(config: PairEmbeddingConfig) {
    this.config = { initScale: 0.1, ...config };
    const { n, dim, initScale, seed } = this.config;
    if (!(n > 0 && dim > 0))
      throw new Error(`PairEmbeddings: need n > 0 and dim > 0, got n=${n}, dim=${dim}`);
    const rng = new Rng(seed);
    const init = tf.randomUniform([n, dim], -initScale, initScale, 'float32', rng.seed());
    this.table = tf.variable(init as tf.Tensor2D, true);
    init.dispose();
    this.optimizer = tf.train.adam(this.config.learningRate);
  }

  /** The Adam step size from now on (for a decaying schedule). */
  setLearningRate(lr: number): void {
    // tfjs's AdamOptimizer reads its (protected) learningRate on every update and keeps no copy of it.
    (this.optimizer as unknown as { learningRate: number }).learningRate = lr;
  }

  /** f(ids): |w| for order embeddings, w for the symmetric variant. */
  embed(ids: tf.Tensor1D): tf.Tensor2D {
    return tf.tidy(() => {
      const w = gatherRows(this.table, ids);
      return this.config.energy === 'order' ? w.abs() : w;
    });
  }

  /**
   * Energies of the pairs given by ids = [hyponyms (m), hypernyms (m)]: one lookup for both ends, so that
   * the backward pass scatters into the table once.
   */
  private pairEnergiesOf(ids: tf.Tensor1D): tf.Tensor1D {
    return tf.tidy(() => {
      const m = ids.shape[0] / 2;
      const e = this.embed(ids);
      const D = this.config.dim;
      return pairEnergies(e.slice([0, 0], [m, D]), e.slice([m, 0], [m, D]), this.config.energy);
    });
  }

  private static ids(hypo: Int32Array, hyper: Int32Array): tf.Tensor1D {
    if (hypo.length !== hyper.length)
      throw new Error(`PairEmbeddings: ${hypo.length} hyponyms for ${hyper.length} hypernyms`);
    const ids = new Int32Array(2 * hypo.length);
    ids.set(hypo);
    ids.set(hyper, hypo.length);
    return tf.tensor1d(ids, 'int32');
  }

  /** Energies of pairs (hypo[k], hyper[k]), no gradient: a tensor [m] the caller reads and frees. */
  energiesOf(hypo: Int32Array, hyper: Int32Array): tf.Tensor1D {
    const ids = PairEmbeddings.ids(hypo, hyper);
    const E = this.pairEnergiesOf(ids); // [m]
    ids.dispose();
    return E;
  }

  /** {@link energiesOf}, read synchronously (host backends: the experiments, tests). */
  energies(hypo: Int32Array, hyper: Int32Array): Float32Array {
    return readSyncAndDispose(this.energiesOf(hypo, hyper));
  }

  /**
   * One Adam step on the pairs (hypo[k], hyper[k]) labelled by `positive[k]` (1 true, 0 corrupted);
   * returns the loss before the step as a scalar the caller reads and frees (the live view reads it
   * asynchronously, and only when it posts: no read per step, none synchronous on a device backend).
   */
  stepOf(hypo: Int32Array, hyper: Int32Array, positive: Float32Array): tf.Scalar {
    const ids = PairEmbeddings.ids(hypo, hyper);
    const p = tf.tensor1d(positive);
    const loss = this.optimizer.minimize(
      () => maxMarginLoss(this.pairEnergiesOf(ids), p, this.config.margin),
      true,
      [this.table],
    );
    tf.dispose([ids, p]);
    return loss!;
  }

  /** {@link stepOf}, its loss read synchronously (host backends: the experiments, tests). */
  step(hypo: Int32Array, hyper: Int32Array, positive: Float32Array): number {
    return readSyncAndDispose(this.stepOf(hypo, hyper, positive))[0];
  }

  /** The embeddings f(u) of all nodes [n, dim]: a tensor the caller reads and frees. */
  embeddingsOf(): tf.Tensor2D {
    return tf.tidy(() => (this.config.energy === 'order' ? this.table.abs() : this.table.clone()));
  }

  /** {@link embeddingsOf}, read synchronously, row-major [n, dim]. */
  embeddings(): Float32Array {
    return readSyncAndDispose(this.embeddingsOf());
  }

  /** A copy of the free parameters, to restore the best model later. */
  snapshot(): tf.Tensor2D {
    return this.table.clone();
  }

  restore(snapshot: tf.Tensor2D): void {
    this.table.assign(snapshot);
  }

  dispose(): void {
    this.table.dispose();
    this.optimizer.dispose();
  }
}
