/**
 * What a trainer offers besides training: retrieval metrics on a split, score matrices and joint-space
 * embeddings of the dataset's images and captions and of free texts, all through ../evaluate.ts with
 * the trainer's model, dataset and caption encoding. The Trainer (../trainer.ts) extends
 * {@link DatasetModel}; the methods here are its own.
 */
import type * as tf from '../tf';
import type { OrderEmbeddingModel } from '../model';
import {
  embedDatasetImages,
  embedSequences,
  evaluateSplit,
  evaluateSplitAsync,
  scoreImages,
  type ChunkControl,
  type EvalSource,
  type EvaluateOptions,
  type ScoredImages,
} from '../evaluate';
import { padTimeMajor, type Vocabulary } from '../tokenizer';
import type { Dataset, EvalMetrics } from '../types';
import { hasKnownWord, type CaptionCodec } from '../caption-codec';
import type { TrainingCaptions } from './captions';

/** A model with the dataset it is trained on and how it reads text: evaluation and embeddings. */
export abstract class DatasetModel {
  abstract readonly vocab: Vocabulary;
  /** How this model reads text (the vocabulary, cut to train.maxLength); saved with its run. */
  abstract readonly codec: CaptionCodec;
  abstract readonly model: OrderEmbeddingModel;
  /** The dataset trained on (its name goes into exported runs). */
  abstract readonly dataset: Dataset;
  /** The training captions' encoding (./captions.ts). */
  protected abstract readonly captions: TrainingCaptions;

  /**
   * Retrieval metrics on a split: image -> caption (rank of the image's best caption) and caption ->
   * image, R@1/5/10, median and mean rank, R-sum.
   */
  evaluate(split: 'dev' | 'train' | 'test' = 'dev', opts: EvaluateOptions = {}): EvalMetrics {
    return evaluateSplit(this.evalSource, split, opts);
  }

  /**
   * {@link evaluate} in chunks, awaiting `control.between()` after each (../evaluate.ts), so that a
   * worker stays responsive during a long evaluation; the same metrics. Rejects when `control.signal`
   * aborts. Do not step the trainer while it runs: the weights must stay those being evaluated.
   */
  evaluateAsync(
    split: 'dev' | 'train' | 'test',
    opts: EvaluateOptions,
    control: ChunkControl,
  ): Promise<EvalMetrics> {
    return evaluateSplitAsync(this.evalSource, split, opts, control);
  }

  /** Score matrix of images x captions of those images, and caption -> image index. */
  scoreImages(images: number[]): ScoredImages {
    return scoreImages(this.evalSource, images);
  }

  /** Joint-space embeddings of dataset images [n, H]. */
  embedImages(images: number[], batch?: number): tf.Tensor2D {
    return embedDatasetImages(this.model, this.dataset, images, batch);
  }

  /** Joint-space embeddings of dataset captions [n, H] (unknown words map to the unknown-word id). */
  embedCaptions(captionIndex: number[], batch?: number): tf.Tensor2D {
    return embedSequences(
      this.model,
      captionIndex.map((k) => this.captionIds(k)),
      batch,
    );
  }

  /**
   * Joint-space embeddings of free texts (search queries, user captions) [n, H]. A text that is empty or
   * has no word of the vocabulary cannot be placed and is rejected, naming it.
   */
  embedTexts(texts: string[]): tf.Tensor2D {
    const seqs = texts.map((text, k) => {
      const ids = this.codec.encodeCaption(text, k);
      if (!hasKnownWord(ids)) {
        throw new Error(
          `text ${k} (${JSON.stringify(text)}) has no word of the vocabulary (${this.vocab.size} words from the training captions)`,
        );
      }
      return ids;
    });
    const b = padTimeMajor(seqs); // ids [T, n]
    return this.model.embedCaptions(b.ids, b.lengths);
  }

  /** The model, the dataset and its caption encoding, for ../evaluate.ts. */
  protected get evalSource(): EvalSource {
    return { model: this.model, dataset: this.dataset, captionIds: (k) => this.captionIds(k) };
  }

  /** Word ids of caption k: the training encoding, or (no known word) all unknown-word ids. */
  protected captionIds(k: number): Int32Array {
    return this.captions.encoded[k] ?? this.codec.encodeCaption(this.dataset.captions[k].text, k);
  }
}
