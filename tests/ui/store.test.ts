// @vitest-environment jsdom
import { beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_FORM,
  EVAL_EVERY,
  LOSS_EMA,
  MAX_HISTORY,
  appendLoss,
  initialState,
  parseForm,
  reduceEvent,
  thin,
  useUiStore,
} from '../../src/ui/store';
import type { WorkerEvent } from '../../src/worker/protocol';
import { STARTED, metrics } from './fake-worker';

const progress = (from: number, losses: number[]): WorkerEvent => ({
  type: 'progress',
  step: from + losses.length - 1,
  epoch: 0,
  loss: losses.at(-1) ?? NaN,
  gradNorm: 1,
  pairsPerSec: 500,
  points: losses.map((loss, i) => ({ step: from + i, loss })),
});

const apply = (...events: WorkerEvent[]) => {
  for (const e of events) useUiStore.getState().applyEvent(e);
  return useUiStore.getState();
};

beforeEach(() => {
  useUiStore.setState(initialState());
});

describe('reduceEvent / applyEvent', () => {
  it('starts connecting and becomes ready with the backend', () => {
    expect(useUiStore.getState().status).toBe('connecting');
    const s = apply({ type: 'ready', backend: 'wasm', reason: 'default (wasm)' });
    expect(s.status).toBe('ready');
    expect(s.backend).toBe('wasm');
    expect(s.backendReason).toBe('default (wasm)');
  });

  it('runs through a training session', () => {
    apply({ type: 'ready', backend: 'cpu', reason: 'requested (cpu)' });
    useUiStore.getState().starting();
    expect(useUiStore.getState().status).toBe('starting');

    let s = apply(STARTED, { type: 'metrics', step: 0, split: 'dev', metrics: metrics(1), ms: 3 });
    expect(s.status).toBe('running');
    expect(s.run?.dataset.numCaptions).toBe(1000);
    expect(s.metrics).toHaveLength(1);

    s = apply(progress(1, [2, 1.8, 1.6]), progress(4, [1.5, 1.4]));
    expect(s.loss.map((r) => r.step)).toEqual([1, 2, 3, 4, 5]);
    expect(s.loss.map((r) => r.loss)).toEqual([2, 1.8, 1.6, 1.5, 1.4]);
    expect(s.step).toBe(5);
    expect(s.pairsPerSec).toBe(500);

    s = apply({ type: 'metrics', step: 50, split: 'dev', metrics: metrics(30), ms: 3 });
    expect(s.metrics.map((m) => [m.step, m.i2tR1, m.t2iR1])).toEqual([
      [0, 1, 0.5],
      [50, 30, 15],
    ]);
    expect(s.metrics[1]?.rsum).toBe(180);

    expect(apply({ type: 'paused', step: 5 }).status).toBe('paused');
    expect(apply({ type: 'resumed', step: 5 }).status).toBe('running');
    expect(apply({ type: 'done', step: 100 }).status).toBe('done');

    s = apply({ type: 'reset' });
    expect(s.status).toBe('ready');
    expect(s.loss).toEqual([]);
    expect(s.metrics).toEqual([]);
    expect(s.run).toBeNull();
    expect(s.backend).toBe('cpu'); // the backend survives a reset
  });

  it('replaces a re-evaluated step instead of duplicating it', () => {
    const s = apply(
      { type: 'metrics', step: 100, split: 'dev', metrics: metrics(10), ms: 1 },
      { type: 'metrics', step: 100, split: 'dev', metrics: metrics(12), ms: 1 },
    );
    expect(s.metrics).toHaveLength(1);
    expect(s.metrics[0]?.i2tR1).toBe(12);
  });

  it('does not move status back to ready on a late ready event', () => {
    useUiStore.setState({ status: 'running' });
    expect(reduceEvent(useUiStore.getState(), { type: 'ready', backend: 'wasm', reason: '' }).status).toBe(
      'running',
    );
  });

  it('records worker errors and clears them on the next start', () => {
    let s = apply({ type: 'error', phase: 'train', message: 'NaN gradient' });
    expect(s.status).toBe('error');
    expect(s.error).toBe('train failed: NaN gradient');
    s = apply(STARTED);
    expect(s.error).toBeNull();
    expect(s.status).toBe('running');
  });

  it('marks a crashed worker and recovers on connecting', () => {
    apply({ type: 'ready', backend: 'wasm', reason: '' }, progress(1, [1]));
    useUiStore.getState().crashed('out of memory');
    let s = useUiStore.getState();
    expect(s.status).toBe('crashed');
    expect(s.error).toContain('out of memory');
    useUiStore.getState().connecting();
    s = useUiStore.getState();
    expect(s).toMatchObject({ status: 'connecting', error: null, backend: null, loss: [] });
  });
});

