/**
 * The one message protocol between the UI thread and the training worker.
 *
 * Every message is a plain, structured-cloneable object with a `type` discriminant. The UI sends
 * `WorkerRequest`s and receives `WorkerEvent`s; nothing else crosses the boundary. Large arrays
 * (thumbnail pixels, exported weights) travel as transferables.
 */
import type { EvalMetrics, ModelConfig, TrainConfig } from '../model/types';
import { isPhotosEvent, isPhotosRequest, type PhotosEvent, type PhotosRequest } from './photos-protocol';

/** tfjs backends the playground can run on. */
export const BACKENDS = ['webgpu', 'wasm', 'webgl', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];
/** 'auto': a hardware WebGPU adapter, else wasm (also on software WebGPU adapters), else webgl, else cpu. */
export type BackendChoice = 'auto' | BackendName;
export const DEFAULT_BACKEND: BackendChoice = 'auto';

/** An image encoder: a built-in preset id, or a model.json URL. */
export type EncoderChoice = { preset: string } | { url: string };

/** A file of a picked folder: its path inside the folder (e.g. `Images/1.jpg`) and its contents. */
export interface PickedFile {
  path: string;
  file: Blob;
}

/** Where a dataset comes from. */
export type DatasetSource =
  /** Random features with captions at several levels of detail (tests, quick checks). */
  | { kind: 'synthetic'; numImages?: number; seed?: number }
  /**
   * The built-in captioned scenes: the prebuilt pack shipped under `scenes/` when it is current, else
   * rendered and encoded in the worker (default encoder; cached in IndexedDB). `numImages` other than
   * the default always renders.
   */
  | { kind: 'scenes'; numImages?: number }
  /** A feature pack folder served over HTTP (manifest.json, features.bin, thumbs/), e.g. `packs/flickr8k-...`. */
  | { kind: 'pack'; url: string }
  /** A folder in the Flickr8k layout picked or dropped by the user; features computed in the worker. */
  | { kind: 'folder'; name: string; files: PickedFile[]; encoder: EncoderChoice; crops?: 1 | 10 };

export type DatasetKind = DatasetSource['kind'];

/** What the UI shows about the loaded dataset. */
export interface DatasetInfo {
  kind: DatasetKind;
  name: string;
  numImages: number;
  numCaptions: number;
  imageDim: number;
  /** Images per split (absent split lists are absent here). */
  splits: Record<string, number>;
  /** Image-encoder preset id of the features (null: synthetic). */
  encoder: string | null;
  /**
   * How the UI gets a thumbnail of image i: 'url' (`${thumbBase}/thumbs/<i>.jpg`), 'inline' (pixels in
   * each result), 'file' (the picked file `imagePaths[i]`), or 'none'.
   */
  thumbs: 'url' | 'inline' | 'file' | 'none';
  thumbBase?: string;
  /** With thumbs 'file': each image's path in the picked folder. */
  imagePaths?: string[];
  /** Things that went wrong but did not stop the load (failed photos, dropped caption lines). */
  warnings: string[];
  /** What the user should know that is not a problem (e.g. splits made by file name). */
  notes?: string[];
}

/** One of the runs a 'start' trains; two runs differ only in their options (compare). */
export interface RunSpec {
  id: string;
  label: string;
  model: Partial<ModelConfig>;
  train: Partial<TrainConfig>;
}

export interface StartOptions {
  runs: RunSpec[];
  /** Evaluate on the dev split every this many steps (and once before the first step). */
  evalEvery: number;
  /** Stop by itself after this many steps; 0 trains until paused or reset. */
  maxSteps: number;
  /** Evaluate on at most this many images (keeps evaluation quick on large splits); 0: all. */
  evalImages: number;
  /** Seconds between checkpoints of the training runs in IndexedDB (default 5). */
  checkpointSeconds?: number;
}

export interface LossPoint {
  step: number;
  loss: number;
}

/** One evaluation of a run. `seconds`: the run's own training time so far (evaluations excluded). */
export interface MetricPoint {
  step: number;
  seconds: number;
  metrics: EvalMetrics;
}

