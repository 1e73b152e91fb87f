/**
 * ImageEncoder: a pretrained CNN (tfjs layers or graph model) reduced to "pixels in, one feature
 * vector per image out". The same class runs in the browser worker and in Node; only the
 * {@link ModelLoader} that fetches the weights differs.
 */
import * as tf from '../tf';
import type { EncoderPreset, ModelLoader } from './types';

type AnyModel = tf.LayersModel | tf.GraphModel;

function firstTensor(out: tf.Tensor | tf.Tensor[] | tf.NamedTensorMap): tf.Tensor {
  if (out instanceof tf.Tensor) return out;
  const list = Array.isArray(out) ? out : Object.values(out);
  if (list.length === 0) throw new Error('the model produced no output');
  return list[0];
}

/** The model's declared input shape, e.g. [-1, 224, 224, 3] (null/-1 = free). */
function declaredInputShape(model: AnyModel): (number | null)[] {
  const shape = model.inputs[0]?.shape as (number | null)[] | undefined;
  return shape ?? [];
}

function fixedDim(d: number | null | undefined): number | null {
  return typeof d === 'number' && d > 0 ? d : null;
}

export class ImageEncoder {
  /** The preset with what was measured at load filled in (inputSize and featureDim are never 0). */
  readonly preset: EncoderPreset;
  readonly featureDim: number;
  private readonly model: AnyModel;
  /** Network output for an already preprocessed batch; any rank, pooled by {@link encodeBatch}. */
  private readonly forward: (x: tf.Tensor4D) => tf.Tensor;
  /** Some exported graphs (e.g. detectors) declare batch 1; their batches are run image by image. */
  private readonly fixedBatch: number | null;

  /**
   * Loads the preset's model with `loader`, wires up the requested output and runs one dummy image
   * through it: that checks the output exists, measures the feature size of a custom preset and
   * warms the backend's kernels up before the first real batch.
   */
  static async load(preset: EncoderPreset, loader: ModelLoader): Promise<ImageEncoder> {
    const model = await loader(preset);
    try {
      return new ImageEncoder(preset, model);
    } catch (err) {
      model.dispose();
      throw err;
    }
  }

  private constructor(preset: EncoderPreset, model: AnyModel) {
    this.model = model;
    const shape = declaredInputShape(model);
    const inputSize = preset.inputSize > 0 ? preset.inputSize : (fixedDim(shape[1]) ?? 224);
    const fixedSide = fixedDim(shape[1]);
    if (fixedSide !== null && fixedSide !== inputSize) {
      throw new Error(
        `encoder '${preset.id}': the model takes ${fixedSide}x${fixedSide} inputs, the preset says ${inputSize}`,
      );
    }
    this.fixedBatch = fixedDim(shape[0]);
    this.forward = ImageEncoder.makeForward(preset, model);

    const probe = tf.tidy(() => {
      const x = tf.fill([1, inputSize, inputSize, 3], 127.5) as tf.Tensor4D;
      return this.run(x, preset);
    });
    const dim = probe.shape[1];
    probe.dispose();
    if (preset.featureDim > 0 && preset.featureDim !== dim) {
      throw new Error(
        `encoder '${preset.id}': the model gives ${dim}-d features, the preset says ${preset.featureDim}`,
      );
    }
    this.preset = { ...preset, inputSize, featureDim: dim };
    this.featureDim = dim;
  }

  private static makeForward(preset: EncoderPreset, model: AnyModel): (x: tf.Tensor4D) => tf.Tensor {
    const out = preset.output;
    if (model instanceof tf.GraphModel) {
      if (out === 'layers0') {
        throw new Error(
          `encoder '${preset.id}': output 'layers0' needs a layers model, this is a graph model`,
        );
      }
      if (out === 'model') return (x) => firstTensor(model.execute(x));
      return (x) => firstTensor(model.execute(x, out.layer));
    }
    if (out === 'model') return (x) => firstTensor(model.predict(x));
    if (out === 'layers0') {
      const base = model.layers[0];
      if (!base) throw new Error(`encoder '${preset.id}': the model has no layers`);
      return (x) => firstTensor(base.apply(x) as tf.Tensor | tf.Tensor[]);
    }
    let layer: tf.layers.Layer;
    try {
      layer = model.getLayer(out.layer);
    } catch (_err) {
      const names = model.layers.map((l) => l.name);
      throw new Error(
        `encoder '${preset.id}': no layer '${out.layer}' in the model (last layers: ${names.slice(-5).join(', ')})`,
      );
    }
    // A sub-model sharing the weights: input -> the named layer's output.
    const sub = tf.model({ inputs: model.inputs, outputs: layer.output as tf.SymbolicTensor });
    return (x) => firstTensor(sub.predict(x));
  }

  /** Preprocess, run and pool one batch (call inside tf.tidy). */
  private run(pixels: tf.Tensor4D, preset: EncoderPreset): tf.Tensor2D {
    const n = pixels.shape[0];
    const x = pixels.mul(preset.scale).add(preset.offset) as tf.Tensor4D; // [N, S, S, 3]
    let y: tf.Tensor;
    if (this.fixedBatch !== null && n !== this.fixedBatch) {
      if (this.fixedBatch !== 1) {
        throw new Error(`encoder '${preset.id}': the model only takes batches of ${this.fixedBatch}`);
      }
      const parts = tf.split(x, n, 0).map((xi) => this.forward(xi as tf.Tensor4D));
      y = tf.concat(parts, 0);
    } else {
      y = this.forward(x);
    }
    if (y.rank === 1) y = y.reshape([n, -1]); // a graph's squeeze can drop a batch of 1
    if (y.shape[0] !== n) {
      throw new Error(
        `encoder '${preset.id}': ${n} images in but the model's output is [${y.shape.join(', ')}]`,
      );
    }
    if (y.rank === 4 && preset.pool === 'mean') return y.mean([1, 2]) as tf.Tensor2D; // [N, h, w, C] -> [N, C]
    if (y.rank === 4 && preset.pool === 'meanmax')
      return tf.concat([y.mean([1, 2]), y.max([1, 2])], 1) as tf.Tensor2D; // [N, 2C]
    if (y.rank === 2) return y as tf.Tensor2D;
    return y.reshape([n, -1]) as tf.Tensor2D;
  }

  /** pixels [N, S, S, 3] float 0..255 at inputSize -> [N, featureDim]. */
  encodeBatch(pixels: tf.Tensor4D): tf.Tensor2D {
    const [, h, w, c] = pixels.shape;
    const s = this.preset.inputSize;
    if (h !== s || w !== s || c !== 3) {
      throw new Error(
        `encoder '${this.preset.id}': expected [N, ${s}, ${s}, 3] pixels, got [${pixels.shape.join(', ')}]`,
      );
    }
    return tf.tidy(() => this.run(pixels, this.preset));
  }

  dispose(): void {
    this.model.dispose();
  }
}
