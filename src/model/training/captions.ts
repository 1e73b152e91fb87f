/**
 * The text side of a training run: the vocabulary, built from the training captions only (words seen
 * fewer than `minWordCount` times there read as the unknown word, so dev and test captions cannot leak
 * words into the model), and every caption of the dataset encoded once through the run's caption codec
 * (../caption-codec.ts), with the training captions grouped by image for the batch sampler
 * (./sampler.ts).
 */
import { hasKnownWord, type CaptionCodec } from '../caption-codec';
import { Vocabulary } from '../tokenizer';
import type { Dataset } from '../types';

/** The vocabulary of the captions of `dataset`'s training images. */
export function trainingVocabulary(dataset: Dataset, minCount: number): Vocabulary {
  const trainSet = new Set(dataset.splits.train);
  const trainTexts = dataset.captions.filter((c) => trainSet.has(c.image)).map((c) => c.text);
  return Vocabulary.build(trainTexts, { minCount });
}

/** Every caption encoded, and the training captions a batch may draw. */
export interface TrainingCaptions {
  /** Word ids of every caption of the dataset (null when no word of it is in the vocabulary). */
  encoded: (Int32Array | null)[];
  /** Training image -> its usable captions (indices into dataset.captions), in the order of their first caption. */
  byImage: Map<number, number[]>;
  /** Training captions dropped because none of their words is in the vocabulary. */
  dropped: { index: number; text: string }[];
}

/**
 * Encodes every caption of `dataset` with `codec`. An empty caption is an error (named by the codec);
 * a training caption without a known word is dropped from training (it would be nothing but
 * unknown-word ids). Throws when fewer than 2 training images keep a caption: a
 * batch needs at least one negative.
 */
export function encodeTrainingCaptions(dataset: Dataset, codec: CaptionCodec): TrainingCaptions {
  const trainSet = new Set(dataset.splits.train);
  const encoded = dataset.captions.map((c, k) => {
    const ids = codec.encodeCaption(c.text, k);
    return hasKnownWord(ids) ? ids : null;
  });
  const byImage = new Map<number, number[]>();
  const dropped: { index: number; text: string }[] = [];
  dataset.captions.forEach((c, k) => {
    if (!trainSet.has(c.image)) return;
    if (!encoded[k]) {
      dropped.push({ index: k, text: c.text });
      return;
    }
    const list = byImage.get(c.image) ?? [];
    list.push(k);
    byImage.set(c.image, list);
  });
  if (byImage.size < 2) {
    throw new Error(
      `dataset '${dataset.name}': needs at least 2 training images with a usable caption, got ${byImage.size}`,
    );
  }
  return { encoded, byImage, dropped };
}
