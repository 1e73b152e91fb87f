/**
 * Owns the worker from the UI side: spawns it, sends typed requests, feeds its events into the store,
 * and replaces a crashed worker (once by itself, then on the user's request), re-sending `init` and
 * re-loading the last dataset. Input is validated here before anything is sent.
 */
import { useUiStore, isRunActive, parseForm, startOptions, type QueryKind } from './store';
import { imageFileError, queryError, runFilesFrom, safeFileName, saveBlob } from './files';
import { writeZip } from './zip';
import { applyPhotosEvent, workerReplaced } from './retrieve/photos-store';
import type { PhotosRequest } from '../worker/photos-protocol';
import {
  errorMessage,
  isWorkerEvent,
  type BackendChoice,
  type DatasetSource,
  type EncoderChoice,
  type PickedFile,
  type WorkerEvent,
  type WorkerRequest,
} from '../worker/protocol';

/** The part of `Worker` the client uses (so tests can pass a fake). */
export interface WorkerLike {
  postMessage(message: WorkerRequest): void;
  terminate(): void;
  onmessage: ((event: MessageEvent) => void) | null;
  onerror: ((event: ErrorEvent) => void) | null;
  onmessageerror: ((event: MessageEvent) => void) | null;
}

type Store = typeof useUiStore;

export interface ClientOptions {
  store?: Store;
  /** The dataset loaded as soon as the first worker is ready (the built-in scenes by default). */
  initialSource?: DatasetSource | null;
  /** How many times a crashed worker is replaced without asking (default 1). */
  autoRestarts?: number;
  /** The wasm backend's thread count (default: `?threads=N` in the page URL, else one per core). */
  threads?: number;
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

/** How many ranked captions and image hits to ask for. */
export const RANK_LIMIT = 10;
export const SEARCH_LIMIT = 12;
/** Largest subtree the Hierarchy view trains and draws. */
export const HIERARCHY_MAX_NODES = 2500;

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

export class TrainingClient {
  private worker: WorkerLike | null = null;
  private readyOnce = false;
  private lastSource: DatasetSource | null;
  private restartsLeft: number;
  private readonly store: Store;
  private readonly autoRestarts: number;
  private readonly save: (name: string, data: Blob) => void;
  private readonly baseUrl: () => string;
  private readonly silentWorkerMs: number;
  private readonly threads: number | undefined;
  /** Set when a worker crashed while starting its threads: later workers run one thread, saying why. */
  private threadsFailed: string | null = null;
  private silentTimer: ReturnType<typeof setTimeout> | null = null;

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
  }

  private get state() {
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
    worker.onmessage = (e) => {
      if (worker !== this.worker) return; // a late message of a replaced worker
      if (this.silentTimer) this.armSilentWatch(); // it is alive: the watch starts again
      if (isWorkerEvent(e.data)) this.onEvent(e.data);
      if (this.silentTimer && this.state.status !== 'starting') {
        clearTimeout(this.silentTimer);
        this.silentTimer = null;
      }
    };
    worker.onerror = (e) => {
      e.preventDefault?.();
      if (worker !== this.worker) return;
      this.crashed(e.message || 'the worker script failed to load or threw (see the browser console)');
    };
    worker.onmessageerror = () => {
      if (worker !== this.worker) return;
      this.crashed('a message from the worker could not be decoded');
    };
    const n = this.threadsFailed ? 1 : this.threads;
    const threads = n === undefined ? {} : { threads: n };
    this.send({ type: 'init', backend: this.state.requestedBackend, wasmPath: this.wasmPath(), ...threads });
  }

  /** The user's Restart: a fresh worker, with the automatic restarts re-armed. */
  restart(): void {
    this.restartsLeft = this.autoRestarts;
    this.state.dismissCrash();
    this.connect();
  }

