/**
 * The pure reducer: the state change caused by one worker event (`reduceEvent`), with the runs the
 * worker stopped by itself adopted (`syncLive`) and each error shown where it belongs (`reduceError`).
 */
import type { ErrorPhase, StoredRun, WorkerEvent } from '../../worker/protocol';
import {
  appendEval,
  newRun,
  patchLive,
  releaseLive,
  runFromStored,
  summarize,
  thin,
  appendLoss,
} from './runs';
import { isRunActive, isTraining } from './selectors';
import {
  MAX_ERRORS,
  MAX_NOTICES,
  descendantsOf,
  emptyHierarchy,
  emptyRetrieval,
  type Message,
  type QueryKind,
  type RetrievalState,
  type UiState,
} from './state';

function pushMessage(list: Message[], id: number, text: string, max: number, phase?: ErrorPhase): Message[] {
  return [...list, { id, text, ...(phase ? { phase } : {}) }].slice(-max);
}

const QUERY_PHASE: Partial<Record<ErrorPhase, QueryKind>> = {
  rank: 'rank',
  search: 'search',
  generality: 'generality',
};

/**
 * A query is answered: its results (or, when it failed, `error` and its cleared results) shown, no
 * longer pending, its error set or cleared.
 */
function answered(
  state: UiState,
  kind: QueryKind,
  results: Partial<RetrievalState>,
  error?: string,
): Partial<UiState> {
  return {
    retrieval: {
      ...state.retrieval,
      ...results,
      pending: { ...state.retrieval.pending, [kind]: false },
      errors: { ...state.retrieval.errors, [kind]: error },
    },
  };
}

/** Pure reducer: the state change caused by one worker event. */
export function reduceEvent(state: UiState, event: WorkerEvent): Partial<UiState> {
  switch (event.type) {
    case 'ready':
      return {
        status: state.status === 'connecting' ? 'ready' : state.status,
        backend: event.backend,
        backendReason: event.reason,
        backendThreads: event.threads ?? null,
        threadsWhy: event.threadsWhy ?? null,
        backendMatMul: event.matMul ?? null,
      };
    case 'datasetProgress':
      if (!state.loading) return {}; // late progress of a cancelled load
      return {
        loading: {
          ...state.loading,
          phase: event.phase,
          done: event.done,
          total: event.total,
          imagesPerSec: event.imagesPerSec,
        },
      };
    case 'datasetLoaded':
      // The worker stops the runs of the previous dataset and closes the opened run.
      return {
        status:
          isRunActive(state.status) || state.status === 'done' || state.status === 'stopped'
            ? 'ready'
            : state.status,
        runs: releaseLive(state.runs),
        openedRunId: null,
        openingRunId: null,
        dataset: event.dataset,
        loading: null,
        datasetError: null,
        pickedFiles: event.dataset.thumbs === 'file' ? state.pickedFiles : null,
        // Results index the previous dataset's images and captions.
        retrieval: { ...emptyRetrieval(), errors: {} },
      };
    case 'started': {
      const runs = releaseLive(state.runs);
      for (const r of event.runs) {
        // A resumed run keeps its curves up to its checkpoint.
        const base = r.resumed
          ? { ...runFromStored(r.resumed), state: 'running' as const, live: true }
          : newRun(r.id, r.label, event.dataset);
        runs[r.id] = { ...base, model: r.model, train: r.train };
      }
      const ids = event.runs.map((r) => r.id);
      return {
        status: 'running',
        runs: Object.fromEntries(
          Object.entries(runs).filter(([id]) => ids.includes(id) || id === state.openedRunId),
        ),
        chartRuns: ids,
        evalSplit: event.evalSplit,
        errors: state.errors.filter((e) => e.phase !== 'start' && e.phase !== 'train'),
      };
    }
    case 'progress': {
      const runs = { ...state.runs };
      for (const p of event.runs) {
        const r = runs[p.runId];
        if (!r) continue;
        const last = r.speed.at(-1);
        const speed =
          Number.isFinite(p.pairsPerSec) && p.pairsPerSec > 0 && (!last || p.step > last.step)
            ? thin([...r.speed, { step: p.step, seconds: p.seconds, pairsPerSec: p.pairsPerSec }])
            : r.speed;
        runs[p.runId] = {
          ...r,
          ...appendLoss(r, p.points),
          speed,
          step: p.step,
          epoch: p.epoch,
          seconds: p.seconds,
          pairsPerSec: p.pairsPerSec,
        };
      }
      return { runs };
    }
    case 'metrics': {
      const r = state.runs[event.runId];
      if (!r) return {};
      return { runs: { ...state.runs, [r.id]: { ...r, evals: appendEval(r.evals, event.point) } } };
    }
    case 'paused':
      return {
        status: 'paused',
        runs: patchLive(state.runs, (r) => (r.state === 'running' ? { ...r, state: 'paused' } : r)),
      };
    case 'resumed':
      return {
        status: 'running',
        runs: patchLive(state.runs, (r) => (r.state === 'paused' ? { ...r, state: 'running' } : r)),
      };
    case 'done':
      return { status: 'done', runs: patchLive(state.runs, (r) => ({ ...r, state: 'done' })) };
    case 'reset':
      // A reset sent just before a new 'start' must not re-enable Start.
      return { status: state.status === 'starting' ? 'starting' : 'ready', runs: releaseLive(state.runs) };
    case 'captionRanking':
      return answered(state, 'rank', {
        ranking: { runId: event.runId, name: event.name, items: event.items, total: event.total },
      });
    case 'imageResults':
      return answered(state, 'search', {
        images: {
          runId: event.runId,
          query: event.query,
          items: event.items,
          total: event.total,
          unknown: event.unknown,
        },
      });
    case 'generality':
      return answered(state, 'generality', { generality: event });
    case 'exported':
      return { exportingRunId: null };
    case 'runs':
      return {
        stored: event.runs.map(summarize),
        damagedRuns: event.damaged ?? [],
        storageUse: event.storage ?? state.storageUse,
        runsLoaded: true,
        importing: false,
        ...syncLive(state, event.runs),
      };
    case 'runOpened': {
      const existing = state.runs[event.run.id];
      const run = existing?.live ? existing : runFromStored(event.run);
      // The previously opened run is no longer queryable; it stays drawn while it is on the chart.
      return {
        openedRunId: event.run.id,
        openingRunId: null,
        importing: false,
        runs: { ...state.runs, [run.id]: run },
        chartRuns: state.chartRuns.includes(run.id) ? state.chartRuns : [...state.chartRuns, run.id],
      };
    }
    case 'hierarchyLoaded':
      return {
        hierarchy: {
          ...emptyHierarchy(),
          status: 'training',
          root: event.root,
          names: event.names,
          ancestors: event.ancestors,
          descendants: descendantsOf(event.ancestors),
          edges: event.edges,
          pairs: event.pairs,
          source: event.source,
        },
      };
    case 'hierarchyProgress':
      if (state.hierarchy.status !== 'training') return {};
      return {
        hierarchy: {
          ...state.hierarchy,
          step: event.step,
          loss: event.loss,
          violations: event.violations,
          xy: event.xy,
        },
      };
    case 'hierarchyStopped':
      return state.hierarchy.status === 'training'
        ? { hierarchy: { ...state.hierarchy, status: 'stopped', step: event.step } }
        : {};
    case 'notice':
      return {
        notices: pushMessage(state.notices, state.nextId, event.message, MAX_NOTICES),
        nextId: state.nextId + 1,
      };
    case 'error':
      return reduceError(state, event.phase, event.message);
    case 'photos':
      return {}; // the starter and own-photo retrieval keep their state in ./retrieve/photos-store.ts
  }
}

