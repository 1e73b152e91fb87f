/**
 * Data parallelism over threads for one training step, the parts that need no threads (the pool that
 * runs them is scripts/lib/parallel-pool.ts). The batch of B pairs is cut into N contiguous shards;
 * each thread holds a replica of the model with the step's weights and
 *
 *   1. embeds its shard: h_N [b, H] (the GRU's last state) and the image pre-embedding
 *      features W + b [b, H], keeping the GRU's cache;                          ({@link shardForward})
 *   2. the main thread joins the shards in order ([B, H] each) and computes the in-batch loss over all B
 *      pairs once, with d loss / d h_N and d loss / d pre for every row;        ({@link headLossAndGrads})
 *   3. each thread gets its rows of those two and backpropagates to its parameter gradients; ({@link shardBackward})
 *   4. the threads' gradients are summed in a fixed order (thread 0, 1, ...; {@link sumInOrder}), each
 *      thread summing one range of the parameters; the main thread then clips and applies Adam as for
 *      one thread (src/model/trainer.ts).
 *
 * The loss needs every embedding (each pair's negatives are the other B - 1), which is why step 2 is
 * global, as in the PyTorch port's torch.distributed version (gather the embeddings, one loss over the
 * global batch, gradients summed). Per row, steps 1 and 3 are the one-thread step's ops; only the
 * parameter gradients' sums over the batch are taken in another order (N partial sums, then their sum),
 * so N threads agree with one thread to float32 rounding, and the same N gives the same digits.
 */
import * as tf from '../tf';
import { GruLayer, type GruCache } from '../gru';
import { hostValues } from '../kernels/lngruStep.host';
import { dropoutMask, type OrderEmbeddingModel } from '../model';
import { l2normalize, sumRows } from '../ops';
import { contrastiveLoss, distillationLoss } from '../loss';
import { scores } from '../scoring';
import type { ModelConfig } from '../types';

/** Rows [start, start + size) of the batch. */
export interface Shard {
  start: number;
  size: number;
}

/**
 * B rows in `n` contiguous shards, the first B mod n one row larger. Fewer shards than n when B < n (a
 * shard is never empty).
 */
export function splitBatch(B: number, n: number): Shard[] {
  if (!(Number.isInteger(B) && B > 0)) throw new Error(`splitBatch: batch size must be > 0, got ${B}`);
  if (!(Number.isInteger(n) && n > 0)) throw new Error(`splitBatch: threads must be >= 1, got ${n}`);
  const parts = Math.min(n, B);
  const base = Math.floor(B / parts);
  const extra = B % parts;
  const out: Shard[] = [];
  let start = 0;
  for (let k = 0; k < parts; k++) {
    const size = base + (k < extra ? 1 : 0);
    out.push({ start, size });
    start += size;
  }
  return out;
}

/** The shard's columns of time-major ids [T * B] -> [T * size], keeping all T steps. */
export function sliceTimeMajor(ids: ArrayLike<number>, B: number, shard: Shard): Int32Array {
  if (ids.length % B !== 0) throw new Error(`sliceTimeMajor: ${ids.length} ids are not T x ${B}`);
  const T = ids.length / B;
  const out = new Int32Array(T * shard.size);
  for (let t = 0; t < T; t++)
    for (let j = 0; j < shard.size; j++) out[t * shard.size + j] = ids[t * B + shard.start + j];
  return out;
}

/** Rows [start, start + size) of a row-major [*, cols] matrix, as a copy. */
export function sliceRows(data: Float32Array, cols: number, shard: Shard): Float32Array {
  return data.slice(shard.start * cols, (shard.start + shard.size) * cols);
}

/**
 * The element-wise sum of equally long arrays, added in the order given (parts[0] + parts[1] + ...,
 * each partial sum rounded to float32): the same parts in the same order give the same digits. Sums
 * elements [lo, hi) only, into `out` (a new array by default), so that threads can each sum a range
 * of a shared buffer with the digits of one sum over all of it.
 */
export function sumInOrder(
  parts: readonly Float32Array[],
  out: Float32Array = new Float32Array(parts[0]?.length ?? 0),
  lo = 0,
  hi = out.length,
): Float32Array {
  if (!parts.length) throw new Error('sumInOrder: nothing to sum');
  parts.forEach((p, k) => {
    if (p.length !== out.length)
      throw new Error(`sumInOrder: part ${k} has ${p.length} values, the sum has ${out.length}`);
  });
  checkRange('sumInOrder', lo, hi, out.length);
  // Part 0 may be the sum's own memory (the pool's thread 0 writes there): then it is in place already.
  const first = parts[0];
  if (first.buffer !== out.buffer || first.byteOffset !== out.byteOffset) out.set(first.subarray(lo, hi), lo);
  for (let k = 1; k < parts.length; k++) {
    const p = parts[k];
    for (let i = lo; i < hi; i++) out[i] += p[i];
  }
  return out;
}

