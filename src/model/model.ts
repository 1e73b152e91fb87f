/**
 * The order-embedding model of Vendrov et al. (2016), with a GRU or LN-GRU caption encoder:
 *
 *   caption:  words -> embeddings [T, B, W] -> (LN-)GRU -> state at the last real token h_N [B, H]
 *             -> l2-normalize -> abs                                     (abs only for order embeddings)
 *   image:    CNN feature [B, F] -> linear [F, H] -> l2-normalize -> abs
 *
 * The joint space has the GRU's hidden size H. Scores come from the one scoring function
 * (./scoring.ts), the loss from ./loss.ts. Training gradients are computed in two parts: tfjs's
 * autodiff for the small head (projections, normalization, scores, loss), and the GRU's hand-written
 * BPTT (./gru.ts), joined at d loss / d h_N.
 */
import * as tf from './tf';
import { GruLayer, type GruParamName } from './gru';
import {
  l2normalize,
  PassTensors,
  readAndDispose,
  readSyncAndDispose,
  runToEnd,
  sumRows,
  variableOf,
  type Pass,
} from './ops';
import { contrastiveLoss, distillationLoss } from './loss';
import { scores } from './scoring';
import { Rng } from './rng';
import type { ModelConfig } from './types';

export interface LossAndGrads {
  loss: number;
  /** Gradient per variable name (tf.Variable.name), ready for an optimizer. Caller disposes. */
  grads: Record<string, tf.Tensor>;
}

/** Options of {@link OrderEmbeddingModel.lossAndGrads} (see there). */
export interface LossOptions {
  maxViolation?: boolean;
  dropout?: number;
  seed?: number;
  distill?: { scores: tf.Tensor2D; temperature: number; weight: number };
}

/** One weight as a float32 array in PyTorch layout (see {@link OrderEmbeddingModel.getWeights}). */
export interface NamedWeight {
  name: string;
  shape: number[];
  data: Float32Array;
}

/**
 * Inverted dropout mask: each entry 0 with probability `rate`, else 1 / (1 - rate), so that the masked
 * input keeps its expected value and nothing changes at evaluation time. Reproducible from `seed`.
 */
export function dropoutMask(shape: number[], rate: number, seed: number): tf.Tensor {
  return tf.tidy(() =>
    tf
      .randomUniform(shape, 0, 1, 'float32', seed)
      .greaterEqual(rate)
      .cast('float32')
      .div(1 - rate),
  );
}

export class OrderEmbeddingModel {
  readonly config: ModelConfig;
  readonly wordEmbedding: tf.Variable; // [V, W]
  readonly rnn: GruLayer;
  readonly imageWeight: tf.Variable; // [F, H]
  readonly imageBias: tf.Variable; // [H]

  constructor(config: ModelConfig, seed = 1) {
    checkConfig(config);
    this.config = { ...config };
    const rng = new Rng(seed);
    const { vocabSize: V, wordDim: W, hiddenDim: H, imageDim: F } = config;
    this.wordEmbedding = variableOf(tf.randomUniform([V, W], -0.1, 0.1, 'float32', rng.seed()));
    this.rnn = new GruLayer(W, H, config.layerNorm, rng.seed());
    // Xavier/Glorot uniform, as the paper's code initialises its linear maps.
    const lim = Math.sqrt(6 / (F + H));
    this.imageWeight = variableOf(tf.randomUniform([F, H], -lim, lim, 'float32', rng.seed()));
    this.imageBias = variableOf(tf.zeros([H]));
  }

  /** All trainable variables, in a fixed order. */
  get variables(): tf.Variable[] {
    return [
      this.wordEmbedding,
      ...this.rnn.paramNames.map((n) => this.rnn.vars[n]!),
      this.imageWeight,
      this.imageBias,
    ];
  }

  /**
   * Expected PyTorch-layout shapes of every weight, in a fixed order: `word_embedding` [V, W]
   * (nn.Embedding), `gru.<name>` in torch.nn.GRU layout (plus the four LN gains and shifts of an LN-GRU),
   * `image.weight` [H, F] and `image.bias` [H] (nn.Linear: out x in).
   */
  get weightShapes(): { name: string; shape: number[] }[] {
    const { vocabSize: V, wordDim: W, hiddenDim: H, imageDim: F } = this.config;
    return [
      { name: 'word_embedding', shape: [V, W] },
      ...this.rnn.paramNames.map((n) => ({ name: `gru.${n}`, shape: this.rnn.vars[n]!.shape })),
      { name: 'image.weight', shape: [H, F] },
      { name: 'image.bias', shape: [H] },
    ];
  }

