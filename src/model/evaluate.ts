/**
 * Retrieval evaluation of an order-embedding model on a dataset split: embeds the split's images and
 * captions, scores every image against every caption with the one scoring function, and computes
 * R@1/5/10, median and mean rank both ways (whole split, or the average over folds of 1000 images).
 *
 * The one implementation behind `Trainer.evaluate` (during training) and {@link evaluateModel} (an
 * imported model, no trainer): both describe their model, data and caption encoding as an
 * {@link EvalSource}. Several sources on the same data evaluate as an ensemble: their score matrices
 * are summed (for order embeddings, S = -(E_1 + E_2 + ...), the summed order-violation energy).
 *
 * The work is written once, as generators that yield between chunks (a batch of rows embedded, a block
 * of captions scored, a fold): {@link evaluateSplit} runs them straight through, and
 * {@link evaluateSplitAsync} awaits a turn of the event loop between chunks and stops on an abort, so
 * that a worker evaluating a large model still reads its messages (Pause, Reset) within about a chunk.
 * Chunks are sized by the model's cost per row, not by the clock, so both give the same digits.
 */
import * as tf from './tf';
import type { OrderEmbeddingModel } from './model';
import { averageOverFolds, evaluateScores } from './recall';
import { scores } from './scoring';
import type { CaptionCodec } from './caption-codec';
import { padTimeMajor } from './tokenizer';
import { lengthOrder } from './gru-rows';
import type { Dataset, EvalMetrics } from './types';

/** Rows per forward pass when embedding images or captions for evaluation. */
export const EMBED_BATCH = 256;

/** Captions embedded per chunk of an evaluation by models up to the default size (H = 1024, W = 300). */
export const CHUNK_CAPTIONS = 32;

/**
 * Multiply-adds of one chunk of evaluation work: {@link CHUNK_CAPTIONS} captions of 16 tokens through the
 * default H = 1024, W = 300 GRU (3H(W + H) per token); about 0.2 s on wasm in Node on this 2-core machine
 * (256 captions took 1.3 to 1.8 s). Larger models embed fewer captions per chunk, so that a chunk stays
 * about this long. The batch size does not change the digits (each caption's embedding is its own).
 */
const CHUNK_MACS = CHUNK_CAPTIONS * 16 * 3 * 1024 * (1024 + 300);
/** Caption positions scored per chunk (N images x m captions x H); 1000 x 256 x 1024 at most (0.3 s). */
const SCORE_CHUNK = 1000 * 256 * 1024;
/** Captions per score block, as before chunking: the most a chunk scores. */
const MAX_SCORE_BLOCK = 1000;

/**
 * A tensor the work needs on the host before its next chunk, yielded to the runner, which reads it into
 * `value`: at once in {@link runChunkedSync}, awaited in {@link runChunked}, so that the asynchronous
 * evaluation never reads synchronously: on a device backend (WebGPU, WebGL) such a read stalls the
 * queue, and on a headless software adapter loses the device.
 */
export class Readback {
  value: Float32Array | null = null;
  constructor(readonly tensor: tf.Tensor) {}
}

/** Evaluation work that yields between chunks (nothing, or a {@link Readback}); see {@link runChunked}. */
export type Chunked<T> = Generator<Readback | void, T, void>;

/** How an asynchronous evaluation gives way between its chunks. */
export interface ChunkControl {
  /** Awaited between chunks: e.g. a macrotask, so that the worker's pending messages are handled. */
  between: () => Promise<void>;
  /** Checked after every chunk: once aborted, the work stops (its tensors freed) and rejects with its reason. */
  signal?: AbortSignal;
}

/** Runs chunked work straight through. */
export function runChunkedSync<T>(work: Chunked<T>): T {
  let r = work.next();
  while (!r.done) {
    if (r.value) r.value.value = r.value.tensor.dataSync() as Float32Array;
    r = work.next();
  }
  return r.value;
}

/**
 * Runs chunked work, awaiting `control.between()` after each chunk; an abort stops it there: the work's
 * `finally` blocks free what it holds, and the promise rejects with the signal's reason.
 */
export async function runChunked<T>(work: Chunked<T>, control: ChunkControl): Promise<T> {
  try {
    let r = work.next();
    while (!r.done) {
      control.signal?.throwIfAborted();
      if (r.value) r.value.value = (await r.value.tensor.data()) as Float32Array;
      else await control.between(); // an awaited read is a turn already
      control.signal?.throwIfAborted();
      r = work.next();
    }
    return r.value;
  } finally {
    work.return(undefined as never); // runs the work's finally blocks when it stopped early
  }
}

/**
 * Captions embedded per chunk by `model`: {@link CHUNK_CAPTIONS} for models up to the default size, fewer
 * for larger ones (by the multiply-adds of a token, 3H(W + H)), at least 4.
 */
