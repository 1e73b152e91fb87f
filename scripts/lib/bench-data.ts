/**
 * The benchmarks' training data (bench:model and ./process-ceiling-child.ts): random 1024-dim image
 * features and two 12-word captions per image over 1000 words, so that every batch has exactly T = 12
 * steps and every run, in any process, trains on the same data.
 */
import { Rng } from '../../src/model/rng';
import type { Dataset } from '../../src/model/types';

/** Words per caption (every caption: so each batch has T = 12 steps). */
export const BENCH_T = 12;
/** Image feature size. */
export const BENCH_F = 1024;

/** Random features and 12-word captions, so every batch has exactly T = 12 steps. */
export function benchDataset(numImages: number): Dataset {
  const rng = new Rng(5);
  const words = Array.from({ length: 1000 }, (_, i) => `w${i}`);
  const captions: Dataset['captions'] = [];
  for (let i = 0; i < numImages; i++) {
    for (let k = 0; k < 2; k++)
      captions.push({
        image: i,
        text: Array.from({ length: BENCH_T }, () => words[rng.int(1000)]).join(' '),
      });
  }
  return {
    name: 'bench',
    imageDim: BENCH_F,
    numImages,
    features: Float32Array.from({ length: numImages * BENCH_F }, () => rng.normal()),
    captions,
    splits: { train: Array.from({ length: numImages }, (_, i) => i) },
  };
}
