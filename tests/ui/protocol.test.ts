// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import {
  BACKENDS,
  MAX_QUERY_CHARS,
  errorMessage,
  generalityVerdict,
  isBackendChoice,
  isBackendName,
  isEvalMetrics,
  isWorkerEvent,
  isWorkerRequest,
  type StartOptions,
  type WorkerEvent,
  type WorkerRequest,
} from '../../src/worker/protocol';
import { LOADED, STARTED2, metrics, metricsEvent, progress, storedRun } from './fake-worker';

const OPTIONS: StartOptions = {
  runs: [
    { id: 'ln-1', label: 'LN-GRU', model: { layerNorm: true, hiddenDim: 64 }, train: { batchSize: 32 } },
    { id: 'gru-1', label: 'GRU', model: { layerNorm: false, hiddenDim: 64 }, train: { batchSize: 32 } },
  ],
  evalEvery: 25,
  maxSteps: 0,
  evalImages: 500,
};

const photo = new Blob([new Uint8Array([0xff, 0xd8, 0xff])], { type: 'image/jpeg' });

describe('isWorkerRequest', () => {
  const valid: WorkerRequest[] = [
    { type: 'init', backend: 'auto', wasmPath: 'http://127.0.0.1/tfjs-wasm/' },
    { type: 'init', backend: 'webgpu', wasmPath: '/tfjs-wasm/' },
    { type: 'loadDataset', source: { kind: 'scenes' } },
    { type: 'loadDataset', source: { kind: 'scenes', numImages: 40 } },
    { type: 'loadDataset', source: { kind: 'synthetic', numImages: 100, seed: 2 } },
    {
      type: 'loadDataset',
      source: { kind: 'pack', url: 'http://127.0.0.1/packs/flickr8k-mobilenet-v1-1.0-trunk' },
    },
    {
      type: 'loadDataset',
      source: {
        kind: 'folder',
        name: 'Flickr8k',
        files: [{ path: 'Images/1.jpg', file: photo }],
        encoder: { preset: 'centernet-mb3' },
      },
    },
    {
      type: 'loadDataset',
      source: { kind: 'folder', name: 'f', files: [], encoder: { url: 'http://x/model.json' }, crops: 10 },
    },
    { type: 'cancelLoad' },
    { type: 'start', options: OPTIONS },
    { type: 'pause' },
    { type: 'resume' },
    { type: 'reset' },
    { type: 'evaluate' },
    { type: 'rankCaptions', runId: 'ln-1', image: photo, name: 'dog.jpg', limit: 10 },
    { type: 'searchImages', runId: 'ln-1', query: 'a dog', limit: 12 },
    { type: 'compareSentences', runId: 'ln-1', a: 'a dog runs', b: 'a dog' },
    { type: 'exportRun', runId: 'ln-1' },
    { type: 'importRun', files: { 'config.json': '{}', 'weights.bin': new ArrayBuffer(8) }, label: 'x' },
    { type: 'listRuns' },
    { type: 'openRun', runId: 'ln-1' },
    { type: 'deleteRun', runId: 'ln-1' },
  ];
  it.each(valid.map((m) => [m.type, m] as const))('accepts %s', (_type, msg) => {
    expect(isWorkerRequest(msg)).toBe(true);
  });

  it('covers every request type', () => {
    expect(new Set(valid.map((m) => m.type)).size).toBe(16);
  });

  const invalid: [string, unknown][] = [
    ['null', null],
    ['a string', 'pause'],
    ['an array', []],
    ['no type', {}],
    ['an unknown type', { type: 'explode' }],
    ['an inherited name', { type: 'toString' }],
    ['an unknown backend', { type: 'init', backend: 'tpu', wasmPath: '/' }],
    ['init without wasmPath', { type: 'init', backend: 'wasm' }],
    ['loadDataset without source', { type: 'loadDataset' }],
    ['an unknown dataset kind', { type: 'loadDataset', source: { kind: 'mnist' } }],
    ['a pack without url', { type: 'loadDataset', source: { kind: 'pack' } }],
    [
      'a folder file that is not a Blob',
      {
        type: 'loadDataset',
        source: {
          kind: 'folder',
          name: 'f',
          files: [{ path: 'a.jpg', file: 'x' }],
          encoder: { preset: 'p' },
        },
      },
    ],
    ['a folder without encoder', { type: 'loadDataset', source: { kind: 'folder', name: 'f', files: [] } }],
    ['start without options', { type: 'start' }],
    ['start with no runs', { type: 'start', options: { ...OPTIONS, runs: [] } }],
    ['start with evalEvery 0', { type: 'start', options: { ...OPTIONS, evalEvery: 0 } }],
    ['start with negative maxSteps', { type: 'start', options: { ...OPTIONS, maxSteps: -1 } }],
    [
      'a run without label',
      { type: 'start', options: { ...OPTIONS, runs: [{ id: 'a', model: {}, train: {} }] } },
    ],
    [
      'rankCaptions without a Blob',
      { type: 'rankCaptions', runId: 'a', image: 'x.jpg', name: 'x', limit: 5 },
    ],
    ['searchImages without query', { type: 'searchImages', runId: 'a', limit: 5 }],
    ['compareSentences without b', { type: 'compareSentences', runId: 'a', a: 'x' }],
    ['exportRun without runId', { type: 'exportRun' }],
    ['importRun with a number file', { type: 'importRun', files: { 'a.json': 3 }, label: 'x' }],
    ['openRun with a numeric id', { type: 'openRun', runId: 3 }],
    ['an event', { type: 'ready', backend: 'wasm', reason: 'x' }],
  ];
  it.each(invalid)('rejects %s', (_what, msg) => {
    expect(isWorkerRequest(msg)).toBe(false);
  });
});

