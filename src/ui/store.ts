/**
 * UI state: only what the page shows. The worker is the source of truth for training; this store
 * folds its events (`applyEvent`, a pure reducer) into chart histories and status.
 */
import { create } from 'zustand';
import type { Measure, ModelConfig, TrainConfig } from '../model/types';
import {
  DEFAULT_BACKEND,
  type BackendName,
  type DatasetSummary,
  type LossPoint,
  type RunConfig,
  type WorkerEvent,
} from '../worker/protocol';

export type Status =
  | 'connecting' // worker spawned, backend initialising
  | 'ready' // backend up, no run
  | 'starting' // 'start' sent, waiting for 'started'
  | 'running'
  | 'paused'
  | 'done' // reached maxSteps
  | 'error' // the worker reported an error; it is still alive
  | 'crashed'; // the worker itself died (onerror); needs a fresh worker

/** Config form values. Numbers are kept as typed text so that partial input ("0.") is editable. */
export interface FormValues {
  layerNorm: boolean;
  measure: Measure;
  hiddenDim: string;
  batchSize: string;
  learningRate: string;
  seed: string;
}

export type FormErrors = Partial<Record<keyof FormValues, string>>;

export const DEFAULT_FORM: FormValues = {
  layerNorm: true,
  measure: 'order',
  hiddenDim: '128',
  batchSize: '64',
  learningRate: '0.001',
  seed: '1',
};

/** Run settings not on the form. */
export const EVAL_EVERY = 50;
export const MAX_STEPS = 0;

/** Histories are thinned (every other point dropped) once they reach this length. */
export const MAX_HISTORY = 1200;
/** Smoothing factor of the exponential moving average shown over the raw loss. */
export const LOSS_EMA = 0.9;

export interface LossRow {
  step: number;
  loss: number;
  /** Bias-corrected EMA of the loss. */
  smooth: number;
}

export interface MetricRow {
  step: number;
  i2tR1: number;
  t2iR1: number;
  i2tR5: number;
  t2iR5: number;
  i2tR10: number;
  t2iR10: number;
  rsum: number;
}

export interface RunInfo {
  model: ModelConfig;
  train: TrainConfig;
  dataset: DatasetSummary;
  evalSplit: 'dev' | 'train';
}

export interface UiState {
  status: Status;
  /** Backend the worker actually uses, once ready. */
  backend: string | null;
  backendReason: string | null;
  /** Backend to ask for when (re)starting the worker. */
  requestedBackend: BackendName;
  form: FormValues;
  formErrors: FormErrors;
  run: RunInfo | null;
  step: number;
  epoch: number;
  pairsPerSec: number;
  loss: LossRow[];
  /** Raw EMA accumulator and its count, for the bias correction. */
  emaAcc: number;
  emaCount: number;
  metrics: MetricRow[];
  error: string | null;
}

export interface UiActions {
  /** Fold one worker event into the state. */
  applyEvent(event: WorkerEvent): void;
  setField<K extends keyof FormValues>(key: K, value: FormValues[K]): void;
  setFormErrors(errors: FormErrors): void;
  setRequestedBackend(backend: BackendName): void;
  /** A fresh worker is being spawned. */
  connecting(): void;
  /** 'start' was sent: clear the previous run's histories. */
  starting(): void;
  /** The worker died (onerror / messageerror). */
  crashed(message: string): void;
}

export type UiStore = UiState & UiActions;

export function initialState(): UiState {
  return {
    status: 'connecting',
    backend: null,
    backendReason: null,
    requestedBackend: DEFAULT_BACKEND,
    form: { ...DEFAULT_FORM },
    formErrors: {},
    ...clearedRun(),
    error: null,
  };
}

function clearedRun(): Pick<
  UiState,
  'run' | 'step' | 'epoch' | 'pairsPerSec' | 'loss' | 'emaAcc' | 'emaCount' | 'metrics'
> {
  return { run: null, step: 0, epoch: 0, pairsPerSec: 0, loss: [], emaAcc: 0, emaCount: 0, metrics: [] };
}

/** Halves a history that reached `max` points, keeping the first and last point. */
export function thin<T>(rows: T[], max = MAX_HISTORY): T[] {
  if (rows.length < max) return rows;
  return rows.filter((_, i) => i % 2 === 0 || i === rows.length - 1);
}

