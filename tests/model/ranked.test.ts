import { describe, expect, it } from 'vitest';
import { TopK } from '../../src/model/ranked';
import { TopK as TopKFromRetrieval } from '../../src/model/retrieval';

describe('TopK', () => {
  it('keeps the k highest scores in descending order', () => {
    const top = new TopK(3);
    [5, 1, 9, 3, 9.5, -2, 7].forEach((s, i) => top.push(i, s));
    expect(top.result()).toEqual([
      { index: 4, score: 9.5 },
      { index: 2, score: 9 },
      { index: 6, score: 7 },
    ]);
  });

  it('keeps the first of equal scores, returns fewer than k when fewer came, and a copy', () => {
    const top = new TopK(2);
    top.push(0, 1);
    expect(top.result()).toEqual([{ index: 0, score: 1 }]);
    top.push(1, 1);
    top.push(2, 1); // equal to the last kept: not better, left out
    const first = top.result();
    expect(first).toEqual([
      { index: 0, score: 1 },
      { index: 1, score: 1 },
    ]);
    first.pop();
    expect(top.result()).toHaveLength(2);
  });

  it('is still exported by ./retrieval.ts, where it used to live', () => {
    expect(TopKFromRetrieval).toBe(TopK);
  });
});
