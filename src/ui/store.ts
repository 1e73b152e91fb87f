/**
 * UI state: only what the page shows. The worker is the source of truth for training, datasets and
 * stored runs; this store folds its events (`reduceEvent`, a pure reducer) into chart histories,
 * summaries and messages. The client (client.ts) calls the actions for what the UI itself starts.
 */
import { create } from 'zustand';
import { DEFAULT_MAX_LENGTH, estimateTrainingBytes, formatBytes, LIMITS } from '../model/limits';
import type { EvalMetrics, Measure, ModelConfig, TrainConfig } from '../model/types';
import {
  DEFAULTS,
  trainOptionEntries,
  trainOptionFields,
  trainOptionProblem,
  type TrainOptionKey,
} from '../model/defaults';
import {
  DEFAULT_BACKEND,
  type BackendChoice,
  type BackendName,
  type DamagedRun,
  type DatasetInfo,
  type ErrorPhase,
  type ImageHit,
  type LossPoint,
  type MetricPoint,
  type RankedCaption,
  type RunSpec,
  type StartOptions,
  type StorageUse,
  type StoredRun,
  type WorkerEvent,
} from '../worker/protocol';

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

export interface UiState {
  status: Status;
  /** Backend the worker actually uses, once ready, and why. */
  backend: BackendName | null;
  backendReason: string | null;
  /** The wasm backend's thread count, and why it is 1 when more were wanted ('ready'). */
  backendThreads: number | null;
  threadsWhy: string | null;
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

function emptyRetrieval(): RetrievalState {
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

// ---------------------------------------------------------------------------------------------
// Histories

/** Halves a history that reached `max` points, keeping the first and the last point. */
export function thin<T>(rows: T[], max = MAX_HISTORY): T[] {
  if (rows.length < max) return rows;
  return rows.filter((_, i) => i % 2 === 0 || i === rows.length - 1);
}

/** Appends loss points with their EMA (non-finite losses skipped). */
export function appendLoss(
  run: Pick<RunView, 'loss' | 'emaAcc' | 'emaCount'>,
  points: readonly LossPoint[],
): Pick<RunView, 'loss' | 'emaAcc' | 'emaCount'> {
  let { emaAcc, emaCount } = run;
  const rows = run.loss.slice();
  for (const p of points) {
    if (!Number.isFinite(p.loss) || !Number.isFinite(p.step)) continue;
    const last = rows.at(-1);
    if (last && p.step <= last.step) continue; // a repeated point (e.g. resent after a reconnect)
    emaAcc = LOSS_EMA * emaAcc + (1 - LOSS_EMA) * p.loss;
    emaCount += 1;
    rows.push({ step: p.step, loss: p.loss, smooth: emaAcc / (1 - LOSS_EMA ** emaCount) });
  }
  return { loss: thin(rows), emaAcc, emaCount };
}

export function evalRow(step: number, seconds: number, m: EvalMetrics): EvalRow {
  return {
    step,
    seconds,
    i2tR1: m.i2t.r1,
    i2tR5: m.i2t.r5,
    i2tR10: m.i2t.r10,
    t2iR1: m.t2i.r1,
    t2iR5: m.t2i.r5,
    t2iR10: m.t2i.r10,
    rsum: m.rsum,
  };
}

function appendEval(rows: EvalRow[], p: MetricPoint): EvalRow[] {
  // A re-evaluation of the same step replaces the earlier row.
  const out = rows.filter((r) => r.step !== p.step);
  out.push(evalRow(p.step, p.seconds, p.metrics));
  out.sort((a, b) => a.step - b.step);
  return thin(out);
}

/** Every k-th point so that a long stored history fits the chart (first and last kept). */
function sample<T>(rows: readonly T[], max = MAX_HISTORY / 2): T[] {
  if (rows.length <= max) return rows.slice();
  const stride = Math.ceil(rows.length / max);
  return rows.filter((_, i) => i % stride === 0 || i === rows.length - 1);
}

function newRun(id: string, label: string, dataset: string): RunView {
  return {
    id,
    label,
    model: null,
    train: null,
    dataset,
    state: 'running',
    live: true,
    step: 0,
    epoch: 0,
    seconds: 0,
    pairsPerSec: 0,
    loss: [],
    emaAcc: 0,
    emaCount: 0,
    evals: [],
    speed: [],
  };
}

/** The chart view of a stored run (its loss and evaluations). */
export function runFromStored(s: StoredRun): RunView {
  const evals = s.evals.map((p) => evalRow(p.step, p.seconds, p.metrics)).sort((a, b) => a.step - b.step);
  return {
    ...newRun(s.id, s.label, s.dataset),
    model: s.model,
    train: s.train,
    state: s.state,
    live: false,
    step: s.step,
    epoch: s.epoch,
    seconds: s.seconds,
    ...appendLoss({ loss: [], emaAcc: 0, emaCount: 0 }, sample(s.loss)),
    evals: sample(evals),
  };
}

export function bestRsum(evals: readonly { rsum: number }[]): number | null {
  let best: number | null = null;
  for (const e of evals) if (Number.isFinite(e.rsum) && (best === null || e.rsum > best)) best = e.rsum;
  return best;
}

export function summarize(s: StoredRun): RunSummary {
  return {
    id: s.id,
    label: s.label,
    dataset: s.dataset,
    encoder: s.encoder ?? null,
    createdAt: s.createdAt,
    step: s.step,
    seconds: s.seconds,
    state: s.state,
    bestRsum: bestRsum(s.evals.map((e) => e.metrics)),
    layerNorm: s.model.layerNorm,
    measure: s.model.measure,
    hiddenDim: s.model.hiddenDim,
    checkpointStep: s.checkpointStep ?? null,
  };
}

// ---------------------------------------------------------------------------------------------
// The reducer

type RunPatch = (run: RunView) => RunView;

/** Applies `patch` to the runs that are live in the worker. */
function patchLive(runs: Record<string, RunView>, patch: RunPatch): Record<string, RunView> {
  const out: Record<string, RunView> = {};
  for (const [id, r] of Object.entries(runs)) out[id] = r.live ? patch(r) : r;
  return out;
}

/** The worker no longer holds its runs (reset, crash, new worker): they stay drawn, not queryable. */
const releaseLive = (runs: Record<string, RunView>, state?: RunState) =>
  patchLive(runs, (r) => ({
    ...r,
    live: false,
    state: state ?? (r.state === 'running' || r.state === 'paused' ? 'stopped' : r.state),
  }));

function pushMessage(list: Message[], id: number, text: string, max: number, phase?: ErrorPhase): Message[] {
  return [...list, { id, text, ...(phase ? { phase } : {}) }].slice(-max);
}

const QUERY_PHASE: Partial<Record<ErrorPhase, QueryKind>> = {
  rank: 'rank',
  search: 'search',
  generality: 'generality',
};

/** Pure reducer: the state change caused by one worker event. */
export function reduceEvent(state: UiState, event: WorkerEvent): Partial<UiState> {
  switch (event.type) {
    case 'ready':
      return {
        status: state.status === 'connecting' ? 'ready' : state.status,
        backend: event.backend,
        backendReason: event.reason,
        backendThreads: event.threads ?? null,
        threadsWhy: event.threadsWhy ?? null,
      };
    case 'datasetProgress':
      if (!state.loading) return {}; // late progress of a cancelled load
      return {
        loading: {
          ...state.loading,
          phase: event.phase,
          done: event.done,
          total: event.total,
          imagesPerSec: event.imagesPerSec,
        },
      };
    case 'datasetLoaded':
      // The worker stops the runs of the previous dataset and closes the opened run.
      return {
        status:
          isRunActive(state.status) || state.status === 'done' || state.status === 'stopped'
            ? 'ready'
            : state.status,
        runs: releaseLive(state.runs),
        openedRunId: null,
        openingRunId: null,
        dataset: event.dataset,
        loading: null,
        datasetError: null,
        pickedFiles: event.dataset.thumbs === 'file' ? state.pickedFiles : null,
        // Results index the previous dataset's images and captions.
        retrieval: { ...emptyRetrieval(), errors: {} },
      };
    case 'started': {
      const runs = releaseLive(state.runs);
      for (const r of event.runs) {
        // A resumed run keeps its curves up to its checkpoint.
        const base = r.resumed
          ? { ...runFromStored(r.resumed), state: 'running' as const, live: true }
          : newRun(r.id, r.label, event.dataset);
        runs[r.id] = { ...base, model: r.model, train: r.train };
      }
      const ids = event.runs.map((r) => r.id);
      return {
        status: 'running',
        runs: Object.fromEntries(
          Object.entries(runs).filter(([id]) => ids.includes(id) || id === state.openedRunId),
        ),
        chartRuns: ids,
        evalSplit: event.evalSplit,
        errors: state.errors.filter((e) => e.phase !== 'start' && e.phase !== 'train'),
      };
    }
    case 'progress': {
      const runs = { ...state.runs };
      for (const p of event.runs) {
        const r = runs[p.runId];
        if (!r) continue;
        const last = r.speed.at(-1);
        const speed =
          Number.isFinite(p.pairsPerSec) && p.pairsPerSec > 0 && (!last || p.step > last.step)
            ? thin([...r.speed, { step: p.step, seconds: p.seconds, pairsPerSec: p.pairsPerSec }])
            : r.speed;
        runs[p.runId] = {
          ...r,
          ...appendLoss(r, p.points),
          speed,
          step: p.step,
          epoch: p.epoch,
          seconds: p.seconds,
          pairsPerSec: p.pairsPerSec,
        };
      }
      return { runs };
    }
    case 'metrics': {
      const r = state.runs[event.runId];
      if (!r) return {};
      return { runs: { ...state.runs, [r.id]: { ...r, evals: appendEval(r.evals, event.point) } } };
    }
    case 'paused':
      return {
        status: 'paused',
        runs: patchLive(state.runs, (r) => (r.state === 'running' ? { ...r, state: 'paused' } : r)),
      };
    case 'resumed':
      return {
        status: 'running',
        runs: patchLive(state.runs, (r) => (r.state === 'paused' ? { ...r, state: 'running' } : r)),
      };
    case 'done':
      return { status: 'done', runs: patchLive(state.runs, (r) => ({ ...r, state: 'done' })) };
    case 'reset':
      // A reset sent just before a new 'start' must not re-enable Start.
      return { status: state.status === 'starting' ? 'starting' : 'ready', runs: releaseLive(state.runs) };
    case 'captionRanking':
      return {
        retrieval: {
          ...state.retrieval,
          ranking: { runId: event.runId, name: event.name, items: event.items, total: event.total },
          pending: { ...state.retrieval.pending, rank: false },
          errors: { ...state.retrieval.errors, rank: undefined },
        },
      };
    case 'imageResults':
      return {
        retrieval: {
          ...state.retrieval,
          images: {
            runId: event.runId,
            query: event.query,
            items: event.items,
            total: event.total,
            unknown: event.unknown,
          },
          pending: { ...state.retrieval.pending, search: false },
          errors: { ...state.retrieval.errors, search: undefined },
        },
      };
    case 'generality':
      return {
        retrieval: {
          ...state.retrieval,
          generality: event,
          pending: { ...state.retrieval.pending, generality: false },
          errors: { ...state.retrieval.errors, generality: undefined },
        },
      };
    case 'exported':
      return { exportingRunId: null };
    case 'runs':
      return {
        stored: event.runs.map(summarize),
        damagedRuns: event.damaged ?? [],
        storageUse: event.storage ?? state.storageUse,
        runsLoaded: true,
        importing: false,
        ...syncLive(state, event.runs),
      };
    case 'runOpened': {
      const existing = state.runs[event.run.id];
      const run = existing?.live ? existing : runFromStored(event.run);
      // The previously opened run is no longer queryable; it stays drawn while it is on the chart.
      return {
        openedRunId: event.run.id,
        openingRunId: null,
        importing: false,
        runs: { ...state.runs, [run.id]: run },
        chartRuns: state.chartRuns.includes(run.id) ? state.chartRuns : [...state.chartRuns, run.id],
      };
    }
    case 'hierarchyLoaded':
      return {
        hierarchy: {
          ...emptyHierarchy(),
          status: 'training',
          root: event.root,
          names: event.names,
          ancestors: event.ancestors,
          descendants: descendantsOf(event.ancestors),
          edges: event.edges,
          pairs: event.pairs,
          source: event.source,
        },
      };
    case 'hierarchyProgress':
      if (state.hierarchy.status !== 'training') return {};
      return {
        hierarchy: {
          ...state.hierarchy,
          step: event.step,
          loss: event.loss,
          violations: event.violations,
          xy: event.xy,
        },
      };
    case 'hierarchyStopped':
      return state.hierarchy.status === 'training'
        ? { hierarchy: { ...state.hierarchy, status: 'stopped', step: event.step } }
        : {};
    case 'notice':
      return {
        notices: pushMessage(state.notices, state.nextId, event.message, MAX_NOTICES),
        nextId: state.nextId + 1,
      };
    case 'error':
      return reduceError(state, event.phase, event.message);
    case 'photos':
      return {}; // the starter and own-photo retrieval keep their state in ./retrieve/photos-store.ts
  }
}

/**
 * Runs the worker stopped by itself (e.g. after a lost WebGPU device) show up as 'stopped' in its runs
 * list while the UI still has them training: adopt that state, and stop the status when none trains.
 */
function syncLive(state: UiState, stored: readonly StoredRun[]): Partial<UiState> {
  if (state.status !== 'running' && state.status !== 'pausing' && state.status !== 'paused') return {};
  const byId = new Map(stored.map((r) => [r.id, r.state]));
  let changed = false;
  const runs = patchLive(state.runs, (r) => {
    const s = byId.get(r.id);
    if ((s === 'stopped' || s === 'done') && s !== r.state) {
      changed = true;
      return { ...r, state: s };
    }
    return r;
  });
  if (!changed) return {};
  const live = Object.values(runs).filter((r) => r.live);
  if (live.some((r) => r.state === 'running' || r.state === 'paused')) return { runs };
  return { runs, status: live.every((r) => r.state === 'done') ? 'done' : 'stopped' };
}

function reduceError(state: UiState, phase: ErrorPhase, message: string): Partial<UiState> {
  const query = QUERY_PHASE[phase];
  if (query) {
    // A failed query clears its previous results: they no longer answer what was asked.
    const cleared = { rank: { ranking: null }, search: { images: null }, generality: { generality: null } }[
      query
    ];
    return {
      retrieval: {
        ...state.retrieval,
        ...cleared,
        pending: { ...state.retrieval.pending, [query]: false },
        errors: { ...state.retrieval.errors, [query]: message },
      },
    };
  }
  switch (phase) {
    case 'dataset':
      return { loading: null, datasetError: message };
    case 'hierarchy':
      return { hierarchy: { ...state.hierarchy, status: 'idle', error: message } };
    case 'export':
    case 'import':
    case 'runs':
      return {
        runsError: `${phase} failed: ${message}`,
        exportingRunId: phase === 'export' ? null : state.exportingRunId,
        importing: phase === 'import' ? false : state.importing,
        openingRunId: phase === 'runs' ? null : state.openingRunId,
      };
    default: {
      const patch: Partial<UiState> = {
        errors: pushMessage(state.errors, state.nextId, `${phase} failed: ${message}`, MAX_ERRORS, phase),
        nextId: state.nextId + 1,
      };
      if (phase === 'start' && state.status === 'starting') patch.status = 'ready';
      if (phase === 'train' && isTraining(state.status)) {
        patch.status = 'stopped';
        patch.runs = patchLive(state.runs, (r) =>
          r.state === 'running' || r.state === 'paused' ? { ...r, state: 'stopped' } : r,
        );
      }
      return patch;
    }
  }
}

export const useUiStore = create<UiStore>()((set) => ({
  ...initialState(),
  applyEvent: (event) => set((s) => reduceEvent(s, event)),
  setField: (key, value) =>
    set((s) => {
      const formErrors = { ...s.formErrors };
      delete formErrors[key];
      const form = { ...s.form, [key]: value };
      // Switching the measure moves an untouched default margin to the new measure's default.
      if (
        key === 'measure' &&
        value !== s.form.measure &&
        Number(s.form.margin) === Number(DEFAULT_MARGIN[s.form.measure])
      ) {
        form.margin = DEFAULT_MARGIN[value as Measure];
        delete formErrors.margin;
      }
      return { form, formErrors };
    }),
  setFormErrors: (formErrors) => set({ formErrors }),
  hierarchyRequested: (root) =>
    set((s) => ({ hierarchy: { ...s.hierarchy, status: 'loading', root, error: null } })),
  setRequestedBackend: (requestedBackend) => set({ requestedBackend }),
  connecting: () =>
    set((s) => ({
      status: 'connecting',
      backend: null,
      backendReason: null,
      backendThreads: null,
      threadsWhy: null,
      dataset: null,
      loading: null,
      runs: releaseLive(s.runs),
      openedRunId: null,
      openingRunId: null,
      exportingRunId: null,
      importing: false,
      retrieval: emptyRetrieval(),
    })),
  crashed: (message, restarting) =>
    set((s) => ({
      status: 'crashed',
      runs: releaseLive(s.runs),
      loading: null,
      openedRunId: null,
      openingRunId: null,
      exportingRunId: null,
      importing: false,
      retrieval: { ...s.retrieval, pending: { rank: false, search: false, generality: false } },
      crash: { message, restarted: restarting },
    })),
  dismissCrash: () => set({ crash: null }),
  loadRequested: (label, pickedFiles) =>
    set((s) => ({
      loading: { label, phase: 'starting', done: 0, total: 0, imagesPerSec: 0 },
      datasetError: null,
      pickedFiles: pickedFiles === undefined ? s.pickedFiles : pickedFiles,
    })),
  loadCancelled: () => set({ loading: null }),
  pauseRequested: () => set((s) => (s.status === 'running' ? { status: 'pausing' } : {})),
  starting: () =>
    set((s) => ({
      status: 'starting',
      formErrors: {},
      errors: s.errors.filter((e) => e.phase !== 'start' && e.phase !== 'train'),
    })),
  queryRequested: (kind) =>
    set((s) => ({
      retrieval: {
        ...s.retrieval,
        pending: { ...s.retrieval.pending, [kind]: true },
        errors: { ...s.retrieval.errors, [kind]: undefined },
      },
    })),
  setQueryError: (kind, message) =>
    set((s) => ({
      retrieval: { ...s.retrieval, errors: { ...s.retrieval.errors, [kind]: message ?? undefined } },
    })),
  openRequested: (runId) => set({ openingRunId: runId, runsError: null }),
  exportRequested: (runId) => set({ exportingRunId: runId, runsError: null }),
  exportFinished: () => set({ exportingRunId: null }),
  importRequested: () => set({ importing: true, runsError: null }),
  setRunsError: (runsError) => set({ runsError, importing: false }),
  dismissNotice: (id) => set((s) => ({ notices: s.notices.filter((n) => n.id !== id) })),
  dismissError: (id) => set((s) => ({ errors: s.errors.filter((n) => n.id !== id) })),
}));

// ---------------------------------------------------------------------------------------------
// Selectors

/** Runs retrieval can use right now: live runs of the worker and the opened stored run. */
export function queryableRunIds(s: Pick<UiState, 'runs' | 'openedRunId'>): string[] {
  const ids = Object.values(s.runs)
    .filter((r) => r.live)
    .map((r) => r.id);
  if (s.openedRunId && !ids.includes(s.openedRunId)) ids.push(s.openedRunId);
  return ids;
}

/** The similarity measure of a run (live, opened or stored), when known. */
export function runMeasure(
  s: Pick<UiState, 'runs' | 'stored'>,
  runId: string | null | undefined,
): Measure | null {
  if (!runId) return null;
  return s.runs[runId]?.model?.measure ?? s.stored.find((r) => r.id === runId)?.measure ?? null;
}

/** Display names of the charted runs: their labels, made unique with a suffix when two collide. */
export function seriesNames(runs: readonly { id: string; label: string }[]): Map<string, string> {
  const names = new Map<string, string>();
  const used = new Set<string>();
  for (const r of runs) {
    let name = r.label || r.id;
    for (let k = 2; used.has(name); k++) name = `${r.label || r.id} (${k})`;
    used.add(name);
    names.set(r.id, name);
  }
  return names;
}

/** A run is active in the worker (the form is locked and datasets can't be switched). */
export const isRunActive = (s: Status): boolean => s === 'starting' || isTraining(s);

/** A session is in the worker: training, pausing or paused. */
function isTraining(s: Status): boolean {
  return s === 'running' || s === 'pausing' || s === 'paused';
}

/** Start is possible: the worker is up, a dataset is loaded and nothing is training. */
export const canStart = (s: Pick<UiState, 'status' | 'dataset' | 'loading'>): boolean =>
  (s.status === 'ready' || s.status === 'done' || s.status === 'stopped') &&
  s.dataset !== null &&
  s.loading === null;

// ---------------------------------------------------------------------------------------------
// Form parsing

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
