/** extractFeatures: batching, progress, cancellation, per-photo failures, no tensor leaks. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../../src/model/tf';
import { ImageEncoder, cropsOf, extractFeatures, type RgbImage } from '../../src/model/encoders';
import { expectClose, useBackend } from '../helpers/tf';
import { randomImage, tinyLoader, tinyModel, tinyPreset } from './tiny';

let enc: ImageEncoder;
const imgs = Array.from({ length: 11 }, (_, i) => randomImage(20 + i, 18, 10 + i));
const get = async (i: number): Promise<RgbImage> => imgs[i];

beforeAll(async () => {
  await useBackend('wasm');
  enc = await ImageEncoder.load(tinyPreset, tinyLoader);
});
afterAll(() => enc?.dispose());

describe('extractFeatures', () => {
  it('fills [count, featureDim] row by row, whatever the batch size', async () => {
    const a = await extractFeatures(enc, imgs.length, get, { batchSize: 4 });
    const b = await extractFeatures(enc, imgs.length, get, { batchSize: 1 });
    expect(a.features).toHaveLength(imgs.length * enc.featureDim);
    expectClose(Array.from(a.features), Array.from(b.features), 1e-5, 'batch 4 vs 1');
    const d = enc.featureDim;
    const row5 = tf.tidy(() => enc.encodeBatch(cropsOf(imgs[5], enc.preset, 1)).dataSync());
    expectClose(Array.from(a.features.subarray(5 * d, 6 * d)), Array.from(row5), 1e-5, 'row 5');
  });

  it("pools 'meanmax' as the mean and the max over the feature map, side by side", async () => {
    const mm = await ImageEncoder.load(
      { ...tinyPreset, id: 'tiny-meanmax', pool: 'meanmax', featureDim: 12 },
      tinyLoader,
    );
    const pixels = cropsOf(imgs[3], enc.preset, 1); // [1, 16, 16, 3]
    const got = tf.tidy(() => mm.encodeBatch(pixels).dataSync());
    const model = tinyModel();
    const map = tf.tidy(() => (model.predict(pixels.mul(1 / 127.5).add(-1)) as tf.Tensor4D).arraySync()[0]); // [7, 7, 6]
    const cells = map.flat(); // 49 cells of 6 channels
    const mean = [0, 1, 2, 3, 4, 5].map((c) => cells.reduce((s, v) => s + v[c], 0) / cells.length);
    const max = [0, 1, 2, 3, 4, 5].map((c) => Math.max(...cells.map((v) => v[c])));
    expectClose(Array.from(got), [...mean, ...max], 1e-5, 'meanmax');
    expect(max.some((m, c) => m > mean[c] + 1e-3)).toBe(true); // the two halves differ
    tf.dispose(pixels);
    model.dispose();
    mm.dispose();
  });

  it('reports progress after every batch, ending at the total', async () => {
    const calls: [number, number, number][] = [];
    await extractFeatures(enc, imgs.length, get, {
      batchSize: 4,
      onProgress: (done, total, ips) => calls.push([done, total, ips]),
    });
    expect(calls.map((c) => c[0])).toEqual([4, 8, 11]);
    expect(calls.every((c) => c[1] === 11 && c[2] > 0)).toBe(true);
  });

  it('reports a photo that fails, fills its row with NaN and goes on', async () => {
    const errors: [number, string][] = [];
    const before = tf.memory().numTensors;
    const res = await extractFeatures(
      enc,
      imgs.length,
      async (i) => {
        if (i === 2) throw new Error('cannot decode photo-2.jpg as JPEG: SOI not found');
        if (i === 7) return { width: 5, height: 5, channels: 3, data: new Uint8Array(10) }; // truncated pixels
        return imgs[i];
      },
      { batchSize: 4, onError: (i, err) => errors.push([i, err.message]) },
    );
    expect(res.failed).toEqual([2, 7]);
    expect(errors.map((e) => e[0])).toEqual([2, 7]);
    expect(errors[0][1]).toContain('photo-2.jpg');
    expect(errors[1][1]).toMatch(/image 7/);
    const d = enc.featureDim;
    expect(Array.from(res.features.subarray(2 * d, 3 * d)).every(Number.isNaN)).toBe(true);
    expect(Array.from(res.features.subarray(3 * d, 4 * d)).every(Number.isFinite)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stops between batches with an AbortError when cancelled, leaking no tensors', async () => {
    const ctrl = new AbortController();
    const loaded: number[] = [];
    const before = tf.memory().numTensors;
    const run = extractFeatures(
      enc,
      imgs.length,
      async (i) => {
        loaded.push(i);
        return imgs[i];
      },
      { batchSize: 2, signal: ctrl.signal, onProgress: (done) => done >= 2 && ctrl.abort() },
    );
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    // One batch encoded, at most the next one prefetched.
    expect(Math.max(...loaded)).toBeLessThan(4);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const ctrl = new AbortController();
    ctrl.abort();
    await expect(extractFeatures(enc, imgs.length, get, { signal: ctrl.signal })).rejects.toThrow(
      /cancelled/,
    );
  });

  it('notices an abort from a timer while photos load slowly', async () => {
    const ctrl = new AbortController();
    setTimeout(() => ctrl.abort(), 30);
    const slow = async (i: number): Promise<RgbImage> => {
      await new Promise((r) => setTimeout(r, 10));
      return imgs[i];
    };
    const t0 = performance.now();
    await expect(
      extractFeatures(enc, 200, (i) => slow(i % imgs.length), { batchSize: 1, signal: ctrl.signal }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
