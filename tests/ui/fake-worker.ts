/** A scripted stand-in for the training worker (jsdom has no Worker). Test-only. */
import type { WorkerLike } from '../../src/ui/client';
import type { EvalMetrics } from '../../src/model/types';
import type { WorkerEvent, WorkerRequest } from '../../src/worker/protocol';

export class FakeWorker implements WorkerLike {
  sent: WorkerRequest[] = [];
  terminated = false;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onerror: ((event: ErrorEvent) => void) | null = null;
  onmessageerror: ((event: MessageEvent) => void) | null = null;

  /** Answer 'init' with 'ready' on this backend (null: stay silent). */
  constructor(public autoReady: string | null = 'wasm') {}

  postMessage(message: WorkerRequest): void {
    this.sent.push(structuredClone(message));
    if (message.type === 'init' && this.autoReady) {
      const backend = this.autoReady;
      queueMicrotask(() => this.emit({ type: 'ready', backend, reason: `default (${backend})` }));
    }
  }

  terminate(): void {
    this.terminated = true;
  }

  emit(event: WorkerEvent): void {
    this.onmessage?.(new MessageEvent('message', { data: structuredClone(event) }));
  }

  crash(message: string): void {
    this.onerror?.(new ErrorEvent('error', { message, cancelable: true }));
  }

  types(): string[] {
    return this.sent.map((m) => m.type);
  }
}

export function metrics(r1: number): EvalMetrics {
  const rec = { r1, r5: Math.min(100, r1 * 2), r10: Math.min(100, r1 * 3), medr: 5, meanr: 9.5 };
  return { i2t: rec, t2i: { ...rec, r1: r1 / 2 }, rsum: 6 * r1 };
}

export const MODEL = {
  vocabSize: 100,
  wordDim: 32,
  hiddenDim: 64,
  imageDim: 48,
  layerNorm: true,
  measure: 'order',
  margin: 0.05,
  maxViolation: false,
} as const;

export const TRAIN = {
  batchSize: 32,
  learningRate: 0.001,
  clipNorm: 2,
  seed: 1,
  minWordCount: 1,
  maxLength: 50,
  sampling: 'image',
} as const;

export const STARTED: WorkerEvent = {
  type: 'started',
  model: { ...MODEL },
  train: { ...TRAIN },
  dataset: { name: 'synthetic', numImages: 200, numCaptions: 1000, imageDim: 48 },
  evalSplit: 'dev',
};