  /**
   * All weights as float32 copies in PyTorch layout, named and ordered as {@link weightShapes}, read
   * synchronously: for host-memory backends (cpu, wasm), where a read is a copy. On a device backend use
   * {@link readWeights}.
   */
  getWeights(): NamedWeight[] {
    return this.weightShapes.map(({ name, shape }) => {
      const v = this.variableOf(name);
      const t = this.torchLayout(name);
      const data = new Float32Array(t.dataSync());
      if (t !== v) t.dispose();
      return { name, shape, data };
    });
  }

  /**
   * {@link getWeights} on any backend, read asynchronously: on WebGPU a synchronous read stalls the
   * queue (and on a headless software adapter loses the device). The copies are all taken at once, before
   * the first read, so they are the weights of one step even while training goes on meanwhile.
   */
  async readWeights(): Promise<NamedWeight[]> {
    const shapes = this.weightShapes;
    // Copies, so that training may go on while they are read.
    const copies = tf.tidy(() => shapes.map(({ name }) => this.torchLayout(name).clone()));
    const data = await readAndDispose(...copies);
    // Own arrays: on cpu a clone's data() is the variable's own storage until Adam replaces it.
    return shapes.map(({ name, shape }, i) => ({ name, shape, data: new Float32Array(data[i]) }));
  }

  /**
   * Weight `name` in PyTorch's layout: the variable itself, except the image projection, which the
   * model keeps as [F, H] and PyTorch as [H, F] (a transposed copy the caller frees).
   */
  private torchLayout(name: string): tf.Tensor {
    const v = this.variableOf(name);
    return name === 'image.weight' ? v.transpose() : v;
  }

  /**
   * Loads weights named and shaped as {@link getWeights} returns them. Every weight must be present
   * with its shape and finite values; a missing, unexpected or misshapen weight throws naming it, and
   * nothing is changed unless all are valid.
   */
  setWeights(weights: readonly NamedWeight[]): void {
    const byName = new Map(weights.map((w) => [w.name, w]));
    const expected = this.weightShapes;
    const known = new Set(expected.map((e) => e.name));
    for (const w of weights) {
      if (!known.has(w.name))
        throw new Error(`unexpected weight '${w.name}' (this model has ${[...known].join(', ')})`);
    }
    for (const { name, shape } of expected) {
      const w = byName.get(name);
      if (!w) throw new Error(`missing weight '${name}' (expected shape [${shape}])`);
      if (w.shape.join() !== shape.join())
        throw new Error(`weight '${name}': expected shape [${shape}], got [${w.shape}]`);
      const size = shape.reduce((a, b) => a * b, 1);
      if (w.data.length !== size)
        throw new Error(`weight '${name}': shape [${shape}] needs ${size} values, got ${w.data.length}`);
      const bad = w.data.findIndex((x) => !Number.isFinite(x));
      if (bad >= 0) throw new Error(`weight '${name}': value ${w.data[bad]} at index ${bad} is not finite`);
    }
    for (const { name, shape } of expected) {
      const { data } = byName.get(name)!;
      tf.tidy(() => {
        const t = tf.tensor(data, shape, 'float32');
        this.variableOf(name).assign(name === 'image.weight' ? t.transpose() : t);
      });
    }
  }

  /** Images into the joint space: [N, F] -> [N, H]. */
  embedImages(features: tf.Tensor2D): tf.Tensor2D {
    if (features.rank !== 2 || features.shape[1] !== this.config.imageDim) {
      throw new Error(`image features: expected [N, ${this.config.imageDim}], got [${features.shape}]`);
    }
    return tf.tidy(() =>
      this.normalizeEmbedding(
        tf.matMul(features, this.imageWeight as tf.Tensor2D).add(this.imageBias) as tf.Tensor2D,
      ),
    );
  }

  /** Captions into the joint space. ids: time-major [T * B] word ids; lengths [B]. -> [B, H]. */
  embedCaptions(ids: Int32Array, lengths: ArrayLike<number>): tf.Tensor2D {
    return tf.tidy(() => {
      const hN = this.rnn.forward(this.lookup(ids, lengths.length), lengths).hN;
      return this.captionHead(hN);
    });
  }

