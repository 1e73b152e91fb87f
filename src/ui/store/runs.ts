/**
 * The chart views of runs, derived from their learning curves (a stored run's `history`, a live run's
 * progress and metrics events): loss rows with their moving average, evaluation rows, thinning so a
 * long run fits the chart, stored runs as views and as lines of the runs list, and the patches that
 * change the runs live in the worker.
 */
import type { RunLogEntry } from '../../model/export';
import type { EvalMetrics } from '../../model/types';
import type { EvalPoint, LossPoint, StoredRun } from '../../worker/protocol';
import { LOSS_EMA, MAX_HISTORY, type EvalRow, type RunState, type RunSummary, type RunView } from './state';

/** Halves a history that reached `max` points, keeping the first and the last point. */
export function thin<T>(rows: T[], max = MAX_HISTORY): T[] {
  if (rows.length < max) return rows;
  return rows.filter((_, i) => i % 2 === 0 || i === rows.length - 1);
}

/** Appends loss points with their EMA (non-finite losses skipped). */
export function appendLoss(
  run: Pick<RunView, 'loss' | 'emaAcc' | 'emaCount'>,
  points: readonly LossPoint[],
): Pick<RunView, 'loss' | 'emaAcc' | 'emaCount'> {
  let { emaAcc, emaCount } = run;
  const rows = run.loss.slice();
  for (const p of points) {
    if (!Number.isFinite(p.loss) || !Number.isFinite(p.step)) continue;
    const last = rows.at(-1);
    if (last && p.step <= last.step) continue; // a repeated point (e.g. resent after a reconnect)
    emaAcc = LOSS_EMA * emaAcc + (1 - LOSS_EMA) * p.loss;
    emaCount += 1;
    rows.push({ step: p.step, loss: p.loss, smooth: emaAcc / (1 - LOSS_EMA ** emaCount) });
  }
  return { loss: thin(rows), emaAcc, emaCount };
}

export function evalRow(step: number, seconds: number, m: EvalMetrics): EvalRow {
  return {
    step,
    seconds,
    i2tR1: m.i2t.r1,
    i2tR5: m.i2t.r5,
    i2tR10: m.i2t.r10,
    t2iR1: m.t2i.r1,
    t2iR5: m.t2i.r5,
    t2iR10: m.t2i.r10,
    rsum: m.rsum,
  };
}

export function appendEval(rows: EvalRow[], p: EvalPoint): EvalRow[] {
  // A re-evaluation of the same step replaces the earlier row.
  const out = rows.filter((r) => r.step !== p.step);
  out.push(evalRow(p.step, p.seconds, p.dev));
  out.sort((a, b) => a.step - b.step);
  return thin(out);
}

/** Every k-th point so that a long stored history fits the chart (first and last kept). */
function sample<T>(rows: readonly T[], max = MAX_HISTORY / 2): T[] {
  if (rows.length <= max) return rows.slice();
  const stride = Math.ceil(rows.length / max);
  return rows.filter((_, i) => i % stride === 0 || i === rows.length - 1);
}

export function newRun(id: string, label: string, dataset: string): RunView {
  return {
    id,
    label,
    model: null,
    train: null,
    dataset,
    state: 'running',
    live: true,
    step: 0,
    epoch: 0,
    seconds: 0,
    pairsPerSec: 0,
    loss: [],
    emaAcc: 0,
    emaCount: 0,
    evals: [],
    speed: [],
  };
}

/** The entries of a curve that carry metrics, as evaluation points. */
function evaluations(history: readonly RunLogEntry[]): EvalPoint[] {
  return history.flatMap((e) => (e.dev ? [{ step: e.step, seconds: e.seconds, dev: e.dev }] : []));
}

/** The chart view of a stored run (its curve's losses and evaluations). */
export function runFromStored(s: StoredRun): RunView {
  const evals = evaluations(s.history)
    .map((p) => evalRow(p.step, p.seconds, p.dev))
    .sort((a, b) => a.step - b.step);
  const losses = s.history.filter((e) => Number.isFinite(e.loss));
  return {
    ...newRun(s.id, s.label, s.dataset),
    model: s.model,
    train: s.train,
    state: s.state,
    live: false,
    step: s.step,
    epoch: s.epoch,
    seconds: s.seconds,
    ...appendLoss({ loss: [], emaAcc: 0, emaCount: 0 }, sample(losses)),
    evals: sample(evals),
  };
}

export function bestRsum(evals: readonly { rsum: number }[]): number | null {
  let best: number | null = null;
  for (const e of evals) if (Number.isFinite(e.rsum) && (best === null || e.rsum > best)) best = e.rsum;
  return best;
}

export function summarize(s: StoredRun): RunSummary {
  return {
    id: s.id,
    label: s.label,
    dataset: s.dataset,
    encoder: s.encoder ?? null,
    createdAt: s.createdAt,
    step: s.step,
    seconds: s.seconds,
    state: s.state,
    bestRsum: bestRsum(evaluations(s.history).map((e) => e.dev)),
    layerNorm: s.model.layerNorm,
    measure: s.model.measure,
    hiddenDim: s.model.hiddenDim,
    checkpointStep: s.checkpointStep ?? null,
  };
}
type RunPatch = (run: RunView) => RunView;

/** Applies `patch` to the runs that are live in the worker. */
export function patchLive(runs: Record<string, RunView>, patch: RunPatch): Record<string, RunView> {
  const out: Record<string, RunView> = {};
  for (const [id, r] of Object.entries(runs)) out[id] = r.live ? patch(r) : r;
  return out;
}

/** The worker no longer holds its runs (reset, crash, new worker): they stay drawn, not queryable. */
export const releaseLive = (runs: Record<string, RunView>, state?: RunState) =>
  patchLive(runs, (r) => ({
    ...r,
    live: false,
    state: state ?? (r.state === 'running' || r.state === 'paused' ? 'stopped' : r.state),
  }));
