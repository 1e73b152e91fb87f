/**
 * Creates the training worker and wraps it with Comlink. Kept in its own module so that the UI can be
 * tested with a fake (jsdom has no Worker) and so that Vite sees the `new Worker(new URL(...))` pattern.
 */
import * as Comlink from 'comlink';
import type { WorkerApi } from './adapter';
import { registerAbortTransfer } from './abort-transfer';

/** The Worker, with its typed api (the worker exposes a `WorkerApi`, ./adapter.ts). */
export function spawnTrainingWorker(): Worker & { api: Comlink.Remote<WorkerApi> } {
  registerAbortTransfer(); // the AbortSignals the UI passes travel as ports (./abort-transfer.ts)
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'trainer' });
  return Object.assign(worker, { api: Comlink.wrap<WorkerApi>(worker) });
}

/** Absolute URL prefix of the tfjs .wasm binaries (copied to public/tfjs-wasm/). */
export function wasmBaseUrl(): string {
  return new URL(`${import.meta.env.BASE_URL}tfjs-wasm/`, self.location.href).href;
}
