/**
 * The Train form: its values (numbers kept as typed text), the defaults it opens with, its parsing
 * and validation (one message per invalid field, a memory estimate before anything starts), and the
 * 'start' options of a parsed form.
 */
import { DEFAULT_MAX_LENGTH, estimateTrainingBytes, formatBytes, LIMITS } from '../../model/limits';
import type { Measure, ModelConfig, TrainConfig } from '../../model/types';
import {
  DEFAULTS,
  trainOptionEntries,
  trainOptionFields,
  trainOptionProblem,
  type TrainOptionKey,
} from '../../model/defaults';
import type { RunSpec, StartOptions } from '../../worker/protocol';

/**
 * Config form values. Numbers are kept as typed text so that partial input ("0.") is editable. The
 * options of the TRAIN_OPTIONS table (src/model/defaults.ts) are fields too, by their TrainConfig name.
 */
export interface FormValues extends Record<TrainOptionKey, string> {
  layerNorm: boolean;
  measure: Measure;
  wordDim: string;
  hiddenDim: string;
  margin: string;
  learningRate: string;
  /** Steps after which the learning rate drops 10x; 0: never. */
  lrDecayStep: string;
  batchSize: string;
  maxViolation: boolean;
  /** With maxViolation: steps of the summed loss first (VSE++ warm-up); 0: max-violation from the start. */
  maxViolationAfter: string;
  /** Dropout rate on image features and word vectors; 0: none. */
  dropout: string;
  seed: string;
  evalEvery: string;
  evalImages: string;
  maxSteps: string;
}

export type FormErrors = Partial<Record<keyof FormValues, string>>;

export const DEFAULT_MARGIN: Record<Measure, string> = {
  order: String(DEFAULTS.loss.margin.order),
  cosine: String(DEFAULTS.loss.margin.cosine),
};

/** The form as the page opens: the playground preset of src/model/defaults.ts, else the paper's. */
export const DEFAULT_FORM: FormValues = {
  layerNorm: DEFAULTS.paper.model.layerNorm,
  measure: DEFAULTS.paper.model.measure,
  wordDim: String(DEFAULTS.playground.wordDim),
  hiddenDim: String(DEFAULTS.playground.hiddenDim),
  margin: DEFAULT_MARGIN[DEFAULTS.paper.model.measure],
  learningRate: String(DEFAULTS.paper.train.learningRate),
  lrDecayStep: '0',
  batchSize: String(DEFAULTS.playground.batchSize),
  maxViolation: DEFAULTS.loss.maxViolation,
  maxViolationAfter: '0',
  dropout: '0',
  seed: String(DEFAULTS.playground.seed),
  evalEvery: String(DEFAULTS.playground.evalEvery),
  evalImages: String(DEFAULTS.playground.evalImages),
  maxSteps: String(DEFAULTS.playground.maxSteps),
  ...(Object.fromEntries(trainOptionEntries().map(([k, o]) => [k, String(o.default)])) as Record<
    TrainOptionKey,
    string
  >),
};

export interface ParsedRun {
  model: Partial<ModelConfig>;
  train: Partial<TrainConfig>;
  evalEvery: number;
  evalImages: number;
  maxSteps: number;
}

export type ParsedForm = { ok: true; run: ParsedRun } | { ok: false; errors: FormErrors };

interface NumberRule {
  integer?: boolean;
  min: number;
  max: number;
  /** The minimum itself is not allowed (e.g. a learning rate of 0). */
  exclusiveMin?: boolean;
}

/** The numeric fields of the form: the fixed ones, and the TRAIN_OPTIONS table's. */
export type NumericField = FixedNumericField | TrainOptionKey;

type FixedNumericField =
  | 'wordDim'
  | 'hiddenDim'
  | 'margin'
  | 'learningRate'
  | 'lrDecayStep'
  | 'maxViolationAfter'
  | 'dropout'
  | 'batchSize'
  | 'seed'
  | 'evalEvery'
  | 'evalImages'
  | 'maxSteps';

export const FORM_RULES: Record<FixedNumericField, NumberRule> = {
  wordDim: { integer: true, min: 4, max: LIMITS.wordDim },
  hiddenDim: { integer: true, min: 4, max: LIMITS.hiddenDim },
  margin: { min: 0, max: 10, exclusiveMin: true },
  learningRate: { min: 0, max: 1, exclusiveMin: true },
  lrDecayStep: { integer: true, min: 0, max: 10000000 },
  maxViolationAfter: { integer: true, min: 0, max: 10000000 },
  dropout: { min: 0, max: 0.9 },
  batchSize: { integer: true, min: 2, max: LIMITS.batchSize },
  seed: { integer: true, min: 0, max: 2 ** 31 - 1 },
  evalEvery: { integer: true, min: 1, max: 100000 },
  evalImages: { integer: true, min: 0, max: 1000000 },
  maxSteps: { integer: true, min: 0, max: 10000000 },
};

