/** The scenes pack: same dataset through the pack format as built directly, and stale-pack detection. */
import { describe, expect, it } from 'vitest';
import {
  PACK_FEATURES,
  PACK_MANIFEST,
  packToDataset,
  parsePackManifest,
  serializePack,
} from '../../src/model/data/pack';
import { buildScenesPack, staleScenesPack, type ScenesPackManifest } from '../../src/model/scenes/pack';
import { SCENES_VERSION, scenesDataset } from '../../src/model/scenes/scenes';

describe('scenes pack', () => {
  const opts = { numImages: 60, seed: 3 };
  const dim = 5;
  const features = Float32Array.from({ length: opts.numImages * dim }, (_, i) => (i % 17) / 17);

  it('round-trips to the dataset scenesDataset builds', () => {
    const pack = buildScenesPack(opts, features, { encoder: 'enc', featureDim: dim, thumbSize: 96 });
    const files = serializePack(pack);
    const manifest = parsePackManifest(files[PACK_MANIFEST]) as ScenesPackManifest;
    expect(manifest.scenes).toEqual({ version: SCENES_VERSION, seed: 3, numImages: 60 });
    expect(manifest.images[7]).toBe('scene-0007');
    expect(manifest.thumbSize).toBe(96);
    const fromPack = packToDataset(manifest, files[PACK_FEATURES], { expectEncoder: 'enc' });
    const direct = scenesDataset(opts, features, dim, 'enc');
    expect(fromPack.features).toEqual(direct.features);
    expect(fromPack.captions).toEqual(direct.captions);
    expect(fromPack.splits).toEqual(direct.splits);
    expect(fromPack.splits.dev).toHaveLength(10);
  });

  it('tells a current pack from a stale or foreign one', () => {
    const m = buildScenesPack(opts, features, { encoder: 'enc', featureDim: dim })
      .manifest as ScenesPackManifest;
    expect(staleScenesPack(m, 'enc', opts)).toBeNull();
    expect(staleScenesPack(m, 'other', opts)).toMatch(/built with encoder enc, expected other/);
    expect(staleScenesPack(m, 'enc', { numImages: 60, seed: 4 })).toMatch(
      /from seed 3, expected 60 from seed 4/,
    );
    expect(
      staleScenesPack({ ...m, scenes: { ...m.scenes!, version: SCENES_VERSION - 1 } }, 'enc', opts),
    ).toMatch(/generator version/);
    expect(staleScenesPack({ ...m, scenes: undefined }, 'enc', opts)).toMatch(/not a scenes pack/);
  });
});
