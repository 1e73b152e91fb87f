import { beforeAll, describe, expect, it } from 'vitest';
import {
  calibrate,
  calibrateGenerality,
  DEFAULT_ASYMMETRY,
  energyStats,
  extendsWords,
  generalityScale,
  generalityVerdict,
  parseCalibration,
} from '../../src/model/calibration';
import { parseCaptionBank, tidyCaption } from '../../src/model/caption-bank';
import { makeSyntheticDataset } from '../../src/model/synthetic';
import { Trainer } from '../../src/model/trainer';
import { Retriever } from '../../src/model/retrieval';
import { useBackend } from '../helpers/tf';

beforeAll(() => useBackend('wasm'));

describe('energy statistics', () => {
  it('interpolates percentiles of the finite values', () => {
    const s = energyStats([...Array.from({ length: 101 }, (_, i) => i), Number.NaN]);
    expect(s).toEqual({ median: 50, p90: 90, p99: 99, count: 101 });
    expect(generalityScale(2)).toEqual({ near: 1, far: 4, asymmetry: DEFAULT_ASYMMETRY });
  });
});

describe('calibrate', () => {
  const ds = makeSyntheticDataset({ numImages: 200, imageDim: 16, seed: 5 });
  let trainer: Trainer;
  beforeAll(() => {
    trainer = new Trainer(ds, { wordDim: 8, hiddenDim: 16 }, { batchSize: 32, seed: 1 });
    for (let i = 0; i < 150; i++) trainer.step();
  });

  it("measures a trained model's matching pairs below random ones, and a bank's best per photo", () => {
    const bank = [...new Set(ds.captions.map((c) => c.text))].slice(0, 40);
    const c = calibrate(trainer.model, trainer.codec, ds, { split: 'dev', bank });
    expect(c.images).toBe(ds.splits.dev!.length);
    expect(c.matching.median).toBeLessThan(c.random.median);
    expect(c.bestOther.median).toBeLessThanOrEqual(c.random.median);
    expect(c.bank!.sentences).toBe(40);
    expect(c.nothingFits).toBe(c.bank!.p99);
    // The bank statistic is the best bank energy per photo, as the Retriever ranks it.
    const r = new Retriever(trainer.model, trainer.codec, null);
    const img = ds.splits.dev![0];
    const [best] = r.rankTexts(ds.features.slice(img * 16, (img + 1) * 16), 1, bank, 1)[0];
    expect(best.energy!).toBeLessThanOrEqual(c.bank!.p99 + 1e-6);
    expect(parseCalibration(JSON.parse(JSON.stringify(c)))).toEqual(c);
    const without = calibrate(trainer.model, trainer.codec, ds, { maxImages: 30 });
    expect(without.images).toBe(30);
    expect(without.nothingFits).toBe(without.bestOther.p99);
  });

  it('measures the scale of "which is more general" on a bank at several levels of detail', () => {
    // The synthetic captions run from "a shape" to "a small white heart": many pairs extend one another.
    const bank = [...new Set(ds.captions.map((c) => c.text))];
    const g = calibrateGenerality(trainer.model, trainer.codec, bank, { maxPairs: 300 });
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
    // Measured by calibrate() along with the bank, and read back from the file.
    const c = calibrate(trainer.model, trainer.codec, ds, { bank });
    expect(c.generality?.asymmetry).toBeGreaterThan(0);
    expect(parseCalibration(JSON.parse(JSON.stringify(c))).generality).toEqual(c.generality);
    // A bank without sentences that extend one another cannot be measured: said, with the counts.
    expect(() => calibrateGenerality(trainer.model, trainer.codec, ['a red cross', 'some shapes'])).toThrow(
      /caption bank gives 0 pairs where one sentence extends the other/,
    );
    const small = calibrate(trainer.model, trainer.codec, ds, { bank: ['a red cross', 'some shapes'] });
    expect(small.generality).toBeUndefined();
    expect(small.generalityProblem).toMatch(/0 pairs/);
  });

  it('refuses files that are not calibrations, naming the field', () => {
    expect(() => parseCalibration({ format: 'x' }, 'starter/calibration.json')).toThrow(
      /starter\/calibration.json: not a calibration file/,
    );
    expect(() =>
      parseCalibration({ format: 'orderembed-calibration', matching: { median: 1 } }, 'c.json'),
    ).toThrow(/c.json: field 'matching' needs numbers/);
    const stats = { median: 1, p90: 2, p99: 3 };
    const base = { format: 'orderembed-calibration', matching: stats, bestOther: stats, random: stats };
    expect(() =>
      parseCalibration({ ...base, nothingFits: 1, generality: { near: 0.1, far: 'x' } }, 'c.json'),
    ).toThrow(/c.json: field 'generality.far' must be a number/);
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
  });
});

describe('caption bank', () => {
  it('reads sentences, skipping comments, blanks and verbatim repeats', () => {
    const b = parseCaptionBank('# header\na dog .\n\n a dog . \na black dog runs .\r\n', 'bank.txt');
    expect(b).toEqual({ sentences: ['a dog .', 'a black dog runs .'], repeated: 1 });
    expect(tidyCaption('a dog , a cat .')).toBe('a dog, a cat.');
  });

  it('names the file when it is a web page, binary or empty', () => {
    expect(() => parseCaptionBank('<!doctype html><html>', 'starter/caption-bank.txt')).toThrow(
      /starter\/caption-bank.txt: the server sent a web page/,
    );
    expect(() => parseCaptionBank('a\u0000b', 'x.txt')).toThrow(/x.txt: binary data/);
    expect(() => parseCaptionBank('# only a comment\n', 'x.txt')).toThrow(/x.txt: no sentences/);
  });
});
