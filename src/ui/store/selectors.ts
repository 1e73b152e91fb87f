/** Questions the components ask of the state: what can be queried, started, named. */
import type { Measure } from '../../model/types';
import type { Status, UiState } from './state';

/** Runs retrieval can use right now: live runs of the worker and the opened stored run. */
export function queryableRunIds(s: Pick<UiState, 'runs' | 'openedRunId'>): string[] {
  const ids = Object.values(s.runs)
    .filter((r) => r.live)
    .map((r) => r.id);
  if (s.openedRunId && !ids.includes(s.openedRunId)) ids.push(s.openedRunId);
  return ids;
}

/** The similarity measure of a run (live, opened or stored), when known. */
export function runMeasure(
  s: Pick<UiState, 'runs' | 'stored'>,
  runId: string | null | undefined,
): Measure | null {
  if (!runId) return null;
  return s.runs[runId]?.model?.measure ?? s.stored.find((r) => r.id === runId)?.measure ?? null;
}

/** Display names of the charted runs: their labels, made unique with a suffix when two collide. */
export function seriesNames(runs: readonly { id: string; label: string }[]): Map<string, string> {
  const names = new Map<string, string>();
  const used = new Set<string>();
  for (const r of runs) {
    let name = r.label || r.id;
    for (let k = 2; used.has(name); k++) name = `${r.label || r.id} (${k})`;
    used.add(name);
    names.set(r.id, name);
  }
  return names;
}

/** A run is active in the worker (the form is locked and datasets can't be switched). */
export const isRunActive = (s: Status): boolean => s === 'starting' || isTraining(s);

/** A session is in the worker: training, pausing or paused. */
export function isTraining(s: Status): boolean {
  return s === 'running' || s === 'pausing' || s === 'paused';
}

/** Start is possible: the worker is up, a dataset is loaded and nothing is training. */
export const canStart = (s: Pick<UiState, 'status' | 'dataset' | 'loading'>): boolean =>
  (s.status === 'ready' || s.status === 'done' || s.status === 'stopped') &&
  s.dataset !== null &&
  s.loading === null;
