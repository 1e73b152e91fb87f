/**
 * A Flickr8k-layout folder picked by the user: its caption and split files read here (Latin-1 when not
 * UTF-8), the dataset built by the model core (src/model/data/flickr8k.ts), image features computed with
 * progress and cancel (feature extraction stops between batches) and cached in IndexedDB.
 */
import { decodeTextFile } from '../model/data/text-decode';
import {
  decodePhoto,
  extractFeatures,
  featureCacheKey,
  hashStrings,
  IdbFeatureCache,
  type RgbImage,
} from '../model/encoders';
import {
  buildFlickrDataset,
  locateFlickrFiles,
  SPLIT_NAMES,
  splitSizeWarnings,
  type TextFile,
} from '../model/data/flickr8k';
import { buildPack, packDataset } from '../model/data/pack';
import { infoOf, type LoadContext, type LoadedDataset } from './dataset-loaded';
import { loadEncoder, presetOf } from './image-encoders';
import type { DatasetSource } from './protocol';

/** A Flickr8k-layout folder picked by the user. */
export async function loadFolder(
  source: Extract<DatasetSource, { kind: 'folder' }>,
  ctx: LoadContext,
): Promise<LoadedDataset> {
  const byPath = new Map(source.files.map((f) => [f.path.replace(/\\/g, '/'), f.file]));
  const layout = locateFlickrFiles([...byPath.keys()]);
  // Non-UTF-8 caption files are read as Latin-1 with a note, not with replacement characters.
  const encodingNotes: string[] = [];
  const readText = async (path: string): Promise<TextFile> => {
    const d = decodeTextFile(new Uint8Array(await byPath.get(path)!.arrayBuffer()), path);
    if (d.note) encodingNotes.push(d.note);
    return { name: path, text: d.text };
  };
  const splitFiles: Partial<Record<(typeof SPLIT_NAMES)[number], TextFile>> = {};
  for (const s of SPLIT_NAMES) if (layout.splits[s]) splitFiles[s] = await readText(layout.splits[s]);
  const data = buildFlickrDataset({
    captionsFile: await readText(layout.captions),
    splitFiles,
    imageNames: layout.imageNames,
  });
  data.problems.unshift(...encodingNotes);
  if (!data.splits.train?.length) {
    // Split lists without a train list (a folder with none at all gets a seeded split instead):
    // every photo trains; retrieval then searches all of them.
    data.splits = { ...data.splits, train: data.images.map((_, i) => i) };
    data.problems.push('no train split list (Flickr_8k.trainImages.txt): training on every photo');
  }
  const preset = presetOf(source.encoder);
  const crops = source.crops ?? 1;
  const pathOf = (name: string) => (layout.imageDir ? `${layout.imageDir}/${name}` : name);
  const key = featureCacheKey({
    encoder: preset.id,
    crops,
    images: `${source.name}-${hashStrings(data.images.map((n) => `${n}:${byPath.get(pathOf(n))?.size ?? 0}`))}`,
  });
  const cache = new IdbFeatureCache();
  let features = await cache.get(key);
  let failed: number[] = [];
  const errors: string[] = [];
  if (!features) {
    ctx.onProgress('loading the image encoder', 0, data.images.length, 0);
    const encoder = await loadEncoder(preset, ctx.baseUrl);
    const r = await extractFeatures(
      encoder,
      data.images.length,
      async (i): Promise<RgbImage> => {
        const path = pathOf(data.images[i]);
        const blob = byPath.get(path);
        if (!blob) throw new Error(`${path}: not in the picked folder`);
        return decodePhoto(blob, path, { maxSide: 512 });
      },
      {
        crops,
        signal: ctx.signal,
        onProgress: (done, total, ips) => ctx.onProgress('computing image features', done, total, ips),
        onError: (_i, err) => errors.push(err.message),
      },
    );
    features = r.features;
    failed = r.failed;
    // Only a complete result is cached: failed rows are NaN and would poison the next load.
    if (!failed.length)
      await cache.put(key, features, { count: data.images.length, featureDim: encoder.featureDim });
  }
  const pack = buildPack(data, features, {
    name: source.name,
    encoder: preset.id,
    featureDim: features.length / data.images.length,
    crops,
    failed,
  });
  const dataset = packDataset(pack);
  const warnings = [
    ...(failed.length
      ? [
          `${failed.length} photo(s) could not be decoded and are left out:`,
          ...errors.slice(0, 10),
          ...(errors.length > 10 ? [`... and ${errors.length - 10} more`] : []),
        ]
      : []),
    ...data.problems.slice(0, 10),
    ...splitSizeWarnings(dataset.splits),
  ];
  return {
    dataset,
    preset,
    info: infoOf(dataset, {
      kind: 'folder',
      encoder: preset.id,
      thumbs: 'file',
      imagePaths: pack.manifest.images.map(pathOf),
      warnings,
      ...(data.notes?.length ? { notes: data.notes } : {}),
    }),
  };
}
