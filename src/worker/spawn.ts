/**
 * Creates the training worker. Kept in its own module so that the UI can be tested with a fake
 * worker (jsdom has no Worker) and so that Vite sees the `new Worker(new URL(...))` pattern.
 */
export function spawnTrainingWorker(): Worker {
  return new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'trainer' });
}

/** Absolute URL prefix of the tfjs .wasm binaries (copied to public/tfjs-wasm/). */
export function wasmBaseUrl(): string {
  return new URL(`${import.meta.env.BASE_URL}tfjs-wasm/`, self.location.href).href;
}
