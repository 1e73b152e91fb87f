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
 */
import { CaptionCodec, CODEC_FILE, type CaptionCodecJSON } from './caption-codec';
import { asText, type Bytes } from './data/binary';
import { describeValue, LIMITS, checkIntLimit } from './limits';
import type { EvalMetrics, ModelConfig, TrainConfig } from './types';
import { trainOptionEntries } from './defaults';
import type { RunConfig, RunLogEntry, RunMetrics, WeightsManifest } from './export';

type Rec = Record<string, unknown>;

/** Thrown for a file or record that fails validation; `message` names the file and field. */
export class RunValidationError extends Error {
  override name = 'RunValidationError';
}

const fail = (where: string, expected: string, got: unknown): never => {
  throw new RunValidationError(`${where}: expected ${expected}, got ${describeValue(got)}`);
};

const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

function rec(where: string, v: unknown): Rec {
  return isRec(v) ? v : fail(where, 'an object', v);
}

function str(where: string, v: unknown, maxChars = 10_000): string {
  if (typeof v !== 'string') return fail(where, 'a string', v);
  if (v.length > maxChars) return fail(where, `at most ${maxChars} characters`, `${v.length} characters`);
  return v;
}

function bool(where: string, v: unknown): boolean {
  return typeof v === 'boolean' ? v : fail(where, 'true or false', v);
}

function num(where: string, v: unknown, min = -Infinity, max = Infinity, exclusiveMin = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (exclusiveMin && v <= min)) {
    const range =
      min === -Infinity && max === Infinity
        ? 'a finite number'
        : `a number ${exclusiveMin ? 'above' : 'from'} ${min}${max === Infinity ? '' : ` ${exclusiveMin ? 'and at most' : 'to'} ${max}`}`;
    return fail(where, range, v);
  }
  return v;
}

function int(where: string, v: unknown, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    return fail(where, `a whole number from ${min} to ${max}`, v);
  return v;
}

function oneOf<T extends string>(where: string, v: unknown, allowed: readonly T[]): T {
  return allowed.includes(v as T)
    ? (v as T)
    : fail(where, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, v);
}

function arr(where: string, v: unknown, maxLength: number): unknown[] {
  if (!Array.isArray(v)) return fail(where, 'an array', v);
  if (v.length > maxLength) return fail(where, `at most ${maxLength} entries`, `${v.length} entries`);
  return v;
}

/** An optional field: absent (undefined) or checked by `check`. */
function opt<T>(v: unknown, check: (v: unknown) => T): T | undefined {
  return v === undefined ? undefined : check(v);
}

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

function validateRecall(where: string, v: unknown): EvalMetrics['i2t'] {
  const r = rec(where, v);
  return {
    r1: num(`${where}.r1`, r.r1, 0, 100),
    r5: num(`${where}.r5`, r.r5, 0, 100),
    r10: num(`${where}.r10`, r.r10, 0, 100),
    medr: num(`${where}.medr`, r.medr, 0),
    meanr: num(`${where}.meanr`, r.meanr, 0),
  };
}