function parseNumber(text: string, rule: NumberRule): number | string {
  const trimmed = text.trim();
  if (trimmed === '') return 'Required.';
  const n = Number(trimmed);
  if (!Number.isFinite(n)) return 'Must be a number.';
  if (rule.integer && !Number.isInteger(n)) return 'Must be a whole number.';
  if (rule.exclusiveMin && n <= rule.min) return `Must be greater than ${rule.min} (at most ${rule.max}).`;
  if (n < rule.min || n > rule.max) return `Must be between ${rule.min} and ${rule.max}.`;
  return n;
}

/** Validates the form, or returns one message per invalid field. */
export function parseForm(form: FormValues): ParsedForm {
  const errors: FormErrors = {};
  const num = (key: FixedNumericField): number => {
    const v = parseNumber(String(form[key]), FORM_RULES[key]);
    if (typeof v === 'string') {
      errors[key] = v;
      return 0;
    }
    return v;
  };
  const wordDim = num('wordDim');
  const hiddenDim = num('hiddenDim');
  const margin = num('margin');
  const learningRate = num('learningRate');
  const lrDecayStep = num('lrDecayStep');
  const maxViolationAfter = num('maxViolationAfter');
  const dropout = num('dropout');
  const batchSize = num('batchSize');
  const seed = num('seed');
  const evalEvery = num('evalEvery');
  const evalImages = num('evalImages');
  const maxSteps = num('maxSteps');
  // The TRAIN_OPTIONS table's fields, each message naming its field.
  const tableFields = trainOptionFields((k, o) => {
    const text = String(form[k]).trim();
    const n = text === '' ? Number.NaN : Number(text);
    const problem = trainOptionProblem(o, n);
    if (!problem) return n;
    (errors as Record<string, string>)[k] =
      text === '' ? `${o.label} is required: ${problem}.` : `${o.label} must be ${problem}, got ${text}.`;
    return undefined;
  });
  if (Object.keys(errors).length === 0) {
    // The memory estimate before the run starts (the worker checks it again with the real vocabulary).
    const estimate = formMemoryError(wordDim, hiddenDim, batchSize);
    if (estimate) errors.hiddenDim = estimate;
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    run: {
      model: {
        layerNorm: form.layerNorm,
        measure: form.measure,
        wordDim,
        hiddenDim,
        margin,
        // With a warm-up the model starts on the summed loss; the trainer switches at that step.
        maxViolation: form.maxViolation && maxViolationAfter === 0,
      },
      train: {
        batchSize,
        learningRate,
        seed,
        ...(lrDecayStep > 0 ? { lrDecayStep } : {}),
        ...(form.maxViolation && maxViolationAfter > 0 ? { maxViolationStep: maxViolationAfter } : {}),
        ...(dropout > 0 ? { dropout } : {}),
        ...tableFields,
      },
      evalEvery,
      evalImages,
      maxSteps,
    },
  };
}

/** A message when even the smallest vocabulary and image features would not fit the memory limit. */
function formMemoryError(wordDim: number, hiddenDim: number, batchSize: number): string | null {
  const bytes = estimateTrainingBytes(
    { vocabSize: 3, wordDim, hiddenDim, imageDim: 1, layerNorm: true },
    { batchSize, maxLength: DEFAULT_MAX_LENGTH },
  );
  return bytes > LIMITS.trainingBytes
    ? `This run would need about ${formatBytes(bytes)} of memory; at most ${formatBytes(LIMITS.trainingBytes)} is allowed: lower the hidden size, word size or batch size.`
    : null;
}

export const runLabel = (layerNorm: boolean): string => (layerNorm ? 'LN-GRU' : 'GRU');

/**
 * The 'start' options of a parsed form: one run, or with `compare` two runs that differ only in
 * layerNorm (LN-GRU first). `now` makes the ids unique.
 */
export function startOptions(run: ParsedRun, compare: boolean, now: number = Date.now()): StartOptions {
  const stamp = now.toString(36);
  const spec = (layerNorm: boolean): RunSpec => ({
    id: `${layerNorm ? 'ln' : 'gru'}-${stamp}`,
    label: runLabel(layerNorm),
    model: { ...run.model, layerNorm },
    train: { ...run.train },
  });
  const layerNorm = run.model.layerNorm ?? true;
  return {
    runs: compare ? [spec(true), spec(false)] : [spec(layerNorm)],
    evalEvery: run.evalEvery,
    maxSteps: run.maxSteps,
    evalImages: run.evalImages,
  };
}
