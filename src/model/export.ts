/**
 * Trained runs to files and back, with no Node or DOM APIs (the browser downloads / uploads the files,
 * the Node scripts write / read a folder).
 *
 * A run is five files:
 * - `config.json`: {@link RunConfig}: model and training configuration, image-encoder preset id,
 *   dataset name, vocabulary, steps and epochs done;
 * - `codec.json`: the caption codec (./caption-codec.ts): how the model reads text (tokenizer,
 *   vocabulary, maximum caption length), so that a reader of the run encodes text exactly as training
 *   did. It agrees with config.json's vocabulary and `train.maxLength` (checked on import); runs saved
 *   before it existed have none and are read with the codec config.json implies;
 * - `weights.bin`: every weight as float32 (or, for compact shipped models, float16) little-endian,
 *   concatenated in the order of `weights.json`;
 * - `weights.json`: {@link WeightsManifest}: name (PyTorch layout: `word_embedding`, `gru.weight_ih`, ...,
 *   `image.weight` [H, F], `image.bias`), shape and byte offset of each weight;
 * - `metrics.json`: {@link RunMetrics}: the learning curve (one {@link RunLogEntry} per logged step) and
 *   the final metrics.
 */
import { CaptionCodec, CODEC_FILE } from './caption-codec';
import { OrderEmbeddingModel, type NamedWeight } from './model';
import type { Vocabulary, VocabularyJSON } from './tokenizer';
import { validateRunFiles } from './validate-run';
import type { Trainer } from './trainer';
import type { EvalMetrics, ModelConfig, TrainConfig } from './types';
import {
  asText,
  BYTES_PER_VALUE,
  float16FromLittleEndian,
  float16ToLittleEndian,
  float32FromLittleEndian,
  float32ToLittleEndian,
  type Bytes,
} from './data/binary';

export const RUN_FORMAT = 'orderembed-run';
export const WEIGHTS_FORMAT = 'orderembed-weights';
export const RUN_FILES = {
  config: 'config.json',
  weights: 'weights.bin',
  weightsManifest: 'weights.json',
  metrics: 'metrics.json',
  /** Absent in runs saved before codecs were: then derived from config.json. */
  codec: CODEC_FILE,
} as const;

export interface RunConfig {
  format: typeof RUN_FORMAT;
  version: 1;
  model: ModelConfig;
  train: TrainConfig;
  /** Image-encoder preset id of the features the model was trained on (null: not from photos). */
  encoder: string | null;
  /** Name of the dataset trained on. */
  dataset: string;
  vocab: VocabularyJSON;
  steps: number;
  epochs: number;
  createdAt: string;
}

export type WeightsDtype = 'float32' | 'float16';

export interface WeightsManifest {
  format: typeof WEIGHTS_FORMAT;
  version: 1;
  /** float16 halves the file (the shipped starter); the weights are widened to float32 on load. */
  dtype: WeightsDtype;
  byteOrder: 'little';
  /** In file order; `offset` in bytes from the start of weights.bin. */
  weights: { name: string; shape: number[]; offset: number }[];
}

/** One line of a run's learning curve. */
export interface RunLogEntry {
  step: number;
  epoch: number;
  /** Seconds of training so far. */
  seconds: number;
  /** Training loss of this step. */
  loss: number;
  /** Dev metrics, on the steps where they were computed (of the averaged weights, once averaging runs). */
  dev?: EvalMetrics;
  /** With weight averaging (TrainConfig.averageFromStep): the dev metrics of the trained weights. */
  devTrained?: EvalMetrics;
}

export interface RunMetrics {
  history: RunLogEntry[];
  /** Metrics at the end of training, by split. */
  final?: Partial<Record<string, EvalMetrics>>;
}

/** What the trainer does not know about its run. */
export interface RunExtra {
  /** Image-encoder preset id (null or absent: synthetic or other non-photo features). */
  encoder?: string | null;
  /** Dataset name; the trainer's dataset name by default. */
  dataset?: string;
  history?: RunLogEntry[];
  final?: RunMetrics['final'];
  /** Creation time; now by default. */
  createdAt?: string;
  /** Steps and epochs the weights are of (read before training went on); the trainer's by default. */
  steps?: number;
  epochs?: number;
}

/** A run's files by name: text (JSON) or bytes. */
export type RunFiles = Record<string, string | ArrayBuffer>;

/**
 * Serializes a trainer's model, configuration, caption codec and learning curve into a run's files.
 * `weights`: the model's weights as the caller read them (`readWeights()` on a device backend); read
 * synchronously here by default (host backends).
 */
export function exportRun(
  trainer: Trainer,
  extra: RunExtra = {},
  weights: readonly NamedWeight[] = trainer.model.getWeights(),
): { files: RunFiles } {
  const config: RunConfig = {
    format: RUN_FORMAT,
    version: 1,
    model: trainer.config.model,
    train: trainer.config.train,
    encoder: extra.encoder ?? null,
    dataset: extra.dataset ?? trainer.dataset.name,
    vocab: trainer.vocab.toJSON(),
    steps: extra.steps ?? trainer.stepsDone,
    epochs: extra.epochs ?? trainer.epochsDone,
    createdAt: extra.createdAt ?? new Date().toISOString(),
  };
  const { manifest, bytes } = serializeWeights(weights);
  const metrics: RunMetrics = { history: extra.history ?? [], final: extra.final };
  return {
    files: {
      [RUN_FILES.config]: JSON.stringify(config, null, 2) + '\n',
      [RUN_FILES.weights]: bytes,
      [RUN_FILES.weightsManifest]: formatWeightsManifest(manifest),
      [RUN_FILES.metrics]: JSON.stringify(metrics) + '\n',
      [RUN_FILES.codec]: trainer.codec.toFileText(),
    },
  };
}

