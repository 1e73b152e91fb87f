/**
 * Data parallelism over Node's worker_threads for the headless trainer and `compare` (`--threads N`):
 * each training step's batch is cut into N shards, one per thread; the threads embed their shards, the
 * main thread computes the in-batch loss over the whole batch once and hands each thread its rows of the
 * gradient, the threads backpropagate and then sum their gradients in thread order, each a range of the
 * parameters, with the range's share of the gradient norm (src/model/parallel/sum-host.ts); the main
 * thread clips and applies Adam as usual (the scheme and its guarantees: src/model/parallel/shards.ts).
 *
 * Why not tfjs's threaded wasm: tfjs 4.22 turns it off in Node (WASM_HAS_MULTITHREAD_SUPPORT is false
 * there) and loads its pthread workers from blob: URLs, which Node's worker_threads cannot start; it can
 * be made to run with shims (docs/benchmarks.md), but it splits each op, and at these sizes the ops are
 * small; shards of the batch keep each thread busy for the whole forward and backward pass.
 *
 * The step stays synchronous (Trainer.step() and the training driver are unchanged): the main thread
 * posts its requests, then waits on a shared Int32Array (Atomics.wait) that each thread bumps after it
 * answers, and reads the answer with receiveMessageOnPort. The threads get the step's weights through a
 * SharedArrayBuffer the main thread writes before each step, so whatever changes the main model
 * (Adam, restore, initFrom, averaged weights) reaches them.
 *
 * A thread that fails (an error in its step, an exit, no answer) ends the pool, not the run: the step it
 * failed in, and every one after, is computed on the main thread from the same weights (no update was
 * applied), so no progress is lost; `onFailure` says so once. A thread reports its own exit (uncaught
 * exception, process.exit) before it goes, which wakes a main thread waiting in the middle of a step.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '../../src/model/tf';
import { hostValues } from '../../src/model/kernels/lngruStep.host';
import type { OrderEmbeddingModel } from '../../src/model/model';
import type { Trainer } from '../../src/model/trainer';
import {
  headLossAndGrads,
  sliceRows,
  sliceTimeMajor,
  splitBatch,
  type Shard,
  type StepLossOptions,
} from '../../src/model/parallel/shards';
import type { LossAndGrads } from '../../src/model/training/batch';
import { makeGradParts, type GradParts } from '../../src/model/parallel/sum-host';
import type { PoolReply, PoolRequest, WeightLayout } from './parallel-worker';

/** The default thread count: one per core the OS gives this process. */
export function defaultThreadCount(): number {
  return availableParallelism();
}

/** A thread that has not answered after this long is taken for dead (a step at the largest size takes ~20 s). */
const ANSWER_TIMEOUT_MS = 10 * 60 * 1000;

/** Embedding batches smaller than this stay on the main thread (not worth the hand-off). */
const MIN_EMBED_ROWS = 16;

interface Thread {
  worker: Worker;
  port: MessagePort;
  /** Why the thread is gone, once its 'exit' or 'error' event has been seen (between steps). */
  gone?: string;
  /** Models this thread holds a replica of, and those it has the gradient buffers of. */
  serves: Set<number>;
  hasGrads: Set<number>;
}

interface Attached {
  id: number;
  weights: SharedArrayBuffer;
  layout: WeightLayout[];
  /** Made on the model's first training step (evaluation needs none). */
  grads?: GradParts;
}

/** Options of {@link ParallelPool.start}. */
export interface PoolOptions {
  /** Told once, when a thread fails and the models go on on the main thread (default: to stderr). */
  onFailure?: (message: string) => void;
  /** The threads' module (default ./parallel-worker.ts; tests wrap it to make a thread fail). */
  threadModule?: URL;
}

/** A failure of the pool's threads (not of the step's input): the step can be computed without them. */
export class PoolFailure extends Error {}

/** The tsx loader for the threads (the scripts run as TypeScript, and so do the tests). */
function tsxApiUrl(): string {
  const require = createRequire(import.meta.url);
  const dir = path.dirname(require.resolve('tsx/package.json'));
  return pathToFileURL(path.join(dir, 'dist', 'esm', 'api', 'index.mjs')).href;
}

