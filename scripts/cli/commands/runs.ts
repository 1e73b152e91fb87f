/** The option tables of the commands that read or write run folders: evaluate, calibrate, make-starter, forward, plot. */
import { SPLIT_NAMES } from '../../../src/model/data/flickr8k';
import { list, oneOf, opt } from '../options';
import { backend, command, json, threads } from './common';

export const EVALUATE = command({
  name: 'evaluate',
  summary: 'R@1/5/10, median and mean rank both ways of one run, or of several as an ensemble',
  description:
    'With `--json` the last line is `{"i2t": {...}, "t2i": {...}, "rsum"}`; several run folders are evaluated as an ensemble (the sum of their scores ranks).',
  options: {
    model: opt({
      type: 'string',
      value: '<run folder>[,<run folder>...]',
      help: 'the run, or the runs of an ensemble',
      required: true,
      check: list,
    }),
    data: opt({
      type: 'string',
      value: '<pack folder|flickr8k folder|synthetic>',
      help: 'the data to rank',
      required: true,
    }),
    split: opt({ type: 'string', value: SPLIT_NAMES.join('|'), help: 'the split to rank', default: 'dev' }),
    folds: opt({ type: 'boolean', help: "also the mean over 1000-image folds (the paper's protocol)" }),
    'max-images': opt({ type: 'number', value: 'N', help: 'rank at most N images of the split' }),
    limit: opt({ type: 'number', value: 'N', help: 'photos read from a Flickr8k folder as --data' }),
    images: opt({ type: 'number', value: 'N', help: 'images of the synthetic data set', default: 1200 }),
    seed: opt({ type: 'number', value: 'S', help: 'seed of the synthetic data set', default: 1234 }),
    backend,
    threads: opt({
      ...threads,
      help: 'threads of the embedding passes: images and captions in N shards over worker_threads; 1: none',
    }),
    json,
  },
});

export const CALIBRATE = command({
  name: 'calibrate',
  summary: "measures a run's score calibration on a split and writes `calibration.json` beside it",
  options: {
    model: opt({ type: 'string', value: '<run folder>', help: 'the run', required: true }),
    data: opt({
      type: 'string',
      value: '<pack folder|flickr8k folder>',
      help: 'the data to measure on',
      required: true,
    }),
    split: opt({
      type: 'string',
      value: 'dev|train|test',
      help: 'the split',
      default: 'dev',
      check: oneOf(['dev', 'train', 'test'] as const),
    }),
    bank: opt({
      type: 'string',
      value: '<caption bank .txt>',
      help: 'caption bank',
      defaultText: 'public/starter/caption-bank.txt when present',
    }),
    'max-images': opt({ type: 'number', value: 'N', help: 'images of the split', default: 1000 }),
    backend,
    json,
  },
});

export const MAKE_STARTER = command({
  name: 'make-starter',
  summary: "copies a run into the playground's shipped starter, its weights in float16 or float32",
  options: {
    from: opt({ type: 'string', value: '<run folder>', help: 'the run', required: true }),
    out: opt({ type: 'string', value: 'dir', help: 'starter folder', default: 'public/starter' }),
    dtype: opt({
      type: 'string',
      value: 'float16|float32',
      help: 'weight type',
      default: 'float16',
      check: oneOf(['float16', 'float32'] as const),
    }),
  },
});

export const FORWARD = command({
  name: 'forward',
  summary:
    'runs a GRU / LN-GRU case in the format of `../shared/testvectors/lngru.json` and prints `{"y", "h_n", "loss", "grads"}`',
  description:
    'The case has `params`, `x`, `lengths`, `w_out`, `w_h`; LN-GRU when `ln_*` parameters are present; `loss = sum(y * w_out) + sum(h_n * w_h)`. Run it as `npm run -s forward -- <file.json>` for clean JSON on stdout. The backend is `ORDEREMBED_BACKEND` (wasm by default).',
  positionals: '<file.json>',
  options: {},
});

export const PLOT = command({
  name: 'plot',
  summary:
    'renders the learning curves of `compare --log` files to SVG (`<prefix>-steps.svg`, `<prefix>-time.svg`)',
  description:
    'Several logs (e.g. runs trained in separate processes) are drawn on the same axes, in the given order.',
  positionals: '<log.jsonl>[,<log.jsonl>...] <out-prefix>',
  options: {},
});
