import { describe, expect, it } from 'vitest';
import { averageOverFolds, evaluateScores, ranksI2T, ranksT2I, recallMetrics } from '../../src/model/recall';
import type { EvalMetrics, RecallMetrics } from '../../src/model/types';
import { flatten, loadTestVector } from '../helpers/shared';

interface RecallVector {
  scores: number[][];
  caption_image: number[];
  i2t_ranks: number[];
  t2i_ranks: number[];
  i2t: RecallMetrics;
  t2i: RecallMetrics;
  rsum: number;
}

function expectMetricsClose(got: RecallMetrics, want: RecallMetrics, tol = 1e-9): void {
  for (const key of ['r1', 'r5', 'r10', 'medr', 'meanr'] as const) {
    expect(Math.abs(got[key] - want[key]), `${key}: got ${got[key]}, want ${want[key]}`).toBeLessThanOrEqual(
      tol,
    );
  }
}

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random scores for N images with `per` captions each (caption j belongs to image floor(j / per)). */
function randomProblem(N: number, per: number, seed: number) {
  const M = N * per;
  const r = rng(seed);
  const scores = new Float64Array(N * M);
  for (let k = 0; k < scores.length; k++) scores[k] = r() * 2 - 1;
  const captionImage = Int32Array.from({ length: M }, (_, j) => Math.floor(j / per));
  return { scores, N, M, captionImage };
}

/** Reference ranks by full sorting (ties broken in the ground truth's favour). */
function bruteRanks(scores: Float64Array, N: number, M: number, captionImage: Int32Array) {
  const i2t = Array.from({ length: N }, (_, i) => {
    const order = Array.from({ length: M }, (_, j) => j).sort(
      (a, b) => scores[i * M + b]! - scores[i * M + a]! || (captionImage[a] === i ? -1 : 1),
    );
    return order.findIndex((j) => captionImage[j] === i);
  });
  const t2i = Array.from({ length: M }, (_, j) => {
    const order = Array.from({ length: N }, (_, i) => i).sort(
      (a, b) => scores[b * M + j]! - scores[a * M + j]! || (a === captionImage[j] ? -1 : 1),
    );
    return order.indexOf(captionImage[j]!);
  });
  return { i2t, t2i };
}

describe('recall against shared/testvectors/recall.json', () => {
  const v = loadTestVector<RecallVector>('recall');
  const N = v.scores.length;
  const M = v.scores[0]!.length;
  const scores = Float64Array.from(flatten(v.scores));
  const captionImage = Int32Array.from(v.caption_image);

  it('reproduces the ranks exactly', () => {
    expect(Array.from(ranksI2T(scores, N, M, captionImage))).toEqual(v.i2t_ranks);
    expect(Array.from(ranksT2I(scores, N, M, captionImage))).toEqual(v.t2i_ranks);
  });

  it('gives the same ranks from float32 scores', () => {
    const s32 = Float32Array.from(scores);
    expect(Array.from(ranksI2T(s32, N, M, captionImage))).toEqual(v.i2t_ranks);
    expect(Array.from(ranksT2I(s32, N, M, captionImage))).toEqual(v.t2i_ranks);
  });

  it('reproduces R@K, medr, meanr and rsum to 1e-9', () => {
    const m = evaluateScores(scores, N, M, captionImage);
    expectMetricsClose(m.i2t, v.i2t);
    expectMetricsClose(m.t2i, v.t2i);
    expect(Math.abs(m.rsum - v.rsum)).toBeLessThanOrEqual(1e-9);
    expectMetricsClose(recallMetrics(v.i2t_ranks), v.i2t);
    expectMetricsClose(recallMetrics(v.t2i_ranks), v.t2i);
  });
});

