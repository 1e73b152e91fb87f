/**
 * From decoded pixels to network input: one resized photo (1-crop) or the paper's 10 crops.
 * Everything is tfjs ops, so the browser and Node give the same numbers on the same backend.
 */
import * as tf from '../tf';
import type { EncoderPreset, RgbImage } from './types';

/**
 * Short side the photo is scaled to before 10-crop, for a 224 input (Vendrov et al. follow
 * Simonyan & Zisserman: 256, then 224 crops). Other input sizes scale it proportionally.
 */
export const TEN_CROP_SHORT_SIDE = 256;

/** Checks the pixel buffer against the declared size, naming the problem. */
function checkImage(img: RgbImage): void {
  const { width, height, channels, data } = img;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new Error(`image has an invalid size ${width}x${height}`);
  }
  if (channels !== 3 && channels !== 4)
    throw new Error(`image has ${String(channels)} channels; expected 3 or 4`);
  if (data.length !== width * height * channels) {
    throw new Error(
      `image data has ${data.length} values; ${width}x${height}x${channels} needs ${width * height * channels}`,
    );
  }
}

/** The photo as float RGB 0..255, [H, W, 3] (alpha dropped). */
export function imageTensor(img: RgbImage): tf.Tensor3D {
  checkImage(img);
  const { width, height, channels, data } = img;
  const n = width * height;
  // One JS pass instead of tensor(int) -> slice -> cast: fewer intermediates, and RGBA is common.
  const rgb = new Float32Array(n * 3);
  for (let p = 0, q = 0; p < n; p++, q += channels) {
    rgb[3 * p] = data[q];
    rgb[3 * p + 1] = data[q + 1];
    rgb[3 * p + 2] = data[q + 2];
  }
  return tf.tensor3d(rgb, [height, width, 3]);
}

/**
 * The whole photo resized (bilinear, half-pixel centres) to size x size, [S, S, 3] float 0..255.
 * The aspect ratio is not kept: the 1-crop feature sees all of the photo.
 */
export function toInputTensor(img: RgbImage, size: number): tf.Tensor3D {
  return tf.tidy(() => {
    const t = imageTensor(img); // [H, W, 3]
    if (img.width === size && img.height === size) return t;
    return tf.image.resizeBilinear(t, [size, size], false, true);
  });
}

/**
 * The network inputs of one photo, [crops, S, S, 3] float 0..255 with S = preset.inputSize.
 * 1: the whole photo resized to S x S. 10: the photo scaled (aspect kept) so that its short side is
 * 256 (for S = 224), then the four corner crops and the centre crop of S x S, then the same five
 * mirrored left-right; the image feature is the mean of the ten crops' features.
 */
export function cropsOf(img: RgbImage, preset: Pick<EncoderPreset, 'inputSize'>, crops: 1 | 10): tf.Tensor4D {
  const s = preset.inputSize;
  if (crops === 1) return tf.tidy(() => toInputTensor(img, s).expandDims(0) as tf.Tensor4D);
  if (crops !== 10) throw new Error(`crops must be 1 or 10, got ${String(crops)}`);
  return tf.tidy(() => {
    const short = Math.round((s * TEN_CROP_SHORT_SIDE) / 224);
    const f = short / Math.min(img.width, img.height);
    const h = Math.max(s, Math.round(img.height * f));
    const w = Math.max(s, Math.round(img.width * f));
    const t = imageTensor(img); // [H, W, 3]
    const big = h === img.height && w === img.width ? t : tf.image.resizeBilinear(t, [h, w], false, true); // [h, w, 3]
    const cy = Math.floor((h - s) / 2);
    const cx = Math.floor((w - s) / 2);
    const corners: [number, number][] = [
      [0, 0],
      [0, w - s],
      [h - s, 0],
      [h - s, w - s],
      [cy, cx],
    ];
    const five = tf.stack(corners.map(([y, x]) => tf.slice(big, [y, x, 0], [s, s, 3]))) as tf.Tensor4D; // [5, S, S, 3]
    const mirrored = tf.reverse(five, 2); // flip along the width axis
    return tf.concat([five, mirrored], 0) as tf.Tensor4D; // [10, S, S, 3]
  });
}