export class ParallelPool {
  private readonly signal: Int32Array;
  private readonly models = new WeakMap<OrderEmbeddingModel, Attached>();
  private nextId = 0;
  private closed = false;
  /** Why the pool stopped serving its models (set once, by the first thread that failed). */
  private failed?: string;
  /** Steps, and embedding batches, computed over the threads so far. */
  stepsRun = 0;
  embedsRun = 0;
  /** Per thread, ms spent computing (its own clock) since the pool started: against wall time, how busy. */
  readonly busyMs: number[];
  /**
   * Wall ms of the training steps' phases since the pool started (bench:model prints them per step):
   * the main thread publishing the weights, waiting for the threads' forward, backward and gradient
   * sum, and its own work between them (the loss head, the shards, the gradient tensors).
   */
  readonly phaseMs = { publish: 0, forward: 0, backward: 0, reduce: 0, main: 0 };

  private constructor(
    private readonly threads: Thread[],
    signal: Int32Array,
    private readonly onFailure: (message: string) => void,
  ) {
    this.signal = signal;
    this.busyMs = threads.map(() => 0);
  }

  /** Why the threads stopped serving (after a failure; the models then run on the main thread). */
  get failure(): string | undefined {
    return this.failed;
  }

  /** Thread count. */
  get size(): number {
    return this.threads.length;
  }

  /** Starts `n` threads (n >= 2), each with the `backend` tfjs backend; rejects naming a thread that fails. */
  static async start(
    n: number,
    backend: 'wasm' | 'cpu' = 'wasm',
    options: PoolOptions = {},
  ): Promise<ParallelPool> {
    if (!(Number.isInteger(n) && n >= 2)) throw new Error(`parallel pool: needs 2 or more threads, got ${n}`);
    const signal = new Int32Array(new SharedArrayBuffer(4 * n));
    const entry = (options.threadModule ?? new URL('./parallel-worker.ts', import.meta.url)).href;
    const boot =
      `import(${JSON.stringify(tsxApiUrl())})` +
      `.then((m) => { m.register(); return import(${JSON.stringify(entry)}); })` +
      `.catch((e) => require('node:worker_threads').parentPort.postMessage({ type: 'failed', message: String(e && e.stack || e) }));`;
    const threads = Array.from({ length: n }, (_, index): Thread => {
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(boot, {
        eval: true,
        workerData: { port: port2, signal, index, backend },
        transferList: [port2],
      });
      return { worker, port: port1, serves: new Set(), hasGrads: new Set() };
    });
    try {
      await Promise.all(
        threads.map(
          (t, k) =>
            new Promise<void>((resolve, reject) => {
              t.worker.once('message', (m: { type: string; message?: string }) =>
                m.type === 'ready' ? resolve() : reject(new Error(`thread ${k} did not start: ${m.message}`)),
              );
              t.worker.once('error', (e) => reject(new Error(`thread ${k} did not start: ${e.message}`)));
              t.worker.once('exit', (code) => reject(new Error(`thread ${k} exited with code ${code}`)));
            }),
        ),
      );
    } catch (e) {
      await Promise.all(threads.map((t) => t.worker.terminate()));
      throw e;
    }
    threads.forEach((t, k) => {
      t.worker.removeAllListeners();
      // Kept for the pool's life: an 'error' event without a listener would end the process.
      t.worker.on('error', (e) => (t.gone ??= `thread ${k} failed: ${e.message}`));
      t.worker.on('exit', (code) => (t.gone ??= `thread ${k} exited with code ${code}`));
    });
    const onFailure = options.onFailure ?? ((m: string) => process.stderr.write(`${m}\n`));
    return new ParallelPool(threads, signal, onFailure);
  }

  /**
   * `pooled()`, or, once the threads have failed (now or before), `alone()`: the same computation on the
   * main thread. Only a {@link PoolFailure} switches; an error in the input is thrown as it is.
   */
  private orAlone<T>(pooled: () => T, alone: () => T): T {
    if (this.failed === undefined) {
      try {
        return pooled();
      } catch (e) {
        if (!(e instanceof PoolFailure)) throw e;
        this.failed = e.message;
        this.onFailure(
          `threads: ${e.message}; going on with one thread from the same weights (the step is taken again here, nothing is lost)`,
        );
        void this.close();
      }
    }
    return alone();
  }

