import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/model/rng';
import { closureKeys, pairKey, transitiveClosure } from '../../src/model/wordnet/closure';
import {
  accuracyAt,
  bestThreshold,
  buildSplit,
  closureBaselineAccuracy,
  corrupt,
  heldOutBreakdown,
  type LabeledPairs,
  type Split,
} from '../../src/model/wordnet/protocols';
import { loadFixture } from './fixture';

const wn = loadFixture();
const n = wn.names.length;
const full = closureKeys(transitiveClosure(wn));
const HELD = 3;

const keysOf = (p: { hypo: Int32Array; hyper: Int32Array }, label?: Uint8Array, want?: 0 | 1) =>
  Array.from(p.hypo, (x, k) => (label && label[k] !== want ? null : pairKey(x, p.hyper[k], n))).filter(
    (k): k is number => k !== null,
  );

function negatives(set: LabeledPairs): [number, number][] {
  return Array.from(set.label, (l, k): [number, number] | null =>
    l === 0 ? [set.hypo[k], set.hyper[k]] : null,
  ).filter((p): p is [number, number] => p !== null);
}

describe("the paper's protocol", () => {
  const splits: Split[] = Array.from({ length: 40 }, (_, s) =>
    buildSplit(wn, 'paper', new Rng(s + 1), { heldOut: HELD }),
  );

  it('splits the closure list counted per path: 39 = 3 test + 3 validation + 33 training', () => {
    for (const sp of splits) {
      expect(sp.stats).toMatchObject({
        closureUnique: 35,
        closureWithPaths: 39,
        positives: 39,
        trainPositives: 33,
      });
      expect(sp.train.hypo.length).toBe(33);
      for (const set of [sp.test, sp.val]) {
        expect(Array.from(set.label)).toEqual([1, 1, 1, 0, 0, 0]);
        keysOf(set, set.label, 1).forEach((k) => expect(full.has(k)).toBe(true));
      }
      // Together the three parts are exactly the list: multiset of 39 pairs.
      const all = [
        ...keysOf(sp.train),
        ...keysOf(sp.test, sp.test.label, 1),
        ...keysOf(sp.val, sp.val.label, 1),
      ];
      expect(all.length).toBe(39);
      expect(new Set(all).size).toBe(35);
    }
  });

  it('lets a duplicated pair be in test and in training, and counts it', () => {
    let leaked = 0;
    for (const sp of splits) {
      const train = new Set(keysOf(sp.train));
      const inTrain = keysOf(sp.test, sp.test.label, 1).filter((k) => train.has(k)).length;
      expect(sp.stats.testPositivesInTrain).toBe(inTrain);
      leaked += inTrain;
    }
    expect(leaked).toBeGreaterThan(0);
  });

  it('corrupts one end of each held-out positive without filtering, and counts true negatives', () => {
    let trueNegatives = 0;
    for (const sp of splits) {
      for (const set of [sp.test, sp.val]) {
        negatives(set).forEach(([a, b], k) => {
          const [x, y] = [set.hypo[k], set.hyper[k]];
          expect(a === x || b === y).toBe(true);
        });
      }
      const counted = negatives(sp.test).filter(([a, b]) => full.has(pairKey(a, b, n))).length;
      expect(sp.stats.testNegativesTrue).toBe(counted);
      trueNegatives += counted + sp.stats.valNegativesTrue;
      expect(sp.trainForbidden).toBeNull();
    }
    expect(trueNegatives).toBeGreaterThan(0); // unfiltered: some "negatives" are true pairs
  });
});

describe('the corrected protocol', () => {
  const splits: Split[] = Array.from({ length: 40 }, (_, s) =>
    buildSplit(wn, 'corrected', new Rng(s + 1), { heldOut: HELD }),
  );

  it('splits the unique pairs and keeps held-out positives out of training', () => {
    for (const sp of splits) {
      expect(sp.stats).toMatchObject({
        positives: 35,
        trainPositives: 29,
        testPositivesInTrain: 0,
        valPositivesInTrain: 0,
      });
      const train = new Set(keysOf(sp.train));
      const held = [...keysOf(sp.test, sp.test.label, 1), ...keysOf(sp.val, sp.val.label, 1)];
      expect(held.filter((k) => train.has(k))).toEqual([]);
      expect(new Set([...train, ...held]).size).toBe(35);
    }
  });

  it('draws evaluation negatives outside the full closure and never a node with itself', () => {
    for (const sp of splits) {
      for (const set of [sp.test, sp.val]) {
        const neg = negatives(set);
        expect(neg.length).toBe(HELD);
        for (const [a, b] of neg) {
          expect(a).not.toBe(b);
          expect(full.has(pairKey(a, b, n))).toBe(false);
        }
      }
      expect(sp.stats.testNegativesTrue + sp.stats.valNegativesTrue).toBe(0);
    }
  });

  it('filters training negatives against the closure of the training pairs only', () => {
    const sp = splits[0];
    const forbidden = sp.trainForbidden!;
    expect(forbidden).toBe(sp.trainClosure);
    keysOf(sp.train).forEach((k) => expect(forbidden.has(k)).toBe(true));
    const rng = new Rng(7);
    for (let i = 0; i < 2000; i++) {
      const k = rng.int(sp.train.hypo.length);
      const [a, b] = corrupt(sp.train.hypo[k], sp.train.hyper[k], n, rng, forbidden);
      expect(a).not.toBe(b);
      expect(forbidden.has(pairKey(a, b, n))).toBe(false);
    }
  });
});

