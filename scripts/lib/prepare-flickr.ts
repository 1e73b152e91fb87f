/**
 * Features of a Flickr8k folder's photos, prepared into a feature pack: the folder read and checked
 * (./flickr-folder.ts), every captioned photo encoded with the image encoders (src/model/encoders) in
 * chunks that a file feature cache keeps (so a rerun is instant and an interrupted one resumes), and
 * thumbnails made on the way. One process encodes all the chunks, or, for `prepare:flickr8k --jobs N`,
 * each of N processes encodes its shard of them into the cache ({@link encodeFlickrShard}) and the
 * pack is built from the cache afterwards.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { limitImages, selectImages, SPLIT_NAMES, type SplitName } from '../../src/model/data/flickr8k';
import { buildPack, type Pack } from '../../src/model/data/pack';
import { ENCODER_PRESETS, DEFAULT_ENCODER_ID } from '../../src/model/encoders/presets';
import { ImageEncoder } from '../../src/model/encoders/encoder';
import { extractFeatures } from '../../src/model/encoders/extract';
import { featureCacheKey, hashStrings } from '../../src/model/encoders/cache';
import type { EncoderPreset, RgbImage } from '../../src/model/encoders/types';
import { readFlickrFolder, type FlickrFolder } from './flickr-folder';
import { decodeJpeg, FileFeatureCache, nodeModelLoader, repoRoot } from './node-images';
import { encodeThumbnail } from './thumbnails';

/** Default feature-cache folder: $ORDEREMBED_CACHE, else node_modules/.cache/orderembed (git-ignored). */
export function defaultCacheDir(): string {
  const env = process.env.ORDEREMBED_CACHE;
  return env && env.trim() ? path.resolve(env) : path.join(repoRoot, 'node_modules', '.cache', 'orderembed');
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