describe('loss history', () => {
  it('computes a bias-corrected EMA and skips non-finite losses', () => {
    const r = appendLoss({ loss: [], emaAcc: 0, emaCount: 0 }, [
      { step: 1, loss: 2 },
      { step: 2, loss: NaN },
      { step: 3, loss: 1 },
    ]);
    expect(r.loss.map((x) => x.step)).toEqual([1, 3]);
    expect(r.loss[0]?.smooth).toBeCloseTo(2); // first point: EMA equals the value
    const expected = (LOSS_EMA * (1 - LOSS_EMA) * 2 + (1 - LOSS_EMA) * 1) / (1 - LOSS_EMA ** 2);
    expect(r.loss[1]?.smooth).toBeCloseTo(expected);
  });

  it('thins long histories but keeps the first and the latest point', () => {
    const rows = Array.from({ length: 9 }, (_, i) => i);
    expect(thin(rows, 10)).toBe(rows);
    const thinned = thin(
      Array.from({ length: 10 }, (_, i) => i),
      10,
    );
    expect(thinned).toEqual([0, 2, 4, 6, 8, 9]);

    let s = { loss: [] as ReturnType<typeof appendLoss>['loss'], emaAcc: 0, emaCount: 0 };
    for (let i = 0; i < 3 * MAX_HISTORY; i++) s = appendLoss(s, [{ step: i + 1, loss: 1 }]);
    expect(s.loss.length).toBeLessThan(MAX_HISTORY);
    expect(s.loss[0]?.step).toBe(1);
    expect(s.loss.at(-1)?.step).toBe(3 * MAX_HISTORY);
  });
});

describe('form', () => {
  it('parses the default form into a run config', () => {
    const parsed = parseForm(DEFAULT_FORM);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.config).toEqual({
      model: { layerNorm: true, measure: 'order', hiddenDim: 128 },
      train: { batchSize: 64, learningRate: 0.001, seed: 1 },
      data: { seed: 1 },
      evalEvery: EVAL_EVERY,
      maxSteps: 0,
    });
  });

  it('reports one message per invalid field', () => {
    const parsed = parseForm({
      ...DEFAULT_FORM,
      hiddenDim: '12.5',
      batchSize: '',
      learningRate: 'fast',
      seed: '-1',
    });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.errors).toEqual({
      hiddenDim: 'Must be a whole number.',
      batchSize: 'Required.',
      learningRate: 'Must be a number.',
      seed: expect.stringMatching(/between 0 and/),
    });
  });

  it('setField updates the value and clears that field’s error', () => {
    const st = useUiStore.getState();
    st.setFormErrors({ batchSize: 'Required.', seed: 'Required.' });
    st.setField('batchSize', '16');
    const s = useUiStore.getState();
    expect(s.form.batchSize).toBe('16');
    expect(s.formErrors).toEqual({ seed: 'Required.' });
  });

  it('starting() clears the previous run', () => {
    apply(STARTED, progress(1, [1, 2]), {
      type: 'metrics',
      step: 2,
      split: 'dev',
      metrics: metrics(5),
      ms: 1,
    });
    useUiStore.getState().starting();
    const s = useUiStore.getState();
    expect(s).toMatchObject({ status: 'starting', loss: [], metrics: [], run: null, step: 0 });
  });

  it('keeps the initial state pristine between stores', () => {
    const a = initialState();
    a.form.seed = '99';
    expect(initialState().form.seed).toBe(DEFAULT_FORM.seed);
  });
});
