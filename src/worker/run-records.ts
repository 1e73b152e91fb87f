/**
 * Validation of the run records read back from IndexedDB ({@link StoredRun}), field by field, so that
 * one damaged record is listed as damaged with its reason instead of hiding the others.
 */
import { LIMITS } from '../model/limits';
import { field, validateEvalMetrics, validateModelConfig, validateTrainConfig } from '../model/validate-run';
import type { StoredRun } from './protocol';

const { rec, str, num, int, oneOf, arr } = field;

const RUN_STATES = ['running', 'paused', 'done', 'stopped', 'imported'] as const;
/** Points a stored curve may hold (the worker halves its curves at 2000). */
const MAX_STORED_POINTS = 100_000;

/** A run record read from IndexedDB: every field of {@link StoredRun}; throws naming the first bad one. */
export function validateStoredRun(v: unknown): StoredRun {
  const r = rec('run record', v);
  const id = str('run record: id', r.id, 200);
  const where = (k: string) => `run ${id}: ${k}`;
  const run: StoredRun = {
    id,
    label: str(where('label'), r.label, 500),
    createdAt: str(where('createdAt'), r.createdAt, 100),
    dataset: str(where('dataset'), r.dataset, 4096),
    encoder: r.encoder === null || r.encoder === undefined ? null : str(where('encoder'), r.encoder, 4096),
    model: validateModelConfig(where('model'), r.model),
    train: validateTrainConfig(where('train'), r.train),
    step: int(where('step'), r.step, 0, LIMITS.steps),
    epoch: int(where('epoch'), r.epoch, 0, LIMITS.steps),
    seconds: num(where('seconds'), r.seconds, 0),
    state: oneOf(where('state'), r.state, RUN_STATES),
    loss: arr(where('loss'), r.loss, MAX_STORED_POINTS).map((p, i) => {
      const q = rec(where(`loss[${i}]`), p);
      // A loss may be NaN or infinite (the step that diverged); it must be a number.
      if (typeof q.loss !== 'number') num(where(`loss[${i}].loss`), q.loss);
      return { step: int(where(`loss[${i}].step`), q.step, 0, LIMITS.steps), loss: q.loss as number };
    }),
    evals: arr(where('evals'), r.evals, MAX_STORED_POINTS).map((p, i) => {
      const q = rec(where(`evals[${i}]`), p);
      return {
        step: int(where(`evals[${i}].step`), q.step, 0, LIMITS.steps),
        seconds: num(where(`evals[${i}].seconds`), q.seconds, 0),
        metrics: validateEvalMetrics(where(`evals[${i}].metrics`), q.metrics),
      };
    }),
  };
  if (r.checkpointStep !== undefined)
    run.checkpointStep = int(where('checkpointStep'), r.checkpointStep, 0, LIMITS.steps);
  return run;
}
