/**
 * Where a run's weights start, other than the random init of ../model.ts:
 *
 * - another run's weights (fine-tuning, `Trainer.initFrom`): only from a run of the same architecture
 *   and the same vocabulary, so that every weight means the same thing;
 * - pretrained word vectors for the word embedding (`Trainer.initWordVectors`, ../word-vectors.ts).
 */
import * as tf from '../tf';
import type { NamedWeight, OrderEmbeddingModel } from '../model';
import type { Vocabulary } from '../tokenizer';
import type { ModelConfig } from '../types';
import { pretrainedEmbedding, type WordVectors } from '../word-vectors';

/** A trained run to start from. */
export interface InitRun {
  model: ModelConfig;
  vocab: Vocabulary;
  weights: readonly NamedWeight[];
}

/**
 * Throws, naming `label` and what differs, unless `run` has this run's architecture (`mine`) and its
 * vocabulary token for token (the same training captions and minimum word count).
 */
export function checkInitRun(run: InitRun, mine: ModelConfig, vocab: Vocabulary, label: string): void {
  for (const key of ['wordDim', 'hiddenDim', 'imageDim', 'layerNorm', 'measure'] as const) {
    if (run.model[key] !== mine[key])
      throw new Error(
        `${label}: model ${key} is ${String(run.model[key])}, this run's is ${String(mine[key])}`,
      );
  }
  const theirs = run.vocab.toJSON().tokens;
  const ours = vocab.toJSON().tokens;
  const at = ours.findIndex((w, i) => theirs[i] !== w);
  if (theirs.length !== ours.length || at >= 0) {
    throw new Error(
      `${label}: model file from another vocabulary (${theirs.length} words against ${ours.length} from ` +
        `these training captions` +
        (at >= 0 ? `; word ${at} is ${JSON.stringify(theirs[at])}, here ${JSON.stringify(ours[at])})` : ')'),
    );
  }
}

/**
 * Puts pretrained vectors into `model`'s word embedding [V, wordDim]: each vocabulary word the table
 * has gets its vector (scaled, and rotated into the word dimension, ../word-vectors.ts); the others keep
 * their random rows. Returns how many of the vocabulary's words (the two special ids aside) it covered.
 */
export function assignWordVectors(
  model: OrderEmbeddingModel,
  vocab: Vocabulary,
  vectors: WordVectors,
  seed: number,
): { found: number; total: number } {
  const tokens = vocab.toJSON().tokens;
  const { wordDim } = model.config;
  const base = model.wordEmbedding.dataSync() as Float32Array;
  const { data, found } = pretrainedEmbedding(tokens, vectors, base, wordDim, seed);
  tf.tidy(() => model.wordEmbedding.assign(tf.tensor2d(data, [tokens.length, wordDim])));
  return { found, total: tokens.length - 2 };
}
