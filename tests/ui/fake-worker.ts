/**
 * A scripted stand-in for the training worker (jsdom has no Worker): it implements the worker's typed api
 * (`WorkerApi`, src/worker/adapter.ts) by recording each call, answers `init` with 'ready', and sends the
 * events a test scripts through the callback the client connected. Event fixtures. Test-only.
 */
import type { WorkerLike } from '../../src/ui/client';
import type { EvalMetrics, ModelConfig, TrainConfig } from '../../src/model/types';
import {
  SERVICE_METHODS,
  type EventSink,
  type ServiceMethod,
  type WorkerApi,
} from '../../src/worker/adapter';
import type { BackendName, DatasetInfo, EvalPoint, StoredRun, WorkerEvent } from '../../src/worker/protocol';

/**
 * Structured clone, except that Blobs are kept as they are (jsdom's do not clone), and so are
 * AbortSignals (the worker gets a signal that follows the caller's, src/worker/abort-transfer.ts).
 */
function cloneish<T>(v: T): T {
  if (v instanceof Blob || v instanceof AbortSignal) return v;
  if (Array.isArray(v)) return v.map(cloneish) as T;
  if (typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype)
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, cloneish(x)])) as T;
  try {
    return structuredClone(v);
  } catch {
    return v;
  }
}

/** The arguments of a call of `K`. */
export type Args<K extends ServiceMethod> = Parameters<WorkerApi[K]>;
/** A call of the api: the method's name, then its arguments. */
export type Call = { [K in ServiceMethod]: [K, ...Args<K>] }[ServiceMethod];

export class FakeWorker implements WorkerLike {
  /** Every call of the api, in order (arguments cloned as a message would be). */
  calls: Call[] = [];
  terminated = false;
  onerror: ((event: ErrorEvent) => void) | null = null;
  onmessageerror: ((event: MessageEvent) => void) | null = null;
  readonly api: WorkerApi;
  private sink: EventSink | null = null;
  /** What a call does besides being recorded (a throw: the call rejects). */
  private answers: { [K in ServiceMethod]?: (...args: Args<K>) => unknown } = {};

  /** Answer `init` with 'ready' on this backend (null: stay silent). */
  constructor(public autoReady: BackendName | null = 'wasm') {
    const api: Record<string, unknown> = {
      connect: async (sink: EventSink) => {
        this.sink = sink;
      },
    };
    for (const method of SERVICE_METHODS)
      api[method] = async (...args: unknown[]) => {
        this.calls.push([method, ...cloneish(args)] as Call);
        const answer = this.answers[method] as ((...a: unknown[]) => unknown) | undefined;
        return answer?.(...args);
      };
    this.api = api as unknown as WorkerApi;
    this.answer('init', () => {
      const backend = this.autoReady;
      if (backend)
        queueMicrotask(() =>
          this.emit({ type: 'ready', backend, reason: `auto: no WebGPU adapter, using ${backend}` }),
        );
      return this.autoReady !== null;
    });
  }

  /** Makes calls of `method` run `answer` (it may throw, or emit events). */
  answer<K extends ServiceMethod>(method: K, answer: (...args: Args<K>) => unknown): void {
    (this.answers as Record<K, (...args: Args<K>) => unknown>)[method] = answer;
  }

  terminate(): void {
    this.terminated = true;
  }

  /** Sends an event to the client, cloned as a message is. */
  emit(event: WorkerEvent): void {
    if (!this.sink) throw new Error('the client has not connected');
    void this.sink(cloneish(event));
  }

  crash(message: string): void {
    this.onerror?.(new ErrorEvent('error', { message, cancelable: true }));
  }

  /** The names of the methods called, in order. */
  types(): string[] {
    return this.calls.map((c) => c[0]);
  }

  /** The arguments of the last call of `method`. */
  last<K extends ServiceMethod>(method: K): Args<K> | undefined {
    const call = this.calls.filter((c) => c[0] === method).at(-1);
    return call?.slice(1) as Args<K> | undefined;
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
  const point: EvalPoint = { step, seconds: step / 10, dev: metrics(r1) };
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
    history: [
      { step: 0, epoch: 0, seconds: 0, loss: NaN, dev: metrics(1) },
      { step: 1, epoch: 0, seconds: 0.1, loss: 2 },
      { step: 2, epoch: 0, seconds: 0.2, loss: 1.5 },
      { step: 3, epoch: 0, seconds: 0.3, loss: 1.2 },
      { step: 300, epoch: 2, seconds: 30, loss: NaN, dev: metrics(20) },
    ],
    ...extra,
  };
}
