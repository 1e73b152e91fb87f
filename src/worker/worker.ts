/**
 * Training worker: owns the tfjs backend, the synthetic dataset and the Trainer, and trains in
 * short synchronous chunks so that 'pause' / 'reset' messages are handled between chunks.
 *
 * Spawn it with `spawnTrainingWorker()` from ./spawn.ts. Speaks only the protocol in ./protocol.ts.
 */
import { initBackend } from '../model/backend';
import { makeSyntheticDataset } from '../model/synthetic';
import { Trainer } from '../model/trainer';
import type { Dataset, StepResult } from '../model/types';
import {
  DEFAULT_BACKEND,
  errorMessage,
  isWorkerRequest,
  type BackendName,
  type ErrorPhase,
  type LossPoint,
  type RunConfig,
  type WorkerEvent,
  type WorkerRequest,
} from './protocol';

const ctx = self as unknown as DedicatedWorkerGlobalScope;

/** Train for about this long before yielding to the event loop. */
const CHUNK_MS = 60;
/** Minimum interval between 'progress' events (at most ~10/s). */
const PROGRESS_INTERVAL_MS = 100;
/** Pairs/s is measured over at least this much step time. */
const RATE_WINDOW_MS = 500;

interface Run {
  trainer: Trainer;
  config: RunConfig;
  evalSplit: 'dev' | 'train';
  running: boolean;
  /** True while a train loop is scheduled for this run (so resume never starts a second one). */
  looping: boolean;
  step: number;
  epoch: number;
  loss: number;
  gradNorm: number;
  /** Loss points not yet posted. */
  pending: LossPoint[];
  lastPost: number;
  /** Steps and step-time of the current throughput window, for pairs/s. */
  windowSteps: number;
  windowMs: number;
  /** Last reported throughput (kept when a flush comes after too few steps to measure it). */
  pairsPerSec: number;
}

let backendReady: Promise<boolean> | null = null;
let run: Run | null = null;
/** Bumped by every start/reset, so that a start still awaiting the backend can tell it is stale. */
let generation = 0;

function post(event: WorkerEvent): void {
  ctx.postMessage(event);
}