export function validateEvalMetrics(where: string, v: unknown): EvalMetrics {
  const m = rec(where, v);
  return {
    i2t: validateRecall(`${where}.i2t`, m.i2t),
    t2i: validateRecall(`${where}.t2i`, m.t2i),
    rsum: num(`${where}.rsum`, m.rsum, 0, 600),
  };
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

/**
 * The weights a model of this configuration has, in file order, with their shapes (as
 * OrderEmbeddingModel.weightShapes, without building the model).
 */
export function expectedWeightShapes(m: ModelConfig): { name: string; shape: number[] }[] {
  const { vocabSize: V, wordDim: W, hiddenDim: H, imageDim: F } = m;
  const ln = m.layerNorm
    ? ['ln_weight_ih', 'ln_bias_ih', 'ln_weight_hh', 'ln_bias_hh'].map((n) => ({
        name: `gru.${n}`,
        shape: [3 * H],
      }))
    : [];
  return [
    { name: 'word_embedding', shape: [V, W] },
    { name: 'gru.weight_ih', shape: [3 * H, W] },
    { name: 'gru.weight_hh', shape: [3 * H, H] },
    { name: 'gru.bias_ih', shape: [3 * H] },
    { name: 'gru.bias_hh', shape: [3 * H] },
    ...ln,
    { name: 'image.weight', shape: [H, F] },
    { name: 'image.bias', shape: [H] },
  ];
}

const DTYPE_BYTES = { float32: 4, float16: 2 } as const;

/**
 * weights.json against the model it must fill and the byte length of weights.bin: every expected
 * weight once, with its shape, aligned, inside the file, not overlapping another; no bytes left over.
 */
export function validateWeightsManifest(
  v: unknown,
  model: ModelConfig,
  byteLength: number,
  file = 'weights.json',
  binFile = 'weights.bin',
): WeightsManifest {
  const m = rec(file, v);
  if (m.format !== 'orderembed-weights') fail(`${file}: format`, "'orderembed-weights'", m.format);
  if (m.version !== 1) fail(`${file}: version`, '1', m.version);
  const dtype = oneOf(`${file}: dtype`, m.dtype, ['float32', 'float16'] as const);
  if (m.byteOrder !== undefined && m.byteOrder !== 'little')
    fail(`${file}: byteOrder`, "'little'", m.byteOrder);
  const size = DTYPE_BYTES[dtype];
  const expected = new Map(expectedWeightShapes(model).map((w) => [w.name, w.shape]));
  const list = arr(`${file}: weights`, m.weights, 64);
  const seen = new Set<string>();
  const spans: { name: string; start: number; end: number }[] = [];
  const weights = list.map((w, i) => {
    const at = `${file}: weights[${i}]`;
    const e = rec(at, w);
    const name = str(`${at}.name`, e.name, 200);
    const want = expected.get(name);
    if (!want)
      throw new RunValidationError(
        `${at}: unexpected weight '${name}' (this model has ${[...expected.keys()].join(', ')})`,
      );
    if (seen.has(name)) throw new RunValidationError(`${at}: weight '${name}' appears twice`);
    seen.add(name);
    const shape = arr(`${at}.shape`, e.shape, 4).map((d, k) => int(`${at}.shape[${k}]`, d, 1, 2 ** 31));
    if (shape.join() !== want.join())
      throw new RunValidationError(
        `${file}: weight '${name}': expected shape [${want}] (from config.json), got [${shape}]`,
      );
    const offset = int(`${at}.offset`, e.offset, 0);
    if (offset % size !== 0) fail(`${at}.offset`, `a multiple of ${size} (${dtype})`, offset);
    const end = offset + shape.reduce((a, b) => a * b, 1) * size;
    if (end > byteLength)
      throw new RunValidationError(
        `${binFile}: weight '${name}' [${shape}] needs bytes ${offset}..${end} but the file holds ${byteLength} bytes (truncated?)`,
      );
    spans.push({ name, start: offset, end });
    return { name, shape, offset };
  });
  const missing = [...expected.keys()].filter((n) => !seen.has(n));
  if (missing.length) throw new RunValidationError(`${file}: missing weight(s) ${missing.join(', ')}`);
  spans.sort((a, b) => a.start - b.start);
  for (let i = 1; i < spans.length; i++)
    if (spans[i].start < spans[i - 1].end)
      throw new RunValidationError(`${file}: weights '${spans[i - 1].name}' and '${spans[i].name}' overlap`);
  const used = spans.reduce((n, s) => n + (s.end - s.start), 0);
  if (used !== byteLength)
    throw new RunValidationError(
      `${binFile}: holds ${byteLength} bytes but the weights of weights.json take ${used} (${byteLength > used ? 'trailing or stray bytes' : 'gaps'}): not the file weights.json describes`,
    );
  return { format: 'orderembed-weights', version: 1, dtype, byteOrder: 'little', weights } as WeightsManifest;
}

/** Longest learning curve accepted (entries of metrics.json, lines of log.jsonl). */
const MAX_HISTORY = 1_000_000;

/** One entry of a learning curve (metrics.json history, a line of log.jsonl). A null loss: none logged. */
export function validateLogEntry(where: string, v: unknown): RunLogEntry {
  const e = rec(where, v);
  const entry: RunLogEntry = {
    step: int(`${where}.step`, e.step, 0, LIMITS.steps),
    epoch: int(`${where}.epoch`, e.epoch ?? 0, 0, LIMITS.steps),
    seconds: num(`${where}.seconds`, e.seconds ?? 0, 0),
    // JSON writes NaN (no loss at an evaluation-only step) as null.
    loss: e.loss === null || e.loss === undefined ? Number.NaN : num(`${where}.loss`, e.loss),
  };
  if (e.dev !== undefined) entry.dev = validateEvalMetrics(`${where}.dev`, e.dev);
  if (e.devTrained !== undefined) entry.devTrained = validateEvalMetrics(`${where}.devTrained`, e.devTrained);
  return entry;
}

/** metrics.json: {history: RunLogEntry[], final?: {split: EvalMetrics}}. */
export function validateRunMetrics(v: unknown, file = 'metrics.json'): RunMetrics {
  const m = rec(file, v);
  const history = arr(`${file}: history`, m.history, MAX_HISTORY).map((e, i) =>
    validateLogEntry(`${file}: history[${i}]`, e),
  );
  const out: RunMetrics = { history };
  if (m.final !== undefined && m.final !== null) {
    const f = rec(`${file}: final`, m.final);
    out.final = Object.fromEntries(
      Object.entries(f).map(([k, x]) => [k, validateEvalMetrics(`${file}: final.${k}`, x)]),
    );
  }
  return out;
}

/** log.jsonl of `train --out`: one log entry per line (blank lines skipped). */
export function validateLogLines(text: string, file = 'log.jsonl'): RunLogEntry[] {
  const out: RunLogEntry[] = [];
  const lines = text.split('\n');
  if (lines.length > MAX_HISTORY) fail(file, `at most ${MAX_HISTORY} lines`, `${lines.length} lines`);
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new RunValidationError(`${file}: line ${i + 1} is not valid JSON: ${describeValue(line)}`);
    }
    out.push(validateLogEntry(`${file}: line ${i + 1}`, v));
  });
  return out;
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

/** The field checkers, for validators of other records (e.g. the browser's stored runs). */
export const field = { rec, str, bool, num, int, oneOf, arr };
