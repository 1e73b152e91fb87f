/**
 * A stored run's learning curve ({@link StoredRun}.history, the {@link RunLogEntry}s a run folder's
 * metrics.json holds): appending the trained steps, setting an evaluation on the entry of its step, and
 * thinning a long curve without ever dropping an evaluated entry.
 */
import type { RunLogEntry } from '../model/export';
import type { EvalPoint } from './protocol';

/** A stored curve is thinned once this many of its entries carry no metrics. */
export const MAX_STORED_POINTS = 2000;

/**
 * Drops every other entry that carries no metrics once `max` of them are held, keeping the first and the
 * last entry and every entry with metrics: the curve keeps its shape and all its evaluations.
 */
export function thinCurve(history: RunLogEntry[], max = MAX_STORED_POINTS): RunLogEntry[] {
  const plain = history.reduce((n, e) => (e.dev ? n : n + 1), 0);
  if (plain < max) return history;
  let k = 0;
  return history.filter((e, i) => Boolean(e.dev) || i === history.length - 1 || k++ % 2 === 0);
}

/** `history` with `entries` (steps after its last) appended, thinned. */
export function appendCurve(history: RunLogEntry[], entries: readonly RunLogEntry[]): RunLogEntry[] {
  return entries.length ? thinCurve(history.concat(entries)) : history;
}

/**
 * `history` with the evaluation `p` set on the entry of its step (a re-evaluation replaces the earlier
 * metrics); a step without an entry (evaluated before its first step, or thinned away) gets one with a
 * NaN loss, at `epoch`, in step order.
 */
export function withEvaluation(history: RunLogEntry[], p: EvalPoint, epoch: number): RunLogEntry[] {
  const metrics = { dev: p.dev, ...(p.devTrained ? { devTrained: p.devTrained } : {}) };
  const i = history.findLastIndex((e) => e.step <= p.step);
  const at = history[i];
  if (at?.step === p.step) {
    const entry: RunLogEntry = { ...at, ...metrics };
    if (!p.devTrained) delete entry.devTrained; // of the earlier evaluation
    return history.with(i, entry);
  }
  const entry: RunLogEntry = { step: p.step, epoch, seconds: p.seconds, loss: Number.NaN, ...metrics };
  return [...history.slice(0, i + 1), entry, ...history.slice(i + 1)];
}

/** The metrics of the curve's last evaluation, if any. */
export function lastEvaluation(history: readonly RunLogEntry[]): RunLogEntry['dev'] {
  return history.findLast((e) => e.dev)?.dev;
}