  /**
   * Loss of a batch of B positive pairs (image i with caption i) and the gradient of every variable.
   * @param features [B, F]
   * @param ids      time-major [T * B] word ids
   * @param lengths  [B]
   * @param opts.maxViolation the max-violation loss instead of the summed one (the config's by default)
   * @param opts.dropout inverted dropout of this rate on the image features and the word vectors
   *   (training only; masks drawn from `opts.seed`, so a step is reproducible)
   * @param opts.distill a teacher's scores of the same batch [B, B]: adds `weight` x the distillation
   *   loss at `temperature` (./loss.ts) to the contrastive loss
   */
  lossAndGrads(
    features: tf.Tensor2D,
    ids: Int32Array,
    lengths: ArrayLike<number>,
    opts: LossOptions = {},
  ): LossAndGrads {
    const { loss, grads } = runToEnd(this.lossAndGradsPass(features, ids, lengths, opts));
    return { loss: readSyncAndDispose(loss)[0], grads };
  }

  /** {@link lossAndGrads} with the loss left on the device (a scalar tensor the caller disposes). */
  lossAndGradsOnDevice(
    features: tf.Tensor2D,
    ids: Int32Array,
    lengths: ArrayLike<number>,
    opts: LossOptions = {},
  ): { loss: tf.Scalar; grads: Record<string, tf.Tensor> } {
    return runToEnd(this.lossAndGradsPass(features, ids, lengths, opts));
  }

  /**
   * {@link lossAndGrads} as a pass (./ops.ts) that yields after every time step of the GRU's forward and
   * backward passes and, given `opts.blockMacs`, after every block of that many multiply-adds of their
   * large products (./gru.ts), so that a worker can read its messages during a step of many seconds.
   * Abandoned at a yield (`return()`), it frees every tensor it made; nothing else has changed, since it
   * only reads the variables. Run to its end it is {@link lossAndGradsOnDevice}, to the last digit.
   */
  *lossAndGradsPass(
    features: tf.Tensor2D,
    ids: Int32Array,
    lengths: ArrayLike<number>,
    opts: LossOptions & { blockMacs?: number } = {},
  ): Pass<{ loss: tf.Scalar; grads: Record<string, tf.Tensor> }> {
    const B = lengths.length;
    if (features.shape[0] !== B) {
      throw new Error(`batch: ${features.shape[0]} images but ${B} captions; expected one caption per image`);
    }
    const { measure, margin } = this.config;
    const maxViolation = opts.maxViolation ?? this.config.maxViolation;
    const rate = opts.dropout ?? 0;
    if (!(rate >= 0 && rate < 1)) throw new Error(`dropout: expected a rate in [0, 1), got ${rate}`);
    const seed = opts.seed ?? 0;
    const own = new PassTensors();
    let out: { loss: tf.Scalar; grads: Record<string, tf.Tensor> } | undefined;
    try {
      const featMask = rate > 0 ? own.keep(dropoutMask(features.shape, rate, seed)) : null; // [B, F]
      const wordMask =
        rate > 0 ? own.keep(dropoutMask([ids.length / B, B, this.config.wordDim], rate, seed + 1)) : null; // [T, B, W]
      if (featMask) features = own.keep(tf.mul(features, featMask));
      let x = own.keep(this.lookup(ids, B)); // [T, B, W]
      if (wordMask) x = own.keep(tf.mul(x, wordMask) as tf.Tensor3D);
      const fwd = own.keep(
        yield* this.rnn.forwardPass(x, lengths, { cache: true, blockMacs: opts.blockMacs }),
      );
      // Head: autodiff from the two pre-normalization embeddings to the loss, giving d loss / d h_N and
      // d loss / d (features W + b); the image projection's own gradients follow by hand below, since
      // the built-in matMul gradient would use the slow transposeA path.
      const feats = features;
      const pre = own.tidy(
        () => tf.matMul(feats, this.imageWeight as tf.Tensor2D).add(this.imageBias) as tf.Tensor2D,
      );
      const head = (hN: tf.Tensor, imPre: tf.Tensor) => {
        const im = this.normalizeEmbedding(imPre as tf.Tensor2D);
        const cap = this.captionHead(hN as tf.Tensor2D);
        const S = scores(im, cap, measure); // [B, B]
        const loss = contrastiveLoss(S, margin, maxViolation);
        const d = opts.distill;
        return d ? loss.add(distillationLoss(S, d.scores, d.temperature).mul(d.weight)) : loss;
      };
      const { value, grads: headGrads } = own.keep(tf.valueAndGrads(head)([fwd.hN, pre]));
      const [dhN, dPre] = headGrads as tf.Tensor2D[];
      const dW = own.tidy(() => tf.matMul(feats.transpose(), dPre)); // [F, B] @ [B, H]
      const db = own.keep(sumRows(dPre));
      // Caption encoder: hand-written BPTT from d loss / d h_N.
      const g = own.keep(yield* this.rnn.backwardPass(fwd.cache!, null, dhN, opts.blockMacs));
      GruLayer.disposeCache(fwd.cache!); // now rather than at the end: the largest tensors of the step
      const T = ids.length / B;
      // Word embeddings: scatter-add the input gradients into the rows that were looked up (scatterND sums
      // duplicate indices; UnsortedSegmentSum, gather's own gradient, has no wasm kernel).
      const { vocabSize: V, wordDim: W } = this.config;
      const dEmb = own.tidy(() => {
        const dx = wordMask ? g.x.mul(wordMask) : g.x; // [T, B, W]: the mask's own gradient
        return tf.scatterND(tf.tensor2d(ids, [T * B, 1], 'int32'), dx.reshape([T * B, W]), [V, W]);
      });
      const grads: Record<string, tf.Tensor> = {
        [this.wordEmbedding.name]: dEmb,
        [this.imageWeight.name]: dW,
        [this.imageBias.name]: db,
      };
      for (const n of this.rnn.paramNames) grads[this.rnn.vars[n]!.name] = g.params[n]!;
      out = { loss: value as tf.Scalar, grads };
      return out;
    } finally {
      own.release(out);
    }
  }

