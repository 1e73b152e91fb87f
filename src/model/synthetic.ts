/**
 * A synthetic captioned-image dataset for the model core before real photos exist (and for tests):
 * each "image" holds one or two objects (size, colour, shape); its feature is a noisy sum of random
 * prototype vectors of those attributes, and its captions describe it at several levels of detail
 * ("a shape", "a red circle", "a large red circle and a small blue star"). Random, but learnable, and
 * with the partial order that order embeddings model: general captions sit above specific ones.
 */
import { Rng } from './rng';
import type { Dataset } from './types';

const SIZES = ['small', 'large'];
const COLOURS = ['red', 'green', 'blue', 'yellow', 'purple', 'orange', 'black', 'white'];
const SHAPES = ['circle', 'square', 'triangle', 'star', 'heart', 'cross'];

export interface SyntheticOptions {
  numImages?: number;
  imageDim?: number;
  /** Fraction of images in the dev split (the rest train). */
  devFraction?: number;
  /** Standard deviation of the feature noise. */
  noise?: number;
  seed?: number;
}

interface Obj {
  size: number;
  colour: number;
  shape: number;
}

export function makeSyntheticDataset(opts: SyntheticOptions = {}): Dataset {
  const { numImages = 1200, imageDim = 256, devFraction = 1 / 6, noise = 0.5, seed = 7 } = opts;
  if (!(numImages >= 4)) throw new Error(`synthetic dataset: numImages must be >= 4, got ${numImages}`);
  const rng = new Rng(seed);
  const proto = (n: number) =>
    Array.from({ length: n }, () => Float32Array.from({ length: imageDim }, () => rng.normal()));
  const pSize = proto(SIZES.length);
  const pColour = proto(COLOURS.length);
  const pShape = proto(SHAPES.length);

  const features = new Float32Array(numImages * imageDim);
  const captions: Dataset['captions'] = [];
  for (let i = 0; i < numImages; i++) {
    const objs: Obj[] = Array.from({ length: 1 + rng.int(2) }, () => ({
      size: rng.int(SIZES.length),
      colour: rng.int(COLOURS.length),
      shape: rng.int(SHAPES.length),
    }));
    const f = features.subarray(i * imageDim, (i + 1) * imageDim);
    objs.forEach((o, k) => {
      const w = k === 0 ? 1 : 0.7; // the first object is the more salient one
      for (let d = 0; d < imageDim; d++)
        f[d] += w * (0.5 * pSize[o.size][d] + pColour[o.colour][d] + pShape[o.shape][d]);
    });
    for (let d = 0; d < imageDim; d++) f[d] += noise * rng.normal();
    const full = (o: Obj) => `${SIZES[o.size]} ${COLOURS[o.colour]} ${SHAPES[o.shape]}`;
    const texts = [
      objs.length > 1 ? 'some shapes' : 'a shape',
      `a ${COLOURS[objs[0].colour]} ${SHAPES[objs[0].shape]}`,
      `a ${full(objs[0])}`,
      objs.length > 1 ? `a ${full(objs[0])} and a ${full(objs[1])}` : `a ${SHAPES[objs[0].shape]}`,
      objs.length > 1
        ? `a ${COLOURS[objs[1].colour]} ${SHAPES[objs[1].shape]} next to a ${SHAPES[objs[0].shape]}`
        : `a ${SIZES[objs[0].size]} ${SHAPES[objs[0].shape]}`,
    ];
    for (const text of texts) captions.push({ image: i, text });
  }
  const nDev = Math.max(1, Math.round(numImages * devFraction));
  const all = Array.from({ length: numImages }, (_, i) => i);
  return {
    name: 'synthetic',
    imageDim,
    features,
    numImages,
    captions,
    splits: { train: all.slice(0, numImages - nDev), dev: all.slice(numImages - nDev) },
  };
}