  /**
   * Makes `trainer`'s steps data-parallel over this pool's threads: its model's loss-and-gradient
   * methods, which Trainer.step() calls, are answered by {@link lossAndGrads} (for this model instance
   * only). Everything else (batches, clipping, Adam, checkpoints, evaluation) stays the trainer's.
   */
  attach(trainer: Trainer): void {
    const model = trainer.model;
    this.attachModel(model);
    type Args = [features: tf.Tensor2D, ids: Int32Array, lengths: ArrayLike<number>, opts?: StepLossOptions];
    const run = (...args: Args) => this.lossAndGrads(model, ...args);
    // The model's own methods, for the steps after a failure of the threads.
    const own = {
      lossAndGrads: model.lossAndGrads.bind(model),
      onDevice: 'lossAndGradsOnDevice' in model ? model.lossAndGradsOnDevice.bind(model) : undefined,
      pass: 'lossAndGradsPass' in model ? model.lossAndGradsPass.bind(model) : undefined,
    };
    const m = model as unknown as Record<string, unknown>;
    m.lossAndGrads = (...args: Args) =>
      this.orAlone(
        () => {
          const { loss, grads } = run(...args);
          const value = loss.dataSync()[0];
          loss.dispose();
          return { loss: value, grads };
        },
        () => own.lossAndGrads(...args),
      );
    const { onDevice, pass } = own;
    if (onDevice)
      m.lossAndGradsOnDevice = (...args: Args) =>
        this.orAlone(
          () => run(...args),
          () => onDevice(...args),
        );
    if (pass) {
      // A pass (src/model/ops.ts) that does its work without yielding: the step waits on the threads.
      // After a failure, the model's own pass (which may yield) from the start.
      const pooled = (args: Args) =>
        this.orAlone<LossAndGrads | undefined>(
          () => run(...args),
          () => undefined,
        );
      m.lossAndGradsPass = function* (...args: Args) {
        return pooled(args) ?? (yield* pass(...args));
      };
    }
  }

  /**
   * Makes `model`'s embedding passes (evaluation, `evaluate`) run over the threads: its embedImages and
   * embedCaptions (for this instance only) cut a batch of at least {@link MIN_EMBED_ROWS} rows into
   * shards, one per thread; smaller batches (a search query) stay on this thread.
   */
  attachModel(model: OrderEmbeddingModel): void {
    const own = { images: model.embedImages.bind(model), captions: model.embedCaptions.bind(model) };
    const F = model.config.imageDim;
    const m = model as unknown as Record<string, unknown>;
    m.embedImages = (features: tf.Tensor2D): tf.Tensor2D => {
      const n = features.shape[0];
      if (n < MIN_EMBED_ROWS || features.rank !== 2 || features.shape[1] !== F) return own.images(features);
      const data = features.dataSync() as Float32Array;
      return this.orAlone(
        () => this.embedRows(model, n, (s) => ({ images: sliceRows(data, F, s) })),
        () => own.images(features),
      );
    };
    m.embedCaptions = (ids: Int32Array, lengths: ArrayLike<number>): tf.Tensor2D => {
      const n = lengths.length;
      if (n < MIN_EMBED_ROWS) return own.captions(ids, lengths);
      const list = Array.from(lengths);
      return this.orAlone(
        () =>
          this.embedRows(model, n, (s) => ({
            captions: { ids: sliceTimeMajor(ids, n, s), lengths: list.slice(s.start, s.start + s.size) },
          })),
        () => own.captions(ids, lengths),
      );
    };
  }

