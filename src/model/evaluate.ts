/**
 * Retrieval evaluation of an order-embedding model on a dataset split: embeds the split's images and
 * captions, scores every image against every caption with the one scoring function, and computes
 * R@1/5/10, median and mean rank both ways (whole split, or the average over folds of 1000 images).
 *
 * The one implementation behind `Trainer.evaluate` (during training) and {@link evaluateModel} (an
 * imported model, no trainer): both describe their model, data and caption encoding as an
 * {@link EvalSource}. Several sources on the same data evaluate as an ensemble: their score matrices
 * are summed (for order embeddings, S = -(E_1 + E_2 + ...), the summed order-violation energy).
 */
import * as tf from './tf';
import type { OrderEmbeddingModel } from './model';
import { averageOverFolds, evaluateScores } from './recall';
import { scoreBlocks } from './scoring';
import { padTimeMajor, type Vocabulary } from './tokenizer';
import type { Dataset, EvalMetrics } from './types';

/** Rows per forward pass when embedding images or captions for evaluation. */
export const EMBED_BATCH = 256;

export interface EvaluateOptions {
  /** Average over folds of 1000 images (as for COCO 1k); uses the whole split when false. */
  folds?: boolean;
  /** Evaluate on the first `maxImages` images of the split only. */
  maxImages?: number;
}

/** A model, the data it is evaluated on, and how a caption of that data becomes word ids. */
export interface EvalSource {
  model: OrderEmbeddingModel;
  dataset: Dataset;
  /** Word ids of caption `k` of the dataset, truncated to the model's maximum length. */
  captionIds(k: number): ArrayLike<number>;
}

/** Score matrix [images x captions] (row-major), and for each caption its image's row and caption index. */
export interface ScoredImages {
  scores: Float32Array;
  /** captionImage[j] = row (position in `images`) of caption j's image. */
  captionImage: Int32Array;
  /** captionIndex[j] = index of caption j in `dataset.captions`. */
  captionIndex: number[];
}

/** Feature rows of dataset images as a tensor [n, F]. */
export function gatherFeatures(
  dataset: Dataset,
  images: readonly number[],
  /** Per image, the feature matrix to read it from (augmentation); `dataset.features` by default. */
  from?: readonly Float32Array[],
): tf.Tensor2D {
  const F = dataset.imageDim;
  const buf = new Float32Array(images.length * F);
  images.forEach((img, i) =>
    buf.set((from?.[i] ?? dataset.features).subarray(img * F, (img + 1) * F), i * F),
  );
  return tf.tensor2d(buf, [images.length, F]);
}

/** Joint-space embeddings of dataset images [n, H], in batches. */
export function embedDatasetImages(
  model: OrderEmbeddingModel,
  dataset: Dataset,
  images: readonly number[],
  batch = EMBED_BATCH,
): tf.Tensor2D {
  const parts: tf.Tensor2D[] = [];
  for (let i = 0; i < images.length; i += batch) {
    const f = gatherFeatures(dataset, images.slice(i, i + batch));
    parts.push(model.embedImages(f));
    f.dispose();
  }
  return concatAndDispose(parts);
}

/** Joint-space embeddings of encoded captions (word-id sequences) [n, H], in batches. */
export function embedSequences(
  model: OrderEmbeddingModel,
  seqs: readonly ArrayLike<number>[],
  batch = EMBED_BATCH,
): tf.Tensor2D {
  const parts: tf.Tensor2D[] = [];
  for (let i = 0; i < seqs.length; i += batch) {
    const b = padTimeMajor(seqs.slice(i, i + batch));
    parts.push(model.embedCaptions(b.ids, b.lengths));
  }
  return concatAndDispose(parts);
}

/** Scores the given dataset images against all captions of those images. */
export function scoreImages(src: EvalSource, images: readonly number[]): ScoredImages {
  const { model, dataset } = src;
  const pos = new Map(images.map((img, i) => [img, i]));
  const captionIndex: number[] = [];
  dataset.captions.forEach((c, k) => {
    if (pos.has(c.image)) captionIndex.push(k);
  });
  const captionImage = Int32Array.from(captionIndex, (k) => pos.get(dataset.captions[k].image)!);
  const N = images.length;
  const M = captionIndex.length;
  const imEmb = embedDatasetImages(model, dataset, images);
  const capEmb = embedSequences(
    model,
    captionIndex.map((k) => src.captionIds(k)),
  );
  const out = new Float32Array(N * M);
  scoreBlocks(imEmb, capEmb, model.config.measure, 1000, (block, start, count) => {
    for (let i = 0; i < N; i++) out.set(block.subarray(i * count, (i + 1) * count), i * M + start);
  });
  tf.dispose([imEmb, capEmb]);
  return { scores: out, captionImage, captionIndex };
}

