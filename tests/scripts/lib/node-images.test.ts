/** Node-side I/O: JPEG decoding, model loading errors, the file feature cache, cache keys. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  IdbFeatureCache,
  ImageEncoder,
  customPreset,
  featureCacheKey,
  hashStrings,
  parseFeatureCacheKey,
} from '../../../src/model/encoders';
import { FileFeatureCache, decodeJpeg, nodeModelLoader, readJpeg } from '../../../scripts/lib/node-images';
import { requireSharedDir } from '../../helpers/shared';
import { useBackend } from '../../helpers/tf';
import { tinyLoader } from '../../encoders/tiny';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'orderembed-enc-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(() => useBackend('wasm'));

describe('JPEG decoding (jpeg-js)', () => {
  it('decodes a real Flickr8k photo to RGB', async () => {
    const file = path.join(requireSharedDir(), 'data', 'flickr8k', 'Images', '1000268201_693b08cb0e.jpg');
    const img = await readJpeg(file);
    expect(img.channels).toBe(3);
    expect(img.width).toBeGreaterThan(0);
    expect(img.height).toBeGreaterThan(0);
    expect(img.data.length).toBe(img.width * img.height * 3);
    let sum = 0;
    for (const v of img.data) sum += v;
    const mean = sum / img.data.length;
    expect(mean).toBeGreaterThan(10);
    expect(mean).toBeLessThan(245);
  });

  it('rejects undecodable bytes with an error naming the file', async () => {
    const bad = path.join(tmp, 'not-a-photo.jpg');
    writeFileSync(bad, 'this is not a JPEG');
    await expect(readJpeg(bad)).rejects.toThrow(/not-a-photo\.jpg: not a photo \(a text file\)/);
    const png = new Uint8Array([
      0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 9, 0, 0, 0, 9,
    ]);
    expect(() => decodeJpeg(png, 'Images/a.png')).toThrow(
      /^Images\/a\.png: a PNG image; the command-line tools read JPEG only/,
    );
    expect(() => decodeJpeg(new Uint8Array([0xff, 0xd8, 0xff, 0x00, 1, 2]), 'truncated.jpg')).toThrow(
      /cannot decode truncated\.jpg as JPEG/,
    );
    await expect(readJpeg(path.join(tmp, 'missing.jpg'))).rejects.toThrow(/missing\.jpg/);
  });
});

describe('model loading', () => {
  it('names the missing folder and the shared-folder setting', async () => {
    const loader = nodeModelLoader(path.join(tmp, 'no-shared'));
    const preset = { ...customPreset('x'), source: { kind: 'shared' as const, dir: 'nope' } };
    await expect(loader(preset)).rejects.toThrow(/no-shared.*models.*nope.*ORDEREMBED_SHARED/);
  });

  it('measures the feature size of a custom model with a dummy input', async () => {
    const enc = await ImageEncoder.load(customPreset('memory://tiny', { inputSize: 16 }), tinyLoader);
    expect(enc.featureDim).toBe(6); // [N, 7, 7, 6] mean-pooled
    expect(enc.preset.featureDim).toBe(6);
    enc.dispose();
  });

  it('takes the input size of a custom model from the model', async () => {
    const enc = await ImageEncoder.load(customPreset('memory://tiny'), tinyLoader);
    expect(enc.preset.inputSize).toBe(16);
    enc.dispose();
  });

  it('rejects a preset whose feature size disagrees with the model', async () => {
    const preset = { ...customPreset('memory://tiny'), featureDim: 99 };
    await expect(ImageEncoder.load(preset, tinyLoader)).rejects.toThrow(/6-d features, the preset says 99/);
  });
});

describe('feature caches', () => {
  const key = featureCacheKey({ encoder: 'mobilenet-v1-1.0-trunk', crops: 10, images: 'flickr8k-abc' });

  it('keys carry encoder, crops and image identity', () => {
    expect(parseFeatureCacheKey(key)).toEqual({
      encoder: 'mobilenet-v1-1.0-trunk',
      crops: 10,
      images: 'flickr8k-abc',
    });
    expect(key).not.toBe(
      featureCacheKey({ encoder: 'mobilenet-v1-1.0-trunk', crops: 1, images: 'flickr8k-abc' }),
    );
    // The mirrored view has its own key; keys without a view keep their old form.
    const mirror = featureCacheKey({ encoder: 'e', crops: 1, view: 'mirror', images: 'x' });
    expect(mirror).toBe('features-v1;encoder=e;crops=1;view=mirror;images=x');
    expect(parseFeatureCacheKey(mirror)).toEqual({ encoder: 'e', crops: 1, view: 'mirror', images: 'x' });
    expect(featureCacheKey({ encoder: 'e', crops: 1, images: 'x' })).toBe(
      'features-v1;encoder=e;crops=1;images=x',
    );
    expect(hashStrings(['a.jpg', 'b.jpg'])).toMatch(/^[0-9a-f]{16}$/);
    expect(hashStrings(['a.jpg', 'b.jpg'])).not.toBe(hashStrings(['b.jpg', 'a.jpg']));
    expect(hashStrings(['ab', 'c'])).not.toBe(hashStrings(['a', 'bc']));
  });

  it('FileFeatureCache round-trips values and writes a manifest', async () => {
    const cache = new FileFeatureCache(path.join(tmp, 'cache'));
    expect(await cache.get(key)).toBeUndefined();
    const values = Float32Array.from({ length: 12 }, (_, i) => i / 3 - 1);
    values[5] = NaN;
    await cache.put(key, values, { featureDim: 4, count: 3 });
    const back = await cache.get(key);
    expect(back).toBeInstanceOf(Float32Array);
    expect(Array.from(back!)).toEqual(Array.from(values));
    const again = new FileFeatureCache(path.join(tmp, 'cache'));
    expect(Array.from((await again.get(key))!)).toEqual(Array.from(values));
    expect(await cache.get(key.replace('crops=10', 'crops=1'))).toBeUndefined();
    const { readdirSync, readFileSync } = await import('node:fs');
    const manifest = readdirSync(path.join(tmp, 'cache')).find((f) => f.endsWith('.json'))!;
    expect(JSON.parse(readFileSync(path.join(tmp, 'cache', manifest), 'utf8'))).toMatchObject({
      key,
      encoder: 'mobilenet-v1-1.0-trunk',
      crops: 10,
      featureDim: 4,
      count: 3,
      length: 12,
    });
  });

  it('IdbFeatureCache without IndexedDB is an empty cache', async () => {
    expect(IdbFeatureCache.available()).toBe(false);
    const cache = new IdbFeatureCache();
    await cache.put(key, new Float32Array(3));
    expect(await cache.get(key)).toBeUndefined();
  });
});