/** Appends loss points with their EMA; returns the new rows and accumulator. */
export function appendLoss(
  state: Pick<UiState, 'loss' | 'emaAcc' | 'emaCount'>,
  points: LossPoint[],
): Pick<UiState, 'loss' | 'emaAcc' | 'emaCount'> {
  let { emaAcc, emaCount } = state;
  const rows = state.loss.slice();
  for (const p of points) {
    if (!Number.isFinite(p.loss)) continue;
    emaAcc = LOSS_EMA * emaAcc + (1 - LOSS_EMA) * p.loss;
    emaCount += 1;
    rows.push({ step: p.step, loss: p.loss, smooth: emaAcc / (1 - LOSS_EMA ** emaCount) });
  }
  return { loss: thin(rows), emaAcc, emaCount };
}

/** Pure reducer: the state change caused by one worker event. */
export function reduceEvent(state: UiState, event: WorkerEvent): Partial<UiState> {
  switch (event.type) {
    case 'ready':
      return {
        status: state.status === 'connecting' ? 'ready' : state.status,
        backend: event.backend,
        backendReason: event.reason,
      };
    case 'started':
      return {
        ...clearedRun(),
        status: 'running',
        error: null,
        run: {
          model: event.model,
          train: event.train,
          dataset: event.dataset,
          evalSplit: event.evalSplit,
        },
      };
    case 'progress':
      return {
        ...appendLoss(state, event.points),
        step: event.step,
        epoch: event.epoch,
        pairsPerSec: event.pairsPerSec,
      };
    case 'metrics': {
      const { i2t, t2i, rsum } = event.metrics;
      const row: MetricRow = {
        step: event.step,
        i2tR1: i2t.r1,
        t2iR1: t2i.r1,
        i2tR5: i2t.r5,
        t2iR5: t2i.r5,
        i2tR10: i2t.r10,
        t2iR10: t2i.r10,
        rsum,
      };
      // A re-evaluation of the same step replaces the earlier row.
      const rows = state.metrics.filter((m) => m.step !== event.step);
      rows.push(row);
      return { metrics: thin(rows) };
    }
    case 'paused':
      return { status: 'paused', step: event.step };
    case 'resumed':
      return { status: 'running' };
    case 'done':
      return { status: 'done', step: event.step };
    case 'reset':
      return { ...clearedRun(), status: 'ready', error: null };
    case 'error':
      return { status: 'error', error: `${event.phase} failed: ${event.message}` };
  }
}

export const useUiStore = create<UiStore>()((set) => ({
  ...initialState(),
  applyEvent: (event) => set((s) => reduceEvent(s, event)),
  setField: (key, value) =>
    set((s) => {
      const formErrors = { ...s.formErrors };
      delete formErrors[key];
      return { form: { ...s.form, [key]: value }, formErrors };
    }),
  setFormErrors: (formErrors) => set({ formErrors }),
  setRequestedBackend: (requestedBackend) => set({ requestedBackend }),
  connecting: () =>
    set({ ...clearedRun(), status: 'connecting', backend: null, backendReason: null, error: null }),
  starting: () => set({ ...clearedRun(), status: 'starting', error: null, formErrors: {} }),
  crashed: (message) => set({ status: 'crashed', error: `The worker crashed: ${message}` }),
}));

// ---------------------------------------------------------------------------------------------
// Form parsing

export type ParsedForm = { ok: true; config: RunConfig } | { ok: false; errors: FormErrors };

function parseNumber(text: string, opts: { integer?: boolean; min: number; max: number }): number | string {
  const trimmed = text.trim();
  if (trimmed === '') return 'Required.';
  const n = Number(trimmed);
  if (!Number.isFinite(n)) return 'Must be a number.';
  if (opts.integer && !Number.isInteger(n)) return 'Must be a whole number.';
  if (n < opts.min || n > opts.max) return `Must be between ${opts.min} and ${opts.max}.`;
  return n;
}

/** Validates the form into a RunConfig, or returns one message per invalid field. */
export function parseForm(form: FormValues): ParsedForm {
  const errors: FormErrors = {};
  const num = (key: keyof FormValues, opts: { integer?: boolean; min: number; max: number }) => {
    const v = parseNumber(String(form[key]), opts);
    if (typeof v === 'string') {
      errors[key] = v;
      return 0;
    }
    return v;
  };
  const hiddenDim = num('hiddenDim', { integer: true, min: 4, max: 2048 });
  const batchSize = num('batchSize', { integer: true, min: 2, max: 1024 });
  const learningRate = num('learningRate', { min: 1e-6, max: 1 });
  const seed = num('seed', { integer: true, min: 0, max: 2 ** 31 - 1 });
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    config: {
      model: { layerNorm: form.layerNorm, measure: form.measure, hiddenDim },
      train: { batchSize, learningRate, seed },
      data: { seed },
      evalEvery: EVAL_EVERY,
      maxSteps: MAX_STEPS,
    },
  };
}
