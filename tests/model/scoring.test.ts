import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../../src/model/tf';
import {
  chunkRows,
  cosineSimilarity,
  orderViolation,
  orderViolationPath,
  scoreBlocks,
  scores,
} from '../../src/model/scoring';
import { contrastiveLoss } from '../../src/model/loss';
import { loadTestVector } from '../helpers/shared';
import { expectClose, useBackend } from '../helpers/tf';

interface OrderRef {
  images: number[][];
  captions: number[][];
  E: number[][];
}
interface Variant {
  loss: number;
  grad_images: number[][];
  grad_captions: number[][];
}
interface LossRef {
  margin: number;
  margin_cosine: number;
  images: number[][];
  captions: number[][];
  order_sum: Variant;
  order_max_violation: Variant;
  cosine_sum: Variant;
  cosine_max_violation: Variant;
}

beforeAll(() => useBackend('wasm'));

const PATHS = ['host-fused', 'composite'] as const;

describe('order-violation energy', () => {
  it.each(PATHS)('matches order_violation.json (%s)', (path) => {
    const ref = loadTestVector<OrderRef>('order_violation');
    const E = orderViolation(tf.tensor2d(ref.images), tf.tensor2d(ref.captions), { path });
    expectClose(E.arraySync(), ref.E, 1e-5, 'E');
  });

  it('uses the fused host loop on wasm and cpu, composite ops elsewhere', () => {
    expect(orderViolationPath('wasm')).toBe('host-fused');
    expect(orderViolationPath('cpu')).toBe('host-fused');
    expect(orderViolationPath('webgl')).toBe('composite');
    expect(orderViolationPath('webgpu')).toBe('composite');
  });

  it('fused host loop equals the composite ops, values and gradients', () => {
    const im = tf.randomUniform([19, 33], 0, 1, 'float32', 11) as tf.Tensor2D;
    const cap = tf.randomUniform([27, 33], 0, 1, 'float32', 12) as tf.Tensor2D;
    const w = tf.randomNormal([19, 27], 0, 1, 'float32', 13);
    const run = (path: 'host-fused' | 'composite') => {
      const f = (a: tf.Tensor, b: tf.Tensor) =>
        orderViolation(a as tf.Tensor2D, b as tf.Tensor2D, { path })
          .mul(w)
          .sum();
      const E = orderViolation(im, cap, { path }).arraySync();
      const [ga, gb] = tf.grads(f)([im, cap]);
      return { E, ga: ga.arraySync(), gb: gb.arraySync() };
    };
    const h = run('host-fused');
    const c = run('composite');
    expectClose(h.E, c.E, 1e-5, 'E');
    expectClose(h.ga, c.ga, 1e-4, 'd images');
    expectClose(h.gb, c.gb, 1e-4, 'd captions');
  });

  it('is 0 exactly when the caption is <= the image coordinate-wise', () => {
    const N = 40;
    const D = 8;
    const im = tf.randomUniform([N, D], 0, 1, 'float32', 3);
    // captions 0..N-1 are scaled-down copies of their image (dominated); N..2N-1 exceed it in one coordinate.
    const below = im.mul(tf.randomUniform([N, D], 0, 1, 'float32', 4));
    const bump = tf
      .oneHot(
        tf.tensor1d(
          Array.from({ length: N }, (_, i) => i % D),
          'int32',
        ),
        D,
      )
      .mul(1.5);
    const above = below.add(bump);
    const E = orderViolation(im as tf.Tensor2D, tf.concat([below, above]) as tf.Tensor2D).arraySync();
    const imA = im.arraySync() as number[][];
    const capA = tf.concat([below, above]).arraySync() as number[][];
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < 2 * N; j++) {
        const dominated = capA[j].every((c, k) => c <= imA[i][k]);
        expect(E[i][j] === 0, `E[${i}][${j}]=${E[i][j]} dominated=${dominated}`).toBe(dominated);
      }
      expect(E[i][i]).toBe(0);
      expect(E[i][N + i]).toBeGreaterThan(0);
    }
  });

  it('chunked composite scoring equals dense scoring, values and gradients', () => {
    const im = tf.randomNormal([37, 16], 0, 1, 'float32', 1) as tf.Tensor2D;
    const cap = tf.randomNormal([23, 16], 0, 1, 'float32', 2) as tf.Tensor2D;
    // Dense reference: the full [N, M, D] broadcast.
    const dense = tf
      .relu(cap.expandDims(0).sub(im.expandDims(1)))
      .square()
      .sum(-1);
    expect(chunkRows(23, 16, 23 * 16 * 5)).toBe(5);
    for (const budget of [1, 23 * 16 * 5, 1 << 22]) {
      const E = orderViolation(im, cap, { path: 'composite', chunkElements: budget });
      expectClose(E.arraySync(), dense.arraySync(), 1e-5, `E (budget ${budget})`);
    }
    const w = tf.randomNormal([37, 23], 0, 1, 'float32', 5);
    const f = (chunk: number) =>
      tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        orderViolation(a as tf.Tensor2D, b as tf.Tensor2D, { chunkElements: chunk })
          .mul(w)
          .sum(),
      )([im, cap]);
    const [ga, gb] = f(1 << 22);
    const [ca, cb] = f(16 * 23 * 3);
    expectClose(ca.arraySync(), ga.arraySync(), 1e-4, 'd images');
    expectClose(cb.arraySync(), gb.arraySync(), 1e-4, 'd captions');
  });

  it('scoreBlocks streams the same matrix as scores(), read asynchronously, leaking nothing', async () => {
    const im = tf.randomUniform([9, 6], 0, 1, 'float32', 7) as tf.Tensor2D;
    const cap = tf.randomUniform([14, 6], 0, 1, 'float32', 8) as tf.Tensor2D;
    for (const measure of ['order', 'cosine'] as const) {
      const full = scores(im, cap, measure).arraySync();
      const got = Array.from({ length: 9 }, () => new Array<number>(14).fill(NaN));
      const n = tf.memory().numTensors;
      await scoreBlocks(im, cap, measure, 4, (block, start, count) => {
        for (let i = 0; i < 9; i++) for (let j = 0; j < count; j++) got[i][start + j] = block[i * count + j];
      });
      expect(tf.memory().numTensors).toBe(n);
      expectClose(got, full, 1e-6, `${measure} blocks`);
    }
  });

  it('names the shapes when they do not fit', () => {
    expect(() => scores(tf.zeros([2, 3]) as tf.Tensor2D, tf.zeros([2, 4]) as tf.Tensor2D, 'order')).toThrow(
      /embedding sizes differ: images \[2,3\] vs captions \[2,4\]/,
    );
    expect(() =>
      cosineSimilarity(tf.zeros([2]) as unknown as tf.Tensor2D, tf.zeros([2, 4]) as tf.Tensor2D),
    ).toThrow(/expected images \[N, D\]/);
  });
});