  dispose(): void {
    tf.dispose([this.wordEmbedding, this.imageWeight, this.imageBias]);
    this.rnn.dispose();
  }

  /** The variable behind a PyTorch-layout weight name. */
  private variableOf(name: string): tf.Variable {
    if (name === 'word_embedding') return this.wordEmbedding;
    if (name === 'image.weight') return this.imageWeight;
    if (name === 'image.bias') return this.imageBias;
    const v = name.startsWith('gru.') ? this.rnn.vars[name.slice(4) as GruParamName] : undefined;
    if (!v) throw new Error(`unknown weight '${name}'`);
    return v;
  }

  /** Non-negative unit vectors for order embeddings; plain unit vectors for the cosine baseline. */
  private normalizeEmbedding(v: tf.Tensor2D): tf.Tensor2D {
    const n = l2normalize(v);
    return this.config.measure === 'order' ? (tf.abs(n) as tf.Tensor2D) : n;
  }

  private captionHead(hN: tf.Tensor2D): tf.Tensor2D {
    return this.normalizeEmbedding(hN);
  }

  /** Word vectors of time-major ids [T * B] -> [T, B, W]. */
  private lookup(ids: Int32Array, B: number): tf.Tensor3D {
    if (B === 0 || ids.length % B !== 0)
      throw new Error(`caption ids: length ${ids.length} is not T * B for B = ${B}`);
    const V = this.config.vocabSize;
    for (let i = 0; i < ids.length; i++) {
      if (!(ids[i] >= 0 && ids[i] < V))
        throw new Error(`caption ids: id ${ids[i]} at position ${i} is outside the vocabulary (size ${V})`);
    }
    return tf.tidy(() =>
      tf
        .gather(this.wordEmbedding, tf.tensor1d(ids, 'int32'))
        .reshape([ids.length / B, B, this.config.wordDim]),
    );
  }
}

/** A trainable variable holding `init`; the initial tensor itself is freed. */
function checkConfig(c: ModelConfig): void {
  for (const k of ['vocabSize', 'wordDim', 'hiddenDim', 'imageDim'] as const) {
    if (!(Number.isInteger(c[k]) && c[k] > 0))
      throw new Error(`model config: ${k} must be a positive integer, got ${c[k]}`);
  }
  if (c.measure !== 'order' && c.measure !== 'cosine')
    throw new Error(`model config: measure must be 'order' or 'cosine', got '${c.measure}'`);
  if (!(c.margin >= 0)) throw new Error(`model config: margin must be >= 0, got ${c.margin}`);
}
