/**
 * The whole-training-step timing behind `npm run bench:kernels`: LN-GRU forward and backward, scoring,
 * loss and every gradient, with the WGSL kernels on and off. Exposed through ./kernel-timings.ts.
 */
import * as tf from '../src/model/tf';
import { GruLayer } from '../src/model/gru';
import { setKernelsEnabled } from '../src/model/kernels/webgpu';
import { scores } from '../src/model/scoring';
import { OrderEmbeddingModel } from '../src/model/model';
import { contrastiveLoss } from '../src/model/loss';
import { l2normalize, sumRows } from '../src/model/ops';
import { settle, time } from './timing';

/**
 * model.lossAndGrads (../src/model/model.ts) op for op, except that the loss is read back asynchronously
 * by the caller: its `dataSync()` goes through tfjs's synchronous WebGPU read-back, which loses the
 * device in this page (see runGruVectorAsync). Returns the loss and every gradient.
 */
function trainStep(
  model: OrderEmbeddingModel,
  features: tf.Tensor2D,
  ids: Int32Array,
  lengths: number[],
): tf.Tensor[] {
  const B = lengths.length;
  const T = ids.length / B;
  const { measure, margin, maxViolation, wordDim: W, vocabSize: V } = model.config;
  const x = tf.tidy(() =>
    tf.gather(model.wordEmbedding, tf.tensor1d(ids, 'int32')).reshape([T, B, W]),
  ) as tf.Tensor3D; // [T, B, W]
  const fwd = model.rnn.forward(x, lengths, { cache: true });
  x.dispose();
  const pre = tf.tidy(() =>
    tf.matMul(features, model.imageWeight as tf.Tensor2D).add(model.imageBias),
  ) as tf.Tensor2D; // [B, H]
  const embed = (v: tf.Tensor) => tf.abs(l2normalize(v as tf.Tensor2D)) as tf.Tensor2D; // order embeddings
  const head = (hN: tf.Tensor, imPre: tf.Tensor) =>
    contrastiveLoss(scores(embed(imPre), embed(hN), measure), margin, maxViolation);
  const { value, grads } = tf.valueAndGrads(head)([fwd.hN, pre]);
  const [dhN, dPre] = grads as tf.Tensor2D[];
  const dW = tf.tidy(() => tf.matMul(features.transpose(), dPre)); // [F, B] @ [B, H]
  const db = sumRows(dPre);
  const g = model.rnn.backward(fwd.cache!, null, dhN);
  GruLayer.disposeCache(fwd.cache!);
  const dEmb = tf.tidy(() =>
    tf.scatterND(tf.tensor2d(ids, [T * B, 1], 'int32'), g.x.reshape([T * B, W]), [V, W]),
  );
  tf.dispose([dhN, dPre, pre, fwd.hN, g.x]);
  return [value, dEmb, dW, db, ...(Object.values(g.params) as tf.Tensor[])];
}

/** One training step (LN-GRU forward/backward, scoring, loss, all gradients), kernels on/off. */
export async function benchTrainStep(s: {
  T: number;
  B: number;
  H: number;
  reps: number;
  kernels: boolean[];
}) {
  const V = 2000;
  const model = new OrderEmbeddingModel(
    {
      vocabSize: V,
      wordDim: 300,
      hiddenDim: s.H,
      imageDim: 1024,
      layerNorm: true,
      measure: 'order',
      margin: 0.05,
      maxViolation: false,
    },
    1,
  );
  const features = tf.randomNormal([s.B, 1024]) as tf.Tensor2D;
  const ids = Int32Array.from({ length: s.T * s.B }, (_, i) => (i * 7919) % V);
  const lengths = Array.from({ length: s.B }, (_, b) => s.T - (b % 4));
  const out: Record<string, number> = {};
  for (const on of s.kernels) {
    setKernelsEnabled(on);
    try {
      out[on ? 'kernel' : 'composite'] = await time(
        async () => {
          await settle(trainStep(model, features, ids, lengths));
        },
        s.reps,
        `train ${on ? 'kernel' : 'composite'}`,
      );
    } finally {
      setKernelsEnabled(true);
    }
  }
  features.dispose();
  model.dispose();
  return out;
}
