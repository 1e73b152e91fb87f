/**
 * The connection to the training worker from the UI side: spawns it, calls its typed api (Comlink,
 * ../worker/adapter.ts), feeds its events into the store, reports a call that fails under the call's error
 * phase, and replaces a crashed or silent worker (once by itself, then on the user's request), calling
 * `init` again and re-loading the last dataset (each load with its own AbortSignal, which Cancel
 * aborts). The user's actions, which validate input before calling the worker, are in ./client.ts.
 */
import * as Comlink from 'comlink';
import { MATMUL_CHOICES, type MatMulChoice } from '../model/kernels/matmul-choice';
import { useUiStore } from './store';
import { saveBlob } from './files';
import { applyPhotosEvent, workerReplaced } from './retrieve/photos-store';
import type { ServiceMethod, WorkerApi } from '../worker/adapter';
import type { PhotosQuery } from '../worker/photos-protocol';
import {
  errorMessage,
  type DatasetSource,
  type ErrorPhase,
  type PickedFile,
  type WorkerEvent,
} from '../worker/protocol';

/**
 * A spawned worker as the client uses it: its typed api (the Comlink wrapper of `spawnTrainingWorker`,
 * or a test's stand-in) and the parts of `Worker` that tell of a crash.
 */
export interface WorkerLike {
  readonly api: WorkerApi;
  terminate(): void;
  onerror: ((event: ErrorEvent) => void) | null;
  onmessageerror: ((event: MessageEvent) => void) | null;
}

/**
 * How a failing call is reported: under an error phase, or, for the own-photos calls, as the 'failed'
 * event of their query (which ends that query's progress and shows the message where its results go,
 * as the worker's own failures of it do).
 */
const CALL_PHASE: Record<ServiceMethod, ErrorPhase | { photos: PhotosQuery }> = {
  init: 'init',
  loadDataset: 'dataset',
  start: 'start',
  pause: 'runs',
  resume: 'train',
  reset: 'runs',
  evaluate: 'eval',
  resumeRun: 'start',
  checkpointNow: 'train',
  rankCaptions: 'rank',
  searchImages: 'search',
  compareSentences: 'generality',
  loadStarter: { photos: 'starter' },
  rankPhotos: { photos: 'rank' },
  loadGallery: { photos: 'gallery' },
  searchGallery: { photos: 'search' },
  listRuns: 'runs',
  openRun: 'runs',
  exportRun: 'export',
  importRun: 'import',
  renameRun: 'runs',
  deleteRun: 'runs',
  hierarchyStart: 'hierarchy',
  hierarchyStop: 'hierarchy',
};

type Store = typeof useUiStore;

export interface ClientOptions {
  store?: Store;
  /** The dataset loaded as soon as the first worker is ready (the built-in scenes by default). */
  initialSource?: DatasetSource | null;
  /** How many times a crashed worker is replaced without asking (default 1). */
  autoRestarts?: number;
  /** The wasm backend's thread count (default: `?threads=N` in the page URL, else one per core). */
  threads?: number;
  /** The single-threaded wasm build's matMul kernel (default: `?matmul=` in the page URL, else ours). */
  matMul?: MatMulChoice;
  /** Saves a download; tests capture it. */
  save?: (name: string, data: Blob) => void;
  /** Base URL that pack URLs are relative to (the page's base). */
  baseUrl?: () => string;
  /**
   * After Start or Resume, a worker that sends nothing for this long is taken as gone (a worker killed
   * for memory may exit without an error event) and replaced as after a crash. Default 60 s.
   */
  silentWorkerMs?: number;
}

/** The page's base URL (Vite's BASE_URL resolved against the page). */
export function pageBaseUrl(): string {
  return new URL(import.meta.env.BASE_URL ?? '/', globalThis.location?.href ?? 'http://localhost/').href;
}

/** `?scenes=N` in the page URL loads N scenes instead of the default (browser tests keep it small). */
export function initialSourceFromUrl(search: string): DatasetSource {
  const n = Number(new URLSearchParams(search).get('scenes') ?? '');
  return Number.isInteger(n) && n > 0 ? { kind: 'scenes', numImages: n } : { kind: 'scenes' };
}

/**
 * `?threads=N` in the page URL caps the wasm backend's threads (1: the single-threaded build); absent or
 * not a positive integer: undefined, one thread per core.
 */
