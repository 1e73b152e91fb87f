/**
 * A teacher for distillation: an ensemble of trained order-embedding models, whose mean score of a
 * training batch becomes the target of the distillation loss (./loss.ts, `distillationLoss`). An
 * ensemble ranks better than its members (the seeds' errors differ), and one student trained towards it
 * keeps the single model's cost in the playground.
 *
 * The teachers are frozen, so each member's embeddings of the training images and captions are computed
 * once, up front, and kept in host memory (not in the backend's: 4 members x 36 000 rows x 1024 floats is
 * 590 MB); a batch's teacher score is then
 *
 *   T[i, j] = (1 / M) sum_m S_m(image_i, caption_j)          S_m: member m's score (./scoring.ts)
 */
import * as tf from './tf';
import { embedDatasetImages, embedSequences, type TrainedModel } from './evaluate';
import { readSyncAndDispose } from './ops';
import { scores } from './scoring';
import type { Dataset } from './types';

/** What the trainer needs from a teacher. */
export interface Teacher {
  /** The members' labels (run folders), recorded in the student's config. */
  readonly labels: readonly string[];
  /** Teacher scores [images.length, captions.length] of dataset images x dataset captions. */
  scores(images: readonly number[], captions: readonly number[]): tf.Tensor2D;
}

interface MemberEmbeddings {
  measure: 'order' | 'cosine';
  H: number;
  images: Float32Array; // [numImages, H], rows of the images embedded
  captions: Float32Array; // [numCaptions, H], rows of the captions embedded
}

export class EnsembleTeacher implements Teacher {
  readonly labels: readonly string[];
  private readonly members: MemberEmbeddings[];
  private readonly hasImage: Uint8Array;
  private readonly hasCaption: Uint8Array;

  /**
   * Embeds `images` and `captions` (dataset indices; the training split) with every member. Each member
   * encodes captions with its own codec (its vocabulary, cut to its maximum length). Members must read the dataset's
   * image features (same size) and agree on the scoring measure.
   */
  constructor(
    members: readonly (TrainedModel & { label: string })[],
    dataset: Dataset,
    images: readonly number[],
    captions: readonly number[],
    onProgress?: (done: number, total: number) => void,
  ) {
    if (!members.length) throw new Error('distillation: the teacher needs at least one model');
    const measure = members[0].model.config.measure;
    for (const m of members) {
      const c = m.model.config;
      if (c.imageDim !== dataset.imageDim)
        throw new Error(
          `teacher ${m.label}: expects ${c.imageDim}-d image features, dataset '${dataset.name}' has ${dataset.imageDim}-d (another image encoder?)`,
        );
      if (c.measure !== measure)
        throw new Error(`teacher ${m.label}: scores by ${c.measure}, ${members[0].label} by ${measure}`);
      if (m.codec.size !== c.vocabSize)
        throw new Error(
          `teacher ${m.label}: vocabulary has ${m.codec.size} words, the model expects ${c.vocabSize}`,
        );
    }
    this.labels = members.map((m) => m.label);
    this.hasImage = new Uint8Array(dataset.numImages);
    for (const i of images) this.hasImage[i] = 1;
    this.hasCaption = new Uint8Array(dataset.captions.length);
    for (const k of captions) this.hasCaption[k] = 1;
    this.members = members.map((m, done) => {
      const H = m.model.config.hiddenDim;
      const img = new Float32Array(dataset.numImages * H);
      scatterRows(img, H, images, embedDatasetImages(m.model, dataset, images));
      const ids = captions.map((k) => m.codec.encodeCaption(dataset.captions[k].text, k));
      // Length-sorted, so that a batch of the embedding pass has little padding.
      const order = captions.map((_, r) => r).sort((a, b) => ids[a].length - ids[b].length);
      const cap = new Float32Array(dataset.captions.length * H);
      scatterRows(
        cap,
        H,
        order.map((r) => captions[r]),
        embedSequences(
          m.model,
          order.map((r) => ids[r]),
        ),
      );
      onProgress?.(done + 1, members.length);
      return { measure, H, images: img, captions: cap };
    });
  }

  scores(images: readonly number[], captions: readonly number[]): tf.Tensor2D {
    images.forEach((i) => {
      if (!this.hasImage[i]) throw new Error(`teacher: image ${i} was not embedded (not a training image?)`);
    });
    captions.forEach((k) => {
      if (!this.hasCaption[k])
        throw new Error(`teacher: caption ${k} was not embedded (not a training caption?)`);
    });
    return tf.tidy(() => {
      const per = this.members.map((m) =>
        scores(gatherRows(m.images, m.H, images), gatherRows(m.captions, m.H, captions), m.measure),
      );
      return tf.addN(per).div(per.length) as tf.Tensor2D; // [N, M]
    });
  }
}

/** Copies the rows of `t` [n, H] into `dst` at rows `at` and frees `t`. */
function scatterRows(dst: Float32Array, H: number, at: readonly number[], t: tf.Tensor2D): void {
  const data = readSyncAndDispose(t);
  at.forEach((row, r) => dst.set(data.subarray(r * H, (r + 1) * H), row * H));
}

/** Rows `rows` of a host matrix [*, H] as a tensor [rows.length, H]. */
function gatherRows(src: Float32Array, H: number, rows: readonly number[]): tf.Tensor2D {
  const buf = new Float32Array(rows.length * H);
  rows.forEach((row, r) => buf.set(src.subarray(row * H, (row + 1) * H), r * H));
  return tf.tensor2d(buf, [rows.length, H]);
}
