/**
 * The training worker as one object: `WorkerService` holds all of the worker's state and its methods are
 * the protocol (load a dataset, start, pause, resume, retrieve, list / open / export runs, ...), which
 * ./adapter.ts exposes to the UI with Comlink, argument types in ./protocol.ts. What it has to say
 * travels as `WorkerEvent`s through the host's `post` (progress, metrics, results, errors); a method that
 * fails rejects, and its caller (the UI, through Comlink, or a test) reports it under the call's error
 * phase.
 *
 * It is split by concern, each part owning its own state and reached through this object:
 * - ./backend.ts: the tfjs backend (auto choice, fallbacks, a lost WebGPU device);
 * - this file: the loaded dataset (load, cancelled by the caller's AbortSignal) and the hierarchy mode;
 * - ./session.ts: the training session (start, pause, resume, reset, evaluations, checkpoints);
 * - ./queries.ts: retrieval (rank captions, search images, compare sentences, the user's photos);
 * - ./library.ts: the run library (list, open, rename, delete, export, import stored runs).
 *
 * Nothing here touches `self`: the worker script (./worker.ts) supplies `post` and the page's base URL,
 * and Node tests drive the service directly (the run store keeps runs in memory there).
 */
import { loadDatasetSource, type LoadedDataset } from './datasets';
import {
  errorMessage,
  type BackendChoice,
  type DatasetSource,
  type ErrorPhase,
  type StartOptions,
  type WorkerEvent,
} from './protocol';
import type { GalleryLoadArgs, GallerySearchArgs, RankPhotosArgs } from './photos-protocol';
import { RunStore, type RunFilesRecord } from './run-store';
import { checkLoadedDataset, checkSourceLimits } from './source-limits';
import { startHierarchy, stopHierarchy } from './hierarchy';
import { Backend } from './backend';
import type { MatMulChoice } from '../model/kernels/matmul-choice';
import { Training } from './session';
import { Queries } from './queries';
import { RunLibrary } from './library';

const LOAD_CANCELLED = 'Loading the dataset was cancelled: the previous dataset stays.';

/** What the service needs from where it runs. */
export interface ServiceHost {
  /** Sends an event to the UI; `transfer`: buffers handed over, not copied. */
  post(event: WorkerEvent, transfer?: Transferable[]): void;
  /** The page's base URL (packs, the scenes pack, the starter and WordNet are fetched relative to it). */
  baseUrl(): string;
  /** Where runs are stored (default: the IndexedDB store, in memory without IndexedDB). */
  store?: RunStore;
}

export class WorkerService {
  readonly store: RunStore;
  readonly backend = new Backend(this);
  readonly training = new Training(this);
  readonly queries = new Queries(this);
  readonly library = new RunLibrary(this);
  /** The dataset runs train on and queries search. */
  loaded: LoadedDataset | null = null;
  private loadAbort: AbortController | null = null;
  /** Bumped by every start/reset/load, so that work still awaiting something can tell it is stale. */
  generation = 0;

  constructor(private readonly host: ServiceHost) {
    this.store = host.store ?? new RunStore();
  }

  post(event: WorkerEvent, transfer: Transferable[] = []): void {
    this.host.post(event, transfer);
  }

  fail(phase: ErrorPhase, e: unknown): void {
    this.post({ type: 'error', phase, message: errorMessage(e) });
  }

  notice(message: string): void {
    this.post({ type: 'notice', message });
  }

  baseUrl(): string {
    return this.host.baseUrl();
  }

  // -------------------------------------------------------------------------------------------
  // Backend

  /**
   * Picks the tfjs backend ('ready' or an 'init' error follows). `wasmPath`: the absolute URL prefix of
   * the tfjs .wasm binaries; `threads` caps the wasm backend's threads (undefined: one per core);
   * `matMul` picks the single-threaded wasm build's matMul kernel (undefined: ours, ../model/backend.ts).
   */
  init(backend: BackendChoice, wasmPath: string, threads?: number, matMul?: MatMulChoice): Promise<boolean> {
    return this.backend.init(backend, wasmPath, threads, matMul);
  }

  // -------------------------------------------------------------------------------------------
  // Datasets

