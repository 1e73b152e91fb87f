/**
 * Field-by-field validation of a run's files (config.json, weights.json + weights.bin, codec.json,
 * metrics.json, log.jsonl) and of the run records the browser stores, before anything is stored or
 * allocated.
 *
 * Each validator takes parsed JSON of unknown shape and returns it typed, or throws one Error naming the
 * file, the field path, what was expected and what was found ("config.json: model.hiddenDim: expected a
 * whole number from 1 to 2048, got 12000"). Sizes are checked against ./limits.ts, and weight shapes
 * against the config and the byte length of weights.bin (a truncated file, trailing bytes, overlapping
 * or misaligned weights are refused), so that a small file cannot make the importer allocate gigabytes.
 *
 * This file holds the configurations (model, training, config.json), codec.json and the whole run;
 * the field checkers are in ./validate-fields.ts, weights.json in ./validate-weights.ts, the learning
 * curve (metrics.json, log.jsonl) in ./validate-metrics.ts. All are importable from here.
 */
import { CaptionCodec, CODEC_FILE, type CaptionCodecJSON } from './caption-codec';
import { asText, type Bytes } from './data/binary';
import { LIMITS, checkIntLimit } from './limits';
import type { ModelConfig, TrainConfig } from './types';
import { trainOptionEntries } from './defaults';
import type { RunConfig, RunLogEntry, RunMetrics, WeightsManifest } from './export';
import {
  arr,
  bool,
  fail,
  int,
  isRec,
  num,
  oneOf,
  opt,
  rec,
  RunValidationError,
  str,
  type Rec,
} from './validate-fields';
import { validateLogLines, validateRunMetrics } from './validate-metrics';
import { validateWeightsManifest } from './validate-weights';

export { field, RunValidationError } from './validate-fields';
export {
  validateEvalMetrics,
  validateLogEntry,
  validateLogLines,
  validateRunMetrics,
} from './validate-metrics';
export { expectedWeightShapes, validateWeightsManifest } from './validate-weights';

/** The model configuration (sizes within ./limits.ts). */
export function validateModelConfig(where: string, v: unknown): ModelConfig {
  const m = rec(where, v);
  const at = (k: string) => `${where}.${k}`;
  return {
    vocabSize: checkIntLimit(at('vocabSize'), m.vocabSize, 'vocabSize', 3),
    wordDim: checkIntLimit(at('wordDim'), m.wordDim, 'wordDim'),
    hiddenDim: checkIntLimit(at('hiddenDim'), m.hiddenDim, 'hiddenDim'),
    imageDim: checkIntLimit(at('imageDim'), m.imageDim, 'imageDim'),
    layerNorm: bool(at('layerNorm'), m.layerNorm),
    measure: oneOf(at('measure'), m.measure, ['order', 'cosine'] as const),
    margin: num(at('margin'), m.margin, 0, 100),
    maxViolation: bool(at('maxViolation'), m.maxViolation),
  };
}

/** The training configuration (the fields the trainer reads; optional ones checked when present). */
export function validateTrainConfig(where: string, v: unknown): TrainConfig {
  const t = rec(where, v);
  const at = (k: string) => `${where}.${k}`;
  const out: TrainConfig = {
    batchSize: checkIntLimit(at('batchSize'), t.batchSize, 'batchSize', 2),
    learningRate: num(at('learningRate'), t.learningRate, 0, 10, true),
    clipNorm: num(at('clipNorm'), t.clipNorm, 0, 1e6, true),
    seed: int(at('seed'), t.seed, 0, 2 ** 32),
    minWordCount: int(at('minWordCount'), t.minWordCount, 1, 1e9),
    maxLength: checkIntLimit(at('maxLength'), t.maxLength, 'maxLength'),
    sampling: oneOf(at('sampling'), t.sampling ?? 'image', ['image', 'caption'] as const),
  };
  const steps = (k: string) => (x: unknown) => int(at(k), x, 0, LIMITS.steps);
  const optional: Partial<TrainConfig> = {
    lrDecayStep: opt(t.lrDecayStep, steps('lrDecayStep')),
    lrDecayFactor: opt(t.lrDecayFactor, (x) => num(at('lrDecayFactor'), x, 0, 10, true)),
    maxViolationStep: opt(t.maxViolationStep, steps('maxViolationStep')),
    dropout: opt(t.dropout, (x) => num(at('dropout'), x, 0, 0.99)),
    averageFromStep: opt(t.averageFromStep, steps('averageFromStep')),
    augment: opt(t.augment, (x) => bool(at('augment'), x)),
    initFrom: opt(t.initFrom, (x) => str(at('initFrom'), x, 4096)),
    wordVectors: opt(t.wordVectors, (x) => str(at('wordVectors'), x, 4096)),
    distill: opt(t.distill, (x) => {
      const d = rec(at('distill'), x);
      return {
        teachers: arr(at('distill.teachers'), d.teachers, 64).map((s, i) =>
          str(at(`distill.teachers[${i}]`), s, 4096),
        ),
        weight: num(at('distill.weight'), d.weight, 0, 1e6, true),
        temperature: num(at('distill.temperature'), d.temperature, 0, 1e6, true),
      };
    }),
  };
  // The options of the table in ./defaults.ts, each within its range.
  for (const [k, o] of trainOptionEntries())
    (optional as Rec)[k] = opt(t[k], (x) =>
      o.integer ? int(at(k), x, o.min, o.max) : num(at(k), x, o.min, o.max),
    );
  for (const [k, x] of Object.entries(optional)) if (x !== undefined) (out as unknown as Rec)[k] = x;
  return out;
}