/** Throws, naming `what`, unless [lo, hi) lies in 0..length. */
export function checkRange(what: string, lo: number, hi: number, length: number): void {
  if (!(0 <= lo && lo <= hi && hi <= length))
    throw new Error(`${what}: range [${lo}, ${hi}) is outside 0..${length}`);
}

/** What a thread needs besides its replica's weights to embed its shard (all plain data). */
export interface ShardInput {
  /** Image features of the shard's rows [size, F], row-major. */
  features: Float32Array;
  /** Time-major word ids of the shard [T * size] ({@link sliceTimeMajor}). */
  ids: Int32Array;
  lengths: number[];
  /** The whole batch's size, and where this shard starts in it (the dropout masks are the batch's). */
  batchSize: number;
  start: number;
  dropout?: number;
  seed?: number;
}

/** A shard's forward pass kept for its backward pass. */
export interface ShardState {
  features: tf.Tensor2D;
  ids: Int32Array;
  cache: GruCache;
  wordMask: tf.Tensor | null;
  /** h_N [size, H] and features W + b [size, H], read back for the main thread. */
  hN: Float32Array;
  pre: Float32Array;
}

/**
 * Step 1 on a replica: the shard's h_N and image pre-embedding, as the one-thread step
 * (OrderEmbeddingModel.lossAndGrads) computes those rows. Dropout masks are drawn for the whole batch
 * from the step's seed and cut to the shard's rows, so each row gets the mask it gets with one thread.
 */
export function shardForward(model: OrderEmbeddingModel, input: ShardInput): ShardState {
  const { vocabSize: V, wordDim: W, imageDim: F } = model.config;
  const b = input.lengths.length;
  const T = input.ids.length / b;
  if (!Number.isInteger(T) || input.features.length !== b * F)
    throw new Error(`shard: ${input.ids.length} ids and ${input.features.length} features for ${b} rows`);
  for (let i = 0; i < input.ids.length; i++)
    if (!(input.ids[i] >= 0 && input.ids[i] < V))
      throw new Error(`shard: id ${input.ids[i]} at position ${i} is outside the vocabulary (size ${V})`);
  const rate = input.dropout ?? 0;
  const seed = input.seed ?? 0;
  const B = input.batchSize;
  // tf.tidy frees the intermediates; what the backward pass needs is kept. The GRU's forward pass runs
  // outside it: tidy walks a returned value element by element looking for tensors, and the cache of the
  // 'host-ln' path holds host arrays of [T*B, 3H] values (walking them made a shard's forward pass 4x
  // slower than the pass itself); the pass frees its own intermediates, as in lossAndGradsPass.
  const { features, wordMask, x } = tf.tidy(() => {
    let features = tf.tensor2d(input.features, [b, F]);
    let wordMask: tf.Tensor | null = null;
    if (rate > 0) {
      const featMask = dropoutMask([B, F], rate, seed).slice([input.start, 0], [b, F]); // [b, F]
      features = tf.mul(features, featMask);
      wordMask = dropoutMask([T, B, W], rate, seed + 1).slice([0, input.start, 0], [T, b, W]); // [T, b, W]
    }
    let x = tf.gather(model.wordEmbedding, tf.tensor1d(input.ids, 'int32')).reshape([T, b, W]) as tf.Tensor3D;
    if (wordMask) x = tf.mul(x, wordMask);
    return { features, wordMask, x } as unknown as tf.TensorContainer;
  }) as unknown as { features: tf.Tensor2D; wordMask: tf.Tensor | null; x: tf.Tensor3D };
  const fwd = model.rnn.forward(x, input.lengths, { cache: true });
  x.dispose(); // the cache keeps its own reference: a reshape of x to [T*b, W] rows
  const pre = tf.tidy(
    () => tf.matMul(features, model.imageWeight as tf.Tensor2D).add(model.imageBias) as tf.Tensor2D,
  );
  const state: ShardState = {
    features,
    ids: input.ids,
    cache: fwd.cache!,
    wordMask,
    hN: new Float32Array(fwd.hN.dataSync()),
    pre: new Float32Array(pre.dataSync()),
  };
  tf.dispose([fwd.hN, pre]);
  return state;
}

