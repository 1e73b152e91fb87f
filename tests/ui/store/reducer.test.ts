// @vitest-environment jsdom
import { beforeEach, describe, expect, it } from 'vitest';
import {
  MAX_HISTORY,
  descendantsOf,
  canStart,
  initialState,
  queryableRunIds,
  reduceEvent,
  useUiStore,
  type UiState,
} from '../../../src/ui/store';
import type { WorkerEvent } from '../../../src/worker/protocol';
import { liveStepSeconds } from '../../../src/ui/ConfigPanel';
import { LOADED, SCENES, STARTED1, STARTED2, metricsEvent, progress, storedRun } from '../fake-worker';

/** Folds events with the pure reducer (no store). */
function fold(state: UiState, ...events: WorkerEvent[]): UiState {
  return events.reduce((s, e) => ({ ...s, ...reduceEvent(s, e) }), state);
}

const ready: WorkerEvent = { type: 'ready', backend: 'wasm', reason: 'auto: no WebGPU adapter' };

beforeEach(() => {
  useUiStore.setState(initialState());
});

describe('reduceEvent', () => {
  it('becomes ready with the backend and its reason, and loads a dataset', () => {
    let s = fold(initialState(), ready);
    expect(s).toMatchObject({ status: 'ready', backend: 'wasm', backendReason: 'auto: no WebGPU adapter' });
    expect(canStart(s)).toBe(false); // no dataset yet

    s = { ...s, loading: { label: 'scenes', phase: 'starting', done: 0, total: 0, imagesPerSec: 0 } };
    s = fold(s, { type: 'datasetProgress', phase: 'encoding', done: 3, total: 10, imagesPerSec: 2.5 });
    expect(s.loading).toMatchObject({ label: 'scenes', phase: 'encoding', done: 3, total: 10 });
    s = fold(s, LOADED);
    expect(s.loading).toBeNull();
    expect(s.dataset?.name).toBe('scenes-200');
    expect(canStart(s)).toBe(true);
  });

  it('ignores progress of a load that is no longer wanted', () => {
    const s = fold(initialState(), {
      type: 'datasetProgress',
      phase: 'encoding',
      done: 3,
      total: 10,
      imagesPerSec: 1,
    });
    expect(s.loading).toBeNull();
  });

  it('keeps a dataset error visible without breaking the loaded dataset', () => {
    let s = fold(initialState(), ready, LOADED);
    s = { ...s, loading: { label: 'folder', phase: 'starting', done: 0, total: 0, imagesPerSec: 0 } };
    s = fold(s, { type: 'error', phase: 'dataset', message: 'no captions file in the folder' });
    expect(s.loading).toBeNull();
    expect(s.datasetError).toBe('no captions file in the folder');
    expect(s.dataset).toBe(SCENES);
    expect(s.status).toBe('ready');
  });

  it('streams two runs: progress and metrics go to each run', () => {
    let s = fold(initialState(), ready, LOADED, STARTED2);
    expect(s.status).toBe('running');
    expect(s.chartRuns).toEqual(['ln-1', 'gru-1']);
    expect(s.runs['gru-1']?.model?.layerNorm).toBe(false);

    s = fold(
      s,
      metricsEvent('ln-1', 0, 1),
      metricsEvent('gru-1', 0, 1),
      progress('ln-1', 1, [2, 1.8, 1.6], 800),
      progress('gru-1', 1, [2.1, 2.0], 900),
      progress('ln-1', 4, [1.5]),
      metricsEvent('ln-1', 4, 30),
    );
    const ln = s.runs['ln-1']!;
    const gru = s.runs['gru-1']!;
    expect(ln.loss.map((r) => r.step)).toEqual([1, 2, 3, 4]);
    expect(gru.loss.map((r) => r.loss)).toEqual([2.1, 2.0]);
    expect(ln.step).toBe(4);
    expect(gru.pairsPerSec).toBe(900);
    expect(ln.speed.map((p) => p.pairsPerSec)).toEqual([800, 500]);
    expect(ln.evals.map((e) => [e.step, e.i2tR1, e.t2iR1, e.seconds])).toEqual([
      [0, 1, 0.5, 0],
      [4, 30, 15, 0.4],
    ]);
    expect(gru.evals).toHaveLength(1);
    expect(queryableRunIds(s)).toEqual(['ln-1', 'gru-1']);

    // Pause shows 'pausing' until the worker's 'paused' (it ends the step in progress first).
    useUiStore.setState(s);
    useUiStore.getState().pauseRequested();
    s = useUiStore.getState();
    expect(s.status).toBe('pausing');
    expect(liveStepSeconds(s.runs)).toBeCloseTo(32 / 500 + 32 / 900, 6); // batch 32, pairs/s 500 and 900
    s = fold(s, progress('ln-1', 5, [1.4]));
    expect(s.status).toBe('pausing');
    s = fold(s, { type: 'paused', step: 4 });
    expect([s.status, s.runs['ln-1']?.state]).toEqual(['paused', 'paused']);
    useUiStore.setState(s);
    useUiStore.getState().pauseRequested(); // not training: nothing to pause
    expect(useUiStore.getState().status).toBe('paused');
    s = fold(s, { type: 'resumed', step: 4 });
    expect([s.status, s.runs['gru-1']?.state]).toEqual(['running', 'running']);
    s = fold(s, { type: 'done', step: 100 });
    expect([s.status, s.runs['ln-1']?.state]).toEqual(['done', 'done']);
  });

  it('replaces a re-evaluated step and ignores events of unknown runs', () => {
    const s = fold(
      initialState(),
      STARTED2,
      metricsEvent('ln-1', 50, 10),
      metricsEvent('ln-1', 50, 12),
      metricsEvent('nope', 50, 12),
      progress('nope', 1, [1]),
    );
    expect(s.runs['ln-1']?.evals.map((e) => e.i2tR1)).toEqual([12]);
    expect(s.runs.nope).toBeUndefined();
  });

  it('thins long histories but keeps the first and the latest point', () => {
    let s = fold(initialState(), STARTED2);
    for (let i = 0; i < 3 * MAX_HISTORY; i += 10) {
      s = fold(
        s,
        progress(
          'ln-1',
          i + 1,
          Array.from({ length: 10 }, () => 1),
        ),
      );
    }
    const loss = s.runs['ln-1']!.loss;
    expect(loss.length).toBeLessThan(MAX_HISTORY);
    expect(loss[0]?.step).toBe(1);
    expect(loss.at(-1)?.step).toBe(3 * MAX_HISTORY);
    expect(s.runs['ln-1']!.speed.length).toBeLessThan(MAX_HISTORY);
  });

  it('reset keeps the histories; the runs are stopped and no longer queryable', () => {
    let s = fold(initialState(), ready, LOADED, STARTED2, progress('ln-1', 1, [1, 2]));
    s = fold(s, { type: 'reset' });
    expect(s.status).toBe('ready');
    expect(s.runs['ln-1']).toMatchObject({ live: false, state: 'stopped' });
    expect(s.runs['ln-1']?.loss).toHaveLength(2);
    expect(queryableRunIds(s)).toEqual([]);
    // A new start replaces the charted runs.
    s = fold(s, { ...STARTED1, runs: [{ ...STARTED1.runs[0]!, id: 'ln-2' }] });
    expect(s.chartRuns).toEqual(['ln-2']);
  });

  it('a train error stops the runs; a start error returns to ready', () => {
    let s = fold(initialState(), ready, LOADED, STARTED2);
    s = fold(s, { type: 'error', phase: 'train', message: 'NaN loss' });
    expect(s.status).toBe('stopped');
    expect(s.runs['gru-1']?.state).toBe('stopped');
    expect(s.errors.map((e) => e.text)).toEqual(['train failed: NaN loss']);
    expect(canStart(s)).toBe(true);

    s = fold(
      { ...s, status: 'starting' },
      { type: 'error', phase: 'start', message: 'hidden size too large' },
    );
    expect(s.status).toBe('ready');
    expect(s.errors).toHaveLength(2);
  });

  it('a new dataset ends the runs of the previous one', () => {
    let s = fold(initialState(), ready, LOADED, STARTED2, {
      type: 'runOpened',
      run: storedRun('old', 'GRU'),
    });
    expect(queryableRunIds(s)).toEqual(['ln-1', 'gru-1', 'old']);
    s = fold(s, { ...LOADED, dataset: { ...SCENES, name: 'flickr8k' } });
    expect(s.status).toBe('ready');
    expect(s.runs['ln-1']).toMatchObject({ live: false, state: 'stopped' });
    expect(queryableRunIds(s)).toEqual([]);
  });

  it('adopts runs the worker stopped by itself (a lost device)', () => {
    let s = fold(initialState(), ready, LOADED, STARTED2);
    const list = (state: 'running' | 'stopped') => ({
      type: 'runs' as const,
      runs: [storedRun('ln-1', 'LN-GRU', { state }), storedRun('gru-1', 'GRU', { state })],
    });
    s = fold(s, list('running'));
    expect(s.status).toBe('running');
    s = fold(
      s,
      { type: 'notice', message: 'The WebGPU device was lost; falling back to wasm.' },
      list('stopped'),
    );
    expect(s.status).toBe('stopped');
    expect(s.runs['ln-1']?.state).toBe('stopped');
    expect(canStart(s)).toBe(true);
  });

  it('keeps the stored runs list as summaries', () => {
    const s = fold(initialState(), { type: 'runs', runs: [storedRun('a', 'LN-GRU'), storedRun('b', 'GRU')] });
    expect(s.runsLoaded).toBe(true);
    expect(s.stored.map((r) => [r.id, r.label, r.step, r.bestRsum, r.state, r.layerNorm])).toEqual([
      ['a', 'LN-GRU', 300, 120, 'done', true],
      ['b', 'GRU', 300, 120, 'done', false],
    ]);
    expect(s.stored[0]).not.toHaveProperty('loss'); // only what the list shows
  });

  it('an opened run is drawn from its stored loss and evaluations and becomes queryable', () => {
    let s = fold(initialState(), ready, { type: 'runs', runs: [storedRun('a', 'LN-GRU')] });
    s = { ...s, openingRunId: 'a' };
    s = fold(s, { type: 'runOpened', run: storedRun('a', 'LN-GRU') });
    expect(s.openedRunId).toBe('a');
    expect(s.openingRunId).toBeNull();
    expect(s.chartRuns).toEqual(['a']);
    expect(s.runs.a?.loss.map((r) => r.loss)).toEqual([2, 1.5, 1.2]);
    expect(s.runs.a?.evals.map((e) => e.rsum)).toEqual([6, 120]);
    expect(queryableRunIds(s)).toEqual(['a']);
  });

  it('records query results and errors per query', () => {
    let s = fold(initialState(), {
      type: 'imageResults',
      runId: 'ln-1',
      query: 'a dog',
      items: [{ image: 3, name: '3.jpg', score: 0.1 }],
      total: 20,
      unknown: ['zebra'],
    });
    expect(s.retrieval.images?.unknown).toEqual(['zebra']);
    s = fold(s, { type: 'error', phase: 'rank', message: 'could not decode the photo' });
    expect(s.retrieval.errors.rank).toBe('could not decode the photo');
    expect(s.errors).toEqual([]); // shown next to the query, not in the global list
  });

  it('notices are kept (at most five) and dismissible', () => {
    for (let i = 0; i < 7; i++) useUiStore.getState().applyEvent({ type: 'notice', message: `n${i}` });
    let s = useUiStore.getState();
    expect(s.notices.map((n) => n.text)).toEqual(['n2', 'n3', 'n4', 'n5', 'n6']);
    s.dismissNotice(s.notices[0]!.id);
    s = useUiStore.getState();
    expect(s.notices.map((n) => n.text)).toEqual(['n3', 'n4', 'n5', 'n6']);
  });
});