/** config.json of a run: format, version, model, training, vocabulary (its size the model's), counts. */
export function validateRunConfig(v: unknown, file = 'config.json'): RunConfig {
  const c = rec(file, v);
  if (c.format !== 'orderembed-run') fail(`${file}: format`, "'orderembed-run'", c.format);
  if (c.version !== 1) fail(`${file}: version`, '1', c.version);
  const model = validateModelConfig(`${file}: model`, c.model);
  const train = validateTrainConfig(`${file}: train`, c.train);
  const vocab = rec(`${file}: vocab`, c.vocab);
  const tokens = arr(`${file}: vocab.tokens`, vocab.tokens, LIMITS.vocabSize);
  tokens.forEach((t, i) => {
    if (typeof t !== 'string' || t.length === 0 || t.length > 200)
      fail(`${file}: vocab.tokens[${i}]`, 'a word (1 to 200 characters)', t);
  });
  if (tokens[0] !== '<pad>' || tokens[1] !== '<unk>')
    fail(`${file}: vocab.tokens`, "to start with '<pad>', '<unk>'", tokens.slice(0, 2));
  if (tokens.length !== model.vocabSize)
    throw new RunValidationError(
      `${file}: the vocabulary has ${tokens.length} words but model.vocabSize is ${model.vocabSize} (model file from another vocabulary)`,
    );
  return {
    format: 'orderembed-run',
    version: 1,
    model,
    train,
    encoder: c.encoder === null || c.encoder === undefined ? null : str(`${file}: encoder`, c.encoder, 4096),
    dataset: str(`${file}: dataset`, c.dataset, 4096),
    vocab: { format: 'orderembed-vocab', version: 1, tokens: tokens as string[] },
    steps: int(`${file}: steps`, c.steps, 0, LIMITS.steps),
    epochs: int(`${file}: epochs`, c.epochs, 0, LIMITS.steps),
    createdAt: str(`${file}: createdAt`, c.createdAt ?? '', 100),
  };
}

/**
 * codec.json of a run: a well-formed caption codec (./caption-codec.ts) that reads text as the run's
 * config.json says it was trained: the same vocabulary, word for word, and the same `train.maxLength`.
 * A codec that disagrees would encode queries differently from training, so it is refused, naming the
 * field and the first word that differs.
 */
export function validateCodec(v: unknown, config: RunConfig, file = CODEC_FILE): CaptionCodecJSON {
  const raw = rec(file, v);
  // The size before the vocabulary is built (config.json's is checked the same way).
  if (isRec(raw.vocab)) arr(`${file}: vocab.tokens`, raw.vocab.tokens, LIMITS.vocabSize);
  let codec: CaptionCodecJSON;
  try {
    codec = CaptionCodec.fromJSON(v, file).toJSON();
  } catch (e) {
    throw new RunValidationError((e as Error).message);
  }
  const ours = codec.vocab.tokens;
  const theirs = config.vocab.tokens;
  if (codec.maxLength !== config.train.maxLength)
    fail(`${file}: maxLength`, `${config.train.maxLength} (config.json: train.maxLength)`, codec.maxLength);
  if (ours.length !== theirs.length)
    fail(`${file}: vocab.tokens`, `${theirs.length} words (config.json: vocab)`, `${ours.length} words`);
  const at = ours.findIndex((t, i) => t !== theirs[i]);
  if (at >= 0)
    fail(`${file}: vocab.tokens[${at}]`, `${JSON.stringify(theirs[at])} (config.json: vocab)`, ours[at]);
  return codec;
}

function parseJson(file: string, content: string | Bytes | undefined, required: boolean): unknown {
  if (content === undefined) {
    if (required)
      throw new RunValidationError(
        `missing file '${file}' (a run has config.json, weights.json, weights.bin)`,
      );
    return undefined;
  }
  try {
    return JSON.parse(asText(content));
  } catch {
    throw new RunValidationError(`${file}: not valid JSON`);
  }
}

export interface ValidRunFiles {
  config: RunConfig;
  manifest: WeightsManifest;
  metrics?: RunMetrics;
  /** The learning curve: metrics.json's history, else log.jsonl's lines. */
  history: RunLogEntry[];
  /** codec.json; absent for runs saved before codecs were (then config.json implies it). */
  codec?: CaptionCodecJSON;
}

/**
 * A run's files checked before anything is stored or allocated: config.json, weights.json against
 * weights.bin's byte length, codec.json, metrics.json and log.jsonl when present. Throws naming the
 * file and field.
 */
export function validateRunFiles(files: Record<string, string | Bytes>): ValidRunFiles {
  const config = validateRunConfig(parseJson('config.json', files['config.json'], true));
  const bin = files['weights.bin'];
  if (bin === undefined) throw new RunValidationError("missing file 'weights.bin' (the model's weights)");
  if (typeof bin === 'string') throw new RunValidationError('weights.bin: must be binary, got text');
  const byteLength = bin.byteLength;
  if (byteLength > LIMITS.uploadBytes)
    throw new RunValidationError(`weights.bin: ${byteLength} bytes, at most ${LIMITS.uploadBytes}`);
  const manifest = validateWeightsManifest(
    parseJson('weights.json', files['weights.json'], true),
    config.model,
    byteLength,
  );
  const rawCodec = parseJson(CODEC_FILE, files[CODEC_FILE], false);
  const codec = rawCodec === undefined ? undefined : validateCodec(rawCodec, config);
  const rawMetrics = parseJson('metrics.json', files['metrics.json'], false);
  const metrics = rawMetrics === undefined ? undefined : validateRunMetrics(rawMetrics);
  const log = files['log.jsonl'];
  const logged = log === undefined ? [] : validateLogLines(asText(log));
  return {
    config,
    manifest,
    metrics,
    history: metrics?.history.length ? metrics.history : logged,
    ...(codec ? { codec } : {}),
  };
}
