/**
 * The real encoders: the ImageNet MobileNetV1 trunk and the small fallback, both shipped in
 * public/models, on real Flickr8k photos (from ../shared), through the Node loader and JPEG decoder.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../../src/model/tf';
import {
  DEFAULT_ENCODER_ID,
  DEFAULT_ENCODER_URL,
  ENCODER_PRESETS,
  FALLBACK_ENCODER_ID,
  ImageEncoder,
  cropsOf,
  type RgbImage,
} from '../../src/model/encoders';
import { nodeModelLoader, readJpeg, repoRoot } from '../../scripts/lib/node-images';
import { requireSharedDir } from '../helpers/shared';
import { useBackend } from '../helpers/tf';

const PHOTOS = ['1000268201_693b08cb0e.jpg', '1001773457_577c3a7d70.jpg'];

function photoPath(name: string): string {
  return path.join(requireSharedDir(), 'data', 'flickr8k', 'Images', name);
}

/** 1-crop features of the photos, [photos.length][featureDim]. */
function encode(enc: ImageEncoder, imgs: RgbImage[]): number[][] {
  return tf.tidy(() => {
    const x = tf.concat(imgs.map((img) => cropsOf(img, enc.preset, 1))) as tf.Tensor4D;
    return enc.encodeBatch(x).arraySync();
  });
}

let photos: RgbImage[];
beforeAll(async () => {
  await useBackend('wasm');
  photos = await Promise.all(PHOTOS.map((p) => readJpeg(photoPath(p))));
});

describe('MobileNetV1 trunk shipped in public/models (the default encoder)', () => {
  let enc: ImageEncoder;
  beforeAll(async () => {
    expect(ENCODER_PRESETS[DEFAULT_ENCODER_ID].source).toEqual({ kind: 'url', url: DEFAULT_ENCODER_URL });
    // A shared folder that does not exist: the shipped copy must not need it.
    enc = await ImageEncoder.load(
      ENCODER_PRESETS[DEFAULT_ENCODER_ID],
      nodeModelLoader('/nonexistent-shared'),
    );
  });
  afterAll(() => enc?.dispose());

  it('gives 1024-d features: finite, non-negative, different for different photos', () => {
    expect(enc.featureDim).toBe(1024);
    const [a, b] = encode(enc, photos);
    expect(a).toHaveLength(1024);
    for (const v of [...a, ...b]) {
      expect(Number.isFinite(v)).toBe(true);
      expect(v).toBeGreaterThanOrEqual(0); // mean of ReLU outputs
    }
    const diff = a.reduce((s, x, k) => s + Math.abs(x - b[k]), 0) / a.length;
    const mag = a.reduce((s, x) => s + Math.abs(x), 0) / a.length;
    expect(mag).toBeGreaterThan(0.01);
    expect(diff).toBeGreaterThan(0.1 * mag);
  });

  it('gives the same features for the same photo, alone or in a batch', () => {
    const batch = encode(enc, photos);
    const again = encode(enc, [photos[0]]);
    const maxDiff = Math.max(...batch[0].map((x, k) => Math.abs(x - again[0][k])));
    expect(maxDiff).toBeLessThan(1e-4);
  });

  it('does not leak tensors', () => {
    const before = tf.memory().numTensors;
    encode(enc, photos);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('offline fallback encoder (vendored in public/models)', () => {
  it('loads without ../shared and gives finite, distinct features', async () => {
    const preset = ENCODER_PRESETS[FALLBACK_ENCODER_ID];
    expect(preset.source).toEqual({ kind: 'url', url: `/models/${FALLBACK_ENCODER_ID}/model.json` });
    const file = path.join(repoRoot, 'public', 'models', FALLBACK_ENCODER_ID, 'model.json');
    expect(existsSync(file), `${file} is missing: run node scripts/vendor-fallback-encoder.mjs`).toBe(true);
    // A shared folder that does not exist: the fallback must not need it.
    const enc = await ImageEncoder.load(preset, nodeModelLoader('/nonexistent-shared'));
    try {
      expect(enc.featureDim).toBe(preset.featureDim);
      const [a, b] = encode(enc, photos);
      expect(a.every(Number.isFinite) && b.every(Number.isFinite)).toBe(true);
      expect(a.some((x, k) => Math.abs(x - b[k]) > 1e-3)).toBe(true);
    } finally {
      enc.dispose();
    }
  });

  it.each([FALLBACK_ENCODER_ID, DEFAULT_ENCODER_ID])('%s is byte for byte what its SOURCE.md lists', (id) => {
    const dir = path.join(repoRoot, 'public', 'models', id);
    expect(readFileSync(path.join(dir, 'LICENSE'), 'utf8')).toMatch(
      id === DEFAULT_ENCODER_ID ? /Apache License\s+Version 2\.0/ : /MIT License/,
    );
    const listed = [
      ...readFileSync(path.join(dir, 'SOURCE.md'), 'utf8').matchAll(/^- `([^`]+)` ([0-9a-f]{64})$/gm),
    ];
    expect(listed.map((m) => m[1])).toContain('model.json');
    for (const [, file, sha] of listed) {
      expect(
        createHash('sha256')
          .update(readFileSync(path.join(dir, file)))
          .digest('hex'),
        file,
      ).toBe(sha);
    }
  });
});