  /**
   * One step's loss (a scalar tensor) and the gradient of every variable (keyed by tf.Variable name) of
   * `model` on a batch, computed over the threads: OrderEmbeddingModel.lossAndGrads's result, up to the
   * order of the sums over the batch; with the gradients' global norm (float64 sums of squares). Throws
   * a {@link PoolFailure} when a thread fails (the attached models then compute the step themselves).
   */
  lossAndGrads(
    model: OrderEmbeddingModel,
    features: tf.Tensor2D,
    ids: Int32Array,
    lengths: ArrayLike<number>,
    opts: StepLossOptions = {},
  ): LossAndGrads {
    if (this.closed) throw new PoolFailure(this.failed ?? 'the pool is closed');
    const B = lengths.length;
    if (features.shape[0] !== B)
      throw new Error(`batch: ${features.shape[0]} images but ${B} captions; expected one caption per image`);
    const { imageDim: F, hiddenDim: H } = model.config;
    const phase = this.phaseMs;
    let last = performance.now();
    /** ms since the previous lap. */
    const lap = (): number => {
      const now = performance.now();
      const ms = now - last;
      last = now;
      return ms;
    };
    const attached = this.publishWeights(model);
    phase.publish += lap();
    const shards = splitBatch(B, this.threads.length);
    const featureData = features.dataSync() as Float32Array;
    const lengthList = Array.from(lengths);
    // 1. Each thread embeds its shard.
    phase.main += lap();
    const fwd = this.exchange(
      shards.map((s, k) => {
        return {
          type: 'forward',
          id: attached.id,
          ...this.replicaFor(k, model, attached),
          input: {
            features: sliceRows(featureData, F, s),
            ids: sliceTimeMajor(ids, B, s),
            lengths: lengthList.slice(s.start, s.start + s.size),
            batchSize: B,
            start: s.start,
            dropout: opts.dropout,
            seed: opts.seed,
          },
        } satisfies PoolRequest;
      }),
      'forward',
    );
    phase.forward += lap();
    // 2. The loss over the whole batch, once, and its gradient for every row.
    const join = (part: 'hN' | 'pre') => {
      const all = new Float32Array(B * H);
      fwd.forEach((r, k) => all.set(r[part], shards[k].start * H));
      return tf.tensor2d(all, [B, H]);
    };
    const hN = join('hN');
    const pre = join('pre');
    const head = headLossAndGrads(model.config, hN, pre, opts);
    tf.dispose([hN, pre]);
    const dhN = head.dhN.dataSync() as Float32Array;
    const dPre = head.dPre.dataSync() as Float32Array;
    tf.dispose([head.dhN, head.dPre]);
    // 3. Each thread backpropagates its rows into its gradient buffer; 4. the threads sum the buffers in
    // thread order, each a range of the parameters (the same digits as one sum over all of them).
    const P = attached.weights.byteLength / 4;
    // One buffer per thread, made once: a thread keeps the copy of this list it was sent first. Thread
    // 0 writes into the sum itself, which the reduce then adds the others to (the sum starts as part 0
    // either way: the same digits, one copy of all the gradients fewer).
    attached.grads ??= makeGradParts(this.threads.length, P);
    const buffers = attached.grads;
    const gradsFor = (k: number) => {
      if (this.threads[k].hasGrads.has(attached.id)) return {};
      this.threads[k].hasGrads.add(attached.id);
      return { grads: buffers };
    };
    phase.main += lap();
    this.exchange(
      shards.map((s, k): PoolRequest => ({
        type: 'backward',
        id: attached.id,
        dhN: sliceRows(dhN, H, s),
        dPre: sliceRows(dPre, H, s),
        ...gradsFor(k),
      })),
      'backward',
    );
    phase.backward += lap();
    const reduced = this.exchange(
      splitBatch(P, shards.length).map((range): PoolRequest => ({
        type: 'reduce',
        id: attached.id,
        lo: range.start,
        hi: range.start + range.size,
        parts: shards.length,
      })),
      'reduce',
    );
    phase.reduce += lap();
    const sum = buffers.parts[0];
    const grads: Record<string, tf.Tensor> = {};
    model.variables.forEach((v, i) => {
      const { offset, length } = attached.layout[i];
      grads[v.name] = tf.tensor(sum.subarray(offset, offset + length), v.shape, 'float32');
    });
    // The global norm from the threads' sums of squares of their ranges, added in thread order.
    const gradNorm = Math.sqrt(reduced.reduce((total, r) => total + r.squares, 0));
    phase.main += lap();
    this.stepsRun++;
    return { loss: head.loss, grads, gradNorm };
  }

