/**
 * The UI state and its shape: only what the page shows (status, backend, dataset, the runs drawn in
 * the charts, the stored-runs list, retrieval results, messages, the form, hierarchy mode), and the
 * state as the page opens. The worker is the source of truth; ./reducer.ts folds its events in.
 */
import type { Measure, ModelConfig, TrainConfig } from '../../model/types';
import type { MatMulBuild } from '../../model/kernels/matmul-choice';
import {
  DEFAULT_BACKEND,
  type BackendChoice,
  type BackendName,
  type DamagedRun,
  type DatasetInfo,
  type ErrorPhase,
  type ImageHit,
  type RankedCaption,
  type StorageUse,
  type StoredRun,
  type WorkerEvent,
} from '../../worker/protocol';
import { DEFAULT_FORM, type FormErrors, type FormValues } from './form';

export type Status =
  | 'connecting' // worker spawned, backend initialising
  | 'ready' // backend up, no run in the worker
  | 'starting' // 'start' sent, waiting for 'started'
  | 'running'
  | 'pausing' // Pause clicked: the worker gives up the step in progress at its next turn, then 'paused'
  | 'paused'
  | 'done' // the runs reached maxSteps
  | 'stopped' // the runs stopped on an error
  | 'crashed'; // the worker itself died and was not restarted

export type RunState = StoredRun['state'];

/** Histories are thinned (every other point dropped) once they reach this length. */
export const MAX_HISTORY = 1000;
/** Smoothing factor of the exponential moving average drawn for the loss. */
export const LOSS_EMA = 0.9;
/** At most this many info messages are kept. */
export const MAX_NOTICES = 5;
export const MAX_ERRORS = 5;

export interface LossRow {
  step: number;
  loss: number;
  /** Bias-corrected EMA of the loss. */
  smooth: number;
}

export interface EvalRow {
  step: number;
  seconds: number;
  i2tR1: number;
  i2tR5: number;
  i2tR10: number;
  t2iR1: number;
  t2iR5: number;
  t2iR10: number;
  rsum: number;
}

export interface SpeedRow {
  step: number;
  seconds: number;
  pairsPerSec: number;
}

/** A run drawn in the charts: a live run of the current worker, or an opened stored one. */
export interface RunView {
  id: string;
  label: string;
  model: ModelConfig | null;
  train: TrainConfig | null;
  dataset: string;
  state: RunState;
  /** Trains (or trained) in the current worker, so it can be queried without opening. */
  live: boolean;
  step: number;
  epoch: number;
  seconds: number;
  pairsPerSec: number;
  loss: LossRow[];
  emaAcc: number;
  emaCount: number;
  evals: EvalRow[];
  speed: SpeedRow[];
}

/** One line of the stored-runs list. */
export interface RunSummary {
  id: string;
  label: string;
  dataset: string;
  encoder: string | null;
  createdAt: string;
  step: number;
  seconds: number;
  state: RunState;
  bestRsum: number | null;
  layerNorm: boolean;
  measure: Measure;
  hiddenDim: number;
  /** The step of its last checkpoint: it can be resumed from there. */
  checkpointStep: number | null;
}

export interface DatasetLoading {
  /** What is loading, in words ("built-in scenes", a pack URL, a folder name). */
  label: string;
  phase: string;
  done: number;
  total: number;
  imagesPerSec: number;
}

export type QueryKind = 'rank' | 'search' | 'generality';

export interface RetrievalState {
  ranking: { runId: string; name: string; items: RankedCaption[]; total: number } | null;
  images: { runId: string; query: string; items: ImageHit[]; total: number; unknown: string[] } | null;
  generality: Extract<WorkerEvent, { type: 'generality' }> | null;
  pending: Record<QueryKind, boolean>;
  /** Validation or worker error per query kind (shown next to that query). */
  errors: Partial<Record<QueryKind, string>>;
}

export interface Message {
  id: number;
  text: string;
  phase?: ErrorPhase;
}