/**
 * Runs the worker stopped by itself (e.g. after a lost WebGPU device) show up as 'stopped' in its runs
 * list while the UI still has them training: adopt that state, and stop the status when none trains.
 */
function syncLive(state: UiState, stored: readonly StoredRun[]): Partial<UiState> {
  if (state.status !== 'running' && state.status !== 'pausing' && state.status !== 'paused') return {};
  const byId = new Map(stored.map((r) => [r.id, r.state]));
  let changed = false;
  const runs = patchLive(state.runs, (r) => {
    const s = byId.get(r.id);
    if ((s === 'stopped' || s === 'done') && s !== r.state) {
      changed = true;
      return { ...r, state: s };
    }
    return r;
  });
  if (!changed) return {};
  const live = Object.values(runs).filter((r) => r.live);
  if (live.some((r) => r.state === 'running' || r.state === 'paused')) return { runs };
  return { runs, status: live.every((r) => r.state === 'done') ? 'done' : 'stopped' };
}

function reduceError(state: UiState, phase: ErrorPhase, message: string): Partial<UiState> {
  const query = QUERY_PHASE[phase];
  if (query) {
    // A failed query clears its previous results: they no longer answer what was asked.
    const cleared = { rank: { ranking: null }, search: { images: null }, generality: { generality: null } }[
      query
    ];
    return answered(state, query, cleared, message);
  }
  switch (phase) {
    case 'dataset':
      return { loading: null, datasetError: message };
    case 'hierarchy':
      return { hierarchy: { ...state.hierarchy, status: 'idle', error: message } };
    case 'export':
    case 'import':
    case 'runs':
      return {
        runsError: `${phase} failed: ${message}`,
        exportingRunId: phase === 'export' ? null : state.exportingRunId,
        importing: phase === 'import' ? false : state.importing,
        openingRunId: phase === 'runs' ? null : state.openingRunId,
      };
    default: {
      const patch: Partial<UiState> = {
        errors: pushMessage(state.errors, state.nextId, `${phase} failed: ${message}`, MAX_ERRORS, phase),
        nextId: state.nextId + 1,
      };
      if (phase === 'start' && state.status === 'starting') patch.status = 'ready';
      if (phase === 'train' && isTraining(state.status)) {
        patch.status = 'stopped';
        patch.runs = patchLive(state.runs, (r) =>
          r.state === 'running' || r.state === 'paused' ? { ...r, state: 'stopped' } : r,
        );
      }
      return patch;
    }
  }
}
