/**
 * The types that cross between the UI thread and the training worker. The UI calls the worker's typed
 * api (`WorkerApi`, ./adapter.ts: the `WorkerService` methods, through Comlink) with the arguments
 * defined here, and receives `WorkerEvent`s through the callback it connected. Both sides compile from
 * these types, so nothing checks them at run time; data from outside (imported files, stored records)
 * is validated where it is read. Large arrays (thumbnail pixels, exported weights) travel as
 * transferables.
 */
import type { RunLogEntry } from '../model/export';
import type { MatMulBuild } from '../model/kernels/matmul-choice';
import type { ModelConfig, TrainConfig } from '../model/types';
import type { PhotosEvent } from './photos-protocol';

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

/** One of the runs a `start` call trains; two runs differ only in their options (compare). */
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

/**
 * A loss point of a progress event: a learning-curve entry ({@link RunLogEntry}) cut to its step and loss.
 * Progress events carry every step's point ~10 times a second; the epoch and the seconds are the same for
 * all the points of one event (the event carries them once), so the points stay this small.
 */
export type LossPoint = Pick<RunLogEntry, 'step' | 'loss'>;

/**
 * One evaluation of a run as the 'metrics' event posts it: the fields it sets on the curve's entry of its
 * step (its loss came with a progress event). `dev` holds the metrics of the evaluation split (dev, or
 * train when the dataset has no dev split); `seconds`: the run's own training time so far.
 */
export type EvalPoint = Pick<RunLogEntry, 'step' | 'seconds' | 'devTrained'> &
  Required<Pick<RunLogEntry, 'dev'>>;

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
  /**
   * The learning curve, in step order: an entry per trained step (thinned on long runs, never an entry
   * with metrics), `dev` set on the entries of the evaluated steps (an evaluation before any step has a
   * NaN loss). The same entries a run folder's metrics.json holds.
   */
  history: RunLogEntry[];
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
// worker -> UI

export type WorkerEvent =
  /**
   * The backend is set up. `reason` says why this backend (auto-selection, request, fallback...). On
   * wasm, `threads` is its thread count and `threadsWhy` says why it runs single-threaded when more
   * threads were wanted (not cross-origin isolated, no SharedArrayBuffer, the threads did not start);
   * `matMul` names the build of our matMul kernel where it multiplies (wasm's single-threaded build;
   * ../model/kernels/matmul-host.ts), absent where tfjs's XNNPACK does.
   */
  | {
      type: 'ready';
      backend: BackendName;
      reason: string;
      threads?: number;
      threadsWhy?: string;
      matMul?: MatMulBuild;
    }
  | { type: 'datasetProgress'; phase: string; done: number; total: number; imagesPerSec: number }
  | { type: 'datasetLoaded'; dataset: DatasetInfo }
  /** The runs of a `start` call began; carries the fully resolved configs. */
  | {
      type: 'started';
      /** `resumed`: a stored run continued from its checkpoint (its curves up to there). */
      runs: { id: string; label: string; model: ModelConfig; train: TrainConfig; resumed?: StoredRun }[];
      dataset: string;
      evalSplit: 'dev' | 'train';
    }
  /** Training progress, at most ~10 events a second, one entry per run. */
  | { type: 'progress'; runs: RunProgress[] }
  | { type: 'metrics'; runId: string; split: 'dev' | 'train'; point: EvalPoint; ms: number }
  | { type: 'paused'; step: number }
  | { type: 'resumed'; step: number }
  /** The runs reached `maxSteps`. */
  | { type: 'done'; step: number }
  /** The runs were disposed; the worker is ready for a new `start`. */
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

/** Longest query the worker accepts (characters): the caption codec's rule, which refuses longer ones. */
export { MAX_QUERY_CHARS } from '../model/caption-codec';

/** Whether `v` names a backend (the Backend menu's value, a test's query string). */
export function isBackendName(v: unknown): v is BackendName {
  return typeof v === 'string' && (BACKENDS as readonly string[]).includes(v);
}

export function isBackendChoice(v: unknown): v is BackendChoice {
  return v === 'auto' || isBackendName(v);
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