/** Weights -> the manifest and the concatenated little-endian float32 (or float16) bytes. */
export function serializeWeights(
  weights: readonly NamedWeight[],
  dtype: WeightsDtype = 'float32',
): {
  manifest: WeightsManifest;
  bytes: ArrayBuffer;
} {
  const total = weights.reduce((n, w) => n + w.data.length, 0);
  const all = new Float32Array(total);
  const entries: WeightsManifest['weights'] = [];
  let at = 0;
  for (const w of weights) {
    entries.push({ name: w.name, shape: [...w.shape], offset: at * BYTES_PER_VALUE[dtype] });
    all.set(w.data, at);
    at += w.data.length;
  }
  return {
    manifest: { format: WEIGHTS_FORMAT, version: 1, dtype, byteOrder: 'little', weights: entries },
    bytes: dtype === 'float16' ? float16ToLittleEndian(all) : float32ToLittleEndian(all),
  };
}

/** weights.json text: one weight per line, so that the file reads as a table. */
function formatWeightsManifest(m: WeightsManifest): string {
  const { weights, ...head } = m;
  const rows = weights.map((w) => `    ${JSON.stringify(w)}`).join(',\n');
  return `${JSON.stringify(head).slice(0, -1)},\n  "weights": [\n${rows}\n  ]\n}\n`;
}

/** The weights of `weights.bin` as described by its manifest; throws naming a weight that does not fit. */
export function deserializeWeights(manifest: WeightsManifest, bytes: Bytes): NamedWeight[] {
  if (manifest.format !== WEIGHTS_FORMAT || !Array.isArray(manifest.weights)) {
    throw new Error(
      `${RUN_FILES.weightsManifest}: expected format '${WEIGHTS_FORMAT}' with a 'weights' list, got format ${JSON.stringify(manifest.format)}`,
    );
  }
  const dtype = manifest.dtype;
  if (dtype !== 'float32' && dtype !== 'float16') {
    throw new Error(
      `${RUN_FILES.weightsManifest}: field 'dtype' is ${JSON.stringify(dtype)}, expected 'float32' or 'float16'`,
    );
  }
  const read = dtype === 'float16' ? float16FromLittleEndian : float32FromLittleEndian;
  return manifest.weights.map(({ name, shape, offset }) => {
    const size = shape.reduce((a, b) => a * b, 1);
    return {
      name,
      shape,
      data: read(bytes, `${RUN_FILES.weights}: weight '${name}' [${shape}]`, offset, size),
    };
  });
}

/** A model loaded from a run's files, ready to embed and evaluate. */
export interface ImportedModel {
  model: OrderEmbeddingModel;
  /** How the model reads text: codec.json, or for an older run the one its config.json implies. */
  codec: CaptionCodec;
  /** The codec's vocabulary. */
  vocab: Vocabulary;
  config: RunConfig;
  /** The run's metrics, when `metrics.json` was given. */
  metrics?: RunMetrics;
}

function parseJsonFile<T>(files: Record<string, string | Bytes>, name: string): T {
  const content = files[name];
  if (content === undefined)
    throw new Error(`missing file '${name}' (a run has ${Object.values(RUN_FILES).join(', ')})`);
  try {
    return JSON.parse(asText(content)) as T;
  } catch (e) {
    throw new Error(`${name}: not valid JSON (${(e as Error).message})`);
  }
}

/**
 * Loads a model from a run's files (`config.json`, `weights.bin`, `weights.json`; `metrics.json` and
 * `codec.json` optional). Throws a clear error for a missing file, a weight of the wrong shape (naming it), or a
 * vocabulary that does not match the model ("model file from another vocabulary"). The caller disposes
 * the model.
 */
export function importModel(files: Record<string, string | Bytes>): ImportedModel {
  // Every field, the sizes (./limits.ts) and the weights' shapes against weights.bin's byte length,
  // before anything is allocated (./validate-run.ts).
  const valid = validateRunFiles(files);
  const config = parseJsonFile<RunConfig>(files, RUN_FILES.config);
  if (config.format !== RUN_FORMAT)
    throw new Error(
      `${RUN_FILES.config}: format is ${JSON.stringify(config.format)}, expected '${RUN_FORMAT}'`,
    );
  if (config.version !== 1)
    throw new Error(`${RUN_FILES.config}: version ${config.version} is not supported`);
  const manifest = parseJsonFile<WeightsManifest>(files, RUN_FILES.weightsManifest);
  const bytes = files[RUN_FILES.weights];
  if (bytes === undefined) throw new Error(`missing file '${RUN_FILES.weights}' (the model's weights)`);
  if (typeof bytes === 'string') throw new Error(`${RUN_FILES.weights} must be binary, got text`);
  const codec = valid.codec ? CaptionCodec.fromJSON(valid.codec) : CaptionCodec.fromRunConfig(config);
  const vocab = codec.vocab;
  const weights = deserializeWeights(manifest, bytes);
  const emb = weights.find((w) => w.name === 'word_embedding');
  const rows = emb?.shape[0];
  if (vocab.size !== config.model.vocabSize || (rows !== undefined && rows !== vocab.size)) {
    throw new Error(
      `model file from another vocabulary: the vocabulary has ${vocab.size} words, the model config ${config.model.vocabSize}` +
        (rows !== undefined ? `, the word embedding ${rows} rows` : ''),
    );
  }
  const model = new OrderEmbeddingModel(config.model);
  try {
    model.setWeights(weights);
  } catch (e) {
    model.dispose();
    throw e;
  }
  const metrics =
    files[RUN_FILES.metrics] !== undefined ? parseJsonFile<RunMetrics>(files, RUN_FILES.metrics) : undefined;
  return { model, codec, vocab, config, metrics };
}
