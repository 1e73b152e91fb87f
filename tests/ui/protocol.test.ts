// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import {
  BACKENDS,
  errorMessage,
  isBackendName,
  isEvalMetrics,
  isWorkerEvent,
  isWorkerRequest,
  type RunConfig,
  type WorkerEvent,
  type WorkerRequest,
} from '../../src/worker/protocol';
import { STARTED, metrics } from './fake-worker';

const CONFIG: RunConfig = {
  model: { layerNorm: true, measure: 'order', hiddenDim: 64 },
  train: { batchSize: 32, learningRate: 0.001, seed: 3 },
  data: { seed: 3 },
  evalEvery: 50,
  maxSteps: 0,
};

describe('isWorkerRequest', () => {
  const valid: WorkerRequest[] = [
    { type: 'init', backend: 'wasm', wasmPath: 'http://127.0.0.1/tfjs-wasm/' },
    { type: 'start', config: CONFIG },
    { type: 'pause' },
    { type: 'resume' },
    { type: 'reset' },
  ];
  it.each(valid)('accepts $type', (msg) => {
    expect(isWorkerRequest(msg)).toBe(true);
    // Survives structured cloning unchanged (what postMessage does).
    expect(isWorkerRequest(structuredClone(msg))).toBe(true);
  });

  it('rejects malformed requests', () => {
    expect(isWorkerRequest(null)).toBe(false);
    expect(isWorkerRequest('pause')).toBe(false);
    expect(isWorkerRequest([])).toBe(false);
    expect(isWorkerRequest({})).toBe(false);
    expect(isWorkerRequest({ type: 'explode' })).toBe(false);
    expect(isWorkerRequest({ type: 'toString' })).toBe(false);
    expect(isWorkerRequest({ type: 'init', backend: 'tpu', wasmPath: '/' })).toBe(false);
    expect(isWorkerRequest({ type: 'init', backend: 'wasm' })).toBe(false);
    expect(isWorkerRequest({ type: 'start' })).toBe(false);
    expect(isWorkerRequest({ type: 'start', config: { ...CONFIG, evalEvery: 0 } })).toBe(false);
    expect(isWorkerRequest({ type: 'start', config: { ...CONFIG, maxSteps: -1 } })).toBe(false);
    // Events are not requests.
    expect(isWorkerRequest({ type: 'ready', backend: 'wasm', reason: 'x' })).toBe(false);
  });
});

describe('isWorkerEvent', () => {
  const valid: WorkerEvent[] = [
    { type: 'ready', backend: 'wasm', reason: 'default (wasm)' },
    STARTED,
    {
      type: 'progress',
      step: 10,
      epoch: 0,
      loss: 1.5,
      gradNorm: 0.3,
      pairsPerSec: 800,
      points: [{ step: 10, loss: 1.5 }],
    },
    { type: 'metrics', step: 50, split: 'dev', metrics: metrics(20), ms: 12 },
    { type: 'paused', step: 3 },
    { type: 'resumed', step: 3 },
    { type: 'done', step: 100 },
    { type: 'reset' },
    { type: 'error', phase: 'train', message: 'NaN loss' },
  ];
  it.each(valid)('accepts $type', (msg) => {
    expect(isWorkerEvent(msg)).toBe(true);
    expect(isWorkerEvent(structuredClone(msg))).toBe(true);
  });

  it('accepts a NaN loss in progress (the UI skips it) but not a NaN step', () => {
    const p = { type: 'progress', step: 1, epoch: 0, loss: NaN, gradNorm: NaN, pairsPerSec: 0, points: [] };
    expect(isWorkerEvent(p)).toBe(true);
    expect(isWorkerEvent({ ...p, step: NaN })).toBe(false);
  });

  it('rejects malformed events', () => {
    expect(isWorkerEvent(undefined)).toBe(false);
    expect(isWorkerEvent({ type: 'ready' })).toBe(false);
    expect(isWorkerEvent({ type: 'metrics', step: 1, split: 'test', metrics: metrics(1), ms: 1 })).toBe(
      false,
    );
    expect(isWorkerEvent({ type: 'metrics', step: 1, split: 'dev', metrics: { rsum: 1 }, ms: 1 })).toBe(
      false,
    );
    expect(isWorkerEvent({ type: 'progress', step: 1 })).toBe(false);
    expect(isWorkerEvent({ type: 'error', message: 'x' })).toBe(false);
    expect(isWorkerEvent({ type: 'pause' })).toBe(false);
  });
});

describe('helpers', () => {
  it('knows the backends', () => {
    expect(BACKENDS).toEqual(['wasm', 'webgpu', 'webgl', 'cpu']);
    for (const b of BACKENDS) expect(isBackendName(b)).toBe(true);
    expect(isBackendName('WASM')).toBe(false);
  });

  it('validates metrics', () => {
    expect(isEvalMetrics(metrics(10))).toBe(true);
    expect(isEvalMetrics({ ...metrics(10), rsum: '60' })).toBe(false);
  });

  it('formats thrown values', () => {
    expect(errorMessage(new Error('boom'))).toBe('boom');
    expect(errorMessage(new TypeError(''))).toBe('TypeError');
    expect(errorMessage('plain')).toBe('plain');
    expect(errorMessage({ code: 7 })).toBe('{"code":7}');
    expect(errorMessage(undefined)).toBe('undefined');
  });
});
