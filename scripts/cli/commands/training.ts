/**
 * The options train and compare share: the flags of the TRAIN_OPTIONS table (src/model/defaults.ts) and the
 * model and training options without defaults.
 */
import {
  DEFAULTS,
  TRAIN_OPTIONS,
  trainOptionEntries,
  trainOptionFields,
  trainOptionProblem,
  type TrainOptionKey,
} from '../../../src/model/defaults';
import type { TrainOptionFields } from '../../../src/model/types';
import { list, numberIn, opt, positiveInt, withinLimit } from '../options';

/** A flag of the TRAIN_OPTIONS table (src/model/defaults.ts). */
interface TableFlag {
  type: 'number';
  value: string;
  help: string;
  defaultText: string;
  check: (flag: string, n: number) => number;
}
type TableFlags = { [K in TrainOptionKey as (typeof TRAIN_OPTIONS)[K]['flag']]: TableFlag };

/** The flags of the TRAIN_OPTIONS table, unset when absent (a resumed run takes them from its checkpoint). */
function tableFlags(): TableFlags {
  const flags: Record<string, TableFlag> = {};
  for (const [, o] of trainOptionEntries())
    flags[o.flag] = {
      type: 'number',
      value: o.value,
      help: o.help,
      defaultText: String(o.default),
      check: (flag, n) => {
        const problem = trainOptionProblem(o, n);
        if (problem) throw new Error(`--${flag}: expected ${problem}, got ${String(n)}`);
        return n;
      },
    };
  return flags as unknown as TableFlags;
}

/** The `--` flags of the TRAIN_OPTIONS table. */
export const TABLE_FLAGS: readonly string[] = trainOptionEntries().map(([, o]) => o.flag);

/** The TrainConfig fields of the table's flags that were given (and differ from their defaults). */
export function tableTrainFields(values: object): TrainOptionFields {
  const v = values as Record<string, unknown>;
  return trainOptionFields((_, o) => v[o.flag] as number | undefined);
}

/**
 * The model and training options train and compare share, without defaults: their defaults are
 * different presets of src/model/defaults.ts, so each command adds its own; `train` leaves them unset in
 * the parse (a resumed or `--init` run takes them from that run) and says them in `defaultText`.
 */
function trainingOptions() {
  return {
    hidden: opt({
      type: 'number',
      value: 'H',
      help: 'GRU hidden size = joint-embedding size',
      check: withinLimit('hiddenDim'),
    }),
    'word-dim': opt({
      type: 'number',
      value: 'W',
      help: 'word-embedding size',
      check: withinLimit('wordDim'),
    }),
    batch: opt({
      type: 'number',
      value: 'B',
      help: 'image-caption pairs per step',
      check: withinLimit('batchSize', 2),
    }),
    lr: opt({
      type: 'number',
      value: 'LR',
      help: 'Adam learning rate',
      check: numberIn(0, 1, { exclusiveMin: true }),
    }),
    seed: opt({
      type: 'number',
      value: 'S',
      help: 'seed of the initialisation and the batches',
      check: numberIn(0, 2 ** 31 - 1, { integer: true }),
    }),
    steps: opt({
      type: 'number',
      value: 'N',
      help: 'training steps (excludes --epochs)',
      check: withinLimit('steps'),
    }),
    'max-violation': opt({
      type: 'boolean',
      help: 'the max-violation loss (VSE++) from the start, instead of the summed one',
    }),
    'max-violation-after': opt({
      type: 'number',
      value: 'N',
      help: 'the summed loss for N steps, then max-violation (VSE++ warm-up)',
      check: positiveInt,
    }),
    'lr-decay-at': opt({
      type: 'number',
      value: 'N',
      help: 'step decay: the learning rate times --lr-decay after N steps',
      check: positiveInt,
    }),
    'lr-decay': opt({
      type: 'number',
      value: 'F',
      help: 'the factor of --lr-decay-at',
      defaultText: String(DEFAULTS.schedule.lrDecayFactor),
      check: (flag: string, n: number): number => {
        if (!(n > 0)) throw new Error(`--${flag}: expected a positive factor, got ${String(n)}`);
        return n;
      },
    }),
    ...tableFlags(),
    dropout: opt({
      type: 'number',
      value: 'P',
      help: 'dropout on image features and word vectors',
      defaultText: '0',
      check: (flag: string, n: number): number => {
        if (!(n >= 0 && n < 1)) throw new Error(`--${flag}: expected a rate in [0, 1), got ${String(n)}`);
        return n;
      },
    }),
    augment: opt({
      type: 'string',
      value: '<pack>[,<pack>]',
      help: "each training pair's image feature drawn from the pack of --data or one of these (e.g. the mirror pack of `prepare:flickr8k --mirror`)",
      check: list,
    }),
    'eval-images': opt({
      type: 'number',
      value: 'N',
      help: 'images of the dev split an evaluation ranks (all by default)',
      check: positiveInt,
    }),
  };
}

export const TRAINING = trainingOptions();
