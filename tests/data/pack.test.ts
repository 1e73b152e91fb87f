import { describe, expect, it } from 'vitest';
import type { CaptionedImages } from '../../src/model/data/flickr8k';
import {
  buildPack,
  PACK_FEATURES,
  PACK_MANIFEST,
  packToDataset,
  parsePackManifest,
  serializePack,
} from '../../src/model/data/pack';
import { validateDataset } from '../../src/model/trainer';

const D = 3;
const data: CaptionedImages = {
  images: ['a.jpg', 'bad.jpg', 'c.jpg', 'd.jpg'],
  captions: [
    { image: 0, text: 'a dog' },
    { image: 1, text: 'broken photo' },
    { image: 2, text: 'a cat' },
    { image: 2, text: 'a kitten' },
    { image: 3, text: 'a bird' },
  ],
  splits: { train: [0, 1, 2], dev: [3] },
  problems: ['captions.txt:9: something skipped'],
};
const features = Float32Array.from([1, 2, 3, NaN, NaN, NaN, 7, 8, 9, 10, 11, 12]);

function pack() {
  return buildPack(data, features, {
    name: 'tiny',
    encoder: 'enc-a',
    featureDim: D,
    crops: 1,
    failed: [1],
    thumbSize: 64,
    createdAt: '2024-01-01T00:00:00.000Z',
  });
}

describe('feature packs', () => {
  it('leave failed images out, renumbering captions and splits, and round-trip through their files', () => {
    const p = pack();
    expect(p.manifest).toMatchObject({
      format: 'orderembed-pack',
      version: 1,
      numImages: 3,
      images: ['a.jpg', 'c.jpg', 'd.jpg'],
      failedImages: ['bad.jpg'],
      splits: { train: [0, 1], dev: [2] },
      problems: data.problems,
    });
    expect(p.manifest.captions).toEqual([
      { image: 0, text: 'a dog' },
      { image: 1, text: 'a cat' },
      { image: 1, text: 'a kitten' },
      { image: 2, text: 'a bird' },
    ]);
    const files = serializePack(p);
    expect(files[PACK_FEATURES].byteLength).toBe(3 * D * 4);
    const manifest = parsePackManifest(files[PACK_MANIFEST]);
    // A Node Buffer at an odd offset of a larger allocation reads the same.
    const bytes = new Uint8Array(files[PACK_FEATURES].byteLength + 1);
    bytes.set(new Uint8Array(files[PACK_FEATURES]), 1);
    const ds = packToDataset(manifest, bytes.subarray(1), { expectEncoder: 'enc-a' });
    expect(Array.from(ds.features)).toEqual([1, 2, 3, 7, 8, 9, 10, 11, 12]);
    expect(ds).toMatchObject({
      name: 'tiny',
      imageDim: D,
      numImages: 3,
      splits: { train: [0, 1], dev: [2] },
    });
    expect(() => validateDataset(ds)).not.toThrow();
  });

  it('reject a wrong encoder, wrong sizes and NaN rows with clear messages', () => {
    const p = pack();
    const bin = serializePack(p)[PACK_FEATURES];
    expect(() => packToDataset(p.manifest, bin, { expectEncoder: 'enc-b' })).toThrow(
      "pack 'tiny' was built with encoder enc-a, expected enc-b",
    );
    expect(() => packToDataset(p.manifest, bin.slice(4))).toThrow(
      "pack 'tiny': features.bin holds 32 bytes, expected 3 images x 3 float32 features x 4 = 36",
    );
    const nan = new Float32Array(bin.slice(0));
    nan[4] = NaN;
    expect(() => packToDataset(p.manifest, nan)).toThrow(
      "pack 'tiny': the features of image 1 (c.jpg) hold NaN at index 1",
    );
    expect(() =>
      buildPack(data, features.subarray(1), { name: 'x', encoder: 'e', featureDim: D, crops: 1 }),
    ).toThrow(/expected 4 images x 3 = 12/);
    expect(() =>
      buildPack(data, features, { name: 'x', encoder: 'e', featureDim: D, crops: 1, failed: [0, 1, 2, 3] }),
    ).toThrow(/all 4 images failed/);
  });

  it('store float16 features at half the size, rounded the same in memory and on disk', () => {
    const fine = new Float32Array(features.length).map((_, i) => 0.1 * i + 1 / 3);
    const p16 = buildPack(data, fine, {
      name: 'half',
      encoder: 'enc-a',
      featureDim: D,
      crops: 1,
      failed: [1],
      featureType: 'float16',
    });
    expect(p16.manifest.featureType).toBe('float16');
    const files = serializePack(p16);
    expect(files[PACK_FEATURES].byteLength).toBe(3 * D * 2);
    const ds = packToDataset(parsePackManifest(files[PACK_MANIFEST]), files[PACK_FEATURES]);
    // What the file gives back is what the pack held in memory, and close to the input (float16: 11 bits).
    expect(Array.from(ds.features)).toEqual(Array.from(p16.features));
    const kept = [0, 2, 3].flatMap((i) => Array.from(fine.subarray(i * D, (i + 1) * D)));
    ds.features.forEach((v, k) =>
      expect(Math.abs(v - kept[k])).toBeLessThan(Math.abs(kept[k]) * 2 ** -11 + 1e-7),
    );
    expect(ds.features.some((v, k) => v !== kept[k])).toBe(true); // really rounded
    expect(() => packToDataset(p16.manifest, files[PACK_FEATURES].slice(2))).toThrow(
      "pack 'half': features.bin holds 16 bytes, expected 3 images x 3 float16 features x 2 = 18",
    );
    expect(() => parsePackManifest({ ...p16.manifest, featureType: 'int8' })).toThrow(
      /'featureType' must be one of float32, float16, got "int8"/,
    );
  });

  it('check the manifest, naming the field', () => {
    const m = pack().manifest;
    expect(() => parsePackManifest('{oops')).toThrow(/manifest\.json: not valid JSON/);
    expect(() => parsePackManifest({ ...m, format: 'zip' })).toThrow(
      /format is "zip", expected 'orderembed-pack'/,
    );
    expect(() => parsePackManifest({ ...m, version: 2 })).toThrow(/version 2 is not supported/);
    expect(() => parsePackManifest({ ...m, numImages: 4 })).toThrow(
      /'images' lists 3 names, expected numImages = 4/,
    );
    expect(() => parsePackManifest({ ...m, featureDim: 0 })).toThrow(
      /'featureDim' must be a positive integer/,
    );
    expect(() => parsePackManifest({ ...m, captions: [{ image: 3, text: 'x' }] })).toThrow(
      /caption 0 must be \{image: 0..2, text\}/,
    );
    expect(() => parsePackManifest({ ...m, splits: { val: [0] } })).toThrow(/unknown split 'val'/);
    expect(() => parsePackManifest({ ...m, splits: { dev: [5] } })).toThrow(
      /split 'dev' must list image indices 0..2/,
    );
  });
});
