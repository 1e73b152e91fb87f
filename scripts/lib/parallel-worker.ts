/**
 * One thread of the data-parallel pool (./parallel-pool.ts): holds a replica of each model it serves,
 * embeds its shard of a batch and backpropagates its rows of the loss gradient
 * (src/model/parallel/shards.ts). Answers on its channel, then bumps its slot of the shared signal array,
 * so that the main thread can wait for it synchronously (Atomics.wait) in the middle of a training step.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import * as tf from '../../src/model/tf';
import { OrderEmbeddingModel } from '../../src/model/model';
import {
  disposeShardState,
  shardBackward,
  shardForward,
  type ShardInput,
  type ShardState,
} from '../../src/model/parallel/shards';
import { packBackwardWeights } from '../../src/model/gru-composite';
import { sumPartsInOrder, type GradParts } from '../../src/model/parallel/sum-host';
import { initNodeBackend } from './node-backend';
import type { ModelConfig } from '../../src/model/types';

/** Where each variable's values sit in a model's shared weight buffer. */
export interface WeightLayout {
  offset: number;
  length: number;
  shape: number[];
}

export type PoolRequest =
  | {
      type: 'forward';
      id: number;
      /** Sent the first time this thread serves model `id`. */
      model?: { config: ModelConfig; weights: SharedArrayBuffer; layout: WeightLayout[] };
      input: ShardInput;
    }
  | {
      type: 'backward';
      id: number;
      dhN: Float32Array;
      dPre: Float32Array;
      /**
       * A model's gradient buffers, sent with this thread's first backward request for model `id`:
       * thread k writes its shard's gradients into parts[k], all variables one after another in the
       * weight layout; part 0 is also their sum.
       */
      grads?: GradParts;
    }
  /**
   * Sums the threads' gradients [lo, hi) in thread order (parts 0 .. parts - 1) into part 0; answers
   * with the sum of squares of that range (the step's gradient norm, in part).
   */
  | { type: 'reduce'; id: number; lo: number; hi: number; parts: number }
  /** Joint-space embeddings of a shard of images [size, F] or of captions (time-major ids, lengths). */
  | {
      type: 'embed';
      id: number;
      model?: { config: ModelConfig; weights: SharedArrayBuffer; layout: WeightLayout[] };
      images?: Float32Array;
      captions?: { ids: Int32Array; lengths: number[] };
    };

export type PoolReply =
  | { type: 'forward'; hN: Float32Array; pre: Float32Array; ms: number }
  | { type: 'backward'; ms: number }
  | { type: 'reduce'; squares: number; ms: number }
  | { type: 'embed'; rows: Float32Array; ms: number }
  | { type: 'error'; message: string };

interface Replica {
  model: OrderEmbeddingModel;
  weights: SharedArrayBuffer;
  layout: WeightLayout[];
  grads?: GradParts;
  state?: ShardState;
}

const { port, signal, index, backend } = workerData as {
  port: MessagePort;
  signal: Int32Array;
  index: number;
  backend: 'wasm' | 'cpu';
};
const replicas = new Map<number, Replica>();

function reply(msg: PoolReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer);
  Atomics.add(signal, index, 1);
  Atomics.notify(signal, index);
}

/** The step's weights, as the main thread wrote them into the shared buffer, into the replica. */
function loadWeights(r: Replica): void {
  r.model.variables.forEach((v, k) => {
    const { offset, length, shape } = r.layout[k];
    tf.tidy(() => v.assign(tf.tensor(new Float32Array(r.weights, offset * 4, length), shape, 'float32')));
  });
}

function handle(msg: PoolRequest): void {
  const t0 = performance.now();
  let r = replicas.get(msg.id);
  if (!r && (msg.type === 'forward' || msg.type === 'embed') && msg.model) {
    const { config, weights, layout } = msg.model;
    r = { model: new OrderEmbeddingModel(config), weights, layout };
    replicas.set(msg.id, r);
  }
  if (!r) throw new Error(`thread ${index}: no replica of model ${msg.id}`);
  if (msg.type === 'embed') {
    loadWeights(r);
    const m = r.model;
    const { images, captions } = msg;
    const e = tf.tidy(() =>
      captions
        ? m.embedCaptions(captions.ids, captions.lengths)
        : m.embedImages(tf.tensor2d(images!, [images!.length / m.config.imageDim, m.config.imageDim])),
    );
    const rows = new Float32Array(e.dataSync());
    e.dispose();
    reply({ type: 'embed', rows, ms: performance.now() - t0 }, [rows.buffer as ArrayBuffer]);
    return;
  }
  if (msg.type === 'forward') {
    if (r.state) disposeShardState(r.state); // a step abandoned after its forward pass
    loadWeights(r);
    r.state = shardForward(r.model, msg.input);
    const { hN, pre } = r.state;
    reply({ type: 'forward', hN, pre, ms: performance.now() - t0 }, [
      hN.buffer as ArrayBuffer,
      pre.buffer as ArrayBuffer,
    ]);
    // While the main thread computes the loss over the whole batch, this thread would only wait: it
    // packs the weights its backward pass multiplies by instead (the same products, the same digits).
    packBackwardWeights(r.model.rnn);
    return;
  }
  if (msg.type === 'backward' && msg.grads) r.grads = msg.grads;
  if (msg.type === 'reduce') {
    if (!r.grads) throw new Error(`thread ${index}: no gradient buffers for model ${msg.id}`);
    const squares = sumPartsInOrder(r.grads, msg.parts, msg.lo, msg.hi);
    reply({ type: 'reduce', squares, ms: performance.now() - t0 });
    return;
  }
  if (!r.state) throw new Error(`thread ${index}: backward without a forward pass`);
  if (!r.grads) throw new Error(`thread ${index}: no gradient buffer for model ${msg.id}`);
  const state = r.state;
  r.state = undefined;
  shardBackward(r.model, state, msg.dhN, msg.dPre, r.grads.parts[index]);
  reply({ type: 'backward', ms: performance.now() - t0 });
}

/**
 * A thread that ends (an uncaught exception, process.exit) says so as its last answer: the main thread
 * may be waiting for it in the middle of a step, where it cannot see the Worker's 'exit' event.
 */
function reportExit(): void {
  let fatal = '';
  process.on('uncaughtExceptionMonitor', (e) => (fatal ||= `: ${e.message}`));
  process.on('exit', (code) =>
    reply({ type: 'error', message: `thread ${index} stopped${fatal} (exit code ${code})` }),
  );
}

async function main(): Promise<void> {
  reportExit();
  await initNodeBackend(backend);
  port.on('message', (msg: PoolRequest) => {
    try {
      handle(msg);
    } catch (e) {
      reply({ type: 'error', message: `thread ${index}: ${(e as Error).message}` });
    }
  });
  parentPort!.postMessage({ type: 'ready', backend: tf.getBackend() });
}

main().catch((e: unknown) => parentPort!.postMessage({ type: 'failed', message: (e as Error).message }));
