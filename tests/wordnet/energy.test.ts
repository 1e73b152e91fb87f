/**
 * The row-matched energies added to the shared scoring code (src/model/scoring.ts) against the diagonal
 * of the all-pairs ones, and the WordNet model's energy, loss and lookup built on them.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../../src/model/tf';
import {
  cosineSimilarity,
  cosineSimilarityRows,
  orderViolation,
  orderViolationRows,
  rowScores,
} from '../../src/model/scoring';
import { gatherRows, maxMarginLoss, pairEnergies } from '../../src/model/wordnet/model';
import { expectClose, useBackend } from '../helpers/tf';

beforeAll(() => useBackend('wasm'));

const diag = (m: tf.Tensor2D) => tf.tidy(() => m.mul(tf.eye(m.shape[0])).sum(1));

describe('row-matched scores in the shared scoring code', () => {
  let im: tf.Tensor2D;
  let cap: tf.Tensor2D;
  beforeAll(() => {
    im = tf.randomUniform([17, 9], 0, 1, 'float32', 21) as tf.Tensor2D;
    cap = tf.randomUniform([17, 9], 0, 1, 'float32', 22) as tf.Tensor2D;
  });

  it.each(['host-fused', 'composite'] as const)(
    'orderViolationRows is the diagonal of orderViolation (%s)',
    (path) => {
      expectClose(
        orderViolationRows(im, cap).arraySync(),
        diag(orderViolation(im, cap, { path })).arraySync(),
        1e-5,
        'E',
      );
    },
  );

  it('has the gradients of the diagonal of the all-pairs energy', () => {
    const w = tf.randomNormal([17], 0, 1, 'float32', 23);
    const rows = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      orderViolationRows(a as tf.Tensor2D, b as tf.Tensor2D)
        .mul(w)
        .sum(),
    )([im, cap]);
    const all = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      orderViolation(a as tf.Tensor2D, b as tf.Tensor2D, { path: 'composite' })
        .mul(tf.diag(w))
        .sum(),
    )([im, cap]);
    expectClose(rows[0].arraySync(), all[0].arraySync(), 1e-5, 'd images');
    expectClose(rows[1].arraySync(), all[1].arraySync(), 1e-5, 'd captions');
  });

  it('cosineSimilarityRows is the diagonal of cosineSimilarity; rowScores picks by measure', () => {
    const a = tf.randomNormal([11, 5], 0, 1, 'float32', 24) as tf.Tensor2D;
    const b = tf.randomNormal([11, 5], 0, 1, 'float32', 25) as tf.Tensor2D;
    expectClose(
      cosineSimilarityRows(a, b).arraySync(),
      diag(cosineSimilarity(a, b)).arraySync(),
      1e-5,
      'cos',
    );
    expectClose(
      rowScores(im, cap, 'order').arraySync(),
      orderViolationRows(im, cap).neg().arraySync(),
      0,
      'order',
    );
    expectClose(rowScores(a, b, 'cosine').arraySync(), cosineSimilarityRows(a, b).arraySync(), 0, 'cosine');
  });

  it('rejects rows that do not match, naming the shapes', () => {
    expect(() => orderViolationRows(im, cap.slice([0, 0], [16, 9]))).toThrow(
      'row scores: expected images and captions of the same [N, D], got [17,9] and [16,9]',
    );
  });
});

describe('hypernym energy and loss', () => {
  it('is zero when the hyponym dominates its hypernym coordinate-wise, positive the other way round', () => {
    const general = tf.tensor2d([[0.1, 0.2, 0]]);
    const specific = tf.tensor2d([[0.5, 0.2, 0.3]]);
    expect(pairEnergies(specific, general, 'order').arraySync()).toEqual([0]);
    // reversed: (0.5-0.1)^2 + 0 + 0.3^2 = 0.25
    expectClose(pairEnergies(general, specific, 'order').arraySync(), [0.25], 1e-6, 'reversed');
    // symmetric variant: 1 - cos, the same both ways
    const s1 = pairEnergies(specific, general, 'symmetric').arraySync();
    expectClose(pairEnergies(general, specific, 'symmetric').arraySync(), s1, 1e-6, 'symmetric');
    expect(s1[0]).toBeGreaterThan(0);
  });

  it('is the mean of positive energies and hinged negative energies', () => {
    const E = tf.tensor1d([0.5, 0, 0.25, 2]);
    const positive = tf.tensor1d([1, 1, 0, 0]);
    // (0.5 + 0 + max(0, 1 - 0.25) + max(0, 1 - 2)) / 4
    expectClose(maxMarginLoss(E, positive, 1).arraySync(), 1.25 / 4, 1e-6, 'loss');
  });

  it('looks rows up with a scatter-add gradient (repeated ids add up)', () => {
    const table = tf.tensor2d([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const ids = tf.tensor1d([0, 2, 0], 'int32');
    expect(gatherRows(table, ids).arraySync()).toEqual([
      [1, 2],
      [5, 6],
      [1, 2],
    ]);
    const dy = tf.tensor2d([
      [1, 10],
      [2, 20],
      [3, 30],
    ]);
    const g = tf.grad((t: tf.Tensor) =>
      gatherRows(t as tf.Tensor2D, ids)
        .mul(dy)
        .sum(),
    )(table);
    expect(g.arraySync()).toEqual([
      [4, 40],
      [0, 0],
      [2, 20],
    ]);
  });
});