describe('contrastive loss', () => {
  const ref = loadTestVector<LossRef>('contrastive_loss');
  it.each([
    ['order', false, 'order_sum'],
    ['order', true, 'order_max_violation'],
    ['cosine', false, 'cosine_sum'],
    ['cosine', true, 'cosine_max_violation'],
  ] as const)('%s, max-violation %s: loss and gradients match %s', (measure, maxViolation, key) => {
    const v = ref[key];
    const margin = measure === 'order' ? Number(ref.margin) : Number(ref.margin_cosine);
    const f = (a: tf.Tensor, b: tf.Tensor) =>
      contrastiveLoss(scores(a as tf.Tensor2D, b as tf.Tensor2D, measure), margin, maxViolation);
    const im = tf.tensor2d(ref.images);
    const cap = tf.tensor2d(ref.captions);
    expectClose(f(im, cap).arraySync(), Number(v.loss), 1e-4, 'loss');
    const [gi, gc] = tf.grads(f)([im, cap]);
    expectClose(gi.arraySync(), v.grad_images, 1e-4, 'grad images');
    expectClose(gc.arraySync(), v.grad_captions, 1e-4, 'grad captions');
  });

  it('needs a square batch of at least two pairs', () => {
    expect(() => contrastiveLoss(tf.zeros([2, 3]) as tf.Tensor2D, 0.05, false)).toThrow(
      /square \[B, B\] score matrix, got \[2,3\]/,
    );
    expect(() => contrastiveLoss(tf.zeros([1, 1]) as tf.Tensor2D, 0.05, false)).toThrow(/at least 2 pairs/);
  });
});
