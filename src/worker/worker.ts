/**
 * Training worker: owns the tfjs backend, the loaded dataset, the training runs (one, or two compared
 * side by side), retrieval, and the runs stored in IndexedDB. It trains step by step, taking turns
 * between runs, and yields to its event loop between chunks so that 'pause' / 'reset' / queries are
 * handled promptly: after every step that takes longer than a chunk, and between the chunks of an
 * evaluation (a Pause or Reset cuts an evaluation short; a paused run's cut evaluation is redone on
 * Resume), and within a long step too (Trainer.stepAsync turns the event loop about every 100 ms of its
 * work): a Pause or Reset that arrives during a step abandons it before its update, and Resume takes
 * that very batch again (the same losses as without the Pause).
 *
 * Spawn it with `spawnTrainingWorker()` from ./spawn.ts. Speaks only the protocol in ./protocol.ts.
 */
import * as tf from '../model/tf';
import { initBackend, wasmThreadingInfo } from '../model/backend';
import { exportRun, importModel } from '../model/export';
import { Retriever } from '../model/retrieval';
import { Trainer } from '../model/trainer';
import { TrainingDriver } from '../model/driver';
import type { EvalMetrics } from '../model/types';
import { planBackends, probeWebGpu } from './backend-choice';
import { forgetEncoders, loadDatasetSource, photoFeatures, type LoadedDataset } from './datasets';
import { batchWarning } from '../model/data/flickr8k';
import {
  errorMessage,
  generalityVerdict,
  isWorkerRequest,
  type BackendChoice,
  type BackendName,
  type DatasetSource,
  type ErrorPhase,
  type ImageHit,
  type LossPoint,
  type RunProgress,
  type RunSpec,
  type StartOptions,
  type StoredRun,
  type WorkerEvent,
  type WorkerRequest,
} from './protocol';
import { RunStore, type RunFilesRecord } from './run-store';
import { defaultRunName, importRunFiles, rawRunFiles, runsListing } from './stored-runs';
import { checkLoadedDataset, checkSourceLimits } from './source-limits';
import {
  Checkpointer,
  CHECKPOINT_SECONDS,
  currentRunFiles,
  historyOf,
  validateStoredCheckpoint,
} from './checkpoints';
import { validateRunFiles } from '../model/validate-run';
import { startHierarchy, stopHierarchy } from './hierarchy';
import { ensureStarter, forgetStarter, handlePhotos, starterRetriever, type PhotosContext } from './photos';
import { STARTER_RUN_ID } from './photos-protocol';
import { generalityScale, type Calibration, type GeneralityScale } from '../model/calibration';

const ctx = self as unknown as DedicatedWorkerGlobalScope;

/** Train for about this long before yielding to the event loop. */
const CHUNK_MS = 60;
/** Minimum interval between 'progress' events (at most ~10/s). */
const PROGRESS_INTERVAL_MS = 100;
/** Pairs/s is measured over at least this much step time. */
const RATE_WINDOW_MS = 500;
/** Stored loss curves are halved (every other point) when they reach this length. */
const MAX_STORED_POINTS = 2000;

interface LiveRun {
  spec: RunSpec;
  trainer: Trainer;
  stored: StoredRun;
  /** Loss points not yet posted. */
  pending: LossPoint[];
  loss: number;
  windowSteps: number;
  windowMs: number;
  pairsPerSec: number;
}

interface Session {
  runs: LiveRun[];
  options: StartOptions;
  evalSplit: 'dev' | 'train';
  running: boolean;
  /** The training loop (steps, evaluation cadence, the step limit; src/model/driver.ts). */
  driver: TrainingDriver;
  /** The evaluation in progress, to cut it short on Pause or Reset. */
  evalAbort: AbortController | null;
  /** The training loop's step in flight, to abandon it (unapplied) on Pause or Reset. */
  stepAbort: AbortController | null;
  /** The training loop while it runs (a Resume waits for a paused loop to end its abandoned step). */
  loop: Promise<void> | null;
  /** An evaluation asked for while paused ('Evaluate now'); the training loop waits for it. */
  evaluation: Promise<unknown> | null;
  lastPost: number;
  /** Stores the runs' checkpoints every few seconds of training (./checkpoints.ts). */
  checkpointer: Checkpointer;
}