/**
 * Step 3 on a replica: from the shard's rows of d loss / d h_N and d loss / d pre [size, H] to the
 * gradient of every variable, written one after another in `model.variables` order into `out` (a new
 * array by default; a thread passes its slot of a shared buffer, so nothing is copied again on the way
 * to the sum); frees the state.
 */
export function shardBackward(
  model: OrderEmbeddingModel,
  state: ShardState,
  dhNRows: Float32Array,
  dPreRows: Float32Array,
  out: Float32Array = new Float32Array(model.variables.reduce((n, v) => n + v.size, 0)),
): Float32Array {
  const { vocabSize: V, wordDim: W, hiddenDim: H } = model.config;
  const b = state.features.shape[0];
  const T = state.ids.length / b;
  const grads = tf.tidy(() => {
    const dhN = tf.tensor2d(dhNRows, [b, H]);
    const dPre = tf.tensor2d(dPreRows, [b, H]);
    const dW = tf.matMul(state.features.transpose(), dPre); // [F, b] @ [b, H]
    const db = sumRows(dPre);
    const g = model.rnn.backward(state.cache, null, dhN);
    const dx = state.wordMask ? g.x.mul(state.wordMask) : g.x; // [T, b, W]
    const dEmb = tf.scatterND(tf.tensor2d(state.ids, [T * b, 1], 'int32'), dx.reshape([T * b, W]), [V, W]);
    const byVar = new Map<tf.Variable, tf.Tensor>([
      [model.wordEmbedding, dEmb],
      [model.imageWeight, dW],
      [model.imageBias, db],
    ]);
    for (const n of model.rnn.paramNames) byVar.set(model.rnn.vars[n]!, g.params[n]!);
    return model.variables.map((v) => byVar.get(v)!);
  });
  // Straight from the backend's memory into `out` (on wasm a view of its heap: dataSync would copy all
  // the gradients once more into fresh pages first); no tfjs op runs in between.
  let offset = 0;
  for (const g of grads) {
    out.set(hostValues(g), offset);
    offset += g.size;
  }
  tf.dispose(grads);
  disposeShardState(state);
  if (offset !== out.length)
    throw new Error(`shard: ${offset} gradient values for a buffer of ${out.length}`);
  return out;
}

/** Frees a shard's forward state (after its backward pass, or when the step is abandoned). */
export function disposeShardState(state: ShardState): void {
  GruLayer.disposeCache(state.cache);
  tf.dispose([state.features, ...(state.wordMask ? [state.wordMask] : [])]);
}

/** Options of the loss over the whole batch (OrderEmbeddingModel.lossAndGrads's). */
export interface HeadOptions {
  maxViolation?: boolean;
  distill?: { scores: tf.Tensor2D; temperature: number; weight: number };
}

/** All options of a training step's loss (OrderEmbeddingModel.lossAndGrads's): the head's and dropout. */
export interface StepLossOptions extends HeadOptions {
  dropout?: number;
  seed?: number;
}

/**
 * Step 2 on the main thread: the loss of the whole batch from h_N [B, H] and the image pre-embeddings
 * [B, H], with its gradient with respect to both: the head of OrderEmbeddingModel.lossAndGrads
 * (normalize, abs for order embeddings, scores, contrastive loss, optional distillation).
 */
export function headLossAndGrads(
  config: ModelConfig,
  hN: tf.Tensor2D,
  pre: tf.Tensor2D,
  opts: HeadOptions,
): { loss: tf.Scalar; dhN: tf.Tensor2D; dPre: tf.Tensor2D } {
  const normalize = (v: tf.Tensor2D) => {
    const n = l2normalize(v);
    return config.measure === 'order' ? (tf.abs(n) as tf.Tensor2D) : n;
  };
  const maxViolation = opts.maxViolation ?? config.maxViolation;
  const head = (h: tf.Tensor, imPre: tf.Tensor) => {
    const S = scores(normalize(imPre as tf.Tensor2D), normalize(h as tf.Tensor2D), config.measure); // [B, B]
    const loss = contrastiveLoss(S, config.margin, maxViolation);
    const d = opts.distill;
    return d ? loss.add(distillationLoss(S, d.scores, d.temperature).mul(d.weight)) : loss;
  };
  const { value, grads } = tf.valueAndGrads(head)([hN, pre]);
  return { loss: value as tf.Scalar, dhN: grads[0] as tf.Tensor2D, dPre: grads[1] as tf.Tensor2D };
}
