/**
 * Dataset loading in the worker: `loadDatasetSource` loads the built-in scenes (prepared pack, or
 * rendered and encoded here, cached), a feature pack over HTTP (./dataset-pack.ts) or a Flickr8k-layout
 * folder picked by the user (./dataset-folder.ts), with progress and cancel (./dataset-loaded.ts: what a
 * load works with and yields). Parsing, packing and encoding are the model core's (src/model/data,
 * src/model/scenes, src/model/encoders); these files only fetch, read files and wire progress.
 */
import {
  DEFAULT_ENCODER_ID,
  ENCODER_PRESETS,
  extractFeatures,
  featureCacheKey,
  hashStrings,
  IdbFeatureCache,
} from '../model/encoders';
import { PACK_FEATURES, PACK_MANIFEST, packToDataset, parsePackManifest } from '../model/data/pack';
import {
  makeSceneSet,
  renderScene,
  SCENES_DEFAULTS,
  scenesDataset,
  type SceneSpec,
} from '../model/scenes/scenes';
import { SCENES_PACK_URL, staleScenesPack, type ScenesPackManifest } from '../model/scenes/pack';
import { makeSyntheticDataset } from '../model/synthetic';
import type { Dataset } from '../model/types';
import { infoOf, type LoadContext, type LoadedDataset } from './dataset-loaded';
import { loadFolder } from './dataset-folder';
import { fetchBytes, fetchOk, loadPack, packHint } from './dataset-pack';
import { loadEncoder } from './image-encoders';
import type { DatasetSource, Thumb } from './protocol';

// What a load yields, for the modules that hold a loaded dataset (the service, queries, photos).
export type { LoadContext, LoadedDataset } from './dataset-loaded';

const THUMB_SIDE = 96;

function sceneThumb(spec: SceneSpec): Thumb {
  const img = renderScene(spec, THUMB_SIDE);
  const data = new Uint8ClampedArray(THUMB_SIDE * THUMB_SIDE * 4);
  for (let p = 0; p < THUMB_SIDE * THUMB_SIDE; p++) {
    data[4 * p] = img.data[3 * p];
    data[4 * p + 1] = img.data[3 * p + 1];
    data[4 * p + 2] = img.data[3 * p + 2];
    data[4 * p + 3] = 255;
  }
  return { width: THUMB_SIDE, height: THUMB_SIDE, data };
}

/**
 * The built-in scenes: the prebuilt pack shipped in public/scenes/ when current, else rendered and
 * encoded here with the default encoder (cached).
 */
async function loadScenes(numImages: number | undefined, ctx: LoadContext): Promise<LoadedDataset> {
  const opts = { ...SCENES_DEFAULTS, numImages: numImages ?? SCENES_DEFAULTS.numImages };
  const preset = ENCODER_PRESETS[DEFAULT_ENCODER_ID];
  const set = makeSceneSet(opts);
  const warnings: string[] = [];
  const loadedScenes = (dataset: Dataset): LoadedDataset => ({
    dataset,
    preset,
    thumb: (i: number) => sceneThumb(set.specs[i]),
    info: infoOf(dataset, {
      kind: 'scenes',
      encoder: preset.id,
      thumbs: 'inline',
      imagePaths: set.images,
      warnings,
    }),
  });
  if (opts.numImages === SCENES_DEFAULTS.numImages) {
    try {
      const base = new URL(SCENES_PACK_URL, ctx.baseUrl).href;
      const hint = packHint(SCENES_PACK_URL);
      const res = await fetchOk(base + PACK_MANIFEST, 'the scenes pack manifest', hint, ctx.signal);
      const manifest = parsePackManifest(await res.json(), base + PACK_MANIFEST) as ScenesPackManifest;
      const stale = staleScenesPack(manifest, DEFAULT_ENCODER_ID, opts);
      if (stale) warnings.push(`the prebuilt scenes pack is not used: ${stale}; rendering instead`);
      else {
        const bytes = await fetchBytes(base + PACK_FEATURES, 'the scenes features', hint, ctx.signal);
        return loadedScenes(packToDataset(manifest, bytes));
      }
    } catch (e) {
      if (ctx.signal.aborted) throw e; // cancelled: not a reason to render the scenes instead
      warnings.push(
        `the prebuilt scenes pack could not be read (${(e as Error).message}); rendering instead`,
      );
    }
  }
  const key = featureCacheKey({
    encoder: preset.id,
    crops: 1,
    images: `scenes-v${set.specs.length}-${hashStrings(set.images)}`,
  });
  const cache = new IdbFeatureCache();
  let features = await cache.get(key);
  if (!features) {
    ctx.onProgress('loading the image encoder', 0, opts.numImages, 0);
    const encoder = await loadEncoder(preset, ctx.baseUrl);
    const r = await extractFeatures(
      encoder,
      opts.numImages,
      (i) => Promise.resolve(renderScene(set.specs[i])),
      {
        signal: ctx.signal,
        onProgress: (done, total, ips) => ctx.onProgress('rendering and encoding scenes', done, total, ips),
      },
    );
    if (r.failed.length) throw new Error(`scenes ${r.failed.join(', ')} could not be encoded`);
    features = r.features;
    await cache.put(key, features, { count: opts.numImages, featureDim: encoder.featureDim });
  }
  return loadedScenes(scenesDataset(opts, features, preset.featureDim, preset.id));
}

export async function loadDatasetSource(source: DatasetSource, ctx: LoadContext): Promise<LoadedDataset> {
  switch (source.kind) {
    case 'synthetic': {
      const dataset = makeSyntheticDataset({ numImages: source.numImages, seed: source.seed });
      return {
        dataset,
        preset: null,
        info: infoOf(dataset, { kind: 'synthetic', encoder: null, thumbs: 'none', warnings: [] }),
      };
    }
    case 'scenes':
      return loadScenes(source.numImages, ctx);
    case 'pack':
      return loadPack(source.url, ctx);
    case 'folder':
      return loadFolder(source, ctx);
  }
}
