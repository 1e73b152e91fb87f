/**
 * The one message protocol between the UI thread and the training worker.
 *
 * Every message is a plain, structured-cloneable object with a `type` discriminant. The UI sends
 * `WorkerRequest`s and receives `WorkerEvent`s. Later features (datasets, ranking, search...) extend
 * the two unions here and nowhere else.
 */
import type { EvalMetrics, ModelConfig, TrainConfig } from '../model/types';

/** tfjs backends the playground can ask for. */
export const BACKENDS = ['wasm', 'webgpu', 'webgl', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];
export const DEFAULT_BACKEND: BackendName = 'wasm';

/** Everything the worker needs to start a training run. */
export interface RunConfig {
  model: Partial<ModelConfig>;
  train: Partial<TrainConfig>;
  /** Synthetic data options; `seed` defaults to the training seed. */
  data: { numImages?: number; seed?: number };
  /** Evaluate on the dev split every this many steps (and once before the first step). */
  evalEvery: number;
  /** Stop by itself after this many steps; 0 trains until paused or reset. */
  maxSteps: number;
}

export interface LossPoint {
  step: number;
  loss: number;
}

export interface DatasetSummary {
  name: string;
  numImages: number;
  numCaptions: number;
  imageDim: number;
}

export type ErrorPhase = 'init' | 'start' | 'train' | 'eval' | 'message';

// ---------------------------------------------------------------------------------------------
// UI -> worker

export type WorkerRequest =
  /** Pick the tfjs backend. `wasmPath` is the absolute URL prefix of the tfjs .wasm binaries. */
  | { type: 'init'; backend: BackendName; wasmPath: string }
  /** Build a synthetic dataset and a Trainer, then train until paused/reset/maxSteps. */
  | { type: 'start'; config: RunConfig }
  | { type: 'pause' }
  | { type: 'resume' }
  /** Stop and dispose the current run; the backend stays initialised. */
  | { type: 'reset' };

// ---------------------------------------------------------------------------------------------
// worker -> UI

export type WorkerEvent =
  /** The backend is set up. `reason` says why this backend (requested, default, fallback...). */
  | { type: 'ready'; backend: string; reason: string }
  /** A run began; carries the fully resolved configs. */
  | {
      type: 'started';
      model: ModelConfig;
      train: TrainConfig;
      dataset: DatasetSummary;
      evalSplit: 'dev' | 'train';
    }
  /**
   * Training progress, posted at most ~10 times a second. `points` holds every (step, loss) since
   * the previous progress event so that the chart misses nothing; `step`/`loss` are the latest.
   */
  | {
      type: 'progress';
      step: number;
      epoch: number;
      loss: number;
      gradNorm: number;
      pairsPerSec: number;
      points: LossPoint[];
    }
  /** Retrieval metrics after `step` steps. */
  | { type: 'metrics'; step: number; split: 'dev' | 'train'; metrics: EvalMetrics; ms: number }
  | { type: 'paused'; step: number }
  | { type: 'resumed'; step: number }
  /** The run reached `maxSteps`. */
  | { type: 'done'; step: number }
  /** The run was disposed; the worker is ready for a new 'start'. */
  | { type: 'reset' }
  | { type: 'error'; message: string; phase: ErrorPhase };

export type WorkerRequestType = WorkerRequest['type'];
export type WorkerEventType = WorkerEvent['type'];

// ---------------------------------------------------------------------------------------------
// Type guards. They check the discriminant and the fields each message type needs, which is enough
// to reject stray messages (e.g. from browser extensions or dev tooling).

type Rec = Record<string, unknown>;

const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && !Number.isNaN(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isSplit = (v: unknown): v is 'dev' | 'train' => v === 'dev' || v === 'train';

export function isBackendName(v: unknown): v is BackendName {
  return typeof v === 'string' && (BACKENDS as readonly string[]).includes(v);
}

function isRecall(v: unknown): boolean {
  return isRec(v) && ['r1', 'r5', 'r10', 'medr', 'meanr'].every((k) => isNum(v[k]));
}

export function isEvalMetrics(v: unknown): v is EvalMetrics {
  return isRec(v) && isRecall(v.i2t) && isRecall(v.t2i) && isNum(v.rsum);
}

function isRunConfig(v: unknown): v is RunConfig {
  return (
    isRec(v) &&
    isRec(v.model) &&
    isRec(v.train) &&
    isRec(v.data) &&
    isNum(v.evalEvery) &&
    v.evalEvery >= 1 &&
    isNum(v.maxSteps) &&
    v.maxSteps >= 0
  );
}

const requestCheckers: { [K in WorkerRequestType]: (m: Rec) => boolean } = {
  init: (m) => isBackendName(m.backend) && isStr(m.wasmPath),
  start: (m) => isRunConfig(m.config),
  pause: () => true,
  resume: () => true,
  reset: () => true,
};

const eventCheckers: { [K in WorkerEventType]: (m: Rec) => boolean } = {
  ready: (m) => isStr(m.backend) && isStr(m.reason),
  started: (m) => isRec(m.model) && isRec(m.train) && isRec(m.dataset) && isSplit(m.evalSplit),
  progress: (m) =>
    isNum(m.step) &&
    isNum(m.epoch) &&
    typeof m.loss === 'number' &&
    isNum(m.pairsPerSec) &&
    Array.isArray(m.points),
  metrics: (m) => isNum(m.step) && isSplit(m.split) && isEvalMetrics(m.metrics) && isNum(m.ms),
  paused: (m) => isNum(m.step),
  resumed: (m) => isNum(m.step),
  done: (m) => isNum(m.step),
  reset: () => true,
  error: (m) => isStr(m.message) && isStr(m.phase),
};

function check<T extends string>(checkers: Record<T, (m: Rec) => boolean>, v: unknown): boolean {
  if (!isRec(v) || typeof v.type !== 'string' || !Object.hasOwn(checkers, v.type)) return false;
  return checkers[v.type as T](v);
}

export function isWorkerRequest(v: unknown): v is WorkerRequest {
  return check(requestCheckers, v);
}

export function isWorkerEvent(v: unknown): v is WorkerEvent {
  return check(eventCheckers, v);
}

/** A readable one-line message for anything thrown. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  if (typeof e === 'string') return e;
  try {
    return JSON.stringify(e) ?? String(e);
  } catch {
    return String(e);
  }
}
