/** A tiny deterministic CNN and random photos for fast encoder tests (no ../shared needed). */
import * as tf from '../../src/model/tf';
import type { EncoderPreset, ModelLoader, RgbImage } from '../../src/model/encoders';

/** Input side of the tiny model: small, so a 10-crop batch costs microseconds. */
export const TINY_SIZE = 16;

export const tinyPreset: EncoderPreset = {
  id: 'tiny-test',
  label: 'tiny test CNN',
  inputSize: TINY_SIZE,
  scale: 1 / 127.5,
  offset: -1,
  featureDim: 6,
  source: { kind: 'url', url: 'memory://tiny' },
  output: 'model',
  pool: 'mean',
};

/** conv 3x3/2 (6 filters, relu) -> [N, 7, 7, 6]; weights from a fixed seed. */
export function tinyModel(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [TINY_SIZE, TINY_SIZE, 3],
        filters: 6,
        kernelSize: 3,
        strides: 2,
        activation: 'relu',
        kernelInitializer: tf.initializers.randomNormal({ seed: 7 }),
        biasInitializer: tf.initializers.constant({ value: 0.1 }),
      }),
    ],
  });
}

export const tinyLoader: ModelLoader = async () => tinyModel();

/** A reproducible random RGB photo (xorshift). */
export function randomImage(width: number, height: number, seed: number, channels: 3 | 4 = 3): RgbImage {
  let s = seed * 2654435761 + 1;
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < data.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    data[i] = s & 255;
  }
  return { width, height, data, channels };
}