export function captionRowsPerChunk(model: OrderEmbeddingModel): number {
  const { hiddenDim: H, wordDim: W } = model.config;
  return Math.max(4, Math.min(CHUNK_CAPTIONS, Math.floor(CHUNK_MACS / (16 * 3 * H * (W + H)))));
}

/**
 * Captions per batch where nothing waits between chunks ({@link evaluateSplit}, {@link scoreImages}):
 * four chunks' worth, at most {@link EMBED_BATCH}. One thread takes about as long either way (at hidden
 * 1024, 20 s for the 5000 Flickr8k dev captions with 32 or 128); the Node pool's threads
 * (scripts/lib/parallel-pool.ts) each get a shard four times larger, and run it 1.3x faster.
 */
export function captionRowsStraight(model: OrderEmbeddingModel): number {
  return Math.min(EMBED_BATCH, 4 * captionRowsPerChunk(model));
}

/** Captions embedded per batch (and per chunk) by a model. */
type CaptionRows = (model: OrderEmbeddingModel) => number;

/** Captions scored against `images` images per chunk (1000 at most, at least 1). */
export function scoreBlockSize(images: number, hiddenDim: number): number {
  return Math.max(1, Math.min(MAX_SCORE_BLOCK, Math.floor(SCORE_CHUNK / Math.max(1, images * hiddenDim))));
}

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
  return runChunkedSync(embedImagesChunked(model, dataset, images, batch));
}

/** Joint-space embeddings of encoded captions (word-id sequences) [n, H], in batches. */
export function embedSequences(
  model: OrderEmbeddingModel,
  seqs: readonly ArrayLike<number>[],
  batch = EMBED_BATCH,
): tf.Tensor2D {
  return runChunkedSync(embedSequencesChunked(model, seqs, batch));
}

function embedImagesChunked(
  model: OrderEmbeddingModel,
  dataset: Dataset,
  images: readonly number[],
  batch: number,
): Chunked<tf.Tensor2D> {
  return embedRowsChunked(images.length, batch, (start, end) => {
    const f = gatherFeatures(dataset, images.slice(start, end));
    try {
      return model.embedImages(f);
    } finally {
      f.dispose();
    }
  });
}

/**
 * Captions are embedded in batches of similar length, longest first (./gru-rows.ts `lengthOrder`, the
 * GRU's own order within a batch), and put back in their order: a batch runs the recurrence to its
 * longest caption, so in the given order a batch of 32 dev captions pays for about twice the tokens it
 * has. A caption's embedding is its own (rows are independent), so the order changes no digit.
 */
function* embedSequencesChunked(
  model: OrderEmbeddingModel,
  seqs: readonly ArrayLike<number>[],
  batch: number,
): Chunked<tf.Tensor2D> {
  const n = seqs.length;
  const order = lengthOrder(seqs.map((q) => q.length)); // null: in that order already
  if (!order) {
    return yield* embedRowsChunked(n, batch, (start, end) => embedPadded(model, seqs.slice(start, end)));
  }
  const sorted = yield* embedRowsChunked(n, batch, (start, end) =>
    embedPadded(
      model,
      Array.from(order.rows.subarray(start, end), (k) => seqs[k]),
    ),
  ); // [n, H], row i = caption order.rows[i]
  try {
    return tf.tidy(() => tf.gather(sorted, tf.tensor1d(order.back, 'int32'))) as tf.Tensor2D; // [n, H]
  } finally {
    sorted.dispose();
  }
}

/** Embeddings [B, H] of a batch of encoded captions, padded to its longest. */
function embedPadded(model: OrderEmbeddingModel, seqs: readonly ArrayLike<number>[]): tf.Tensor2D {
  const b = padTimeMajor(seqs);
  return model.embedCaptions(b.ids, b.lengths);
}

/** Rows [start, end) embedded `batch` at a time, a chunk each; the parts freed if it stops early. */
function* embedRowsChunked(
  count: number,
  batch: number,
  embed: (start: number, end: number) => tf.Tensor2D,
): Chunked<tf.Tensor2D> {
  const parts: tf.Tensor2D[] = [];
  let finished = false;
  try {
    for (let i = 0; i < count; i += batch) {
      if (i > 0) yield;
      parts.push(embed(i, Math.min(count, i + batch)));
    }
    const out = concatAndDispose(parts);
    finished = true;
    return out;
  } finally {
    if (!finished) tf.dispose(parts);
  }
}

/** Scores the given dataset images against all captions of those images. */
export function scoreImages(src: EvalSource, images: readonly number[]): ScoredImages {
  return runChunkedSync(scoreImagesChunked(src, images, captionRowsStraight));
}

