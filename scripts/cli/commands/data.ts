/** The option tables of the commands that prepare data: prepare:flickr8k, make-caption-bank, prepare:scenes. */
import { SCENES_DEFAULTS } from '../../../src/model/scenes/scenes';
import { DEFAULT_ENCODER_ID, ENCODER_PRESETS } from '../../../src/model/encoders/presets';
import { PACK_FEATURE_TYPES } from '../../../src/model/data/pack';
import { oneOf, opt, positiveInt } from '../options';
import { backend, command } from './common';

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
