/**
 * One defaults object (src/model/defaults.ts) feeds the Trainer, the Train form and both CLIs: each
 * surface's defaults are read from it (a preset where they differ on purpose), and the TRAIN_OPTIONS
 * table's entries reach every surface.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS, TRAIN_OPTIONS, trainOptionEntries } from '../../src/model/defaults';
import { Trainer } from '../../src/model/trainer';
import { makeSyntheticDataset } from '../../src/model/synthetic';
import { validateTrainConfig } from '../../src/model/validate-run';
import { DEFAULT_FORM, DEFAULT_MARGIN, parseForm, startOptions } from '../../src/ui/store';
import { COMPARE, TABLE_FLAGS, tableTrainFields, TRAIN } from '../../scripts/cli/commands';
import { helpText, parseCommand } from '../../scripts/cli/options';
import { LIMITS } from '../../src/model/limits';
import { useBackend } from '../helpers/tf';

beforeAll(() => useBackend('wasm'));

const ds = makeSyntheticDataset({ numImages: 60, imageDim: 8, seed: 2 });

describe('DEFAULTS', () => {
  it('the Trainer fills what it is not given from the paper preset and the loss block', () => {
    const t = new Trainer(ds, { hiddenDim: 8, wordDim: 4 });
    expect(t.config.train).toEqual({ ...DEFAULTS.paper.train });
    const { layerNorm, measure } = DEFAULTS.paper.model;
    expect(t.config.model).toMatchObject({ layerNorm, measure, margin: DEFAULTS.loss.margin[measure] });
    expect(t.config.model.maxViolation).toBe(DEFAULTS.loss.maxViolation);
    t.dispose();
    const cos = new Trainer(ds, { hiddenDim: 8, wordDim: 4, measure: 'cosine' });
    expect(cos.config.model.margin).toBe(DEFAULTS.loss.margin.cosine);
    cos.dispose();
  });

  it('the Train form opens on the playground preset, and starts runs with it', () => {
    const p = DEFAULTS.playground;
    expect(DEFAULT_FORM).toMatchObject({
      wordDim: String(p.wordDim),
      hiddenDim: String(p.hiddenDim),
      batchSize: String(p.batchSize),
      seed: String(p.seed),
      evalEvery: String(p.evalEvery),
      evalImages: String(p.evalImages),
      maxSteps: String(p.maxSteps),
      learningRate: String(DEFAULTS.paper.train.learningRate),
    });
    expect(Number(DEFAULT_MARGIN.order)).toBe(DEFAULTS.loss.margin.order);
    expect(Number(DEFAULT_MARGIN.cosine)).toBe(DEFAULTS.loss.margin.cosine);
    const parsed = parseForm(DEFAULT_FORM);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    const opts = startOptions(parsed.run, true, 0);
    expect(opts).toMatchObject({ evalEvery: p.evalEvery, evalImages: p.evalImages, maxSteps: p.maxSteps });
    // What the worker builds its trainers from: the form's sizes, the rest from the paper preset.
    const t = new Trainer(ds, opts.runs[0].model, opts.runs[0].train);
    expect(t.config.model).toMatchObject({ hiddenDim: p.hiddenDim, wordDim: p.wordDim });
    expect(t.config.train).toEqual({
      ...DEFAULTS.paper.train,
      batchSize: p.batchSize,
      seed: p.seed,
    });
    t.dispose();
  });

  it('compare defaults to the paper preset, train to the quick-CLI preset (and says so in --help)', () => {
    const { values: c } = parseCommand(COMPARE, []);
    expect(c).toMatchObject({
      hidden: DEFAULTS.paper.model.hiddenDim,
      'word-dim': DEFAULTS.paper.model.wordDim,
      batch: DEFAULTS.paper.train.batchSize,
      lr: DEFAULTS.paper.train.learningRate,
      seed: DEFAULTS.paper.train.seed,
      sampling: DEFAULTS.paper.train.sampling,
      epochs: DEFAULTS.compare.epochs,
      runs: DEFAULTS.compare.runs,
    });
    const o = TRAIN.options;
    expect(o.hidden.defaultText).toMatch(new RegExp(`^${DEFAULTS.quickCli.hiddenDim},`));
    expect(o['word-dim'].defaultText).toMatch(new RegExp(`^${DEFAULTS.paper.model.wordDim},`));
    expect(o.steps.defaultText).toMatch(new RegExp(`^${DEFAULTS.quickCli.steps},`));
    expect(o['eval-every'].defaultText).toMatch(new RegExp(`^${DEFAULTS.quickCli.evalEvery},`));
    expect(o.batch.defaultText).toBe(String(DEFAULTS.paper.train.batchSize));
    expect(o.seed.defaultText).toBe(String(DEFAULTS.paper.train.seed));
  });
});

describe('TRAIN_OPTIONS', () => {
  it('every entry is a flag of train and compare, a form field and a validated config field', () => {
    expect(TABLE_FLAGS).toEqual(trainOptionEntries().map(([, o]) => o.flag));
    for (const [k, o] of trainOptionEntries()) {
      expect(TRAIN.options, k).toHaveProperty(o.flag);
      expect(COMPARE.options, k).toHaveProperty(o.flag);
      expect(DEFAULT_FORM[k], k).toBe(String(o.default));
      // A value other than the default goes into the run's config, from the form and from the flags.
      const v = o.max;
      const parsed = parseForm({ ...DEFAULT_FORM, [k]: String(v) });
      expect(parsed.ok && parsed.run.train[k], k).toBe(v);
      const { values } = parseCommand(COMPARE, [`--${o.flag}`, String(v)]);
      expect(tableTrainFields(values)).toEqual({ [k]: v });
      // ... and survives validation of a stored run or checkpoint; out of range, it is named.
      expect(validateTrainConfig('t', { ...DEFAULTS.paper.train, [k]: v })[k]).toBe(v);
      expect(() => validateTrainConfig('t', { ...DEFAULTS.paper.train, [k]: o.max + 1 })).toThrow(
        new RegExp(`^t\\.${k}: `),
      );
      // The default is left out, so that a run's config is what it was before the option existed.
      const atDefault = parseForm(DEFAULT_FORM);
      expect(atDefault.ok && atDefault.run.train, k).not.toHaveProperty(k);
      expect(tableTrainFields(parseCommand(COMPARE, []).values)).toEqual({});
    }
    expect(Object.keys(TRAIN_OPTIONS).length).toBe(trainOptionEntries().length);
  });

  it('the warm-up: --warmup on both CLIs and in --help, a form field whose messages name it', () => {
    expect(parseCommand(TRAIN, ['--warmup', '200']).values.warmup).toBe(200);
    expect(tableTrainFields(parseCommand(TRAIN, ['--warmup', '200']).values)).toEqual({ warmupSteps: 200 });
    expect(helpText(COMPARE)).toMatch(/--warmup N +learning-rate warm-up: .* \(default: 0\)/);
    for (const [argv, got] of [
      [['--warmup', '-1'], '-1'],
      [['--warmup', '2.5'], '2.5'],
    ] as const)
      expect(() => parseCommand(TRAIN, [...argv])).toThrow(
        `--warmup: expected a whole number from 0 to ${LIMITS.steps}, got ${got}`,
      );
    const bad = parseForm({ ...DEFAULT_FORM, warmupSteps: '-3' });
    expect(bad.ok ? {} : bad.errors).toEqual({
      warmupSteps: `Warm-up (steps) must be a whole number from 0 to ${LIMITS.steps}, got -3.`,
    });
    const empty = parseForm({ ...DEFAULT_FORM, warmupSteps: ' ' });
    expect(empty.ok ? {} : empty.errors.warmupSteps).toMatch(
      /^Warm-up \(steps\) is required: a whole number/,
    );
    const ok = parseForm({ ...DEFAULT_FORM, warmupSteps: '300' });
    expect(ok.ok && ok.run.train.warmupSteps).toBe(300);
  });
});
