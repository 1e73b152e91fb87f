/**
 * Plain-data types of the image encoders. Structured-cloneable (no tensors, no functions), so that a
 * preset or a decoded image can cross the worker boundary unchanged.
 */
import type * as tf from '../tf';

/**
 * A decoded photo: row-major pixels, 0..255, `channels` values per pixel (RGB or RGBA; alpha is
 * ignored). Both the browser (ImageData is RGBA) and jpeg-js in Node (RGB) produce this directly.
 */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
  channels: 3 | 4;
}

/** Where an encoder's model comes from; a {@link ModelLoader} turns it into a tfjs model. */
export type EncoderSource =
  /** A folder with model.json under the shared data directory's `models/` (development, tests, CI). */
  | { kind: 'shared'; dir: string }
  /** A folder with model.json inside an installed npm package, relative to node_modules (Node only). */
  | { kind: 'package'; path: string }
  /**
   * A model.json URL. Root-relative URLs (`/models/...`) are the playground's own static files, served
   * from `public/`; in Node they resolve to that folder.
   */
  | { kind: 'url'; url: string };

/** Which tensor of the network is the image feature. */
export type EncoderOutput =
  /** The model's own (first) output. */
  | 'model'
  /** `model.layers[0]` applied to the input: a Teachable-Machine style export whose first layer is the frozen base network (layers models only). */
  | 'layers0'
  /** A named layer (layers model) or graph node (graph model). */
  | { layer: string };

export interface EncoderPreset {
  /** Stable id; part of every feature-cache key, so a change of weights needs a new id. */
  id: string;
  label: string;
  /** Side of the square network input in pixels. 0 in a custom preset: take it from the model. */
  inputSize: number;
  /** Pixel preprocessing: x * scale + offset, x in 0..255. */
  scale: number;
  offset: number;
  /** Size of the feature vector. 0 in a custom preset: measured with a dummy input at load. */
  featureDim: number;
  /** where the model comes from */
  source: EncoderSource;
  /** how to get the feature */
  output: EncoderOutput;
  /**
   * 'mean': average a 4-D output [N, h, w, C] over h and w; 'meanmax': that average and the maximum over
   * h and w side by side ([N, 2C]); 'none': flatten whatever comes out.
   */
  pool: PoolMode;
  /** Optional credit line for the UI and docs (model origin and licence). */
  credit?: string;
}

export type PoolMode = 'mean' | 'meanmax' | 'none';

/** Turns a preset's source into a loaded model (browser: URLs; Node: scripts/lib/node-images.ts). */
export type ModelLoader = (preset: EncoderPreset) => Promise<tf.LayersModel | tf.GraphModel>;