describe('isWorkerEvent', () => {
  const valid: WorkerEvent[] = [
    { type: 'ready', backend: 'wasm', reason: 'auto: no WebGPU adapter' },
    { type: 'datasetProgress', phase: 'encoding', done: 3, total: 10, imagesPerSec: 4.2 },
    LOADED,
    STARTED2,
    progress('ln-1', 1, [2, 1.5]),
    metricsEvent('ln-1', 25, 12),
    { type: 'paused', step: 3 },
    { type: 'resumed', step: 3 },
    { type: 'done', step: 100 },
    { type: 'reset' },
    {
      type: 'captionRanking',
      runId: 'ln-1',
      name: 'dog.jpg',
      items: [{ caption: 4, image: 1, text: 'a dog', score: 0.01 }],
      total: 100,
    },
    {
      type: 'imageResults',
      runId: 'ln-1',
      query: 'a dog',
      items: [
        {
          image: 1,
          name: '1.jpg',
          score: 0.1,
          thumb: { width: 1, height: 1, data: new Uint8ClampedArray(4) },
        },
      ],
      total: 20,
      unknown: [],
    },
    {
      type: 'generality',
      runId: 'ln-1',
      a: 'a dog runs',
      b: 'a dog',
      eAB: 0,
      eBA: 0.4,
      verdict: 'b-more-general',
    },
    { type: 'exported', runId: 'ln-1', files: { 'config.json': '{}', 'weights.bin': new ArrayBuffer(4) } },
    { type: 'runs', runs: [storedRun('a', 'LN-GRU')] },
    { type: 'runOpened', run: storedRun('a', 'LN-GRU') },
    { type: 'notice', message: 'WebGPU device lost; fell back to wasm' },
    { type: 'error', phase: 'dataset', message: 'no captions' },
  ];
  it.each(valid.map((m) => [m.type, m] as const))(
    'accepts %s (also after structured cloning)',
    (type, msg) => {
      expect(isWorkerEvent(msg)).toBe(true);
      // (jsdom: a cloned ArrayBuffer comes from another realm than the test's, which instanceof rejects)
      if (type !== 'exported') expect(isWorkerEvent(structuredClone(msg))).toBe(true);
    },
  );

  it('covers every event type', () => {
    expect(new Set(valid.map((m) => m.type)).size).toBe(18);
  });

  it('accepts a NaN loss in progress (the UI skips it) but not a NaN step', () => {
    const p = progress('ln-1', 1, [NaN]) as { type: 'progress'; runs: { step: number }[] };
    expect(isWorkerEvent(p)).toBe(true);
    expect(isWorkerEvent({ ...p, runs: [{ ...p.runs[0], step: NaN }] })).toBe(false);
  });

  const invalid: [string, unknown][] = [
    ['undefined', undefined],
    ['ready without backend', { type: 'ready' }],
    ['ready with an unknown backend', { type: 'ready', backend: 'tpu', reason: '' }],
    ['datasetProgress without total', { type: 'datasetProgress', phase: 'x', done: 1, imagesPerSec: 1 }],
    ['datasetLoaded without counts', { type: 'datasetLoaded', dataset: { name: 'x' } }],
    ['started with a bad split', { ...STARTED2, evalSplit: 'test' }],
    ['progress of the old shape', { type: 'progress', step: 1, loss: 1, pairsPerSec: 1, points: [] }],
    [
      'metrics with a bad split',
      {
        type: 'metrics',
        runId: 'a',
        split: 'test',
        point: { step: 1, seconds: 1, metrics: metrics(1) },
        ms: 1,
      },
    ],
    [
      'metrics with broken metrics',
      {
        type: 'metrics',
        runId: 'a',
        split: 'dev',
        point: { step: 1, seconds: 1, metrics: { rsum: 1 } },
        ms: 1,
      },
    ],
    ['captionRanking without items', { type: 'captionRanking', runId: 'a', name: 'x', total: 1 }],
    ['imageResults without unknown', { type: 'imageResults', runId: 'a', query: 'q', items: [], total: 0 }],
    [
      'generality with a NaN energy',
      { type: 'generality', runId: 'a', a: 'x', b: 'y', eAB: NaN, eBA: 1, verdict: 'x' },
    ],
    ['exported with a number file', { type: 'exported', runId: 'a', files: { a: 1 } }],
    ['runs with a broken run', { type: 'runs', runs: [{ id: 'a' }] }],
    ['runOpened without run', { type: 'runOpened' }],
    ['notice without message', { type: 'notice' }],
    ['error without phase', { type: 'error', message: 'x' }],
    ['a request', { type: 'pause' }],
  ];
  it.each(invalid)('rejects %s', (_what, msg) => {
    expect(isWorkerEvent(msg)).toBe(false);
  });
});