  /** (Re)starts the watch for a worker that goes silent while a run is starting (see silentWorkerMs). */
  private armSilentWatch(): void {
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
        this.send({ type: 'listRuns' });
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

  // -------------------------------------------------------------------------------------------
  // Datasets

  loadDataset(source: DatasetSource): void {
    this.lastSource = source;
    this.sendLoad(source);
  }

  private sendLoad(source: DatasetSource): void {
    const picked =
      source.kind === 'folder'
        ? new Map(source.files.map((f: PickedFile) => [f.path, f.file] as const))
        : null;
    this.state.loadRequested(sourceLabel(source), picked);
    this.send({ type: 'loadDataset', source });
  }

  loadScenes(numImages?: number): void {
    this.loadDataset(numImages ? { kind: 'scenes', numImages } : { kind: 'scenes' });
  }

  /** A feature pack at `url`, relative to the page's base URL. Returns an error message or null. */
  loadPack(url: string): string | null {
    const trimmed = url.trim();
    if (trimmed === '') return 'The pack URL is empty.';
    let abs: string;
    try {
      abs = new URL(trimmed, this.baseUrl()).href.replace(/\/+$/, '');
    } catch {
      return `“${trimmed}” is not a URL.`;
    }
    this.loadDataset({ kind: 'pack', url: abs });
    return null;
  }

  /** A picked or dropped folder. Returns an error message or null. */
  loadFolder(name: string, files: PickedFile[], encoder: EncoderChoice): string | null {
    if (files.length === 0) return `The folder “${name}” is empty.`;
    if ('url' in encoder && encoder.url.trim() === '') return 'Type the encoder’s model.json URL.';
    const enc = 'url' in encoder ? { url: new URL(encoder.url.trim(), this.baseUrl()).href } : encoder;
    this.loadDataset({ kind: 'folder', name, files, encoder: enc });
    return null;
  }

  cancelLoad(): void {
    this.state.loadCancelled();
    this.send({ type: 'cancelLoad' });
  }

  // -------------------------------------------------------------------------------------------
  // Training

  /** Validates the form and starts one run, or two differing only in layerNorm (`compare`). */
  start(compare = false): boolean {
    const s = this.state;
    const parsed = parseForm(s.form);
    if (!parsed.ok) {
      s.setFormErrors(parsed.errors);
      return false;
    }
    s.starting();
    this.send({ type: 'start', options: startOptions(parsed.run, compare) });
    this.armSilentWatch();
    return true;
  }

  pause(): void {
    this.state.pauseRequested();
    this.send({ type: 'pause' });
  }

  resume(): void {
    this.send({ type: 'resume' });
  }

  reset(): void {
    this.send({ type: 'reset' });
  }

  evaluate(): void {
    this.send({ type: 'evaluate' });
  }

  /** Switching backends needs a fresh worker (tfjs state is per backend); the dataset is reloaded. */
  setBackend(backend: BackendChoice): void {
    if (isRunActive(this.state.status)) return;
    this.state.setRequestedBackend(backend);
    this.connect();
  }

  // -------------------------------------------------------------------------------------------
  // Retrieval (validated here; a message is shown instead of sending)

  private invalid(kind: QueryKind, message: string | null): boolean {
    this.state.setQueryError(kind, message);
    return message !== null;
  }

  private noRun(kind: QueryKind, runId: string | null): boolean {
    return this.invalid(kind, runId ? null : 'No trained run to ask: start training, or open a stored run.');
  }

  rankCaptions(runId: string | null, file: File | null | undefined): boolean {
    if (this.invalid('rank', imageFileError(file)) || this.noRun('rank', runId) || !file || !runId)
      return false;
    this.state.queryRequested('rank');
    this.send({ type: 'rankCaptions', runId, image: file, name: file.name, limit: RANK_LIMIT });
    return true;
  }

  searchImages(runId: string | null, query: string): boolean {
    if (this.invalid('search', queryError(query)) || this.noRun('search', runId) || !runId) return false;
    this.state.queryRequested('search');
    this.send({ type: 'searchImages', runId, query: query.trim(), limit: SEARCH_LIMIT });
    return true;
  }

  compareSentences(runId: string | null, a: string, b: string): boolean {
    const err = queryError(a, 'Sentence A') ?? queryError(b, 'Sentence B');
    if (this.invalid('generality', err) || this.noRun('generality', runId) || !runId) return false;
    this.state.queryRequested('generality');
    this.send({ type: 'compareSentences', runId, a: a.trim(), b: b.trim() });
    return true;
  }

  // -------------------------------------------------------------------------------------------
  // Hierarchy mode

  /** Trains 2-D order embeddings of the WordNet subtree below `root` live; false for an empty name. */
  startHierarchy(root: string): boolean {
    const name = root.trim();
    if (!name) {
      this.store.setState((s) => ({
        hierarchy: { ...s.hierarchy, error: 'Type a synset name such as mammal.n.01.' },
      }));
      return false;
    }
    this.state.hierarchyRequested(name);
    this.send({ type: 'hierarchyStart', root: name, maxNodes: HIERARCHY_MAX_NODES });
    return true;
  }

  stopHierarchy(): void {
    this.send({ type: 'hierarchyStop' });
  }

  // -------------------------------------------------------------------------------------------
  // Stored runs

  openRun(runId: string): void {
    this.state.openRequested(runId);
    this.send({ type: 'openRun', runId });
  }

  exportRun(runId: string): void {
    this.state.exportRequested(runId);
    this.send({ type: 'exportRun', runId });
  }

  deleteRun(runId: string): void {
    this.send({ type: 'deleteRun', runId });
  }

  renameRun(runId: string, label: string): void {
    this.send({ type: 'renameRun', runId, label });
  }

  /** Continues a stored run from its last checkpoint (the worker checks the loaded dataset). */
  resumeRun(runId: string): void {
    this.state.starting();
    this.send({ type: 'resumeRun', runId });
    this.armSilentWatch();
  }

  /** Asks the worker to store a checkpoint of the training runs now (the page is hidden or closing). */
  checkpointNow(): void {
    if (this.worker && isRunActive(this.state.status)) this.send({ type: 'checkpointNow' });
  }

  listRuns(): void {
    this.send({ type: 'listRuns' });
  }

  /** Imports a run from an exported .zip or its files; resolves to an error message or null. */
  async importFiles(picked: readonly File[]): Promise<string | null> {
    this.state.importRequested();
    try {
      const { files, label } = await runFilesFrom(picked);
      this.send({ type: 'importRun', files, label });
      return null;
    } catch (e) {
      const message = `import failed: ${errorMessage(e)}`;
      this.state.setRunsError(message);
      return message;
    }
  }

  private download(runId: string, files: Record<string, string | ArrayBuffer>): void {
    const s = this.state;
    const label = s.stored.find((r) => r.id === runId)?.label ?? s.runs[runId]?.label ?? 'run';
    try {
      const zip = writeZip(files);
      this.save(
        `${safeFileName(label)}-${safeFileName(runId)}.zip`,
        new Blob([zip], { type: 'application/zip' }),
      );
    } catch (e) {
      s.setRunsError(`export failed: ${errorMessage(e)}`);
    } finally {
      s.exportFinished();
    }
  }

  /** A request of the starter / own-photos protocol (built and validated by ./retrieve/photos-actions.ts). */
  sendPhotos(request: PhotosRequest): void {
    this.send({ type: 'photos', request });
  }

  // -------------------------------------------------------------------------------------------

  dispose(): void {
    if (this.silentTimer) clearTimeout(this.silentTimer);
    this.silentTimer = null;
    const w = this.worker;
    this.worker = null;
    if (w) {
      w.onmessage = null;
      w.onerror = null;
      w.onmessageerror = null;
      w.terminate();
    }
  }

  private send(message: WorkerRequest): void {
    if (!this.worker) {
      this.state.applyEvent({
        type: 'error',
        phase: 'message',
        message: 'the worker is not running: restart it',
      });
      return;
    }
    try {
      this.worker.postMessage(message);
    } catch (e) {
      this.state.applyEvent({
        type: 'error',
        phase: 'message',
        message: `could not send '${message.type}' to the worker: ${errorMessage(e)}`,
      });
    }
  }
}