  /**
   * Loads a dataset ('datasetLoaded'); its failures are posted under 'dataset'. `signal` cancels it
   * (downloads stop at once, feature extraction between batches): a notice says so and the previous
   * dataset stays. A newer load cancels this one too.
   */
  async loadDataset(source: DatasetSource, signal?: AbortSignal): Promise<void> {
    if (!(await this.backend.ensure())) return;
    if (signal?.aborted) {
      this.notice(LOAD_CANCELLED);
      return;
    }
    this.loadAbort?.abort();
    const abort = new AbortController();
    this.loadAbort = abort;
    const onAbort = () => abort.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const gen = ++this.generation;
    try {
      checkSourceLimits(source); // before anything is rendered, read or allocated
      const result = await loadDatasetSource(source, {
        baseUrl: this.baseUrl(),
        signal: abort.signal,
        onProgress: (phase, done, total, imagesPerSec) =>
          this.post({ type: 'datasetProgress', phase, done, total, imagesPerSec }),
      });
      if (gen !== this.generation) return;
      if (abort.signal.aborted) {
        this.notice(LOAD_CANCELLED); // after its last chunk
        return;
      }
      checkLoadedDataset(result);
      // Runs trained on the previous dataset cannot go on with another one.
      await this.training.stop('stopped');
      this.queries.forgetAll();
      this.loaded = result;
      this.post({ type: 'datasetLoaded', dataset: result.info });
    } catch (e) {
      if ((e as Error).name === 'AbortError')
        this.notice(`Loading the dataset was cancelled: ${errorMessage(e)}`);
      else this.fail('dataset', e);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (this.loadAbort === abort) this.loadAbort = null;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Training (./session.ts)

  /** Trains `options.runs` on the loaded dataset, taking turns step by step, until paused/reset/maxSteps. */
  start(options: StartOptions): Promise<void> {
    return this.training.start(options);
  }

  /** Pauses the runs ('paused'); resolves once their weights and records are stored. */
  pause(): Promise<void> {
    return this.training.pause();
  }

  resume(): void {
    this.training.resume();
  }

  /** Stops and disposes the current runs (they stay stored); the dataset stays loaded. */
  reset(): Promise<void> {
    return this.training.reset();
  }

  /** Evaluates every current run now. */
  evaluate(): void {
    this.training.evaluate();
  }

  /** Continues a stored run from its last checkpoint on the loaded dataset (after a reload or crash). */
  resumeRun(runId: string): Promise<void> {
    return this.training.resumeStored(runId);
  }

  /** Stores a checkpoint of the training runs now (the page is being hidden or closed). */
  checkpointNow(): Promise<void> {
    return this.training.checkpointNow();
  }

  // -------------------------------------------------------------------------------------------
  // Retrieval (./queries.ts)

  /** Ranks the dataset's captions (dev split, or all) for an uploaded photo ('captionRanking'). */
  rankCaptions(runId: string, image: Blob, name: string, limit: number): Promise<void> {
    return this.queries.rankCaptions(runId, image, name, limit);
  }

  /** Ranks the dataset's images (dev split, or all) for a sentence ('imageResults'). */
  searchImages(runId: string, query: string, limit: number): Promise<void> {
    return this.queries.searchImages(runId, query, limit);
  }

  /** Which of two sentences is more general: E(a, b) and E(b, a) ('generality'). */
  compareSentences(runId: string, a: string, b: string): Promise<void> {
    return this.queries.compareSentences(runId, a, b);
  }

  // The starter model and retrieval on the user's own photos (./photos.ts, ./photos-protocol.ts): each
  // posts 'photos' events, and a failure is the 'failed' event of its query, not a rejection.

  /** Loads the starter model and its caption bank (once; the backend's set-up already asks for it). */
  loadStarter(): Promise<void> {
    return this.queries.loadStarter();
  }

  /** Ranks candidate captions for the user's photos ('rankProgress', 'ranked'). */
  rankPhotos(args: RankPhotosArgs): Promise<void> {
    return this.queries.rankPhotos(args);
  }

  /**
   * Encodes a folder of photos into the gallery ('galleryProgress', 'galleryLoaded'). `signal` cancels
   * it (a newer folder too): the photos encoded so far stay cached, and the 'failed' event says how many.
   */
  loadGallery(args: GalleryLoadArgs, signal?: AbortSignal): Promise<void> {
    return this.queries.loadGallery(args, signal);
  }

  /** Searches the gallery by sentence ('searchResults'). */
  searchGallery(args: GallerySearchArgs): Promise<void> {
    return this.queries.searchGallery(args);
  }

  // -------------------------------------------------------------------------------------------
  // Stored runs (./library.ts)

  /** Posts the stored runs ('runs'); a failure is posted under 'runs'. */
  listRuns(): Promise<void> {
    return this.library.list();
  }

  /** Makes a stored run (e.g. after a reload) the one retrieval uses ('runOpened'). */
  openRun(runId: string): Promise<void> {
    return this.library.open(runId);
  }

  exportRun(runId: string): Promise<void> {
    return this.library.export(runId);
  }

  importRun(files: RunFilesRecord, label: string): Promise<void> {
    return this.library.import(files, label);
  }

  renameRun(runId: string, label: string): Promise<void> {
    return this.library.rename(runId, label);
  }

  deleteRun(runId: string): Promise<void> {
    return this.library.delete(runId);
  }

  // -------------------------------------------------------------------------------------------
  // Hierarchy mode (./hierarchy.ts)

  /** Trains 2-D order embeddings of the WordNet noun subtree below `root` live, until stopped. */
  async hierarchyStart(root: string, maxNodes: number): Promise<void> {
    if (!(await this.backend.ensure())) return;
    await startHierarchy(root, maxNodes, this.baseUrl(), (e, t) => this.post(e, t));
  }

  hierarchyStop(): void {
    stopHierarchy((e) => this.post(e));
  }
}
