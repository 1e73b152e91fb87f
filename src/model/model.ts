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
import { GruLayer } from './gru';
import { dense, l2normalize } from './ops';
import { contrastiveLoss } from './loss';
import { scores } from './scoring';
import { Rng } from './rng';
import type { ModelConfig } from './types';

export interface LossAndGrads {
  loss: number;
  /** Gradient per variable name (tf.Variable.name), ready for an optimizer. Caller disposes. */
  grads: Record<string, tf.Tensor>;
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
    this.wordEmbedding = tf.variable(tf.randomUniform([V, W], -0.1, 0.1, 'float32', rng.seed()), true);
    this.rnn = new GruLayer(W, H, config.layerNorm, rng.seed());
    // Xavier/Glorot uniform, as the paper's code initialises its linear maps.
    const lim = Math.sqrt(6 / (F + H));
    this.imageWeight = tf.variable(tf.randomUniform([F, H], -lim, lim, 'float32', rng.seed()), true);
    this.imageBias = tf.variable(tf.zeros([H]), true);
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

  /** Images into the joint space: [N, F] -> [N, H]. */
  embedImages(features: tf.Tensor2D): tf.Tensor2D {
    if (features.rank !== 2 || features.shape[1] !== this.config.imageDim) {
      throw new Error(`image features: expected [N, ${this.config.imageDim}], got [${features.shape}]`);
    }
    return tf.tidy(() => this.imageHead(features, this.imageWeight as tf.Tensor2D, this.imageBias));
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
   */
  lossAndGrads(features: tf.Tensor2D, ids: Int32Array, lengths: ArrayLike<number>): LossAndGrads {
    const B = lengths.length;
    if (features.shape[0] !== B) {
      throw new Error(`batch: ${features.shape[0]} images but ${B} captions; expected one caption per image`);
    }
    const { measure, margin, maxViolation } = this.config;
    const x = this.lookup(ids, B); // [T, B, W]
    const fwd = this.rnn.forward(x, lengths, { cache: true });
    x.dispose();
    // Head: autodiff for d loss / d h_N and the image projection.
    const head = (hN: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => {
      const im = this.imageHead(features, w as tf.Tensor2D, b);
      const cap = this.captionHead(hN as tf.Tensor2D);
      return contrastiveLoss(scores(im, cap, measure), margin, maxViolation);
    };
    const { value, grads: headGrads } = tf.valueAndGrads(head)([fwd.hN, this.imageWeight, this.imageBias]);
    const [dhN, dW, db] = headGrads;
    // Caption encoder: hand-written BPTT from d loss / d h_N.
    const g = this.rnn.backward(fwd.cache!, null, dhN as tf.Tensor2D);
    GruLayer.disposeCache(fwd.cache!);
    const T = ids.length / B;
    // Word embeddings: scatter-add the input gradients into the rows that were looked up (scatterND sums
    // duplicate indices; UnsortedSegmentSum, gather's own gradient, has no wasm kernel).
    const { vocabSize: V, wordDim: W } = this.config;
    const dEmb = tf.tidy(() =>
      tf.scatterND(tf.tensor2d(ids, [T * B, 1], 'int32'), g.x.reshape([T * B, W]), [V, W]),
    );
    const loss = value.dataSync()[0];
    tf.dispose([value, dhN, fwd.hN, g.x]);
    const grads: Record<string, tf.Tensor> = {
      [this.wordEmbedding.name]: dEmb,
      [this.imageWeight.name]: dW,
      [this.imageBias.name]: db,
    };
    for (const n of this.rnn.paramNames) grads[this.rnn.vars[n]!.name] = g.params[n]!;
    return { loss, grads };
  }

  dispose(): void {
    tf.dispose([this.wordEmbedding, this.imageWeight, this.imageBias]);
    this.rnn.dispose();
  }

  /** Non-negative unit vectors for order embeddings; plain unit vectors for the cosine baseline. */
  private normalizeEmbedding(v: tf.Tensor2D): tf.Tensor2D {
    const n = l2normalize(v);
    return this.config.measure === 'order' ? (tf.abs(n) as tf.Tensor2D) : n;
  }

  private imageHead(features: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor): tf.Tensor2D {
    return this.normalizeEmbedding(dense(features, w).add(b) as tf.Tensor2D);
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

function checkConfig(c: ModelConfig): void {
  for (const k of ['vocabSize', 'wordDim', 'hiddenDim', 'imageDim'] as const) {
    if (!(Number.isInteger(c[k]) && c[k] > 0))
      throw new Error(`model config: ${k} must be a positive integer, got ${c[k]}`);
  }
  if (c.measure !== 'order' && c.measure !== 'cosine')
    throw new Error(`model config: measure must be 'order' or 'cosine', got '${c.measure}'`);
  if (!(c.margin >= 0)) throw new Error(`model config: margin must be >= 0, got ${c.margin}`);
}