export function threadsFromUrl(search: string): number | undefined {
  const n = Number(new URLSearchParams(search).get('threads') ?? '');
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/**
 * `?matmul=host|relaxed|plain|xnnpack` in the page URL picks the matMul kernel of wasm's
 * single-threaded build (src/model/backend.ts BackendOptions.matMul; `xnnpack`: tfjs's own, for
 * comparisons); absent or unknown: undefined, our kernel.
 */
export function matMulFromUrl(search: string): MatMulChoice | undefined {
  const v = new URLSearchParams(search).get('matmul') ?? '';
  return (MATMUL_CHOICES as readonly string[]).includes(v) ? (v as MatMulChoice) : undefined;
}

/** What is loading, in words. */
export function sourceLabel(source: DatasetSource): string {
  switch (source.kind) {
    case 'synthetic':
      return 'synthetic data';
    case 'scenes':
      return source.numImages ? `built-in scenes (${source.numImages} images)` : 'built-in scenes';
    case 'pack':
      return source.url;
    case 'folder':
      return `folder “${source.name}” (${source.files.length} files)`;
  }
}

/** The worker's lifecycle; `TrainingClient` (./client.ts) adds the user's actions. */
export abstract class WorkerConnection {
  protected worker: WorkerLike | null = null;
  private readyOnce = false;
  protected lastSource: DatasetSource | null;
  private restartsLeft: number;
  protected readonly store: Store;
  private readonly autoRestarts: number;
  protected readonly save: (name: string, data: Blob) => void;
  protected readonly baseUrl: () => string;
  private readonly silentWorkerMs: number;
  private readonly threads: number | undefined;
  private readonly matMul: MatMulChoice | undefined;
  /** Set when a worker crashed while starting its threads: later workers run one thread, saying why. */
  private threadsFailed: string | null = null;
  private silentTimer: ReturnType<typeof setTimeout> | null = null;
  /** Cancels the dataset load in flight (its signal went with the 'loadDataset' call). */
  private loadAbort: AbortController | null = null;

  constructor(
    private readonly spawn: () => WorkerLike,
    private readonly wasmPath: () => string,
    options: ClientOptions = {},
  ) {
    this.store = options.store ?? useUiStore;
    this.lastSource = options.initialSource === undefined ? { kind: 'scenes' } : options.initialSource;
    this.autoRestarts = options.autoRestarts ?? 1;
    this.restartsLeft = this.autoRestarts;
    this.save = options.save ?? saveBlob;
    this.baseUrl = options.baseUrl ?? pageBaseUrl;
    this.silentWorkerMs = options.silentWorkerMs ?? 60_000;
    this.threads = options.threads ?? threadsFromUrl(globalThis.location?.search ?? '');
    this.matMul = options.matMul ?? matMulFromUrl(globalThis.location?.search ?? '');
  }

  protected get state() {
    return this.store.getState();
  }

  /** (Re)starts a fresh worker with the requested backend; any previous worker is terminated. */
  connect(): void {
    this.dispose();
    this.state.connecting();
    workerReplaced(); // the new worker loads the starter again; gallery and results are gone
    this.readyOnce = false;
    let worker: WorkerLike;
    try {
      worker = this.spawn();
    } catch (e) {
      this.crashed(errorMessage(e));
      return;
    }
    this.worker = worker;
    worker.onerror = (e) => {
      e.preventDefault?.();
      if (worker !== this.worker) return;
      this.crashed(e.message || 'the worker script failed to load or threw (see the browser console)');
    };
    worker.onmessageerror = () => {
      if (worker !== this.worker) return;
      this.crashed('a message from the worker could not be decoded');
    };
    // The events stream through this callback (a Comlink proxy: the worker calls it back).
    worker.api
      .connect(Comlink.proxy((event: WorkerEvent) => this.received(worker, event)))
      .catch((e: unknown) => this.received(worker, callError('message', e)));
    const threads = this.threadsFailed ? 1 : this.threads;
    const backend = this.state.requestedBackend;
    // The matMul choice only when the URL made one (the worker's default otherwise).
    if (this.matMul) this.call('init', backend, this.wasmPath(), threads, this.matMul);
    else this.call('init', backend, this.wasmPath(), threads);
  }

  /** An event of `worker` (or a call of it that failed). */
  private received(worker: WorkerLike, event: WorkerEvent): void {
    if (worker !== this.worker) return; // a late event of a replaced worker
    if (this.silentTimer) this.armSilentWatch(); // it is alive: the watch starts again
    try {
      this.onEvent(event);
    } catch (e) {
      console.error('the UI failed on a worker event', event.type, e);
    }
    if (this.silentTimer && this.state.status !== 'starting') {
      clearTimeout(this.silentTimer);
      this.silentTimer = null;
    }
  }

  /** The user's Restart: a fresh worker, with the automatic restarts re-armed. */
  restart(): void {
    this.restartsLeft = this.autoRestarts;
    this.state.dismissCrash();
    this.connect();
  }

  /** (Re)starts the watch for a worker that goes silent while a run is starting (see silentWorkerMs). */
  protected armSilentWatch(): void {
    if (this.silentTimer) clearTimeout(this.silentTimer);
    this.silentTimer = setTimeout(() => {
      this.silentTimer = null;
      if (this.state.status === 'starting')
        this.crashed(
          `the worker stopped answering ${Math.round(this.silentWorkerMs / 1000)} s after Start (it may have run out of memory: try a smaller hidden size, word size or batch)`,
        );
    }, this.silentWorkerMs);
  }

  private crashed(message: string): void {
    // A worker that dies before 'ready' while it may be starting threads (a pthread worker that cannot
    // load crashes it): once, start a single-threaded one instead, without using up a restart.
    if (!this.readyOnce && this.threads !== 1 && !this.threadsFailed) {
      this.threadsFailed = `the training worker crashed while starting its threads (${message})`;
      this.dispose();
      this.connect();
      return;
    }
    const restarting = this.restartsLeft > 0;
    this.dispose();
    this.state.crashed(message, restarting);
    if (restarting) {
      this.restartsLeft -= 1;
      this.connect();
    }
  }

  private onEvent(event: WorkerEvent): void {
    if (event.type === 'ready' && this.threadsFailed && event.backend === 'wasm' && !event.threadsWhy)
      event = { ...event, threadsWhy: this.threadsFailed };
    this.state.applyEvent(event);
    switch (event.type) {
      case 'ready':
        if (this.readyOnce) break;
        this.readyOnce = true;
        this.call('listRuns');
        if (this.lastSource) this.sendLoad(this.lastSource);
        break;
      case 'started':
        // The replacement worker trains: a later crash may be recovered from by itself again.
        this.restartsLeft = this.autoRestarts;
        break;
      case 'exported':
        this.download(event.runId, event.files);
        break;
      case 'photos':
        applyPhotosEvent(event.event);
        break;
    }
  }

  /** Tells the store what is loading and asks the worker (also the re-load for a replacement worker). */
  protected sendLoad(source: DatasetSource): void {
    const picked =
      source.kind === 'folder'
        ? new Map(source.files.map((f: PickedFile) => [f.path, f.file] as const))
        : null;
    this.state.loadRequested(sourceLabel(source), picked);
    // A newer load supersedes the one in flight in the worker; Cancel aborts the newest.
    this.loadAbort = new AbortController();
    this.call('loadDataset', source, this.loadAbort.signal);
  }

  /** Aborts the signal of the dataset load last sent (the worker's 'cancelled' notice follows). */
  protected abortLoad(): void {
    this.loadAbort?.abort();
    this.loadAbort = null;
  }

  /** Saves the files of an exported run (the 'exported' event). */
  protected abstract download(runId: string, files: Record<string, string | ArrayBuffer>): void;

  dispose(): void {
    if (this.silentTimer) clearTimeout(this.silentTimer);
    this.silentTimer = null;
    this.loadAbort = null; // its load dies with the worker
    const w = this.worker;
    this.worker = null;
    if (w) {
      w.onerror = null;
      w.onmessageerror = null;
      w.terminate();
    }
  }

  /**
   * Calls `method` of the worker's api; if it fails, the error is shown under the method's phase (a
   * replaced worker's failures are ignored).
   */
  protected call<K extends ServiceMethod>(method: K, ...args: Parameters<WorkerApi[K]>): void {
    const worker = this.worker;
    if (!worker) {
      this.state.applyEvent(callError('message', 'the worker is not running: restart it'));
      return;
    }
    // Called as is, not with `.apply`: on a Comlink proxy `.apply` is a remote call of the method's
    // `apply`, whose arguments travel as one cloned array (an AbortSignal in it cannot be sent) and whose
    // `this`, the api, would be proxied on a new MessageChannel at every call.
    const run = worker.api[method] as (...a: Parameters<WorkerApi[K]>) => Promise<unknown>;
    new Promise((ok) => ok(run(...args))).catch((e: unknown) =>
      this.received(worker, callError(CALL_PHASE[method], e)),
    );
  }
}

function callError(phase: ErrorPhase | { photos: PhotosQuery }, e: unknown): WorkerEvent {
  const message = errorMessage(e);
  if (typeof phase === 'string') return { type: 'error', phase, message };
  return { type: 'photos', event: { kind: 'failed', query: phase.photos, message } };
}