function* scoreImagesChunked(
  src: EvalSource,
  images: readonly number[],
  captionRows: CaptionRows,
): Chunked<ScoredImages> {
  const { model, dataset } = src;
  const pos = new Map(images.map((img, i) => [img, i]));
  const captionIndex: number[] = [];
  dataset.captions.forEach((c, k) => {
    if (pos.has(c.image)) captionIndex.push(k);
  });
  const captionImage = Int32Array.from(captionIndex, (k) => pos.get(dataset.captions[k].image)!);
  const N = images.length;
  const M = captionIndex.length;
  const out = new Float32Array(N * M);
  const imEmb = yield* embedImagesChunked(model, dataset, images, EMBED_BATCH); // [N, H]
  try {
    yield;
    const seqs = captionIndex.map((k) => src.captionIds(k));
    const capEmb = yield* embedSequencesChunked(model, seqs, captionRows(model)); // [M, H]
    try {
      const H = capEmb.shape[1];
      const block = scoreBlockSize(N, H);
      for (let j0 = 0; j0 < M; j0 += block) {
        yield;
        const count = Math.min(block, M - j0);
        const part = capEmb.slice([j0, 0], [count, H]); // [count, H]
        // The block's scores are read by the runner: awaited in runChunked (no dataSync on a device).
        let rb: Readback | undefined;
        try {
          rb = new Readback(scores(imEmb, part, model.config.measure)); // [N, count]
          yield rb;
          const block = rb.value!;
          for (let i = 0; i < N; i++) out.set(block.subarray(i * count, (i + 1) * count), i * M + j0);
        } finally {
          rb?.tensor.dispose();
          part.dispose();
        }
      }
    } finally {
      capEmb.dispose();
    }
  } finally {
    imEmb.dispose();
  }
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
  return runChunkedSync(evaluateImagesChunked(src, images, captionRowsStraight));
}

function* evaluateImagesChunked(
  src: EvalSource | readonly EvalSource[],
  images: readonly number[],
  captionRows: CaptionRows,
): Chunked<EvalMetrics> {
  const [first, ...rest] = sourcesOf(src);
  const { scores, captionImage } = yield* scoreImagesChunked(first, images, captionRows);
  for (const other of rest) {
    yield;
    const more = (yield* scoreImagesChunked(other, images, captionRows)).scores; // same images and captions, so the same layout
    for (let i = 0; i < scores.length; i++) scores[i] += more[i];
  }
  yield;
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
  return runChunkedSync(evaluateSplitChunked(src, split, opts, captionRowsStraight));
}

/**
 * {@link evaluateSplit}, giving way between chunks (see {@link ChunkControl}): the same metrics, to the
 * digit. Rejects with the signal's reason when aborted, having freed its tensors.
 */
export function evaluateSplitAsync(
  src: EvalSource | readonly EvalSource[],
  split: string,
  opts: EvaluateOptions,
  control: ChunkControl,
): Promise<EvalMetrics> {
  return runChunked(evaluateSplitChunked(src, split, opts, captionRowsPerChunk), control);
}

function* evaluateSplitChunked(
  src: EvalSource | readonly EvalSource[],
  split: string,
  opts: EvaluateOptions,
  captionRows: CaptionRows,
): Chunked<EvalMetrics> {
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
    for (let f = 0; f + 1000 <= images.length; f += 1000) {
      if (f > 0) yield;
      folds.push(yield* evaluateImagesChunked(src, images.slice(f, f + 1000), captionRows));
    }
    return averageOverFolds(folds);
  }
  return yield* evaluateImagesChunked(src, images, captionRows);
}

/** An imported model and the caption codec (vocabulary, caption length) it was trained with. */
export interface TrainedModel {
  model: OrderEmbeddingModel;
  codec: CaptionCodec;
}

/**
 * Evaluates a model without a trainer (e.g. one imported with `importModel`): captions are encoded with
 * its codec (unknown words -> the unknown-word id, cut to its maximum length), as in training.
 */
export function evaluateModel(
  model: OrderEmbeddingModel,
  codec: CaptionCodec,
  dataset: Dataset,
  split: string,
  opts: EvaluateOptions = {},
): EvalMetrics {
  return evaluateEnsemble([{ model, codec }], dataset, split, opts);
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
  const sources = members.map(({ model, codec }): EvalSource => {
    if (codec.size !== model.config.vocabSize) {
      throw new Error(
        `vocabulary has ${codec.size} words but the model expects ${model.config.vocabSize}: model file from another vocabulary`,
      );
    }
    if (dataset.imageDim !== model.config.imageDim) {
      throw new Error(
        `dataset '${dataset.name}' has ${dataset.imageDim}-d image features but the model expects ${model.config.imageDim}-d (another image encoder?)`,
      );
    }
    const captionIds = (k: number) => codec.encodeCaption(dataset.captions[k].text, k);
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
