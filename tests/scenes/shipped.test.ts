/**
 * The prebuilt scenes pack that ships in public/scenes/ (so that `npm start` encodes nothing): it is what
 * `npm run prepare:scenes` makes today. The manifest must equal a freshly built one byte for byte
 * (captions, splits, generator version, the fixed creation time), and a sample of scenes re-rendered and
 * re-encoded here with the shipped default encoder must give the shipped features (float16-rounded).
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PACK_FEATURES, PACK_MANIFEST, packToDataset, parsePackManifest } from '../../src/model/data/pack';
import { DEFAULT_ENCODER_ID, ENCODER_PRESETS, ImageEncoder, extractFeatures } from '../../src/model/encoders';
import {
  buildScenesPack,
  SCENES_PACK_CREATED_AT,
  staleScenesPack,
  type ScenesPackManifest,
} from '../../src/model/scenes/pack';
import { renderScene, makeSceneSet, SCENES_DEFAULTS } from '../../src/model/scenes/scenes';
import { nodeModelLoader, repoRoot } from '../../scripts/lib/node-images';
import { useBackend } from '../helpers/tf';

const DIR = path.join(repoRoot, 'public', 'scenes');
/** Scenes re-encoded here: a few from the start, the middle and the end of the set. */
const SAMPLE = [0, 1, 2, 599, 1198, 1199];

describe('the shipped scenes pack (public/scenes)', () => {
  let manifest: ScenesPackManifest;
  let bytes: Buffer;
  beforeAll(() => {
    manifest = parsePackManifest(
      readFileSync(path.join(DIR, PACK_MANIFEST), 'utf8'),
      'public/scenes/manifest.json',
    ) as ScenesPackManifest;
    bytes = readFileSync(path.join(DIR, PACK_FEATURES));
  });

  it('is current (generator version, seed, count, default encoder), float16 and a few MB', () => {
    expect(staleScenesPack(manifest, DEFAULT_ENCODER_ID)).toBeNull();
    expect(manifest.featureType).toBe('float16');
    expect(manifest.createdAt).toBe(SCENES_PACK_CREATED_AT);
    const total = statSync(path.join(DIR, PACK_MANIFEST)).size + bytes.byteLength;
    expect(total).toBeLessThan(4 * 1024 * 1024);
  });

  it('has exactly the manifest prepare:scenes writes (captions, splits, names)', () => {
    const n = SCENES_DEFAULTS.numImages;
    const D = manifest.featureDim;
    const fresh = buildScenesPack(SCENES_DEFAULTS, new Float32Array(n * D), {
      encoder: DEFAULT_ENCODER_ID,
      featureDim: D,
      thumbSize: null,
      featureType: 'float16',
      createdAt: SCENES_PACK_CREATED_AT,
    });
    expect(readFileSync(path.join(DIR, PACK_MANIFEST), 'utf8')).toBe(JSON.stringify(fresh.manifest) + '\n');
  });

  it('holds the features the shipped encoder gives for a re-rendered sample of scenes', async () => {
    await useBackend('wasm');
    const dataset = packToDataset(manifest, bytes, { expectEncoder: DEFAULT_ENCODER_ID });
    const preset = ENCODER_PRESETS[DEFAULT_ENCODER_ID];
    const enc = await ImageEncoder.load(preset, nodeModelLoader('/nonexistent-shared'));
    try {
      const specs = makeSceneSet(SCENES_DEFAULTS).specs;
      const { features, failed } = await extractFeatures(enc, SAMPLE.length, (k) =>
        Promise.resolve(renderScene(specs[SAMPLE[k]], preset.inputSize)),
      );
      expect(failed).toEqual([]);
      const D = enc.featureDim;
      expect(D).toBe(dataset.imageDim);
      SAMPLE.forEach((scene, k) => {
        const shipped = dataset.features.subarray(scene * D, (scene + 1) * D);
        const now = features.subarray(k * D, (k + 1) * D);
        let worst = 0;
        for (let j = 0; j < D; j++) {
          // float16 keeps 11 significant bits; allow twice that plus a little backend noise.
          const err = Math.abs(now[j] - shipped[j]) - Math.abs(now[j]) * 2 ** -10;
          worst = Math.max(worst, err);
        }
        expect(worst, `scene ${scene}: shipped vs re-encoded features`).toBeLessThan(1e-3);
        // And the scenes really differ: the check above is not satisfied by any feature row.
        const other = dataset.features.subarray(((scene + 7) % 1200) * D, (((scene + 7) % 1200) + 1) * D);
        expect(now.some((v, j) => Math.abs(v - other[j]) > 0.05)).toBe(true);
      });
    } finally {
      enc.dispose();
    }
  });
});