describe('helpers', () => {
  it('knows the backends', () => {
    expect(BACKENDS).toEqual(['webgpu', 'wasm', 'webgl', 'cpu']);
    for (const b of BACKENDS) expect(isBackendName(b)).toBe(true);
    expect(isBackendName('auto')).toBe(false);
    expect(isBackendChoice('auto')).toBe(true);
    expect(isBackendName('WASM')).toBe(false);
  });

  it('validates metrics', () => {
    expect(isEvalMetrics(metrics(10))).toBe(true);
    expect(isEvalMetrics({ ...metrics(10), rsum: '60' })).toBe(false);
  });

  it('has a query limit', () => {
    expect(MAX_QUERY_CHARS).toBeGreaterThanOrEqual(100);
  });

  it('judges generality from the two energies', () => {
    expect(generalityVerdict(0, 0.5, 0.01)).toBe('b-more-general');
    expect(generalityVerdict(0.5, 0, 0.01)).toBe('a-more-general');
    expect(generalityVerdict(0, 0, 0.01)).toBe('equivalent');
    expect(generalityVerdict(1, 1.1, 0.01)).toBe('unrelated');
  });

  it('formats thrown values', () => {
    expect(errorMessage(new Error('boom'))).toBe('boom');
    expect(errorMessage(new TypeError(''))).toBe('TypeError');
    expect(errorMessage('plain')).toBe('plain');
    expect(errorMessage({ code: 7 })).toBe('{"code":7}');
    expect(errorMessage(undefined)).toBe('undefined');
  });
});

describe('hierarchy messages', () => {
  it('accepts well-formed requests and events and rejects broken ones', () => {
    expect(isWorkerRequest({ type: 'hierarchyStart', root: 'mammal.n.01', maxNodes: 2500 })).toBe(true);
    expect(isWorkerRequest({ type: 'hierarchyStart', root: 'mammal.n.01', maxNodes: 1 })).toBe(false);
    expect(isWorkerRequest({ type: 'hierarchyStart', maxNodes: 10 })).toBe(false);
    expect(isWorkerRequest({ type: 'hierarchyStop' })).toBe(true);
    const loaded = {
      type: 'hierarchyLoaded',
      root: 'feline.n.01',
      names: ['a', 'b'],
      ancestors: [[], [0]],
      edges: [[1, 0]],
      pairs: 1,
      source: 'WordNet 3.1',
    };
    expect(isWorkerEvent(loaded)).toBe(true);
    expect(isWorkerEvent({ ...loaded, ancestors: [[]] })).toBe(false); // one list per node
    const xy = new Float32Array(4);
    expect(isWorkerEvent({ type: 'hierarchyProgress', step: 3, loss: 0.1, xy, violations: 0 })).toBe(true);
    expect(isWorkerEvent({ type: 'hierarchyProgress', step: 3, loss: 0.1, xy: [0, 0], violations: 0 })).toBe(
      false,
    );
    expect(isWorkerEvent({ type: 'hierarchyStopped', step: 3 })).toBe(true);
  });
});
