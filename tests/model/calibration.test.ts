import { beforeAll, describe, expect, it } from 'vitest';
import { calibrate, parseCalibration } from '../../src/model/calibration';
import { parseCaptionBank, tidyCaption } from '../../src/model/caption-bank';
import { makeSyntheticDataset } from '../../src/model/synthetic';
import { Trainer } from '../../src/model/trainer';
import { Retriever } from '../../src/model/retrieval';
import { useBackend } from '../helpers/tf';

beforeAll(() => useBackend('wasm'));

describe('calibrate', () => {
  const ds = makeSyntheticDataset({ numImages: 200, imageDim: 16, seed: 5 });
  let trainer: Trainer;
  beforeAll(() => {
    trainer = new Trainer(ds, { wordDim: 8, hiddenDim: 16 }, { batchSize: 32, seed: 1 });
    for (let i = 0; i < 150; i++) trainer.step();
  });

  it("measures a trained model's matching pairs below random ones, and a bank's best per photo", async () => {
    const bank = [...new Set(ds.captions.map((c) => c.text))].slice(0, 40);
    const c = await calibrate(trainer.model, trainer.codec, ds, { split: 'dev', bank });
    expect(c.images).toBe(ds.splits.dev!.length);
    expect(c.matching.median).toBeLessThan(c.random.median);
    expect(c.bestOther.median).toBeLessThanOrEqual(c.random.median);
    expect(c.bank!.sentences).toBe(40);
    expect(c.nothingFits).toBe(c.bank!.p99);
    // The bank statistic is the best bank energy per photo, as the Retriever ranks it.
    const r = new Retriever(trainer.model, trainer.codec, null);
    const img = ds.splits.dev![0];
    const [best] = (await r.rankTexts(ds.features.slice(img * 16, (img + 1) * 16), 1, bank, 1))[0];
    expect(best.energy!).toBeLessThanOrEqual(c.bank!.p99 + 1e-6);
    expect(parseCalibration(JSON.parse(JSON.stringify(c)))).toEqual(c);
    const without = await calibrate(trainer.model, trainer.codec, ds, { maxImages: 30 });
    expect(without.images).toBe(30);
    expect(without.nothingFits).toBe(without.bestOther.p99);
  });

  it('measures the scale of "which is more general" along with a bank, and reads it back', async () => {
    // The synthetic captions run from "a shape" to "a small white heart": many pairs extend one another.
    const bank = [...new Set(ds.captions.map((c) => c.text))];
    const c = await calibrate(trainer.model, trainer.codec, ds, { bank });
    expect(c.generality?.asymmetry).toBeGreaterThan(0);
    expect(c.generality?.containedPairs).toBeGreaterThanOrEqual(20);
    expect(c.generalityProblem).toBeUndefined();
    expect(parseCalibration(JSON.parse(JSON.stringify(c))).generality).toEqual(c.generality);
    // A bank without sentences that extend one another cannot be measured: said, with the counts.
    const small = await calibrate(trainer.model, trainer.codec, ds, { bank: ['a red cross', 'some shapes'] });
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
