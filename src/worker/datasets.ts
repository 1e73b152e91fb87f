/**
 * Dataset loading in the worker: the built-in scenes (prepared pack, or rendered and encoded here),
 * feature packs over HTTP, and Flickr8k-layout folders picked by the user (features computed here with
 * progress and cancel, cached in IndexedDB). Parsing, packing and encoding are the model core's
 * (src/model/data, src/model/scenes, src/model/encoders); this file only fetches, reads files and wires
 * progress.
 */
import { decodeTextFile } from '../model/data/text-decode';
import {
  browserModelLoader,
  decodePhoto,
  DEFAULT_ENCODER_ID,
  ENCODER_PRESETS,
  encoderSourceHint,
  extractFeatures,
  featureCacheKey,
  hashStrings,
  IdbFeatureCache,
  ImageEncoder,
  customPreset,
  type EncoderPreset,
  type RgbImage,
} from '../model/encoders';
import {
  buildFlickrDataset,
  locateFlickrFiles,
  SPLIT_NAMES,
  splitSizeWarnings,
  type TextFile,
} from '../model/data/flickr8k';
import {
  buildPack,
  PACK_FEATURES,
  PACK_MANIFEST,
  packDataset,
  packToDataset,
  parsePackManifest,
} from '../model/data/pack';
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
import type { DatasetInfo, DatasetSource, EncoderChoice, Thumb } from './protocol';

export interface LoadContext {
  /** Absolute URL of the page's base (where packs/ and models/ are served), ends with '/'. */
  baseUrl: string;
  signal: AbortSignal;
  onProgress: (phase: string, done: number, total: number, imagesPerSec: number) => void;
}

export interface LoadedDataset {
  dataset: Dataset;
  info: DatasetInfo;
  /** Image-encoder preset of the features (null: synthetic): photos uploaded for ranking use it too. */
  preset: EncoderPreset | null;
  /** Inline thumbnails (rendered scenes). */
  thumb?: (image: number) => Thumb;
}

const THUMB_SIDE = 96;

function splitsOf(ds: Dataset): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(ds.splits)) if (v?.length) out[k] = v.length;
  return out;
}

function infoOf(
  ds: Dataset,
  rest: Omit<DatasetInfo, 'name' | 'numImages' | 'numCaptions' | 'imageDim' | 'splits'>,
): DatasetInfo {
  return {
    name: ds.name,
    numImages: ds.numImages,
    numCaptions: ds.captions.length,
    imageDim: ds.imageDim,
    splits: splitsOf(ds),
    ...rest,
  };
}

/** The preset of an encoder choice; throws for an unknown preset id, naming the known ones. */
export function presetOf(choice: EncoderChoice): EncoderPreset {
  if ('url' in choice) return customPreset(choice.url);
  const p = ENCODER_PRESETS[choice.preset];
  if (!p)
    throw new Error(
      `unknown image encoder '${choice.preset}' (presets: ${Object.keys(ENCODER_PRESETS).join(', ')})`,
    );
  return p;
}

const encoders = new Map<string, Promise<ImageEncoder>>();

/**
 * Loads (once per worker and backend) the encoder of a preset; models come from the page's own URLs.
 * A failure names the model file and says how to get it.
 */
export function loadEncoder(preset: EncoderPreset, baseUrl: string): Promise<ImageEncoder> {
  let p = encoders.get(preset.id);
  if (!p) {
    p = ImageEncoder.load(
      preset,
      browserModelLoader({ baseUrl, sharedModelsUrl: `${baseUrl}shared-models` }),
    ).catch((e: unknown) => {
      throw new Error(`${(e as Error).message} (${encoderSourceHint(preset)})`);
    });
    encoders.set(preset.id, p);
    p.catch(() => encoders.delete(preset.id));
  }
  return p;
}

/** Forgets loaded encoders (after a backend change their weights live on a dead backend). */
export function forgetEncoders(): void {
  encoders.clear();
}

/**
 * GETs a data file; a failure names the URL and, when given, how to make the file (`hint`). A 404 says
 * "not found" (the servers of this project answer a missing data file with 404, never with the page).
 */
