/** A scripted stand-in for the training worker (jsdom has no Worker), and event fixtures. Test-only. */
import type { WorkerLike } from '../../src/ui/client';
import type { EvalMetrics, ModelConfig, TrainConfig } from '../../src/model/types';
import { isWorkerEvent, isWorkerRequest } from '../../src/worker/protocol';
import type {
  BackendName,
  DatasetInfo,
  MetricPoint,
  StoredRun,
  WorkerEvent,
  WorkerRequest,
} from '../../src/worker/protocol';

/** Structured clone where it works (Blobs of jsdom don't clone; they are kept as they are). */
function cloneish<T>(v: T): T {
  try {
    return structuredClone(v);
  } catch {
    return v;
  }
}

export class FakeWorker implements WorkerLike {
  sent: WorkerRequest[] = [];
  terminated = false;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onerror: ((event: ErrorEvent) => void) | null = null;
  onmessageerror: ((event: MessageEvent) => void) | null = null;

  /** Answer 'init' with 'ready' on this backend (null: stay silent). */
  constructor(public autoReady: BackendName | null = 'wasm') {}

  postMessage(message: WorkerRequest): void {
    // jsdom Blobs clone to plain objects: such requests are kept as they are.
    const clone = cloneish(message);
    this.sent.push(isWorkerRequest(clone) ? clone : message);
    if (message.type === 'init' && this.autoReady) {
      const backend = this.autoReady;
      queueMicrotask(() =>
        this.emit({ type: 'ready', backend, reason: `auto: no WebGPU adapter, using ${backend}` }),
      );
    }
  }

  terminate(): void {
    this.terminated = true;
  }

  emit(event: WorkerEvent): void {
    // jsdom: cloned ArrayBuffers come from another realm (instanceof fails), so such events go as they are.
    const clone = cloneish(event);
    this.onmessage?.(new MessageEvent('message', { data: isWorkerEvent(clone) ? clone : event }));
  }

  crash(message: string): void {
    this.onerror?.(new ErrorEvent('error', { message, cancelable: true }));
  }

  types(): string[] {
    return this.sent.map((m) => m.type);
  }

  last<T extends WorkerRequest['type']>(type: T): Extract<WorkerRequest, { type: T }> | undefined {
    return this.sent.filter((m) => m.type === type).at(-1) as Extract<WorkerRequest, { type: T }> | undefined;
  }
}

export function metrics(r1: number): EvalMetrics {
  const rec = { r1, r5: Math.min(100, r1 * 2), r10: Math.min(100, r1 * 3), medr: 5, meanr: 9.5 };
  return { i2t: rec, t2i: { ...rec, r1: r1 / 2 }, rsum: 6 * r1 };
}

export const MODEL: ModelConfig = {
  vocabSize: 100,
  wordDim: 32,
  hiddenDim: 64,
  imageDim: 48,
  layerNorm: true,
  measure: 'order',
  margin: 0.05,
  maxViolation: false,
};

export const TRAIN: TrainConfig = {
  batchSize: 32,
  learningRate: 0.001,
  clipNorm: 2,
  seed: 1,
  minWordCount: 1,
  maxLength: 50,
  sampling: 'image',
};

export const SCENES: DatasetInfo = {
  kind: 'scenes',
  name: 'scenes-200',
  numImages: 200,
  numCaptions: 1000,
  imageDim: 480,
  splits: { train: 160, dev: 20, test: 20 },
  encoder: 'centernet-mb3',
  thumbs: 'url',
  thumbBase: 'packs/scenes',
  warnings: [],
};

export const LOADED = { type: 'datasetLoaded', dataset: SCENES } satisfies WorkerEvent;

/** 'started' for an LN-GRU / GRU comparison with ids ln-1 and gru-1. */
export const STARTED2 = {
  type: 'started',
  runs: [
    { id: 'ln-1', label: 'LN-GRU', model: { ...MODEL }, train: { ...TRAIN } },
    { id: 'gru-1', label: 'GRU', model: { ...MODEL, layerNorm: false }, train: { ...TRAIN } },
  ],
  dataset: 'scenes-200',
  evalSplit: 'dev',
} satisfies WorkerEvent;

export const STARTED1 = {
  type: 'started',
  runs: [{ id: 'ln-1', label: 'LN-GRU', model: { ...MODEL }, train: { ...TRAIN } }],
  dataset: 'scenes-200',
  evalSplit: 'dev',
} satisfies WorkerEvent;

/** Progress of one run: losses for steps from, from+1, ... */
export function progress(runId: string, from: number, losses: number[], pairsPerSec = 500): WorkerEvent {
  const step = from + losses.length - 1;
  return {
    type: 'progress',
    runs: [
      {
        runId,
        step,
        epoch: 0,
        loss: losses.at(-1) ?? NaN,
        seconds: step / 10,
        pairsPerSec,
        points: losses.map((loss, i) => ({ step: from + i, loss })),
      },
    ],
  };
}

export function metricsEvent(runId: string, step: number, r1: number): WorkerEvent {
  const point: MetricPoint = { step, seconds: step / 10, metrics: metrics(r1) };
  return { type: 'metrics', runId, split: 'dev', point, ms: 5 };
}

export function storedRun(id: string, label: string, extra: Partial<StoredRun> = {}): StoredRun {
  return {
    id,
    label,
    createdAt: '2025-01-02T03:04:05.000Z',
    dataset: 'scenes-200',
    encoder: 'centernet-mb3',
    model: { ...MODEL, layerNorm: label === 'LN-GRU' },
    train: { ...TRAIN },
    step: 300,
    epoch: 2,
    seconds: 30,
    state: 'done',
    loss: [
      { step: 1, loss: 2 },
      { step: 2, loss: 1.5 },
      { step: 3, loss: 1.2 },
    ],
    evals: [
      { step: 0, seconds: 0, metrics: metrics(1) },
      { step: 300, seconds: 30, metrics: metrics(20) },
    ],
    ...extra,
  };
}
