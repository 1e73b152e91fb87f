import { beforeAll, describe, expect, it } from 'vitest';
import * as calibration from '../../src/model/calibration';
import {
  calibrateGenerality,
  DEFAULT_ASYMMETRY,
  extendsWords,
  FUNCTION_WORDS,
  generalityScale,
  generalityVerdict,
} from '../../src/model/generality';
import { makeSyntheticDataset } from '../../src/model/synthetic';
import { Trainer } from '../../src/model/trainer';
import { useBackend } from '../helpers/tf';

beforeAll(() => useBackend('wasm'));

describe('calibrateGenerality', () => {
  const ds = makeSyntheticDataset({ numImages: 200, imageDim: 16, seed: 5 });
  let trainer: Trainer;
  beforeAll(() => {
    trainer = new Trainer(ds, { wordDim: 8, hiddenDim: 16 }, { batchSize: 32, seed: 1 });
    for (let i = 0; i < 150; i++) trainer.step();
  });

  it('measures the scale of "which is more general" on a bank at several levels of detail', async () => {
    // The synthetic captions run from "a shape" to "a small white heart": many pairs extend one another.
    const bank = [...new Set(ds.captions.map((c) => c.text))];
    const g = await calibrateGenerality(trainer.model, trainer.codec, bank, { maxPairs: 300 });
    expect(g.containedPairs).toBeGreaterThanOrEqual(20);
    expect(g.contained.count).toBe(g.containedPairs);
    expect(g.unrelated.count).toBe(g.unrelatedPairs);
    expect(g.near).toBeGreaterThan(0);
    expect(g.near).toBeLessThanOrEqual(g.contained.median);
    // `far` is the border between the top of true containments and the bottom of unrelated pairs.
    expect(g.far).toBeGreaterThanOrEqual(Math.min(g.contained.p90, g.unrelated.median));
    expect(g.far).toBeLessThanOrEqual(Math.max(g.contained.p99, g.unrelated.median) + 1e-9);
    // The asymmetry line is the 90th percentile of unrelated pairs' asymmetry, and the other rules only
    // take directions away: at least 9 in 10 measured unrelated pairs are told no direction.
    expect(g.agreement.unrelated).toBeGreaterThanOrEqual(0.9 - 1 / g.unrelatedPairs);
    expect(g.agreement.contained).toBeGreaterThanOrEqual(0);
    // A bank without sentences that extend one another cannot be measured: said, with the counts.
    await expect(
      calibrateGenerality(trainer.model, trainer.codec, ['a red cross', 'some shapes']),
    ).rejects.toThrow(/caption bank gives 0 pairs where one sentence extends the other/);
  });
});

describe('generalityVerdict', () => {
  const scale = { near: 0.05, far: 0.5, asymmetry: 0.12 };
  const verdict = (ab: number, ba: number) =>
    generalityVerdict(ab, ba, scale.near, scale.far, scale.asymmetry);

  it('tells a direction only when the energies differ more than for unrelated sentences', () => {
    expect(verdict(0.2, 0.3)).toBe('b-more-general'); // log(0.35 / 0.25) = 0.34
    expect(verdict(0.3, 0.2)).toBe('a-more-general');
    expect(verdict(0.3, 0.32)).toBe('unrelated'); // log(0.37 / 0.35) = 0.06: a small difference is noise
    expect(verdict(0.6, 0.9)).toBe('unrelated'); // both far from 0
    expect(verdict(0.49, 0.9)).toBe('b-more-general');
  });

  it('reads two energies about 0 as equivalent', () => {
    expect(verdict(0, 0)).toBe('equivalent');
    expect(verdict(0.04, 0.05)).toBe('equivalent');
    expect(verdict(0.05, 0.06)).toBe('equivalent'); // no clear direction, and one is about 0
    expect(verdict(0, 0.2)).toBe('b-more-general');
  });

  it("finds a general sentence's words, in order, in the specific one", () => {
    expect(extendsWords(['a', 'black', 'dog', 'runs'], ['a', 'dog'])).toBe(true);
    expect(extendsWords(['a', 'dog', 'runs'], ['dog', 'a'])).toBe(false); // order counts
    expect(extendsWords(['a', 'dog'], ['a', 'dog'])).toBe(false); // the same words: not more general
    expect(FUNCTION_WORDS.has('the') && !FUNCTION_WORDS.has('dog')).toBe(true);
  });

  it('without a measured scale, reads one from the matching pairs: half about 0, twice far', () => {
    expect(generalityScale(2)).toEqual({ near: 1, far: 4, asymmetry: DEFAULT_ASYMMETRY });
  });
});

describe('./calibration.ts', () => {
  it('still exports the generality scale and verdict it used to hold', () => {
    expect(calibration.calibrateGenerality).toBe(calibrateGenerality);
    expect(calibration.generalityVerdict).toBe(generalityVerdict);
    expect(calibration.generalityScale).toBe(generalityScale);
    expect(calibration.extendsWords).toBe(extendsWords);
    expect(calibration.DEFAULT_ASYMMETRY).toBe(DEFAULT_ASYMMETRY);
  });
});