export interface RunProgress {
  runId: string;
  step: number;
  epoch: number;
  loss: number;
  seconds: number;
  pairsPerSec: number;
  /** Every (step, loss) since the previous progress event, so the chart misses nothing. */
  points: LossPoint[];
}

/** A run as stored in IndexedDB (weights aside): enough to redraw its charts after a reload. */
export interface StoredRun {
  id: string;
  label: string;
  createdAt: string;
  dataset: string;
  encoder: string | null;
  model: ModelConfig;
  train: TrainConfig;
  step: number;
  epoch: number;
  seconds: number;
  state: 'running' | 'paused' | 'done' | 'stopped' | 'imported';
  loss: LossPoint[];
  evals: MetricPoint[];
  /** The step of the run's last checkpoint in IndexedDB (it can be resumed from there), if any. */
  checkpointStep?: number;
}

/** A stored run record that failed validation: its key and why (listed, never hiding the others). */
export interface DamagedRun {
  id: string;
  reason: string;
}

/** How much this site stores and may store (navigator.storage.estimate), and whether it persists. */
export interface StorageUse {
  usedBytes: number;
  quotaBytes: number;
  persisted: boolean;
}

/** Pixels of a thumbnail (RGBA). */
export interface Thumb {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

export interface RankedCaption {
  caption: number;
  image: number;
  text: string;
  /** Higher is better: -E (order-violation energy) for order runs, cosine similarity for cosine runs. */
  score: number;
}

export interface ImageHit {
  image: number;
  name: string;
  score: number;
  thumb?: Thumb;
}

export type ErrorPhase =
  | 'init'
  | 'dataset'
  | 'start'
  | 'train'
  | 'eval'
  | 'rank'
  | 'search'
  | 'generality'
  | 'export'
  | 'import'
  | 'runs'
  | 'hierarchy'
  | 'message';

// ---------------------------------------------------------------------------------------------
// UI -> worker

export type WorkerRequest =
  /**
   * Pick the tfjs backend. `wasmPath` is the absolute URL prefix of the tfjs .wasm binaries; `threads`
   * caps the wasm backend's threads (default: one per core; 1: the single-threaded build).
   */
  | { type: 'init'; backend: BackendChoice; wasmPath: string; threads?: number }
  | { type: 'loadDataset'; source: DatasetSource }
  /** Cancels a dataset load in progress (feature extraction stops between batches). */
  | { type: 'cancelLoad' }
  /** Trains `runs` on the loaded dataset, taking turns step by step, until paused/reset/maxSteps. */
  | { type: 'start'; options: StartOptions }
  | { type: 'pause' }
  | { type: 'resume' }
  /** Stops and disposes the current runs (they stay stored); the dataset stays loaded. */
  | { type: 'reset' }
  /** Evaluates every current run now. */
  | { type: 'evaluate' }
  /** Ranks the dataset's captions (dev split, or all) for an uploaded photo. */
  | { type: 'rankCaptions'; runId: string; image: Blob; name: string; limit: number }
  /** Ranks the dataset's images (dev split, or all) for a sentence. */
  | { type: 'searchImages'; runId: string; query: string; limit: number }
  /** Which of two sentences is more general: E(a, b) and E(b, a). */
  | { type: 'compareSentences'; runId: string; a: string; b: string }
  | { type: 'exportRun'; runId: string }
  | { type: 'importRun'; files: Record<string, string | ArrayBuffer>; label: string }
  | { type: 'listRuns' }
  /** Makes a stored run (e.g. after a reload) the one retrieval uses. */
  | { type: 'openRun'; runId: string }
  | { type: 'deleteRun'; runId: string }
  /** Renames a stored run. */
  | { type: 'renameRun'; runId: string; label: string }
  /** Continues a stored run from its last checkpoint on the loaded dataset (after a reload or crash). */
  | { type: 'resumeRun'; runId: string }
  /** Stores a checkpoint of the training runs now (the page is being hidden or closed). */
  | { type: 'checkpointNow' }
  /**
   * Hierarchy mode: trains 2-D order embeddings of the WordNet noun subtree below `root` (e.g.
   * `mammal.n.01`) live, until 'hierarchyStop' or another 'hierarchyStart'.
   */
  | { type: 'hierarchyStart'; root: string; maxNodes: number }
  | { type: 'hierarchyStop' }
  /** The starter model and retrieval on the user's own photos (./photos-protocol.ts). */
  | { type: 'photos'; request: PhotosRequest };

// ---------------------------------------------------------------------------------------------
// worker -> UI

export type WorkerEvent =
  /**
   * The backend is set up. `reason` says why this backend (auto-selection, request, fallback...). On
   * wasm, `threads` is its thread count and `threadsWhy` says why it runs single-threaded when more
   * threads were wanted (not cross-origin isolated, no SharedArrayBuffer, the threads did not start).
   */
  | { type: 'ready'; backend: BackendName; reason: string; threads?: number; threadsWhy?: string }
  | { type: 'datasetProgress'; phase: string; done: number; total: number; imagesPerSec: number }
  | { type: 'datasetLoaded'; dataset: DatasetInfo }
  /** The runs of a 'start' began; carries the fully resolved configs. */
  | {
      type: 'started';
      /** `resumed`: a stored run continued from its checkpoint (its curves up to there). */
      runs: { id: string; label: string; model: ModelConfig; train: TrainConfig; resumed?: StoredRun }[];
      dataset: string;
      evalSplit: 'dev' | 'train';
    }
  /** Training progress, at most ~10 events a second, one entry per run. */
  | { type: 'progress'; runs: RunProgress[] }
  | { type: 'metrics'; runId: string; split: 'dev' | 'train'; point: MetricPoint; ms: number }
  | { type: 'paused'; step: number }
  | { type: 'resumed'; step: number }
  /** The runs reached `maxSteps`. */
  | { type: 'done'; step: number }
  /** The runs were disposed; the worker is ready for a new 'start'. */
  | { type: 'reset' }
  | { type: 'captionRanking'; runId: string; name: string; items: RankedCaption[]; total: number }
  | {
      type: 'imageResults';
      runId: string;
      query: string;
      items: ImageHit[];
      total: number;
      unknown: string[];
    }
  | {
      type: 'generality';
      runId: string;
      a: string;
      b: string;
      /** E(a, b): how much a violates "b is more general than a"... see generalityVerdict. */
      eAB: number;
      eBA: number;
      verdict: 'a-more-general' | 'b-more-general' | 'equivalent' | 'unrelated' | 'not-order';
      /** Words of either sentence that are not in the model's vocabulary. */
      unknown?: string[];
    }
  | { type: 'exported'; runId: string; files: Record<string, string | ArrayBuffer> }
  /** The stored runs that passed validation, the records that did not, and the storage use. */
  | { type: 'runs'; runs: StoredRun[]; damaged?: DamagedRun[]; storage?: StorageUse | null }
  /** A stored or imported run is ready for retrieval. */
  | { type: 'runOpened'; run: StoredRun }
  /** The subtree to draw: node names, every node's ancestors (closure) and the direct is-a edges. */
  | {
      type: 'hierarchyLoaded';
      root: string;
      names: string[];
      ancestors: number[][];
      edges: [number, number][];
      pairs: number;
      source: string;
    }
  /** Current 2-D positions (xy interleaved, one pair per node) after `step` steps. */
  | { type: 'hierarchyProgress'; step: number; loss: number; xy: Float32Array; violations: number }
  | { type: 'hierarchyStopped'; step: number }
  /** Something the user should know that is not an error (a fallback, a recovery). */
  | { type: 'notice'; message: string }
  | { type: 'error'; message: string; phase: ErrorPhase }
  /** The starter model and retrieval on the user's own photos (./photos-protocol.ts). */
  | { type: 'photos'; event: PhotosEvent };

export type WorkerRequestType = WorkerRequest['type'];
export type WorkerEventType = WorkerEvent['type'];

/** Longest query the worker accepts (characters): the caption codec's rule, which refuses longer ones. */
export { MAX_QUERY_CHARS } from '../model/caption-codec';

// ---------------------------------------------------------------------------------------------
// Type guards. They check the discriminant and the fields each message type needs, which is enough
// to reject stray messages (e.g. from browser extensions or dev tooling).

type Rec = Record<string, unknown>;

const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && !Number.isNaN(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isSplit = (v: unknown): v is 'dev' | 'train' => v === 'dev' || v === 'train';
const isBlob = (v: unknown): boolean => typeof Blob !== 'undefined' && v instanceof Blob;

export function isBackendName(v: unknown): v is BackendName {
  return typeof v === 'string' && (BACKENDS as readonly string[]).includes(v);
}

export function isBackendChoice(v: unknown): v is BackendChoice {
  return v === 'auto' || isBackendName(v);
}

function isRecall(v: unknown): boolean {
  return isRec(v) && ['r1', 'r5', 'r10', 'medr', 'meanr'].every((k) => isNum(v[k]));
}

export function isEvalMetrics(v: unknown): v is EvalMetrics {
  return isRec(v) && isRecall(v.i2t) && isRecall(v.t2i) && isNum(v.rsum);
}

function isEncoderChoice(v: unknown): v is EncoderChoice {
  return isRec(v) && (isStr(v.preset) || isStr(v.url));
}

function isDatasetSource(v: unknown): v is DatasetSource {
  if (!isRec(v)) return false;
  switch (v.kind) {
    case 'synthetic':
    case 'scenes':
      return true;
    case 'pack':
      return isStr(v.url);
    case 'folder':
      return (
        isStr(v.name) &&
        Array.isArray(v.files) &&
        v.files.every((f) => isRec(f) && isStr(f.path) && isBlob(f.file)) &&
        isEncoderChoice(v.encoder)
      );
    default:
      return false;
  }
}

function isRunSpec(v: unknown): v is RunSpec {
  return isRec(v) && isStr(v.id) && isStr(v.label) && isRec(v.model) && isRec(v.train);
}

function isStartOptions(v: unknown): v is StartOptions {
  return (
    isRec(v) &&
    Array.isArray(v.runs) &&
    v.runs.length >= 1 &&
    v.runs.every(isRunSpec) &&
    isNum(v.evalEvery) &&
    v.evalEvery >= 1 &&
    isNum(v.maxSteps) &&
    v.maxSteps >= 0 &&
    isNum(v.evalImages) &&
    v.evalImages >= 0
  );
}

function isMetricPoint(v: unknown): v is MetricPoint {
  return isRec(v) && isNum(v.step) && isNum(v.seconds) && isEvalMetrics(v.metrics);
}

function isStoredRun(v: unknown): v is StoredRun {
  return (
    isRec(v) &&
    isStr(v.id) &&
    isStr(v.label) &&
    isRec(v.model) &&
    isRec(v.train) &&
    isNum(v.step) &&
    Array.isArray(v.loss) &&
    Array.isArray(v.evals) &&
    v.evals.every(isMetricPoint)
  );
}

const isFiles = (v: unknown): boolean =>
  isRec(v) && Object.values(v).every((x) => isStr(x) || x instanceof ArrayBuffer);

const requestCheckers: { [K in WorkerRequestType]: (m: Rec) => boolean } = {
  init: (m) =>
    isBackendChoice(m.backend) &&
    isStr(m.wasmPath) &&
    (m.threads === undefined || (Number.isInteger(m.threads) && (m.threads as number) >= 1)),
  loadDataset: (m) => isDatasetSource(m.source),
  cancelLoad: () => true,
  start: (m) => isStartOptions(m.options),
  pause: () => true,
  resume: () => true,
  reset: () => true,
  evaluate: () => true,
  rankCaptions: (m) => isStr(m.runId) && isBlob(m.image) && isStr(m.name) && isNum(m.limit),
  searchImages: (m) => isStr(m.runId) && isStr(m.query) && isNum(m.limit),
  compareSentences: (m) => isStr(m.runId) && isStr(m.a) && isStr(m.b),
  exportRun: (m) => isStr(m.runId),
  importRun: (m) => isFiles(m.files) && isStr(m.label),
  listRuns: () => true,
  openRun: (m) => isStr(m.runId),
  deleteRun: (m) => isStr(m.runId),
  renameRun: (m) => isStr(m.runId) && isStr(m.label),
  resumeRun: (m) => isStr(m.runId),
  checkpointNow: () => true,
  hierarchyStart: (m) => isStr(m.root) && isNum(m.maxNodes) && m.maxNodes >= 2,
  hierarchyStop: () => true,
  photos: (m) => isPhotosRequest(m.request),
};

const eventCheckers: { [K in WorkerEventType]: (m: Rec) => boolean } = {
  ready: (m) =>
    isBackendName(m.backend) &&
    isStr(m.reason) &&
    (m.threads === undefined || isNum(m.threads)) &&
    (m.threadsWhy === undefined || isStr(m.threadsWhy)),
  datasetProgress: (m) => isStr(m.phase) && isNum(m.done) && isNum(m.total) && isNum(m.imagesPerSec),
  datasetLoaded: (m) => isRec(m.dataset) && isStr(m.dataset.name) && isNum(m.dataset.numImages),
  started: (m) =>
    Array.isArray(m.runs) &&
    m.runs.every(
      (r) =>
        isRec(r) &&
        isStr(r.id) &&
        isRec(r.model) &&
        isRec(r.train) &&
        (r.resumed === undefined || isStoredRun(r.resumed)),
    ) &&
    isStr(m.dataset) &&
    isSplit(m.evalSplit),
  progress: (m) =>
    Array.isArray(m.runs) &&
    m.runs.every(
      (r) =>
        isRec(r) &&
        isStr(r.runId) &&
        isNum(r.step) &&
        typeof r.loss === 'number' &&
        isNum(r.pairsPerSec) &&
        Array.isArray(r.points),
    ),
  metrics: (m) => isStr(m.runId) && isSplit(m.split) && isMetricPoint(m.point) && isNum(m.ms),
  paused: (m) => isNum(m.step),
  resumed: (m) => isNum(m.step),
  done: (m) => isNum(m.step),
  reset: () => true,
  captionRanking: (m) => isStr(m.runId) && isStr(m.name) && Array.isArray(m.items) && isNum(m.total),
  imageResults: (m) =>
    isStr(m.runId) && isStr(m.query) && Array.isArray(m.items) && isNum(m.total) && Array.isArray(m.unknown),
  generality: (m) =>
    isStr(m.runId) && isStr(m.a) && isStr(m.b) && isNum(m.eAB) && isNum(m.eBA) && isStr(m.verdict),
  exported: (m) => isStr(m.runId) && isFiles(m.files),
  runs: (m) =>
    Array.isArray(m.runs) &&
    m.runs.every(isStoredRun) &&
    (m.damaged === undefined ||
      (Array.isArray(m.damaged) && m.damaged.every((d) => isRec(d) && isStr(d.id) && isStr(d.reason)))),
  runOpened: (m) => isStoredRun(m.run),
  hierarchyLoaded: (m) =>
    isStr(m.root) &&
    Array.isArray(m.names) &&
    Array.isArray(m.ancestors) &&
    m.ancestors.length === m.names.length &&
    Array.isArray(m.edges) &&
    isNum(m.pairs),
  hierarchyProgress: (m) =>
    isNum(m.step) && typeof m.loss === 'number' && m.xy instanceof Float32Array && isNum(m.violations),
  hierarchyStopped: (m) => isNum(m.step),
  notice: (m) => isStr(m.message),
  error: (m) => isStr(m.message) && isStr(m.phase),
  photos: (m) => isPhotosEvent(m.event),
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

/** Which of two sentences is more general (the verdict and its thresholds live with the calibration). */
export { generalityVerdict } from '../model/calibration';
