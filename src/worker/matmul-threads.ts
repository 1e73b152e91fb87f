/**
 * Threads for our matMul kernel (../model/kernels/matmul-host.ts) in the page: the training worker
 * (tfjs's single-threaded wasm build) starts threads - 1 helper workers (./matmul-thread.worker.ts),
 * each with the kernel instantiated on a stage, a shared memory of their own
 * (../model/kernels/matmul-stage.ts), and splits each large product's rows among itself and them.
 * XNNPACK's threads (tfjs's threaded build) share a product too, but its single-threaded speed is
 * about 0.65 of our kernel's, and that build runs tfjs's other ops about 17% slower
 * (docs/benchmarks.md).
 *
 * Protocol, over one small SharedArrayBuffer (Int32Array `ctl`): the training worker writes a job's
 * parameters, zeroes DONE, bumps GEN and wakes the helpers (Atomics.notify); it computes the first
 * block of rows itself, then waits (Atomics.wait) until DONE counts every helper. A helper waits for
 * GEN to move, computes its block (blocks of a multiple of 4 rows; none when the rows run out), adds 1
 * to DONE and wakes the training worker. The next job starts only after every helper answered, so none
 * can miss or repeat one. A helper that does not answer within HELPER_TIMEOUT_MS (it died: a trap)
 * ends the helpers: the product is computed again on the training worker alone (the kernel writes
 * every element of C, so nothing of the lost block is left) and so is every later one.
 */
import {
  MATMUL_BYTES,
  MAX_SPLIT,
  setRowSplitter,
  type GemmJob,
  type RowSplitter,
} from '../model/kernels/matmul-host';
import type { MatMulStage } from '../model/kernels/matmul-stage';

import { CTL, CTL_LENGTH, type HelperInit, type HelperReady } from './matmul-thread-protocol';

const HELPER_TIMEOUT_MS = 30_000;
const START_TIMEOUT_MS = 15_000;

/** Rows per thread: a multiple of 4 (the kernel's tiles), the last block taking what is left. */
export function blockRows(M: number, threads: number): number {
  return Math.ceil(M / threads / 4) * 4;
}

/** A {@link RowSplitter} over `helpers` (started) and the calling thread. */
class HelperSplitter implements RowSplitter {
  readonly threads: number;
  private readonly ctl: Int32Array;
  private broken = false;

  constructor(
    readonly stage: MatMulStage,
    private readonly helpers: Worker[],
    ctl: SharedArrayBuffer,
    private readonly onBroken: (why: string) => void,
    private readonly timeoutMs: number,
  ) {
    this.threads = helpers.length + 1;
    this.ctl = new Int32Array(ctl);
  }

  /** Ends the helpers (products run on the calling thread from now on). */
  stop(): void {
    this.broken = true;
    this.helpers.forEach((w) => w.terminate());
  }

  run(job: GemmJob): void {
    const { a, bp, c, M, K, N, tmp } = job;
    if (this.broken) {
      this.stage.kernel.gemm(a, bp, c, M, K, N, tmp);
      return;
    }
    const ctl = this.ctl;
    const block = blockRows(M, this.threads);
    ctl[CTL.A] = a;
    ctl[CTL.BP] = bp;
    ctl[CTL.C] = c;
    ctl[CTL.M] = M;
    ctl[CTL.K] = K;
    ctl[CTL.N] = N;
    ctl[CTL.TMP] = tmp;
    ctl[CTL.BLOCK] = block;
    Atomics.store(ctl, CTL.DONE, 0);
    Atomics.add(ctl, CTL.GEN, 1); // publishes the parameters above (sequentially consistent)
    Atomics.notify(ctl, CTL.GEN);
    this.stage.kernel.gemm(a, bp, c, Math.min(block, M), K, N, tmp);
    const deadline = performance.now() + this.timeoutMs;
    for (;;) {
      const done = Atomics.load(ctl, CTL.DONE);
      if (done >= this.helpers.length) return;
      const left = deadline - performance.now();
      if (left <= 0 || Atomics.wait(ctl, CTL.DONE, done, left) === 'timed-out') break;
    }
    // A helper is gone: end them all, and compute this product (and every later one) here.
    this.stop();
    this.stage.kernel.gemm(a, bp, c, M, K, N, tmp);
    this.onBroken(`a matMul helper thread did not answer within ${this.timeoutMs / 1000} s`);
  }
}

/**
 * Starts `threads - 1` helpers running the stage's build of the kernel on its memory and makes every
 * large product split its rows over them and the calling thread. Resolves to the splitter, or to null
 * (nothing changed) where the helpers did not start; `onBroken` hears if they stop later (products then
 * run on the calling thread).
 */
export async function startMatMulThreads(
  stage: MatMulStage,
  threads: number,
  onBroken: (why: string) => void,
  options: {
    /** A new helper (tests: a Node worker_threads shim). */
    spawn?: () => Worker;
    /** How long a product waits for the helpers before it takes them for gone. */
    timeoutMs?: number;
  } = {},
): Promise<RowSplitter | null> {
  const spawn =
    options.spawn ??
    (() =>
      new Worker(new URL('./matmul-thread.worker.ts', import.meta.url), { type: 'module', name: 'matmul' }));
  const n = Math.min(threads, MAX_SPLIT);
  if (n < 2) return null;
  const ctl = new SharedArrayBuffer(CTL_LENGTH * 4);
  const helpers: Worker[] = [];
  try {
    await Promise.all(
      Array.from({ length: n - 1 }, (_, i) => {
        const w = spawn();
        helpers.push(w);
        return new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('a helper did not start')), START_TIMEOUT_MS);
          w.onmessage = (e: MessageEvent<HelperReady>) => {
            clearTimeout(timer);
            if (e.data.ok) resolve();
            else reject(new Error(e.data.error));
          };
          w.onerror = (e) => {
            clearTimeout(timer);
            reject(new Error(e.message || 'a helper failed to load'));
          };
          const init: HelperInit = {
            memory: stage.memory,
            ctl,
            bytes: MATMUL_BYTES[stage.build].shared,
            index: i + 1,
          };
          w.postMessage(init);
        });
      }),
    );
  } catch (e) {
    helpers.forEach((w) => w.terminate());
    throw e;
  }
  stopMatMulThreads();
  active = new HelperSplitter(stage, helpers, ctl, onBroken, options.timeoutMs ?? HELPER_TIMEOUT_MS);
  setRowSplitter(active);
  return active;
}

let active: HelperSplitter | null = null;

/** Ends the helpers: products run on the calling thread alone. */
export function stopMatMulThreads(): void {
  setRowSplitter(null);
  active?.stop();
  active = null;
}
