/**
 * The data of a script's `--data`: the synthetic set, a feature pack folder, or a Flickr8k folder whose
 * features are prepared on the way (./prepare-flickr.ts), plus the extra feature views of `--augment`.
 */
import { makeSyntheticDataset } from '../../src/model/synthetic';
import { packDataset, type PackManifest } from '../../src/model/data/pack';
import type { Dataset } from '../../src/model/types';
import { isDir } from './flickr-folder';
import { isPackFolder, readPack } from './packs';
import { prepareFlickrPack, type PrepareOptions } from './prepare-flickr';

/** Data for a script: the synthetic set, a pack folder, or a Flickr8k folder (features prepared). */
export interface ScriptData {
  dataset: Dataset;
  /** Image-encoder preset of the features (null for synthetic data). */
  encoder: string | null;
  kind: 'synthetic' | 'pack' | 'folder';
  /** The pack's manifest (pack and folder data). */
  manifest?: PackManifest;
}

/**
 * Loads `--data`: 'synthetic' (or absent), a pack folder (checked against `expectEncoder`), or a
 * Flickr8k folder whose features are prepared through {@link prepareFlickrPack} (with `expectEncoder`
 * or `prepare.encoder`).
 */
export async function loadScriptData(
  spec: string | undefined,
  opts: {
    expectEncoder?: string;
    prepare?: PrepareOptions;
    synthetic?: Parameters<typeof makeSyntheticDataset>[0];
  } = {},
): Promise<ScriptData> {
  if (!spec || spec === 'synthetic')
    return { dataset: makeSyntheticDataset(opts.synthetic), encoder: null, kind: 'synthetic' };
  if (!isDir(spec)) throw new Error(`--data ${spec}: no such folder`);
  if (isPackFolder(spec)) {
    const { manifest, dataset } = readPack(spec, { expectEncoder: opts.expectEncoder });
    return { dataset, encoder: manifest.encoder, kind: 'pack', manifest };
  }
  const prepared = await prepareFlickrPack(spec, {
    ...opts.prepare,
    encoder: opts.expectEncoder ?? opts.prepare?.encoder,
  });
  const { manifest } = prepared.pack;
  return { dataset: packDataset(prepared.pack), encoder: manifest.encoder, kind: 'folder', manifest };
}

/**
 * Adds other views of a pack's features for `--augment` (e.g. the mirror pack of prepare:flickr8k
 * --mirror) to `data.dataset.featureViews`: each must be a pack of the same photos in the same order,
 * with the same encoder and feature size. `data` must come from a pack folder (`dataDir`, for
 * messages). Throws naming the pack and what differs.
 */
export function addFeatureViews(data: ScriptData, dataDir: string, viewDirs: readonly string[]): void {
  const base = data.manifest;
  if (data.kind !== 'pack' || !base)
    throw new Error(
      `--augment: --data must be a feature pack folder (prepare:flickr8k writes one), got ${dataDir}`,
    );
  data.dataset.featureViews = viewDirs.map((dir) => {
    const { manifest: m, dataset } = readPack(dir, { expectEncoder: base.encoder });
    if (m.featureDim !== base.featureDim)
      throw new Error(`--augment ${dir}: ${m.featureDim}-d features, the data has ${base.featureDim}-d`);
    const at = m.images.findIndex((name, i) => name !== base.images[i]);
    if (m.images.length !== base.images.length || at >= 0)
      throw new Error(
        `--augment ${dir}: not the same photos as ${dataDir} (${m.images.length} against ${base.images.length}` +
          (at >= 0 ? `; photo ${at} is ${m.images[at]}, there ${base.images[at]})` : ')'),
      );
    return dataset.features;
  });
}
