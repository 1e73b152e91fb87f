/**
 * Validation of the run records read back from IndexedDB ({@link StoredRun}), field by field, so that
 * one damaged record is listed as damaged with its reason instead of hiding the others. Records stored
 * before the learning curve was one list ({@link OldCurve}: `loss` and `evals`) are read into `history`.
 */
import type { RunLogEntry } from '../model/export';
import { LIMITS } from '../model/limits';
import type { EvalMetrics } from '../model/types';
import { field, validateEvalMetrics, validateModelConfig, validateTrainConfig } from '../model/validate-run';
import type { StoredRun } from './protocol';

const { rec, str, num, int, oneOf, arr } = field;

const RUN_STATES = ['running', 'paused', 'done', 'stopped', 'imported'] as const;
/**
 * Entries a stored curve may hold: as many as an imported run folder's curve (validate-metrics.ts), which
 * is stored as it is; the worker thins its own curves at 2000 entries without metrics.
 */
const MAX_CURVE_ENTRIES = 1_000_000;
/** Points each list of an old-format record may hold (as checked when those records were written). */
const MAX_OLD_POINTS = 100_000;

/** Whether `v` is a record of the format before `history` (its curve in `loss` and `evals`). */
export function isOldRecord(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return r.history === undefined && (r.loss !== undefined || r.evals !== undefined);
}

/** A run record read from IndexedDB: every field of {@link StoredRun}; throws naming the first bad one. */
export function validateStoredRun(v: unknown): StoredRun {
  const r = rec('run record', v);
  const id = str('run record: id', r.id, 200);
  const where = (k: string) => `run ${id}: ${k}`;
  const label = str(where('label'), r.label, 500);
  const createdAt = str(where('createdAt'), r.createdAt, 100);
  const dataset = str(where('dataset'), r.dataset, 4096);
  const encoder =
    r.encoder === null || r.encoder === undefined ? null : str(where('encoder'), r.encoder, 4096);
  const model = validateModelConfig(where('model'), r.model);
  const train = validateTrainConfig(where('train'), r.train);
  const step = int(where('step'), r.step, 0, LIMITS.steps);
  const epoch = int(where('epoch'), r.epoch, 0, LIMITS.steps);
  const seconds = num(where('seconds'), r.seconds, 0);
  const state = oneOf(where('state'), r.state, RUN_STATES);
  const run: StoredRun = {
    id,
    label,
    createdAt,
    dataset,
    encoder,
    model,
    train,
    step,
    epoch,
    seconds,
    state,
    history: isOldRecord(r)
      ? historyFromOld(validateOldCurve(where, r), step, epoch, seconds)
      : arr(where('history'), r.history, MAX_CURVE_ENTRIES).map((e, i) =>
          validateCurveEntry(where(`history[${i}]`), e),
        ),
  };
  if (r.checkpointStep !== undefined)
    run.checkpointStep = int(where('checkpointStep'), r.checkpointStep, 0, LIMITS.steps);
  return run;
}

/**
 * One entry of a stored curve. Unlike a run folder's (JSON, where NaN is null) every field is present and
 * the loss may be NaN (an evaluation before the first step) or infinite (the step that diverged).
 */
function validateCurveEntry(where: string, v: unknown): RunLogEntry {
  const e = rec(where, v);
  if (typeof e.loss !== 'number') num(`${where}.loss`, e.loss);
  const entry: RunLogEntry = {
    step: int(`${where}.step`, e.step, 0, LIMITS.steps),
    epoch: int(`${where}.epoch`, e.epoch, 0, LIMITS.steps),
    seconds: num(`${where}.seconds`, e.seconds, 0),
    loss: e.loss as number,
  };
  if (e.dev !== undefined) entry.dev = validateEvalMetrics(`${where}.dev`, e.dev);
  if (e.devTrained !== undefined) entry.devTrained = validateEvalMetrics(`${where}.devTrained`, e.devTrained);
  return entry;
}

/** The curve of a record stored before `history`: a loss per trained step, and the evaluations apart. */
export interface OldCurve {
  loss: { step: number; loss: number }[];
  evals: { step: number; seconds: number; metrics: EvalMetrics }[];
}

/** An old record's `loss` and `evals`, field by field (as they were checked when they were current). */
function validateOldCurve(where: (k: string) => string, r: Record<string, unknown>): OldCurve {
  return {
    loss: arr(where('loss'), r.loss, MAX_OLD_POINTS).map((p, i) => {
      const q = rec(where(`loss[${i}]`), p);
      // A loss may be NaN or infinite (the step that diverged); it must be a number.
      if (typeof q.loss !== 'number') num(where(`loss[${i}].loss`), q.loss);
      return { step: int(where(`loss[${i}].step`), q.step, 0, LIMITS.steps), loss: q.loss as number };
    }),
    evals: arr(where('evals'), r.evals, MAX_OLD_POINTS).map((p, i) => {
      const q = rec(where(`evals[${i}]`), p);
      return {
        step: int(where(`evals[${i}].step`), q.step, 0, LIMITS.steps),
        seconds: num(where(`evals[${i}].seconds`), q.seconds, 0),
        metrics: validateEvalMetrics(where(`evals[${i}].metrics`), q.metrics),
      };
    }),
  };
}

/**
 * An old record's curve as one list: an entry per step of either list, in step order, with the loss of
 * its step (NaN for an evaluation without one) and the metrics of its evaluation (the last one of a step
 * evaluated twice). What the old format did not keep is given as its last known value: `seconds` from
 * the evaluations (the record's own seconds at its own step, else the latest evaluation's at or before the
 * step, 0 before any), `epoch` the record's at its own step and 0 before it (unknown there, as an entry of
 * a run folder logged without one reads).
 */
export function historyFromOld(old: OldCurve, step: number, epoch: number, seconds: number): RunLogEntry[] {
  const evals = new Map(old.evals.map((e) => [e.step, e]));
  const loss = new Map(old.loss.map((p) => [p.step, p.loss]));
  const steps = [...new Set([...loss.keys(), ...evals.keys()])].sort((a, b) => a - b);
  const known = [...evals.values()].sort((a, b) => a.step - b.step);
  let k = 0;
  let lastSeconds = 0;
  return steps.map((s) => {
    while (k < known.length && known[k].step <= s) lastSeconds = known[k++].seconds;
    const e = evals.get(s);
    return {
      step: s,
      epoch: s === step ? epoch : 0,
      seconds: e ? e.seconds : s === step ? seconds : lastSeconds,
      loss: loss.get(s) ?? Number.NaN,
      ...(e ? { dev: e.metrics } : {}),
    };
  });
}