function fail(phase: ErrorPhase, e: unknown): void {
  post({ type: 'error', phase, message: errorMessage(e) });
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

// ---------------------------------------------------------------------------------------------

async function init(backend: BackendName, wasmPath: string): Promise<boolean> {
  const reason = backend === DEFAULT_BACKEND ? `default (${backend})` : `requested (${backend})`;
  try {
    const name = await initBackend(backend, wasmPath ? { wasmPath } : undefined);
    post({
      type: 'ready',
      backend: name,
      reason: name === backend ? reason : `requested ${backend}, got ${name}`,
    });
    return true;
  } catch (e) {
    if (backend === 'cpu') {
      fail('init', e);
      return false;
    }
    // The requested backend is unavailable here (no WebGPU adapter, wasm blocked...): fall back.
    try {
      const name = await initBackend('cpu');
      post({
        type: 'ready',
        backend: name,
        reason: `${backend} unavailable (${errorMessage(e)}); fell back to ${name}`,
      });
      return true;
    } catch (e2) {
      fail('init', e2);
      return false;
    }
  }
}

function disposeRun(): void {
  if (!run) return;
  run.running = false;
  try {
    run.trainer.dispose();
  } catch {
    // Disposing is best effort; the next run starts from a fresh Trainer anyway.
  }
  run = null;
}

async function start(config: RunConfig): Promise<void> {
  disposeRun();
  const gen = ++generation;
  if (!backendReady) backendReady = init(DEFAULT_BACKEND, '');
  if (!(await backendReady) || gen !== generation) return;

  let dataset: Dataset;
  let trainer: Trainer;
  try {
    dataset = makeSyntheticDataset({
      numImages: config.data.numImages,
      seed: config.data.seed ?? config.train.seed,
    });
    trainer = new Trainer(dataset, config.model, config.train);
  } catch (e) {
    fail('start', e);
    return;
  }

  const evalSplit = dataset.splits.dev?.length ? 'dev' : 'train';
  const r: Run = {
    trainer,
    config,
    evalSplit,
    running: true,
    looping: false,
    step: 0,
    epoch: 0,
    loss: Number.NaN,
    gradNorm: Number.NaN,
    pending: [],
    lastPost: performance.now(),
    windowSteps: 0,
    windowMs: 0,
    pairsPerSec: 0,
  };
  run = r;
  post({
    type: 'started',
    model: trainer.config.model,
    train: trainer.config.train,
    dataset: {
      name: dataset.name,
      numImages: dataset.numImages,
      numCaptions: dataset.captions.length,
      imageDim: dataset.imageDim,
    },
    evalSplit,
  });
  // Baseline (chance-level) metrics before any training.
  if (!evaluate(r)) return;
  void trainLoop(r);
}

/** Posts metrics for the run's eval split; false (after posting an error) if it threw. */
function evaluate(r: Run): boolean {
  try {
    const t0 = performance.now();
    const metrics = r.trainer.evaluate(r.evalSplit);
    post({ type: 'metrics', step: r.step, split: r.evalSplit, metrics, ms: performance.now() - t0 });
    return true;
  } catch (e) {
    fail('eval', e);
    disposeRun();
    return false;
  }
}

function flushProgress(r: Run): void {
  if (r.pending.length === 0) return;
  // Measure throughput over at least RATE_WINDOW_MS of stepping; short windows are noisy.
  if (r.windowMs >= RATE_WINDOW_MS || (r.pairsPerSec === 0 && r.windowMs > 0)) {
    r.pairsPerSec = (r.windowSteps * r.trainer.config.train.batchSize) / (r.windowMs / 1000);
    r.windowSteps = 0;
    r.windowMs = 0;
  }
  post({
    type: 'progress',
    step: r.step,
    epoch: r.epoch,
    loss: r.loss,
    gradNorm: r.gradNorm,
    pairsPerSec: r.pairsPerSec,
    points: r.pending,
  });
  r.pending = [];
  r.lastPost = performance.now();
}

async function trainLoop(r: Run): Promise<void> {
  if (r.looping) return;
  r.looping = true;
  try {
    while (run === r && r.running) {
      const chunkStart = performance.now();
      do {
        const t0 = performance.now();
        let result: StepResult;
        try {
          result = r.trainer.step();
        } catch (e) {
          flushProgress(r);
          fail('train', e);
          disposeRun();
          return;
        }
        r.windowMs += performance.now() - t0;
        r.windowSteps += 1;
        r.step = result.step;
        r.epoch = result.epoch;
        r.loss = result.loss;
        r.gradNorm = result.gradNorm;
        r.pending.push({ step: result.step, loss: result.loss });

        if (r.step % r.config.evalEvery === 0) {
          flushProgress(r);
          if (!evaluate(r)) return;
        }
        if (r.config.maxSteps > 0 && r.step >= r.config.maxSteps) {
          flushProgress(r);
          if (r.step % r.config.evalEvery !== 0 && !evaluate(r)) return;
          r.running = false;
          post({ type: 'done', step: r.step });
          return;
        }
      } while (performance.now() - chunkStart < CHUNK_MS);

      if (performance.now() - r.lastPost >= PROGRESS_INTERVAL_MS) flushProgress(r);
      await yieldToEventLoop();
    }
  } finally {
    r.looping = false;
  }
}

// ---------------------------------------------------------------------------------------------

function handle(msg: WorkerRequest): void {
  switch (msg.type) {
    case 'init':
      backendReady = init(msg.backend, msg.wasmPath);
      return;
    case 'start':
      void start(msg.config).catch((e: unknown) => fail('start', e));
      return;
    case 'pause':
      if (run?.running) {
        run.running = false;
        flushProgress(run);
        post({ type: 'paused', step: run.step });
      }
      return;
    case 'resume':
      if (run && !run.running && !(run.config.maxSteps > 0 && run.step >= run.config.maxSteps)) {
        run.running = true;
        run.lastPost = performance.now();
        post({ type: 'resumed', step: run.step });
        void trainLoop(run);
      }
      return;
    case 'reset':
      generation++;
      disposeRun();
      post({ type: 'reset' });
      return;
  }
}

ctx.onmessage = (e: MessageEvent<unknown>) => {
  if (!isWorkerRequest(e.data)) {
    fail('message', `unknown message: ${errorMessage(e.data)}`);
    return;
  }
  try {
    handle(e.data);
  } catch (err) {
    fail('message', err);
  }
};

ctx.addEventListener('unhandledrejection', (e: PromiseRejectionEvent) => {
  fail('train', e.reason);
});