/** A run that retrieval can query: a live run's trainer, or a stored run's imported model. */
interface Queryable {
  retriever: Retriever;
  /** Disposes an imported model (live runs' models belong to their trainer). */
  dispose?: () => void;
  /** The run's measured energy scale, when it ships one (the starter). */
  calibration?: Calibration | null;
  /** The run's measured scale of "which sentence is more general" (the starter's, from its bank). */
  generality?: () => GeneralityScale | null;
}

let backendName: BackendName | null = null;
let backendReady: Promise<boolean> | null = null;
/** The wasm thread count the page asked for ('init'); undefined: one per core. */
let requestedThreads: number | undefined;
let loaded: LoadedDataset | null = null;
let loadAbort: AbortController | null = null;
let session: Session | null = null;
const opened = new Map<string, Queryable>();
const store = new RunStore();
/** Bumped by every start/reset/load, so that work still awaiting something can tell it is stale. */
let generation = 0;

const baseUrl = (): string => new URL(import.meta.env.BASE_URL, self.location.href).href;

function post(event: WorkerEvent, transfer: Transferable[] = []): void {
  ctx.postMessage(event, transfer);
}

function fail(phase: ErrorPhase, e: unknown): void {
  post({ type: 'error', phase, message: errorMessage(e) });
}

