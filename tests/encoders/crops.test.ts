/** 1-crop and 10-crop inputs, and the 10-crop feature as the mean of the ten crops' features. */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../../src/model/tf';
import { ImageEncoder, cropsOf, extractFeatures, toInputTensor } from '../../src/model/encoders';
import { expectClose, useBackend } from '../helpers/tf';
import { TINY_SIZE, randomImage, tinyLoader, tinyPreset } from './tiny';

beforeAll(() => useBackend('wasm'));

describe('toInputTensor / cropsOf', () => {
  it('passes a photo of the input size through unchanged and drops alpha', () => {
    const img = randomImage(TINY_SIZE, TINY_SIZE, 1, 4);
    const t = toInputTensor(img, TINY_SIZE);
    expect(t.shape).toEqual([TINY_SIZE, TINY_SIZE, 3]);
    const v = t.dataSync();
    for (const p of [0, 5, TINY_SIZE * TINY_SIZE - 1]) {
      for (let c = 0; c < 3; c++) expect(v[3 * p + c]).toBe(img.data[4 * p + c]);
    }
    t.dispose();
  });

  it('resizes any photo to [1, S, S, 3] for 1-crop, keeping a flat colour flat', () => {
    const img = { width: 37, height: 23, channels: 3 as const, data: new Uint8Array(37 * 23 * 3).fill(200) };
    const x = cropsOf(img, tinyPreset, 1);
    expect(x.shape).toEqual([1, TINY_SIZE, TINY_SIZE, 3]);
    expectClose(x.max().dataSync()[0], 200, 1e-3, 'max');
    expectClose(x.min().dataSync()[0], 200, 1e-3, 'min');
    tf.dispose(x);
  });

  it('takes the four corners, the centre and their mirrors (10-crop)', () => {
    // For S = 16 the short side is scaled to round(16 * 256 / 224) = 18: a photo already 18 high
    // is not resized, so each crop must be an exact slice of it.
    const s = TINY_SIZE;
    const img = randomImage(27, 18, 2);
    const crops = cropsOf(img, tinyPreset, 10);
    expect(crops.shape).toEqual([10, s, s, 3]);
    const v = crops.dataSync();
    const px = (y: number, x: number, c: number) => img.data[(y * 27 + x) * 3 + c];
    const origins = [
      [0, 0],
      [0, 27 - s],
      [18 - s, 0],
      [18 - s, 27 - s],
      [1, 5],
    ];
    for (let k = 0; k < 10; k++) {
      const [y0, x0] = origins[k % 5];
      for (const [y, x] of [
        [0, 0],
        [3, 11],
        [s - 1, s - 1],
      ]) {
        const srcX = k < 5 ? x0 + x : x0 + (s - 1 - x); // mirrors flip left-right
        for (let c = 0; c < 3; c++) expect(v[((k * s + y) * s + x) * 3 + c]).toBe(px(y0 + y, srcX, c));
      }
    }
    crops.dispose();
  });

  it('scales a small photo up so that its short side is 256 at S = 224', () => {
    const img = randomImage(100, 80, 3);
    const crops = cropsOf(img, { inputSize: 224 }, 10);
    expect(crops.shape).toEqual([10, 224, 224, 3]);
    crops.dispose();
  });
});

describe('10-crop features', () => {
  it('are the mean of the ten crops encoded one by one', async () => {
    const enc = await ImageEncoder.load(tinyPreset, tinyLoader);
    const imgs = [randomImage(30, 20, 4), randomImage(19, 25, 5), randomImage(16, 16, 6)];
    const { features, failed } = await extractFeatures(enc, imgs.length, async (i) => imgs[i], {
      crops: 10,
      batchSize: 2,
    });
    expect(failed).toEqual([]);
    const d = enc.featureDim;
    for (let i = 0; i < imgs.length; i++) {
      const manual = tf.tidy(() => {
        const crops = cropsOf(imgs[i], enc.preset, 10);
        const each = tf.unstack(crops).map((c) => enc.encodeBatch(c.expandDims(0) as tf.Tensor4D)); // 10 x [1, D]
        return tf.addN(each).div(10).dataSync();
      });
      expectClose(Array.from(features.subarray(i * d, (i + 1) * d)), Array.from(manual), 1e-5, `image ${i}`);
    }
    // ...and not simply the 1-crop feature.
    const one = await extractFeatures(enc, 1, async () => imgs[0], { crops: 1 });
    expect(Array.from(one.features).some((x, k) => Math.abs(x - features[k]) > 1e-4)).toBe(true);
    enc.dispose();
  });
});

describe('mirrored features', () => {
  it('are the features of the photo mirrored left-right (1-crop only)', async () => {
    const enc = await ImageEncoder.load(tinyPreset, tinyLoader);
    const imgs = [randomImage(30, 20, 7), randomImage(16, 16, 8)];
    const flip = (img: (typeof imgs)[number]) => {
      const out = { ...img, data: new Uint8Array(img.data.length) };
      const c = img.data.length / (img.width * img.height);
      for (let y = 0; y < img.height; y++)
        for (let x = 0; x < img.width; x++)
          for (let k = 0; k < c; k++)
            out.data[(y * img.width + x) * c + k] = img.data[(y * img.width + (img.width - 1 - x)) * c + k];
      return out;
    };
    const m = await extractFeatures(enc, imgs.length, async (i) => imgs[i], { mirror: true });
    const ref = await extractFeatures(enc, imgs.length, async (i) => flip(imgs[i]));
    expectClose(Array.from(m.features), Array.from(ref.features), 1e-5, 'mirrored');
    const plain = await extractFeatures(enc, imgs.length, async (i) => imgs[i]);
    expect(Array.from(plain.features).some((x, k) => Math.abs(x - m.features[k]) > 1e-4)).toBe(true);
    await expect(extractFeatures(enc, 1, async () => imgs[0], { crops: 10, mirror: true })).rejects.toThrow(
      'mirrored features are a 1-crop view',
    );
    enc.dispose();
  });
});
