/**
 * Owns the worker from the UI side: spawns it, sends typed requests, and feeds its events into the
 * store. A crashed worker is replaced by a fresh one with `connect()`.
 */
import { parseForm, useUiStore } from './store';
import { errorMessage, isWorkerEvent, type BackendName, type WorkerRequest } from '../worker/protocol';

/** The part of `Worker` the client uses (so tests can pass a fake). */
export interface WorkerLike {
  postMessage(message: WorkerRequest): void;
  terminate(): void;
  onmessage: ((event: MessageEvent) => void) | null;
  onerror: ((event: ErrorEvent) => void) | null;
  onmessageerror: ((event: MessageEvent) => void) | null;
}

type Store = typeof useUiStore;

export class TrainingClient {
  private worker: WorkerLike | null = null;

  constructor(
    private readonly spawn: () => WorkerLike,
    private readonly wasmPath: () => string,
    private readonly store: Store = useUiStore,
  ) {}

  /** (Re)starts a fresh worker with the requested backend; any previous worker is terminated. */
  connect(): void {
    this.dispose();
    const s = this.store.getState();
    s.connecting();
    let worker: WorkerLike;
    try {
      worker = this.spawn();
    } catch (e) {
      s.crashed(errorMessage(e));
      return;
    }
    this.worker = worker;
    worker.onmessage = (e) => {
      if (worker !== this.worker) return;
      if (isWorkerEvent(e.data)) this.store.getState().applyEvent(e.data);
    };
    worker.onerror = (e) => {
      e.preventDefault?.();
      if (worker !== this.worker) return;
      this.store
        .getState()
        .crashed(e.message || 'the worker script failed to load or threw (see the browser console)');
    };
    worker.onmessageerror = () => {
      if (worker !== this.worker) return;
      this.store.getState().crashed('a message from the worker could not be decoded');
    };
    this.send({ type: 'init', backend: s.requestedBackend, wasmPath: this.wasmPath() });
  }

  /** Validates the form and starts a run; invalid fields are reported on the form instead. */
  start(): boolean {
    const s = this.store.getState();
    const parsed = parseForm(s.form);
    if (!parsed.ok) {
      s.setFormErrors(parsed.errors);
      return false;
    }
    s.starting();
    this.send({ type: 'start', config: parsed.config });
    return true;
  }

  pause(): void {
    this.send({ type: 'pause' });
  }

  resume(): void {
    this.send({ type: 'resume' });
  }

  reset(): void {
    this.send({ type: 'reset' });
  }

  /** Switching backends needs a fresh worker (tfjs state is per backend). */
  setBackend(backend: BackendName): void {
    this.store.getState().setRequestedBackend(backend);
    this.connect();
  }

  dispose(): void {
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
      this.store.getState().crashed('no worker is running; restart it');
      return;
    }
    try {
      this.worker.postMessage(message);
    } catch (e) {
      this.store.getState().crashed(errorMessage(e));
    }
  }
}