describe('recallMetrics', () => {
  it('computes R@K, odd and even medians and mean rank', () => {
    expect(recallMetrics([0, 3, 7, 12, 0])).toEqual({ r1: 40, r5: 60, r10: 80, medr: 4, meanr: 5.4 });
    // even count: median of [0, 1, 4, 9] = 2.5 -> floor 2 + 1 = 3
    expect(recallMetrics(Int32Array.from([9, 0, 4, 1]))).toMatchObject({ medr: 3, meanr: 4.5, r1: 25 });
    // median of [2, 3] = 2.5 -> 3; median of [2, 4] = 3 -> 4
    expect(recallMetrics([2, 3]).medr).toBe(3);
    expect(recallMetrics([4, 2]).medr).toBe(4);
  });

  it('rejects empty or invalid ranks', () => {
    expect(() => recallMetrics([])).toThrow(/at least one rank/);
    expect(() => recallMetrics([0, -1])).toThrow(/rank 1 is -1/);
    expect(() => recallMetrics([0.5])).toThrow(/non-negative integer/);
  });
});

describe('ranks: properties', () => {
  it('perfect scores give R@1 = 100 and medr = meanr = 1 both ways', () => {
    const N = 7;
    const per = 5;
    const M = N * per;
    const captionImage = Int32Array.from({ length: M }, (_, j) => (j * 3) % N); // interleaved owners
    const scores = new Float32Array(N * M);
    for (let i = 0; i < N; i++)
      for (let j = 0; j < M; j++) scores[i * M + j] = captionImage[j] === i ? 1 : -1;
    const m = evaluateScores(scores, N, M, captionImage);
    for (const dir of [m.i2t, m.t2i]) expect(dir).toEqual({ r1: 100, r5: 100, r10: 100, medr: 1, meanr: 1 });
    expect(m.rsum).toBe(600);
  });

  it('reversed scores give the worst possible ranks', () => {
    const N = 12;
    const per = 5;
    const M = N * per;
    const captionImage = Int32Array.from({ length: M }, (_, j) => Math.floor(j / per));
    const scores = new Float64Array(N * M);
    for (let i = 0; i < N; i++)
      for (let j = 0; j < M; j++) scores[i * M + j] = captionImage[j] === i ? -1 : 1;
    expect(Array.from(ranksI2T(scores, N, M, captionImage))).toEqual(new Array(N).fill(M - per));
    expect(Array.from(ranksT2I(scores, N, M, captionImage))).toEqual(new Array(M).fill(N - 1));
    const m = evaluateScores(scores, N, M, captionImage);
    expect(m.t2i).toEqual({ r1: 0, r5: 0, r10: 0, medr: N, meanr: N });
    expect(m.rsum).toBe(0);
  });

  it('ties are optimistic: only strictly better items count', () => {
    const N = 3;
    const M = 6;
    const captionImage = Int32Array.from([0, 0, 1, 1, 2, 2]);
    const scores = new Float32Array(N * M).fill(0.5); // everything tied
    expect(Array.from(ranksI2T(scores, N, M, captionImage))).toEqual([0, 0, 0]);
    expect(Array.from(ranksT2I(scores, N, M, captionImage))).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('uses the best-ranked own caption for image -> caption', () => {
    // image 0 owns captions 0 and 3; caption 3 is its best (only caption 1 scores higher).
    const N = 2;
    const M = 4;
    const captionImage = Int32Array.from([0, 1, 1, 0]);
    const scores = Float64Array.from([0.1, 0.9, 0.2, 0.8, /* image 1 */ 0.3, 0.1, 0.4, 0.9]);
    expect(Array.from(ranksI2T(scores, N, M, captionImage))).toEqual([1, 1]);
    expect(Array.from(ranksT2I(scores, N, M, captionImage))).toEqual([1, 1, 0, 1]);
  });

  it('matches a brute-force sort on random problems', () => {
    for (const [N, per, seed] of [
      [1, 5, 1],
      [9, 5, 2],
      [20, 3, 3],
      [31, 1, 4],
    ] as const) {
      const p = randomProblem(N, per, seed);
      const want = bruteRanks(p.scores, p.N, p.M, p.captionImage);
      expect(Array.from(ranksI2T(p.scores, p.N, p.M, p.captionImage))).toEqual(want.i2t);
      expect(Array.from(ranksT2I(p.scores, p.N, p.M, p.captionImage))).toEqual(want.t2i);
    }
  });

  it('handles -Infinity and +Infinity scores', () => {
    const captionImage = Int32Array.from([0, 1]);
    const scores = Float32Array.from([-Infinity, Infinity, Infinity, -Infinity]);
    expect(Array.from(ranksI2T(scores, 2, 2, captionImage))).toEqual([1, 1]);
    expect(Array.from(ranksT2I(scores, 2, 2, captionImage))).toEqual([1, 1]);
  });
});

describe('input validation', () => {
  const captionImage = Int32Array.from([0, 1]);
  const scores = new Float32Array(4);

  it('names the expected and given sizes', () => {
    expect(() => ranksI2T(new Float32Array(3), 2, 2, captionImage)).toThrow(
      /scores has 3 entries, expected .* = 4/,
    );
    expect(() => ranksT2I(scores, 2, 2, Int32Array.from([0]))).toThrow(
      /captionImage has 1 entries, expected .*2/,
    );
    expect(() => ranksT2I(scores, 0, 2, captionImage)).toThrow(/numImages must be a positive integer, got 0/);
  });

  it('rejects bad caption owners, captionless images and NaN', () => {
    expect(() => ranksT2I(scores, 2, 2, Int32Array.from([0, 2]))).toThrow(/captionImage\[1\] = 2 .*\[0, 2\)/);
    expect(() => ranksI2T(scores, 2, 2, Int32Array.from([0, 0]))).toThrow(/image 1 has no caption/);
    const withNaN = Float32Array.from([0, 0, NaN, 0]);
    expect(() => ranksI2T(withNaN, 2, 2, captionImage)).toThrow(/scores\[1, 0\] is NaN/);
    expect(() => ranksT2I(withNaN, 2, 2, captionImage)).toThrow(/scores\[1, 0\] is NaN/);
  });
});

describe('averageOverFolds', () => {
  it('averages every field, including medr and rsum', () => {
    const a: EvalMetrics = {
      i2t: { r1: 10, r5: 30, r10: 50, medr: 11, meanr: 20.5 },
      t2i: { r1: 20, r5: 40, r10: 60, medr: 8, meanr: 15 },
      rsum: 210,
    };
    const b: EvalMetrics = {
      i2t: { r1: 20, r5: 40, r10: 70, medr: 6, meanr: 10.5 },
      t2i: { r1: 30, r5: 50, r10: 80, medr: 5, meanr: 9 },
      rsum: 290,
    };
    expect(averageOverFolds([a, b])).toEqual({
      i2t: { r1: 15, r5: 35, r10: 60, medr: 8.5, meanr: 15.5 },
      t2i: { r1: 25, r5: 45, r10: 70, medr: 6.5, meanr: 12 },
      rsum: 250,
    });
    expect(averageOverFolds([a])).toEqual(a);
    expect(() => averageOverFolds([])).toThrow(/at least one fold/);
  });

  it('averages per-fold evaluations of real score matrices (rsum stays the sum of the means)', () => {
    const folds = [randomProblem(10, 5, 11), randomProblem(10, 5, 12), randomProblem(10, 5, 13)];
    const per = folds.map((p) => evaluateScores(p.scores, p.N, p.M, p.captionImage));
    const avg = averageOverFolds(per);
    const mean = (f: (m: EvalMetrics) => number) => per.reduce((s, m) => s + f(m), 0) / per.length;
    expect(avg.i2t.r1).toBeCloseTo(
      mean((m) => m.i2t.r1),
      12,
    );
    expect(avg.t2i.meanr).toBeCloseTo(
      mean((m) => m.t2i.meanr),
      12,
    );
    const six = avg.i2t.r1 + avg.i2t.r5 + avg.i2t.r10 + avg.t2i.r1 + avg.t2i.r5 + avg.t2i.r10;
    expect(avg.rsum).toBeCloseTo(six, 9);
  });
});