function notice(message: string): void {
  post({ type: 'notice', message });
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

// ---------------------------------------------------------------------------------------------
// Backend

async function init(choice: BackendChoice, wasmPath: string): Promise<boolean> {
  const probe = await probeWebGpu();
  const plan = planBackends(choice, probe);
  const failures: string[] = [];
  for (const b of plan.order) {
    try {
      const opts = { ...(wasmPath ? { wasmPath } : {}), threads: requestedThreads };
      const name = (await initBackend(b, opts)) as BackendName;
      backendName = name;
      const reason = failures.length ? `${plan.reason}; ${failures.join('; ')}; using ${name}` : plan.reason;
      const t = wasmThreadingInfo();
      const threading = t ? { threads: t.threads, ...(t.why ? { threadsWhy: t.why } : {}) } : {};
      post({ type: 'ready', backend: name, reason, ...threading });
      void ensureStarter(photosCtx); // the shipped starter model, open from the first minute
      if (name === 'webgpu') watchDeviceLoss(wasmPath);
      return true;
    } catch (e) {
      failures.push(`${b} failed (${errorMessage(e)})`);
    }
  }
  fail('init', `no tfjs backend could be initialised: ${failures.join('; ')}`);
  return false;
}

/** A lost WebGPU device: fall back to wasm, say so, and stop the runs (their history stays stored). */
function watchDeviceLoss(wasmPath: string): void {
  const device = (tf.backend() as unknown as { device?: { lost?: Promise<{ message?: string }> } }).device;
  void device?.lost?.then(async (info) => {
    if (backendName !== 'webgpu') return;
    const hadRuns = Boolean(session);
    notice(
      `The WebGPU device was lost (${info?.message || 'no reason given'}); falling back to wasm.` +
        (hadRuns ? ' The runs were stopped; their curves and last saved weights are kept.' : ''),
    );
    await stopSession('stopped');
    if (hadRuns) post({ type: 'reset' });
    for (const q of opened.values()) q.dispose?.();
    opened.clear();
    forgetEncoders();
    forgetStarter();
    backendReady = init('wasm', wasmPath);
  });
}

async function ensureBackend(): Promise<boolean> {
  backendReady ??= init('auto', '');
  return backendReady;
}

// ---------------------------------------------------------------------------------------------
// Datasets

async function loadDataset(source: DatasetSource): Promise<void> {
  if (!(await ensureBackend())) return;
  loadAbort?.abort();
  const abort = new AbortController();
  loadAbort = abort;
  const gen = ++generation;
  try {
    checkSourceLimits(source); // before anything is rendered, read or allocated
    const result = await loadDatasetSource(source, {
      baseUrl: baseUrl(),
      signal: abort.signal,
      onProgress: (phase, done, total, imagesPerSec) =>
        post({ type: 'datasetProgress', phase, done, total, imagesPerSec }),
    });
    if (gen !== generation) return;
    if (abort.signal.aborted) {
      notice('Loading the dataset was cancelled: the previous dataset stays.'); // after its last chunk
      return;
    }
    checkLoadedDataset(result);
    // Runs trained on the previous dataset cannot go on with another one.
    await stopSession('stopped');
    for (const q of opened.values()) q.dispose?.();
    opened.clear();
    loaded = result;
    post({ type: 'datasetLoaded', dataset: result.info });
  } catch (e) {
    if ((e as Error).name === 'AbortError') notice(`Loading the dataset was cancelled: ${errorMessage(e)}`);
    else fail('dataset', e);
  } finally {
    if (loadAbort === abort) loadAbort = null;
  }
}

// ---------------------------------------------------------------------------------------------
// Training

function newStoredRun(spec: RunSpec, trainer: Trainer): StoredRun {
  return {
    id: spec.id,
    // The form's bare model name gets the dataset and the time ("LN-GRU, scenes, 14:03").
    label:
      spec.label === 'LN-GRU' || spec.label === 'GRU'
        ? defaultRunName(trainer.config.model.layerNorm, trainer.dataset.name)
        : spec.label,
    createdAt: new Date().toISOString(),
    dataset: trainer.dataset.name,
    encoder: loaded?.info.encoder ?? null,
    model: trainer.config.model,
    train: trainer.config.train,
    step: 0,
    epoch: 0,
    seconds: 0,
    state: 'running',
    loss: [],
    evals: [],
  };
}

function persist(run: StoredRun): void {
  store
    .put(structuredClone(run))
    .catch((e: unknown) => notice(`Could not save run ${run.label}: ${errorMessage(e)}`));
}

function filesOf(r: LiveRun): RunFilesRecord {
  const final = r.stored.evals.at(-1)?.metrics;
  return exportRun(r.trainer, {
    encoder: r.stored.encoder,
    dataset: r.stored.dataset,
    history: historyOf(r.stored),
    final: final ? { dev: final } : undefined,
    createdAt: r.stored.createdAt,
  }).files;
}

/** Stores a run's record with its weights (one transaction); a failure is reported, saying what was lost. */
async function saveRunFiles(r: LiveRun): Promise<void> {
  try {
    await store.save(structuredClone(r.stored), filesOf(r));
  } catch (e) {
    fail('runs', `${errorMessage(e)} (step ${r.stored.step}; the previously stored copy is kept)`);
  }
}

/** Stops the current session: saves each run's weights and state, disposes the trainers. */
async function stopSession(state: StoredRun['state']): Promise<void> {
  const s = session;
  if (!s) return;
  session = null;
  s.running = false;
  s.evalAbort?.abort(); // before the trainers are disposed below
  s.stepAbort?.abort(); // the step in flight is given up at its next turn, before its update
  flushProgress(s);
  // A last checkpoint (of the last good step, after a divergence), so that Resume continues from here.
  // Awaited: its copy of the record must not land after the final one below.
  await s.checkpointer.latest(s.runs);
  for (const r of s.runs) {
    if (r.stored.state === 'running' || r.stored.state === 'paused') r.stored.state = state;
    await saveRunFiles(r);
    opened.get(r.stored.id)?.dispose?.();
    opened.delete(r.stored.id);
    try {
      r.trainer.dispose();
    } catch {
      // Best effort: the next run starts from fresh trainers anyway.
    }
  }
  await postRuns();
}

async function start(options: StartOptions): Promise<void> {
  const gen = ++generation;
  await stopSession('stopped');
  if (!(await ensureBackend()) || gen !== generation) return;
  if (!loaded) {
    fail('start', 'no dataset is loaded: load one on the Data tab first');
    return;
  }
  const { dataset } = loaded;
  const runs: LiveRun[] = [];
  try {
    for (const spec of options.runs) {
      const trainer = new Trainer(dataset, spec.model, spec.train);
      runs.push({
        spec,
        trainer,
        stored: newStoredRun(spec, trainer),
        pending: [],
        loss: Number.NaN,
        windowSteps: 0,
        windowMs: 0,
        pairsPerSec: 0,
      });
    }
  } catch (e) {
    runs.forEach((r) => r.trainer.dispose());
    fail('start', e);
    return;
  }
  const s = launch(runs, options, false);
  const tooBig = batchWarning(dataset.splits.train?.length ?? 0, runs[0].trainer.config.train.batchSize);
  if (tooBig) notice(`Training on ${dataset.name}: ${tooBig}.`);
  void trainLoop(s);
}

/** Makes `runs` the session (new, or `resumed` from checkpoints) and tells the UI; the caller trains. */
function launch(runs: LiveRun[], options: StartOptions, resumed: boolean): Session {
  const dataset = runs[0].trainer.dataset;
  const evalSplit = dataset.splits.dev?.length ? 'dev' : 'train';
  const checkpointer = new Checkpointer(
    store,
    { ...options, encoder: loaded?.info.encoder ?? null },
    (message) => fail('runs', message),
    (options.checkpointSeconds ?? CHECKPOINT_SECONDS) * 1000,
  );
  const s: Session = {
    runs,
    options,
    evalSplit,
    running: true,
    // A new run is evaluated first (chance-level metrics before any training); a resumed one is not.
    driver: new TrainingDriver(
      runs.map((r) => r.trainer),
      { steps: options.maxSteps, evalEvery: options.evalEvery, evaluateFirst: !resumed, chunkMs: CHUNK_MS },
    ),
    evalAbort: null,
    stepAbort: null,
    loop: null,
    evaluation: null,
    lastPost: performance.now(),
    checkpointer,
  };
  session = s;
  post({
    type: 'started',
    runs: runs.map((r) => ({
      id: r.stored.id,
      label: r.stored.label,
      model: r.trainer.config.model,
      train: r.trainer.config.train,
      ...(resumed ? { resumed: structuredClone(r.stored) } : {}),
    })),
    dataset: dataset.name,
    evalSplit,
  });
  for (const r of runs) persist(r.stored);
  void postRuns();
  return s;
}

/**
 * Continues a stored run from its last checkpoint on the loaded dataset (which must be the one it
 * trained on): the same steps as if it had never stopped.
 */
async function resumeStored(runId: string): Promise<void> {
  const gen = ++generation;
  await stopSession('stopped');
  if (!(await ensureBackend()) || gen !== generation) return;
  const meta = await store.get(runId);
  if (!meta) throw new Error(`no stored run ${runId}`);
  const raw = await store.getCheckpoint(runId);
  if (raw === undefined)
    throw new Error(
      `run '${meta.label}' has no checkpoint to resume from (it was stored before checkpoints)`,
    );
  const sc = validateStoredCheckpoint(raw);
  const cp = sc.checkpoint;
  if (!loaded || loaded.dataset.name !== cp.dataset)
    throw new Error(
      `run '${meta.label}' trained on '${cp.dataset}'; load that dataset on the Data tab to resume it` +
        (loaded ? ` (loaded: '${loaded.dataset.name}')` : ''),
    );
  const trainer = new Trainer(loaded.dataset, cp.model, cp.train);
  try {
    trainer.restore(cp);
  } catch (e) {
    trainer.dispose();
    throw e;
  }
  opened.get(runId)?.dispose?.();
  opened.delete(runId);
  // The curve after the checkpoint is trained again, so it is dropped.
  const stored: StoredRun = {
    ...meta,
    state: 'running',
    step: cp.steps,
    epoch: cp.epochs,
    seconds: sc.seconds,
    checkpointStep: cp.steps,
    loss: meta.loss.filter((p) => p.step <= cp.steps),
    evals: meta.evals.filter((p) => p.step <= cp.steps),
  };
  const spec: RunSpec = { id: runId, label: meta.label, model: cp.model, train: cp.train };
  const run: LiveRun = {
    spec,
    trainer,
    stored,
    pending: [],
    loss: Number.NaN,
    windowSteps: 0,
    windowMs: 0,
    pairsPerSec: 0,
  };
  const s = launch([run], { runs: [spec], ...sc.options }, true);
  notice(`Resumed run '${meta.label}' at step ${cp.steps}.`);
  void trainLoop(s);
}

/**
 * Evaluates every run of the session, in chunks with a turn of the event loop between them, so that a
 * Pause or Reset is read within a chunk and cuts it short ('cancelled': no metrics for the runs not yet
 * done; the caller evaluates again later). 'failed': an error was posted and the session stopped.
 */
async function evaluateAll(s: Session): Promise<'done' | 'cancelled' | 'failed'> {
  const abort = new AbortController();
  s.evalAbort?.abort();
  s.evalAbort = abort;
  try {
    for (const r of s.runs) {
      const t0 = performance.now();
      const metrics: EvalMetrics = await r.trainer.evaluateAsync(
        s.evalSplit,
        s.options.evalImages > 0 ? { maxImages: s.options.evalImages } : {},
        { between: yieldToEventLoop, signal: abort.signal },
      );
      const point = { step: r.stored.step, seconds: r.stored.seconds, metrics };
      r.stored.evals = r.stored.evals.filter((e) => e.step !== point.step).concat(point);
      post({ type: 'metrics', runId: r.stored.id, split: s.evalSplit, point, ms: performance.now() - t0 });
      persist(r.stored);
    }
    return 'done';
  } catch (e) {
    if (abort.signal.aborted) return 'cancelled';
    fail('eval', e);
    void stopSession('stopped');
    return 'failed';
  } finally {
    if (s.evalAbort === abort) s.evalAbort = null;
  }
}

/** 'Evaluate now': at the loop's next chunk while training; at once while paused or done. */
function evaluateNow(s: Session): void {
  if (s.running) {
    s.driver.requestEvaluation();
    return;
  }
  if (s.evaluation) return;
  s.evaluation = evaluateAll(s).finally(() => {
    s.evaluation = null;
  });
}

function flushProgress(s: Session): void {
  if (s.runs.every((r) => r.pending.length === 0)) return;
  const runs: RunProgress[] = s.runs.map((r) => {
    // Throughput over at least RATE_WINDOW_MS of stepping; short windows are noisy.
    if (r.windowMs >= RATE_WINDOW_MS || (r.pairsPerSec === 0 && r.windowMs > 0)) {
      r.pairsPerSec = (r.windowSteps * r.trainer.config.train.batchSize) / (r.windowMs / 1000);
      r.windowSteps = 0;
      r.windowMs = 0;
    }
    const points = r.pending;
    r.pending = [];
    r.stored.loss.push(...points);
    if (r.stored.loss.length >= MAX_STORED_POINTS) {
      const l = r.stored.loss;
      r.stored.loss = l.filter((_, i) => i % 2 === 0 || i === l.length - 1);
    }
    return {
      runId: r.stored.id,
      step: r.stored.step,
      epoch: r.stored.epoch,
      loss: r.loss,
      seconds: r.stored.seconds,
      pairsPerSec: r.pairsPerSec,
      points,
    };
  });
  post({ type: 'progress', runs });
  s.lastPost = performance.now();
}

/** The runs reached maxSteps. */
const finished = (s: Session): boolean => s.driver.finished;

/**
 * Trains the session with the shared loop (src/model/driver.ts) until it finishes, is paused or reset,
 * or fails: steps in chunks of about CHUNK_MS, progress and checkpoints between chunks, then a turn of
 * the event loop (so that Pause and queries are read); evaluations in chunks too (./evaluate.ts).
 */
async function trainLoop(s: Session): Promise<void> {
  // A Resume read before the paused loop has given up its step waits for that loop to end.
  while (s.loop) await s.loop.catch(() => undefined);
  if (session !== s || !s.running) return;
  const abort = new AbortController();
  s.stepAbort = abort;
  s.loop = trainSteps(s, abort.signal).finally(() => {
    s.loop = null;
    if (s.stepAbort === abort) s.stepAbort = null;
  });
  return s.loop;
}

/** The body of {@link trainLoop}: steps by Trainer.stepAsync, given up when `signal` aborts. */
async function trainSteps(s: Session, signal: AbortSignal): Promise<void> {
  const outcome = await s.driver.run({
    stepControl: () => ({ between: yieldToEventLoop, signal }),
    keepGoing: async () => {
      // An 'Evaluate now' of the paused runs: the weights stay until it ends.
      while (s.evaluation) await s.evaluation;
      return session === s && s.running;
    },
    onStep: (k, result) => {
      const r = s.runs[k];
      r.windowMs += result.ms;
      r.windowSteps += 1;
      r.stored.step = result.step;
      r.stored.epoch = result.epoch;
      r.stored.seconds += result.ms / 1000;
      r.loss = result.loss;
      r.pending.push({ step: result.step, loss: result.loss });
    },
    onStepError: (k, e) => {
      flushProgress(s);
      fail('train', `${s.runs[k].stored.label}: ${errorMessage(e)}`);
    },
    // Cut short by Pause or Reset: evaluated again on Resume. A failure has stopped the session.
    evaluate: async () => {
      flushProgress(s);
      return (await evaluateAll(s)) === 'done';
    },
    afterChunk: async () => {
      if (performance.now() - s.lastPost >= PROGRESS_INTERVAL_MS) flushProgress(s);
      if (s.checkpointer.due()) void s.checkpointer.take(s.runs);
      await yieldToEventLoop();
    },
  });
  if (outcome === 'failed') await stopSession('stopped');
  if (outcome !== 'finished') return;
  s.running = false;
  for (const r of s.runs) {
    r.stored.state = 'done';
    await saveRunFiles(r);
  }
  post({ type: 'done', step: s.runs[0].stored.step });
  await postRuns();
}

// ---------------------------------------------------------------------------------------------
// Retrieval

/** What the photos module (retrieval on the user's own photos, the starter) may use of this worker. */
const photosCtx: PhotosContext = {
  post: (event) => post({ type: 'photos', event }),
  baseUrl,
  ensureBackend,
  loaded: () => loaded,
  runRetriever: async (runId) => (await queryable(runId)).retriever,
  isLive: (runId) => Boolean(session?.runs.some((r) => r.stored.id === runId)),
};

/** `withDataset`: the query searches the loaded dataset (the starter is then bound to it, if it may be). */
async function queryable(runId: string, withDataset = true): Promise<Queryable> {
  if (runId === STARTER_RUN_ID) return starterRetriever(photosCtx, withDataset);
  if (!loaded) throw new Error('no dataset is loaded');
  const live = session?.runs.find((r) => r.stored.id === runId);
  if (live) {
    const { trainer } = live;
    return {
      retriever: new Retriever(trainer.model, trainer.codec, trainer.dataset),
    };
  }
  const q = opened.get(runId) ?? (await openStored(runId));
  return q;
}

async function openStored(runId: string): Promise<Queryable> {
  if (!loaded) throw new Error('no dataset is loaded');
  const meta = await store.get(runId);
  const files = meta && (await currentRunFiles(store, meta));
  if (!files || !meta)
    throw new Error(`run ${runId} has no stored model (it never paused, finished or checkpointed)`);
  if (meta.dataset !== loaded.info.name)
    throw new Error(
      `run '${meta.label}' was trained on ${meta.dataset}; the loaded dataset is ${loaded.info.name}, which it is not queried against: load ${meta.dataset} on the Data tab, or ask the starter model`,
    );
  validateRunFiles(files); // sizes and shapes before anything is allocated
  const m = importModel(files);
  try {
    // A stored run's model stays fixed: its gallery embeddings are kept between queries.
    const retriever = new Retriever(m.model, m.codec, loaded.dataset, { cache: true });
    const q: Queryable = {
      retriever,
      dispose: () => {
        retriever.dispose();
        m.model.dispose();
      },
    };
    opened.get(runId)?.dispose?.();
    opened.set(runId, q);
    return q;
  } catch (e) {
    m.model.dispose();
    throw new Error(
      `run '${meta.label}' (trained on ${meta.dataset}) does not fit the loaded dataset: ${errorMessage(e)}`,
    );
  }
}

async function rankCaptions(runId: string, image: Blob, name: string, limit: number): Promise<void> {
  if (!loaded) throw new Error('no dataset is loaded');
  if (!loaded.preset)
    throw new Error(
      `dataset '${loaded.info.name}' has no image encoder (synthetic features): load scenes or photos to rank captions for a photo`,
    );
  const { retriever } = await queryable(runId);
  const features = await photoFeatures(image, name, loaded.preset, baseUrl());
  const captions = retriever.galleryCaptions();
  // Final, distinct, display-ready (many scenes share a caption text such as "three shapes").
  const items = retriever.captionsForPhoto(features, Math.max(1, Math.min(limit, 100)), captions);
  post({ type: 'captionRanking', runId, name, total: captions.length, items });
}

async function searchImages(runId: string, query: string, limit: number): Promise<void> {
  const { retriever } = await queryable(runId);
  const images = retriever.galleryImages();
  const { hits, unknown } = retriever.searchImages(query, Math.max(1, Math.min(limit, 60)), images);
  const names = loaded?.info.imagePaths;
  const transfer: Transferable[] = [];
  const items: ImageHit[] = hits.map((h) => {
    const hit: ImageHit = { image: h.index, name: names?.[h.index] ?? `image ${h.index}`, score: h.score };
    if (loaded?.thumb) {
      hit.thumb = loaded.thumb(h.index);
      transfer.push(hit.thumb.data.buffer);
    }
    return hit;
  });
  post({ type: 'imageResults', runId, query, items, total: images.length, unknown }, transfer);
}

async function compareSentences(runId: string, a: string, b: string): Promise<void> {
  const q = await queryable(runId, false);
  const { retriever } = q;
  const { eAB, eBA, similarity, unknown } = retriever.generality(a, b);
  if (retriever.model.config.measure !== 'order') {
    post({
      type: 'generality',
      runId,
      a,
      b,
      eAB: similarity,
      eBA: similarity,
      verdict: 'not-order',
      unknown,
    });
    return;
  }
  // "~0", "far from 0" and a telling difference on this model's own caption-to-caption scale, measured
  // on the caption bank (the starter's calibration.json, or in the page). Without one, the median
  // energy of matching image-caption pairs sets the scale (the calibration's, else measured on the
  // loaded dataset; without either, the larger of the two energies).
  const { near, far, asymmetry } =
    q.generality?.() ??
    generalityScale(
      q.calibration?.matching.median ??
        (retriever.dataset ? retriever.typicalPositiveEnergy() : Math.max(eAB, eBA) / 8),
    );
  post({
    type: 'generality',
    runId,
    a,
    b,
    eAB,
    eBA,
    verdict: generalityVerdict(eAB, eBA, near, far, asymmetry),
    unknown,
  });
}

// ---------------------------------------------------------------------------------------------
// Stored runs

/** Stored runs that say 'running' but are not in this worker's session were cut off (reload, crash). */
let staleMarked = false;
/** Whether the user was told that runs live in memory only (no IndexedDB). */
let memoryNoticeShown = false;

async function postRuns(): Promise<void> {
  try {
    let listing = await runsListing(store);
    if (!staleMarked) {
      staleMarked = true;
      const live = new Set(session?.runs.map((r) => r.stored.id) ?? []);
      for (const r of listing.runs) {
        if ((r.state === 'running' || r.state === 'paused') && !live.has(r.id)) {
          r.state = 'stopped';
          await store.put(r);
        }
      }
      listing = await runsListing(store);
    }
    post({ type: 'runs', ...listing });
    if (!memoryNoticeShown && !(await store.durable())) {
      memoryNoticeShown = true;
      notice(
        "This browser's storage (IndexedDB) cannot be opened here: runs are kept for this session only; export them to keep them.",
      );
    }
  } catch (e) {
    fail('runs', e);
  }
}

async function exportStored(runId: string): Promise<void> {
  const live = session?.runs.find((r) => r.stored.id === runId);
  // A damaged record is exported as it is (its files and the record), so that nothing is lost.
  const damaged =
    !live &&
    (await store.get(runId).then(
      () => false,
      () => true,
    ));
  const meta = live || damaged ? undefined : await store.get(runId);
  const files = live
    ? filesOf(live)
    : damaged
      ? await rawRunFiles(store, runId)
      : meta && (await currentRunFiles(store, meta));
  if (!files)
    throw new Error(`run ${runId} has no stored model to export (it never paused, finished or checkpointed)`);
  // Copies: the stored buffers stay usable after the transfer.
  const copy: RunFilesRecord = {};
  const transfer: Transferable[] = [];
  for (const [k, v] of Object.entries(files)) {
    if (typeof v === 'string') copy[k] = v;
    else {
      const c = v.slice(0);
      copy[k] = c;
      transfer.push(c);
    }
  }
  post({ type: 'exported', runId, files: copy }, transfer);
}

async function importFiles(files: RunFilesRecord, label: string): Promise<void> {
  // Validated field by field before anything is stored or allocated; resolves once committed.
  const run = await importRunFiles(store, files, label);
  await postRuns();
  notice(`Imported run '${run.label}' (${run.dataset}, ${run.step} steps).`);
}

async function openRun(runId: string): Promise<void> {
  const meta = await store.get(runId);
  if (!meta) throw new Error(`no stored run ${runId}`);
  if (!session?.runs.some((r) => r.stored.id === runId)) await openStored(runId);
  post({ type: 'runOpened', run: meta });
}

async function renameRun(runId: string, label: string): Promise<void> {
  const name = label.trim();
  if (!name) throw new Error('a run name cannot be empty');
  if (name.length > 200) throw new Error(`a run name has at most 200 characters, got ${name.length}`);
  const live = session?.runs.find((r) => r.stored.id === runId);
  if (live) live.stored.label = name;
  const meta = live ? structuredClone(live.stored) : await store.get(runId);
  if (!meta) throw new Error(`no stored run ${runId}`);
  await store.put({ ...meta, label: name });
  await postRuns();
}

async function deleteRun(runId: string): Promise<void> {
  if (session?.runs.some((r) => r.stored.id === runId))
    throw new Error('a run that is training cannot be deleted; reset it first');
  opened.get(runId)?.dispose?.();
  opened.delete(runId);
  await store.delete(runId);
  await postRuns();
}

// ---------------------------------------------------------------------------------------------

/** Runs an async handler, reporting its failure under `phase`. */
function guard(phase: ErrorPhase, work: () => Promise<void>): void {
  work().catch((e: unknown) => fail(phase, e));
}

function handle(msg: WorkerRequest): void {
  switch (msg.type) {
    case 'init':
      requestedThreads = msg.threads;
      backendReady = init(msg.backend, msg.wasmPath);
      return;
    case 'loadDataset':
      guard('dataset', () => loadDataset(msg.source));
      return;
    case 'cancelLoad':
      loadAbort?.abort();
      return;
    case 'start':
      guard('start', () => start(msg.options));
      return;
    case 'pause': {
      const s = session;
      if (s?.running) {
        s.running = false;
        s.evalAbort?.abort(); // a cut evaluation stays pending: it is redone on Resume
        s.stepAbort?.abort(); // the step in flight is given up, unapplied: Resume takes its batch again
        flushProgress(s);
        for (const r of s.runs) r.stored.state = 'paused';
        post({ type: 'paused', step: s.runs[0].stored.step });
        void s.checkpointer.latest(s.runs);
        guard('runs', async () => {
          for (const r of s.runs) await saveRunFiles(r);
          await postRuns();
        });
      }
      return;
    }
    case 'resume': {
      const s = session;
      // Runs at maxSteps are resumed only to finish an evaluation that a Pause cut short.
      if (s && !s.running && (!finished(s) || s.driver.evalPending)) {
        s.running = true;
        s.lastPost = performance.now();
        for (const r of s.runs) r.stored.state = 'running';
        post({ type: 'resumed', step: s.runs[0].stored.step });
        void trainLoop(s);
      }
      return;
    }
    case 'reset':
      generation++;
      guard('runs', async () => {
        await stopSession('stopped');
        post({ type: 'reset' });
      });
      return;
    case 'evaluate':
      if (session) evaluateNow(session);
      return;
    case 'rankCaptions':
      guard('rank', () => rankCaptions(msg.runId, msg.image, msg.name, msg.limit));
      return;
    case 'searchImages':
      guard('search', () => searchImages(msg.runId, msg.query, msg.limit));
      return;
    case 'compareSentences':
      guard('generality', () => compareSentences(msg.runId, msg.a, msg.b));
      return;
    case 'exportRun':
      guard('export', () => exportStored(msg.runId));
      return;
    case 'importRun':
      guard('import', () => importFiles(msg.files, msg.label));
      return;
    case 'listRuns':
      guard('runs', postRuns);
      return;
    case 'openRun':
      guard('runs', () => openRun(msg.runId));
      return;
    case 'deleteRun':
      guard('runs', () => deleteRun(msg.runId));
      return;
    case 'renameRun':
      guard('runs', () => renameRun(msg.runId, msg.label));
      return;
    case 'resumeRun':
      guard('start', () => resumeStored(msg.runId));
      return;
    case 'checkpointNow':
      if (session?.runs.length) void session.checkpointer.latest(session.runs);
      return;
    case 'hierarchyStart':
      guard('hierarchy', async () => {
        if (!(await ensureBackend())) return;
        await startHierarchy(msg.root, msg.maxNodes, baseUrl(), post);
      });
      return;
    case 'hierarchyStop':
      stopHierarchy(post);
      return;
    case 'photos':
      void handlePhotos(photosCtx, msg.request);
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
