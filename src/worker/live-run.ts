/**
 * A run training in the worker's session (./session.ts): its trainer, its record as stored
 * (`StoredRun`, kept current step by step), the curve entries not yet posted and its throughput window.
 */
import { exportRun, type RunExtra, type RunLogEntry } from '../model/export';
import type { Trainer } from '../model/trainer';
import { appendCurve, lastEvaluation } from './learning-curve';
import type { RunProgress, RunSpec, StoredRun } from './protocol';
import type { RunFilesRecord } from './run-store';
import { defaultRunName } from './stored-runs';

/** Pairs/s is measured over at least this much step time. */
const RATE_WINDOW_MS = 500;

export interface LiveRun {
  spec: RunSpec;
  trainer: Trainer;
  stored: StoredRun;
  /** The curve entries of the steps not yet posted (nor added to `stored.history`). */
  pending: RunLogEntry[];
  loss: number;
  windowSteps: number;
  windowMs: number;
  pairsPerSec: number;
}

export function liveRun(spec: RunSpec, trainer: Trainer, stored: StoredRun): LiveRun {
  return {
    spec,
    trainer,
    stored,
    pending: [],
    loss: Number.NaN,
    windowSteps: 0,
    windowMs: 0,
    pairsPerSec: 0,
  };
}

/** The record of a new run of `spec`; `encoder`: the image encoder of the loaded dataset's features. */
export function newStoredRun(spec: RunSpec, trainer: Trainer, encoder: string | null): StoredRun {
  return {
    id: spec.id,
    // The form's bare model name gets the dataset and the time ("LN-GRU, scenes, 14:03").
    label:
      spec.label === 'LN-GRU' || spec.label === 'GRU'
        ? defaultRunName(trainer.config.model.layerNorm, trainer.dataset.name)
        : spec.label,
    createdAt: new Date().toISOString(),
    dataset: trainer.dataset.name,
    encoder,
    model: trainer.config.model,
    train: trainer.config.train,
    step: 0,
    epoch: 0,
    seconds: 0,
    state: 'running',
    history: [],
  };
}

/**
 * The run's files as an exported run folder holds them (weights, config, codec, history). The weights
 * are read asynchronously (no synchronous read on a device backend), as of the step when it is called.
 */
export async function filesOf(r: LiveRun): Promise<RunFilesRecord> {
  const reading = r.trainer.model.readWeights(); // its copies are taken now, at this step
  const final = lastEvaluation(r.stored.history);
  const extra: RunExtra = {
    encoder: r.stored.encoder,
    dataset: r.stored.dataset,
    history: r.stored.history.slice(), // the curve up to this step, whatever comes while reading
    final: final ? { dev: final } : undefined,
    createdAt: r.stored.createdAt,
    steps: r.trainer.stepsDone,
    epochs: r.trainer.epochsDone,
  };
  return exportRun(r.trainer, extra, await reading).files;
}

/** The run's progress since the last call: its pending entries move to its stored curve. */
export function takeProgress(r: LiveRun): RunProgress {
  // Throughput over at least RATE_WINDOW_MS of stepping; short windows are noisy.
  if (r.windowMs >= RATE_WINDOW_MS || (r.pairsPerSec === 0 && r.windowMs > 0)) {
    r.pairsPerSec = (r.windowSteps * r.trainer.config.train.batchSize) / (r.windowMs / 1000);
    r.windowSteps = 0;
    r.windowMs = 0;
  }
  const entries = r.pending;
  r.pending = [];
  r.stored.history = appendCurve(r.stored.history, entries);
  return {
    runId: r.stored.id,
    step: r.stored.step,
    epoch: r.stored.epoch,
    loss: r.loss,
    seconds: r.stored.seconds,
    pairsPerSec: r.pairsPerSec,
    points: entries.map(({ step, loss }) => ({ step, loss })),
  };
}