/**
 * Retrieval metrics of a set of dataset images and their captions, by one model or by an ensemble
 * (several sources on the same dataset: the sum of their score matrices ranks).
 */
export function evaluateImages(
  src: EvalSource | readonly EvalSource[],
  images: readonly number[],
): EvalMetrics {
  const [first, ...rest] = sourcesOf(src);
  const { scores, captionImage } = scoreImages(first, images);
  for (const other of rest) {
    const more = scoreImages(other, images).scores; // same images and captions, so the same layout
    for (let i = 0; i < scores.length; i++) scores[i] += more[i];
  }
  return evaluateScores(scores, images.length, captionImage.length, captionImage);
}

function sourcesOf(src: EvalSource | readonly EvalSource[]): readonly EvalSource[] {
  const sources = Array.isArray(src) ? (src as readonly EvalSource[]) : [src as EvalSource];
  if (sources.length === 0) throw new Error('evaluate: no model given');
  const { dataset } = sources[0];
  const stranger = sources.find((s) => s.dataset !== dataset);
  if (stranger)
    throw new Error(
      `ensemble: every model must be evaluated on the same dataset ('${dataset.name}' and '${stranger.dataset.name}')`,
    );
  const measures = new Set(sources.map((s) => s.model.config.measure));
  if (measures.size > 1)
    throw new Error(
      `ensemble: the models' scores are not comparable (measures ${[...measures].join(' and ')})`,
    );
  return sources;
}

/**
 * Retrieval metrics on a split: image -> caption (rank of the image's best caption) and caption ->
 * image, R@1/5/10, median and mean rank, R-sum. Folds of 1000 images are averaged when `folds` is set
 * and the split has at least 2000 images. Throws naming the available splits when `split` is missing.
 */
export function evaluateSplit(
  src: EvalSource | readonly EvalSource[],
  split: string,
  opts: EvaluateOptions = {},
): EvalMetrics {
  const { dataset } = sourcesOf(src)[0];
  let images = (dataset.splits as Record<string, number[] | undefined>)[split];
  if (!images?.length) {
    const available = Object.entries(dataset.splits)
      .filter(([, v]) => v?.length)
      .map(([k]) => k);
    throw new Error(
      `dataset '${dataset.name}' has no '${split}' split (available: ${available.join(', ') || 'none'})`,
    );
  }
  if (opts.maxImages) images = images.slice(0, opts.maxImages);
  if (opts.folds && images.length >= 2000) {
    const folds: EvalMetrics[] = [];
    for (let f = 0; f + 1000 <= images.length; f += 1000)
      folds.push(evaluateImages(src, images.slice(f, f + 1000)));
    return averageOverFolds(folds);
  }
  return evaluateImages(src, images);
}

/** An imported model and the vocabulary (and caption length) it was trained with. */
export interface TrainedModel {
  model: OrderEmbeddingModel;
  vocab: Vocabulary;
  /** Captions are cut to this many tokens, as in training (no limit by default). */
  maxLength?: number;
}

/**
 * Evaluates a model without a trainer (e.g. one imported with `importModel`): captions are encoded with
 * `vocab` (unknown words -> the unknown-word id) and cut to `maxLength` tokens, as in training.
 */
export function evaluateModel(
  model: OrderEmbeddingModel,
  vocab: Vocabulary,
  dataset: Dataset,
  split: string,
  opts: EvaluateOptions & { maxLength?: number } = {},
): EvalMetrics {
  return evaluateEnsemble([{ model, vocab, maxLength: opts.maxLength }], dataset, split, opts);
}

/**
 * Evaluates one model or an ensemble of several (each with its own vocabulary) on a split: the ensemble
 * ranks by the sum of the members' scores. Each member must match the dataset's feature size.
 */
export function evaluateEnsemble(
  members: readonly TrainedModel[],
  dataset: Dataset,
  split: string,
  opts: EvaluateOptions = {},
): EvalMetrics {
  const sources = members.map(({ model, vocab, maxLength = Infinity }): EvalSource => {
    if (vocab.size !== model.config.vocabSize) {
      throw new Error(
        `vocabulary has ${vocab.size} words but the model expects ${model.config.vocabSize}: model file from another vocabulary`,
      );
    }
    if (dataset.imageDim !== model.config.imageDim) {
      throw new Error(
        `dataset '${dataset.name}' has ${dataset.imageDim}-d image features but the model expects ${model.config.imageDim}-d (another image encoder?)`,
      );
    }
    const captionIds = (k: number) => vocab.encode(dataset.captions[k].text, k).slice(0, maxLength);
    return { model, dataset, captionIds };
  });
  return evaluateSplit(sources, split, opts);
}

function concatAndDispose(parts: tf.Tensor2D[]): tf.Tensor2D {
  if (parts.length === 1) return parts[0];
  const out = tf.concat(parts, 0) as tf.Tensor2D;
  tf.dispose(parts);
  return out;
}