async function fetchOk(url: string, what: string, hint?: string, signal?: AbortSignal): Promise<Response> {
  let res: Response;
  const how = hint ? `; ${hint}` : '';
  try {
    res = await fetch(url, signal ? { signal } : undefined);
  } catch (e) {
    if (signal?.aborted) throw readingCancelled(what);
    throw new Error(`cannot fetch ${what} (${url}): ${(e as Error).message}${how}`);
  }
  if (res.status === 404) throw new Error(`${what} not found: ${url} (HTTP 404)${how}`);
  if (!res.ok) throw new Error(`cannot fetch ${what} (${url}): HTTP ${res.status}${how}`);
  return res;
}

/** The body of a data file; a cancelled load stops the download. */
async function fetchBytes(
  url: string,
  what: string,
  hint: string,
  signal: AbortSignal,
): Promise<ArrayBuffer> {
  const res = await fetchOk(url, what, hint, signal);
  try {
    return await res.arrayBuffer();
  } catch (e) {
    if (signal.aborted) throw readingCancelled(what);
    throw new Error(`cannot read ${what} (${url}): ${(e as Error).message}; ${hint}`);
  }
}

/** A cancelled download, as extractFeatures reports a cancelled extraction (an Error named AbortError). */
function readingCancelled(what: string): Error {
  const err = new Error(`reading ${what} was cancelled`);
  err.name = 'AbortError';
  return err;
}

/** How to make a pack that is not served, by its URL. */
function packHint(url: string): string {
  return /(^|\/)scenes\/?$/.test(url)
    ? 'the built-in scenes pack ships in public/scenes/; rebuild it with `npm run prepare:scenes`'
    : 'make a Flickr8k pack with `npm run prepare:flickr8k -- <Flickr8k folder>` (it writes public/packs/flickr8k-<encoder>/), then restart `npm start`';
}

/** A feature pack served at `url` (a folder URL, absolute or relative to the base). */
async function loadPack(url: string, ctx: LoadContext): Promise<LoadedDataset> {
  const base = new URL(url.replace(/\/*$/, '/'), ctx.baseUrl).href;
  ctx.onProgress('reading the pack manifest', 0, 2, 0);
  const hint = packHint(url);
  const manifestRes = await fetchOk(base + PACK_MANIFEST, 'the pack manifest', hint, ctx.signal);
  let json: unknown;
  try {
    json = await manifestRes.json();
  } catch (e) {
    throw new Error(`${base}${PACK_MANIFEST}: not valid JSON (${(e as Error).message}); ${hint}`);
  }
  const manifest = parsePackManifest(json, base + PACK_MANIFEST);
  ctx.onProgress('reading the features', 1, 2, 0);
  const bytes = await fetchBytes(base + PACK_FEATURES, 'the pack features', hint, ctx.signal);
  const dataset = packToDataset(manifest, bytes);
  ctx.onProgress('done', 2, 2, 0);
  const warnings = [
    ...(manifest.failedImages.length
      ? [
          `${manifest.failedImages.length} photos could not be read: ${manifest.failedImages.slice(0, 5).join(', ')}`,
        ]
      : []),
    ...(manifest.problems ?? []).slice(0, 10),
    ...splitSizeWarnings(dataset.splits),
  ];
  return {
    dataset,
    preset: ENCODER_PRESETS[manifest.encoder] ?? null,
    info: infoOf(dataset, {
      kind: 'pack',
      encoder: manifest.encoder,
      thumbs: manifest.thumbSize ? 'url' : 'none',
      thumbBase: base.replace(/\/$/, ''),
      imagePaths: manifest.images,
      warnings,
    }),
  };
}

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

/** A Flickr8k-layout folder picked by the user. */
async function loadFolder(
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

/** Features of one uploaded photo with the dataset's encoder (for caption ranking). */
export async function photoFeatures(
  blob: Blob,
  name: string,
  preset: EncoderPreset,
  baseUrl: string,
): Promise<Float32Array> {
  const encoder = await loadEncoder(preset, baseUrl);
  const img = await decodePhoto(blob, name, { maxSide: 1024 });
  const r = await extractFeatures(encoder, 1, () => Promise.resolve(img), {});
  if (r.failed.length) throw new Error(`${name}: could not be encoded`);
  return r.features;
}