export interface UiState {
  status: Status;
  /** Backend the worker actually uses, once ready, and why. */
  backend: BackendName | null;
  backendReason: string | null;
  /** The wasm backend's thread count, and why it is 1 when more were wanted ('ready'). */
  backendThreads: number | null;
  threadsWhy: string | null;
  /** The build of our matMul kernel multiplying on wasm's single-threaded build (null: tfjs's). */
  backendMatMul: MatMulBuild | null;
  /** Backend to ask for when (re)starting the worker. */
  requestedBackend: BackendChoice;
  dataset: DatasetInfo | null;
  loading: DatasetLoading | null;
  datasetError: string | null;
  /** The files of the picked folder by path (thumbnails of a 'file' dataset); references only. */
  pickedFiles: ReadonlyMap<string, Blob> | null;
  /** Runs drawn in the charts, by id, in `chartRuns` order. */
  runs: Record<string, RunView>;
  chartRuns: string[];
  evalSplit: 'dev' | 'train';
  /** The stored run the worker opened for retrieval, and one being opened. */
  openedRunId: string | null;
  openingRunId: string | null;
  stored: RunSummary[];
  /** Stored records that failed validation, with the reason (listed, never hiding the others). */
  damagedRuns: DamagedRun[];
  /** Space this site uses and may use, when the browser says. */
  storageUse: StorageUse | null;
  runsLoaded: boolean;
  runsError: string | null;
  exportingRunId: string | null;
  importing: boolean;
  retrieval: RetrievalState;
  notices: Message[];
  /** Worker errors not shown next to a control (init, start, train, eval, message). */
  errors: Message[];
  crash: { message: string; restarted: boolean } | null;
  nextId: number;
  form: FormValues;
  formErrors: FormErrors;
  hierarchy: HierarchyState;
}

/** Hierarchy mode: live 2-D order embeddings of a WordNet subtree. */
export interface HierarchyState {
  status: 'idle' | 'loading' | 'training' | 'stopped';
  root: string | null;
  names: string[];
  /** Closure: every node's more general nodes, and (derived once) its more specific ones. */
  ancestors: number[][];
  descendants: number[][];
  edges: [number, number][];
  pairs: number;
  source: string;
  step: number;
  loss: number;
  /** Is-a pairs whose order is not yet respected. */
  violations: number;
  /** Positions, xy interleaved; null before the first progress event. */
  xy: Float32Array | null;
  error: string | null;
}

export function emptyHierarchy(): HierarchyState {
  return {
    status: 'idle',
    root: null,
    names: [],
    ancestors: [],
    descendants: [],
    edges: [],
    pairs: 0,
    source: '',
    step: 0,
    loss: Number.NaN,
    violations: 0,
    xy: null,
    error: null,
  };
}

/** Inverts ancestor lists into descendant lists. */
export function descendantsOf(ancestors: readonly (readonly number[])[]): number[][] {
  const out: number[][] = ancestors.map(() => []);
  ancestors.forEach((as, x) => as.forEach((a) => out[a]?.push(x)));
  return out;
}

export interface UiActions {
  /** Fold one worker event into the state. */
  applyEvent(event: WorkerEvent): void;
  setField<K extends keyof FormValues>(key: K, value: FormValues[K]): void;
  setFormErrors(errors: FormErrors): void;
  setRequestedBackend(backend: BackendChoice): void;
  /** A fresh worker is being spawned: whatever the old one held is gone (histories stay). */
  connecting(): void;
  /** The worker died (onerror / messageerror). `restarting`: a fresh one is started right away. */
  crashed(message: string, restarting: boolean): void;
  dismissCrash(): void;
  /** A dataset load was sent. */
  loadRequested(label: string, pickedFiles?: ReadonlyMap<string, Blob> | null): void;
  loadCancelled(): void;
  /** Pause was sent: shown at once, until the worker's 'paused' (it finishes the step in progress). */
  pauseRequested(): void;
  /** 'start' was sent. */
  starting(): void;
  queryRequested(kind: QueryKind): void;
  setQueryError(kind: QueryKind, message: string | null): void;
  openRequested(runId: string): void;
  exportRequested(runId: string): void;
  exportFinished(): void;
  importRequested(): void;
  setRunsError(message: string | null): void;
  dismissNotice(id: number): void;
  dismissError(id: number): void;
  hierarchyRequested(root: string): void;
}

export type UiStore = UiState & UiActions;

export function emptyRetrieval(): RetrievalState {
  return {
    ranking: null,
    images: null,
    generality: null,
    pending: { rank: false, search: false, generality: false },
    errors: {},
  };
}

export function initialState(): UiState {
  return {
    status: 'connecting',
    backend: null,
    backendReason: null,
    backendThreads: null,
    threadsWhy: null,
    backendMatMul: null,
    requestedBackend: DEFAULT_BACKEND,
    dataset: null,
    loading: null,
    datasetError: null,
    pickedFiles: null,
    runs: {},
    chartRuns: [],
    evalSplit: 'dev',
    openedRunId: null,
    openingRunId: null,
    stored: [],
    damagedRuns: [],
    storageUse: null,
    runsLoaded: false,
    runsError: null,
    exportingRunId: null,
    importing: false,
    retrieval: emptyRetrieval(),
    notices: [],
    errors: [],
    crash: null,
    nextId: 1,
    form: { ...DEFAULT_FORM },
    formErrors: {},
    hierarchy: emptyHierarchy(),
  };
}