  /**
   * Joint-space embeddings of `rows` inputs over the threads, in row order: each thread embeds a
   * contiguous shard with the model's current weights (rows are independent, so no sum is reordered).
   */
  private embedRows(
    model: OrderEmbeddingModel,
    rows: number,
    input: (s: Shard) => Pick<Extract<PoolRequest, { type: 'embed' }>, 'images' | 'captions'>,
  ): tf.Tensor2D {
    const attached = this.publishWeights(model);
    const shards = splitBatch(rows, this.threads.length);
    const H = model.config.hiddenDim;
    const replies = this.exchange(
      shards.map((s, k): PoolRequest => ({
        type: 'embed',
        id: attached.id,
        ...this.replicaFor(k, model, attached),
        ...input(s),
      })),
      'embed',
    );
    const all = new Float32Array(rows * H);
    replies.forEach((r, k) => all.set(r.rows, shards[k].start * H));
    this.embedsRun++;
    return tf.tensor2d(all, [rows, H]);
  }

  /** The replica's configuration and weight buffer, sent the first time thread k serves `model`. */
  private replicaFor(
    k: number,
    model: OrderEmbeddingModel,
    a: Attached,
  ): {
    model?: { config: OrderEmbeddingModel['config']; weights: SharedArrayBuffer; layout: WeightLayout[] };
  } {
    const t = this.threads[k];
    if (t.serves.has(a.id)) return {};
    t.serves.add(a.id);
    return { model: { config: model.config, weights: a.weights, layout: a.layout } };
  }

  /** Stops the threads. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.threads) t.port.close();
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }

  /** Writes `model`'s current weights into its shared buffer (made on first use), which the threads read. */
  private publishWeights(model: OrderEmbeddingModel): Attached {
    let a = this.models.get(model);
    if (!a) {
      let offset = 0;
      const layout = model.variables.map((v) => {
        const entry = { offset, length: v.size, shape: [...v.shape] };
        offset += v.size;
        return entry;
      });
      a = { id: this.nextId++, weights: new SharedArrayBuffer(4 * offset), layout };
      this.models.set(model, a);
    }
    const view = new Float32Array(a.weights);
    // Straight from tfjs's wasm heap (no intermediate copy; no tfjs op runs in between).
    model.variables.forEach((v, k) => view.set(hostValues(v), a.layout[k].offset));
    return a;
  }

  /**
   * Posts request k to thread k and waits for every answer, in thread order; a thread's error, exit or
   * silence is thrown as a {@link PoolFailure} (after all have answered, so that none is left mid-step).
   */
  private exchange<T extends PoolReply['type']>(
    requests: PoolRequest[],
    want: T,
  ): Extract<PoolReply, { type: T }>[] {
    const gone = this.threads.find((t) => t.gone)?.gone;
    if (gone) throw new PoolFailure(gone);
    const seen = requests.map((_, k) => Atomics.load(this.signal, k));
    requests.forEach((r, k) => this.threads[k].port.postMessage(r));
    const replies = requests.map((_, k) => this.receive(k, seen[k]));
    replies.forEach((r, k) => {
      if ('ms' in r) this.busyMs[k] += r.ms;
    });
    const failed = replies.find((r) => r.type === 'error');
    if (failed?.type === 'error') throw new PoolFailure(failed.message);
    return replies.map((r, k) => {
      if (r.type !== want) throw new PoolFailure(`thread ${k} answered '${r.type}', expected '${want}'`);
      return r as Extract<PoolReply, { type: T }>;
    });
  }

  /** Thread k's next answer, waiting (blocking this thread) until it has bumped its signal past `seen`. */
  private receive(k: number, seen: number): PoolReply {
    const t0 = Date.now();
    for (;;) {
      const got = receiveMessageOnPort(this.threads[k].port);
      if (got) return got.message as PoolReply;
      if (Date.now() - t0 > ANSWER_TIMEOUT_MS)
        throw new PoolFailure(`thread ${k} did not answer within ${ANSWER_TIMEOUT_MS / 1000} s`);
      // Returns at once when the thread has answered since `seen`; else sleeps until it does (or 1 s).
      if (Atomics.load(this.signal, k) === seen) Atomics.wait(this.signal, k, seen, 1000);
      else seen = Atomics.load(this.signal, k);
    }
  }
}