describe('crash and reconnect (actions)', () => {
  it('a crash keeps the histories and marks the running runs stopped', () => {
    const st = useUiStore.getState();
    for (const e of [ready, LOADED, STARTED2, progress('ln-1', 1, [1, 2, 3]), metricsEvent('gru-1', 0, 5)])
      st.applyEvent(e);
    useUiStore.getState().crashed('out of memory', true);
    let s = useUiStore.getState();
    expect(s.status).toBe('crashed');
    expect(s.crash).toEqual({ message: 'out of memory', restarted: true });
    expect(s.runs['ln-1']).toMatchObject({ state: 'stopped', live: false });
    expect(s.runs['ln-1']?.loss).toHaveLength(3);
    expect(s.runs['gru-1']?.evals).toHaveLength(1);

    useUiStore.getState().connecting();
    s = useUiStore.getState();
    expect(s).toMatchObject({ status: 'connecting', backend: null, dataset: null });
    expect(s.chartRuns).toEqual(['ln-1', 'gru-1']);
    expect(s.runs['ln-1']?.loss).toHaveLength(3);
    expect(s.crash).not.toBeNull(); // the banner stays until dismissed
  });
});

describe('hierarchy mode', () => {
  it('loads a subtree, derives descendants, follows progress and stops', () => {
    let s = initialState();
    s = { ...s, ...reduceEvent(s, { type: 'notice', message: 'x' }) };
    s = {
      ...s,
      ...reduceEvent(s, {
        type: 'hierarchyLoaded',
        root: 'feline.n.01',
        names: ['feline.n.01', 'cat.n.01', 'lion.n.01', 'kitten.n.01'],
        ancestors: [[], [0], [0], [0, 1]],
        edges: [
          [1, 0],
          [2, 0],
          [3, 1],
        ],
        pairs: 4,
        source: 'WordNet 3.1',
      }),
    };
    expect(s.hierarchy.status).toBe('training');
    expect(s.hierarchy.descendants).toEqual([[1, 2, 3], [3], [], []]);
    const xy = new Float32Array([0, 0, 1, 1, 2, 0.5, 3, 3]);
    s = { ...s, ...reduceEvent(s, { type: 'hierarchyProgress', step: 40, loss: 0.5, xy, violations: 1 }) };
    expect(s.hierarchy.step).toBe(40);
    expect(s.hierarchy.xy).toBe(xy);
    s = { ...s, ...reduceEvent(s, { type: 'hierarchyStopped', step: 41 }) };
    expect(s.hierarchy.status).toBe('stopped');
    // Progress after a stop is ignored.
    expect(reduceEvent(s, { type: 'hierarchyProgress', step: 50, loss: 0.4, xy, violations: 0 })).toEqual({});
  });

  it('shows a worker error for an unknown synset', () => {
    const s = initialState();
    const patch = reduceEvent(s, {
      type: 'error',
      phase: 'hierarchy',
      message: "no node named 'x.n.01' among the 82115 nodes",
    });
    expect(patch.hierarchy?.status).toBe('idle');
    expect(patch.hierarchy?.error).toMatch(/no node named/);
  });

  it('inverts ancestor lists', () => {
    expect(descendantsOf([[], [0], [0, 1]])).toEqual([[1, 2], [2], []]);
  });
});