describe('transitive-closure baseline', () => {
  it('predicts true exactly for the pairs implied by the training pairs', () => {
    for (const protocol of ['paper', 'corrected'] as const) {
      const sp = buildSplit(wn, protocol, new Rng(3), { heldOut: HELD });
      let right = 0;
      for (let k = 0; k < sp.test.label.length; k++) {
        const implied = sp.trainClosure.has(pairKey(sp.test.hypo[k], sp.test.hyper[k], n));
        if ((implied ? 1 : 0) === sp.test.label[k]) right++;
      }
      expect(closureBaselineAccuracy(sp)).toBeCloseTo(right / 6, 12);
      // Leaving (dog, animal) out leaves no other path from dog to animal: not derivable.
      const dogAnimal = pairKey(wn.names.indexOf('dog.n.01'), wn.names.indexOf('animal.n.01'), n);
      expect(sp.trainClosure.has(dogAnimal)).toBe(keysOf(sp.train).includes(dogAnimal));
    }
  });
});

describe('held-out breakdown', () => {
  it('sorts test pairs into leaked and other positives, true and false negatives, and counts "true" calls', () => {
    for (let s = 1; s <= 10; s++) {
      const sp = buildSplit(wn, 'paper', new Rng(s), { heldOut: HELD });
      const m = sp.test.label.length;
      const all = heldOutBreakdown(sp, sp.test, new Float32Array(m), 0.5); // every pair called true
      expect(all.positivesInTrain).toEqual({
        count: sp.stats.testPositivesInTrain,
        predictedTrue: sp.stats.testPositivesInTrain,
      });
      expect(all.positivesNotInTrain.count).toBe(HELD - sp.stats.testPositivesInTrain);
      expect(all.negativesThatAreTrue.count).toBe(sp.stats.testNegativesTrue);
      expect(all.negativesThatAreFalse.predictedTrue).toBe(HELD - sp.stats.testNegativesTrue);
      // energies 0 for the positives, 1 for the negatives: positives called true, negatives not
      const perfect = heldOutBreakdown(
        sp,
        sp.test,
        Float32Array.from(sp.test.label, (l) => 1 - l),
        0.5,
      );
      expect(perfect.positivesInTrain.predictedTrue + perfect.positivesNotInTrain.predictedTrue).toBe(HELD);
      expect(perfect.negativesThatAreTrue.predictedTrue + perfect.negativesThatAreFalse.predictedTrue).toBe(
        0,
      );
    }
  });
});

describe('threshold selection', () => {
  it('cuts only between distinct energies, at their midpoint', () => {
    expect(bestThreshold(Float32Array.from([0, 0.5, 2, 3, 0]), Uint8Array.from([1, 1, 0, 0, 0]))).toEqual({
      threshold: 1.25,
      accuracy: 0.8,
    });
    // Two equal energies cannot be told apart, whatever the sort order.
    expect(bestThreshold(Float32Array.from([0, 0]), Uint8Array.from([1, 0])).accuracy).toBe(0.5);
    expect(bestThreshold(Float32Array.from([0, 0]), Uint8Array.from([0, 1])).accuracy).toBe(0.5);
    const all = bestThreshold(Float32Array.from([1, 2]), Uint8Array.from([1, 1]));
    expect(all.accuracy).toBe(1);
    expect(all.threshold).toBeGreaterThan(2);
    expect(accuracyAt(Float32Array.from([0, 1, 2, 3]), Uint8Array.from([1, 0, 1, 0]), 1.5)).toBe(0.5);
    expect(() => bestThreshold(new Float32Array(2), new Uint8Array(3))).toThrow('2 energies for 3 labels');
  });
});
