/** Thumbnails of the photos in a feature pack: a box-filter downscale, JPEG-encoded with jpeg-js. */
import { encode as encodeJpegJs } from 'jpeg-js';
import type { RgbImage } from '../../src/model/encoders/types';

/** Box-filter downscale of an RGB(A) image to a size x size RGBA image (for thumbnails). */
export function thumbnailRgba(img: RgbImage, size: number): Uint8Array {
  const out = new Uint8Array(size * size * 4);
  const { width: W, height: Hh, data, channels: C } = img;
  for (let y = 0; y < size; y++) {
    const y0 = Math.floor((y * Hh) / size);
    const y1 = Math.max(y0 + 1, Math.floor(((y + 1) * Hh) / size));
    for (let x = 0; x < size; x++) {
      const x0 = Math.floor((x * W) / size);
      const x1 = Math.max(x0 + 1, Math.floor(((x + 1) * W) / size));
      let r = 0;
      let g = 0;
      let b = 0;
      for (let sy = y0; sy < y1; sy++) {
        for (let sx = x0; sx < x1; sx++) {
          const p = (sy * W + sx) * C;
          r += data[p];
          g += data[p + 1];
          b += data[p + 2];
        }
      }
      const n = (y1 - y0) * (x1 - x0);
      const o = (y * size + x) * 4;
      out[o] = r / n;
      out[o + 1] = g / n;
      out[o + 2] = b / n;
      out[o + 3] = 255;
    }
  }
  return out;
}

/** A size x size JPEG thumbnail of an image. */
export function encodeThumbnail(img: RgbImage, size: number, quality = 80): Uint8Array {
  const rgba = thumbnailRgba(img, size);
  return encodeJpegJs({ data: rgba, width: size, height: size }, quality).data;
}
