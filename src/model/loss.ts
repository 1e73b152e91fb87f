/**
 * Contrastive hinge loss over in-batch negatives, both directions (Vendrov et al. 2016, Eq. 5; the
 * max-violation variant is VSE++, Faghri et al. 2018). images[i] and captions[i] are a positive pair and
 * S = scores(images, captions) (higher is better):
 *
 *   cost_caption[i, j] = max(0, margin - S[i, i] + S[i, j])   j != i   (wrong captions for image i)
 *   cost_image[i, j]   = max(0, margin - S[j, j] + S[i, j])   i != j   (wrong images for caption j)
 *
 *   summed (the paper's):  loss = sum cost_caption + sum cost_image
 *   max-violation:         loss = sum_i max_j cost_caption[i, j] + sum_j max_i cost_image[i, j]
 *
 * Margins: 0.05 for order embeddings, 0.2 for cosine (DEFAULTS.loss in ./defaults.ts).
 */
import * as tf from './tf';

/** Loss from a square score matrix S [B, B] whose diagonal holds the positive pairs. */
export function contrastiveLoss(S: tf.Tensor2D, margin: number, maxViolation: boolean): tf.Scalar {
  const [B, B2] = S.shape;
  if (B !== B2) throw new Error(`contrastiveLoss: expected a square [B, B] score matrix, got [${S.shape}]`);
  if (B < 2) throw new Error(`contrastiveLoss: needs at least 2 pairs in a batch for negatives, got ${B}`);
  return tf.tidy(() => {
    const eye = tf.eye(B);
    const offDiag = tf.scalar(1).sub(eye); // [B, B]
    const diag = S.mul(eye).sum(1); // [B]
    const base = S.add(margin);
    const costCaption = tf.relu(base.sub(diag.expandDims(1))).mul(offDiag); // rows: images
    const costImage = tf.relu(base.sub(diag.expandDims(0))).mul(offDiag); // columns: captions
    if (maxViolation) return costCaption.max(1).sum().add(costImage.max(0).sum()) as tf.Scalar;
    return costCaption.sum().add(costImage.sum()) as tf.Scalar;
  });
}

/**
 * Distillation loss (Hinton et al. 2015, over in-batch retrieval lists): the student's score matrix S
 * [B, B] is pulled towards a teacher's T [B, B] (e.g. the mean score of an ensemble) by matching, at
 * temperature tau, each image's distribution over the batch's captions and each caption's distribution
 * over the batch's images:
 *
 *   p(j | i) = softmax_j(T[i, j] / tau),   q(j | i) = softmax_j(S[i, j] / tau)          (rows, and columns)
 *   loss = sum_i KL(p(. | i) || q(. | i)) + sum_j KL(p(. | j) || q(. | j))
 *
 * d loss / d S[i, j] = ((q - p)_row + (q - p)_column) / tau: the teacher's ranking of the negatives, not
 * just which pair is positive, becomes the target.
 */
export function distillationLoss(S: tf.Tensor2D, T: tf.Tensor2D, temperature: number): tf.Scalar {
  if (S.shape.join() !== T.shape.join())
    throw new Error(`distillationLoss: student [${S.shape}] and teacher [${T.shape}] scores differ in shape`);
  if (!(temperature > 0)) throw new Error(`distillationLoss: temperature must be > 0, got ${temperature}`);
  return tf.tidy(() => {
    const kl = (s: tf.Tensor2D, t: tf.Tensor2D) => {
      const logP = tf.logSoftmax(t.div(temperature)); // over the last axis
      const logQ = tf.logSoftmax(s.div(temperature));
      return tf.exp(logP).mul(logP.sub(logQ)).sum();
    };
    return kl(S, T).add(kl(S.transpose(), T.transpose())) as tf.Scalar;
  });
}
