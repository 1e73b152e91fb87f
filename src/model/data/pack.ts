/**
 * Feature packs: a captioned-image dataset with precomputed image features, ready to train on in the
 * browser or in Node without decoding a photo. No Node or DOM APIs: a pack is read from / written to
 * JSON text and an ArrayBuffer; the Node scripts and the browser do the file I/O.
 *
 * A pack is a folder:
 * - `manifest.json`: {@link PackManifest} (format `orderembed-pack`, version 1): image names, captions,
 *   splits as image indices, the image encoder preset and feature size, the images that failed to decode;
 * - `features.bin`: float32 little-endian, row-major [numImages, featureDim] (or float16 when
 *   `manifest.featureType` says so: half the size, for packs that ship in the repository);
 * - `thumbs/<i>.jpg`: small thumbnails of image i (optional; `manifest.thumbSize` gives their size).
 */
import type { Dataset } from '../types';
import {
  BYTES_PER_VALUE,
  float16FromLittleEndian,
  float16ToLittleEndian,
  float32FromLittleEndian,
  float32ToLittleEndian,
  type Bytes,
} from './binary';
import { selectImages, SPLIT_NAMES, type CaptionedImages, type SplitName } from './flickr8k';

export const PACK_FORMAT = 'orderembed-pack';
export const PACK_VERSION = 1;
export const PACK_MANIFEST = 'manifest.json';
export const PACK_FEATURES = 'features.bin';
/** Storage types of `features.bin`; float16 keeps about 3 significant digits, plenty for CNN features. */
export const PACK_FEATURE_TYPES = ['float32', 'float16'] as const;
export type PackFeatureType = (typeof PACK_FEATURE_TYPES)[number];

/** Path of image i's thumbnail inside a pack folder. */
export function packThumbPath(i: number): string {
  return `thumbs/${i}.jpg`;
}

export interface PackManifest {
  format: typeof PACK_FORMAT;
  version: typeof PACK_VERSION;
  /** Dataset name (shown in the UI and written into trained runs). */
  name: string;
  /** Image-encoder preset id the features were computed with. */
  encoder: string;
  featureDim: number;
  /** How `features.bin` stores the values; absent means float32 (packs written before float16). */
  featureType?: PackFeatureType;
  /** Crops averaged per image (1 = the whole image; 10 = corners and centre, and their mirror images). */
  crops: number;
  /**
   * True when the features are those of the photos mirrored left-right (a second view of another pack
   * of the same photos, for training-time augmentation: `train --augment <this pack>`).
   */
  mirror?: boolean;
  numImages: number;
  /** File names of the images, in feature-row order. */
  images: string[];
  captions: { image: number; text: string }[];
  /** Image indices of each available split; an absent split is unavailable. */
  splits: Partial<Record<SplitName, number[]>>;
  /** Images of the source that could not be read or decoded, left out of the pack. */
  failedImages: string[];
  /** ISO time of creation. */
  createdAt: string;
  /** Side in pixels of `thumbs/<i>.jpg`, or null/absent when the pack has no thumbnails. */
  thumbSize?: number | null;
  /** Problems found in the source data while building (skipped lines, missing images, ...). */
  problems?: string[];
}

/** A pack in memory: its manifest and its features [numImages, featureDim]. */
export interface Pack {
  manifest: PackManifest;
  features: Float32Array;
}

export interface BuildPackOptions {
  name: string;
  encoder: string;
  featureDim: number;
  crops: number;
  /** Features of the mirrored photos (see {@link PackManifest.mirror}). */
  mirror?: boolean;
  /** Indices (into `data.images`) of images whose features could not be computed. */
  failed?: readonly number[];
  /** Storage type of `features.bin` (default float32); float16 features are rounded in the pack too. */
  featureType?: PackFeatureType;
  thumbSize?: number | null;
  /** Creation time; now by default. */
  createdAt?: string;
}

/**
 * Builds a pack from captioned images and their features (one row per `data.images` entry, in order).
 * Failed images are left out (their captions and split entries with them) and listed by name in
 * `failedImages`; the data's problems are kept in the manifest.
 */
export function buildPack(data: CaptionedImages, features: Float32Array, opts: BuildPackOptions): Pack {
  const D = opts.featureDim;
  const n = data.images.length;
  if (features.length !== n * D) {
    throw new Error(`features hold ${features.length} numbers, expected ${n} images x ${D} = ${n * D}`);
  }
  const failed = new Set(opts.failed ?? []);
  const keep = [...data.images.keys()].filter((i) => !failed.has(i));
  if (!keep.length) throw new Error(`pack '${opts.name}': all ${n} images failed, nothing to pack`);
  const kept = selectImages(data, keep);
  const out = new Float32Array(keep.length * D);
  keep.forEach((old, i) => out.set(features.subarray(old * D, (old + 1) * D), i * D));
  const half = opts.featureType === 'float16';
  // Round in memory too, so that the pack trains on exactly what a reader of its file gets.
  if (half) out.set(float16FromLittleEndian(float16ToLittleEndian(out), 'features'));
  const manifest: PackManifest = {
    format: PACK_FORMAT,
    version: PACK_VERSION,
    name: opts.name,
    encoder: opts.encoder,
    featureDim: D,
    ...(half ? { featureType: 'float16' as const } : {}),
    crops: opts.crops,
    ...(opts.mirror ? { mirror: true } : {}),
    numImages: keep.length,
    images: kept.images,
    captions: kept.captions,
    splits: kept.splits,
    failedImages: [...failed].sort((a, b) => a - b).map((i) => data.images[i]),
    createdAt: opts.createdAt ?? new Date().toISOString(),
    thumbSize: opts.thumbSize ?? null,
    problems: data.problems,
  };
  checkManifest(manifest);
  return { manifest, features: out };
}

/** The two files of a pack (thumbnails aside): `manifest.json` text and `features.bin` bytes. */
export function serializePack(pack: Pack): { [PACK_MANIFEST]: string; [PACK_FEATURES]: ArrayBuffer } {
  checkManifest(pack.manifest);
  checkFeatures(pack.manifest, pack.features);
  return {
    [PACK_MANIFEST]: JSON.stringify(pack.manifest) + '\n',
    [PACK_FEATURES]:
      pack.manifest.featureType === 'float16'
        ? float16ToLittleEndian(pack.features)
        : float32ToLittleEndian(pack.features),
  };
}

/**
 * Parses and checks `manifest.json` (its text or the parsed object). Throws a message naming the field
 * for a wrong format or version, missing or inconsistent sizes, or captions/splits outside the images.
 */
export function parsePackManifest(json: unknown, source = PACK_MANIFEST): PackManifest {
  let obj: unknown = json;
  if (typeof json === 'string') {
    try {
      obj = JSON.parse(json);
    } catch (e) {
      throw new Error(`${source}: not valid JSON (${(e as Error).message})`);
    }
  }
  if (typeof obj !== 'object' || obj === null) throw new Error(`${source}: expected a JSON object`);
  const m = obj as PackManifest;
  if (m.format !== PACK_FORMAT)
    throw new Error(`${source}: format is ${JSON.stringify(m.format)}, expected '${PACK_FORMAT}'`);
  if (m.version !== PACK_VERSION)
    throw new Error(
      `${source}: version ${JSON.stringify(m.version)} is not supported (expected ${PACK_VERSION})`,
    );
  checkManifest(m, source);
  return m;
}

export interface PackToDatasetOptions {
  /** The image-encoder preset the caller needs; a pack built with another one is rejected. */
  expectEncoder?: string;
}

/**
 * The dataset of a pack: features from `features.bin` (bytes), captions and splits from the manifest.
 * Throws for a wrong `features.bin` size, a row with a NaN or infinite value (naming the image file),
 * or an encoder other than `expectEncoder` ("pack built with encoder X, expected Y").
 */
export function packToDataset(
  manifest: PackManifest,
  featuresBuffer: Bytes,
  opts: PackToDatasetOptions = {},
): Dataset {
  checkManifest(manifest);
  checkEncoder(manifest, opts);
  const { numImages: n, featureDim: D } = manifest;
  const type = manifest.featureType ?? 'float32';
  const size = BYTES_PER_VALUE[type];
  const bytes = featuresBuffer.byteLength;
  if (bytes !== n * D * size) {
    throw new Error(
      `pack '${manifest.name}': ${PACK_FEATURES} holds ${bytes} bytes, expected ${n} images x ${D} ${type} features x ${size} = ${n * D * size}`,
    );
  }
  const read = type === 'float16' ? float16FromLittleEndian : float32FromLittleEndian;
  return packDataset({ manifest, features: read(featuresBuffer, PACK_FEATURES) }, opts);
}

/** The dataset of a pack held in memory (same checks as {@link packToDataset}; the features are shared). */
export function packDataset(pack: Pack, opts: PackToDatasetOptions = {}): Dataset {
  const { manifest, features } = pack;
  checkManifest(manifest);
  checkEncoder(manifest, opts);
  checkFeatures(manifest, features);
  return {
    name: manifest.name,
    imageDim: manifest.featureDim,
    features,
    numImages: manifest.numImages,
    captions: manifest.captions,
    splits: manifest.splits,
  };
}

function checkEncoder(manifest: PackManifest, opts: PackToDatasetOptions): void {
  if (opts.expectEncoder !== undefined && manifest.encoder !== opts.expectEncoder) {
    throw new Error(
      `pack '${manifest.name}' was built with encoder ${manifest.encoder}, expected ${opts.expectEncoder}`,
    );
  }
}

/** Throws naming the first image whose feature row holds a NaN or infinite value. */
function checkFeatures(m: PackManifest, features: Float32Array): void {
  const D = m.featureDim;
  if (features.length !== m.numImages * D) {
    throw new Error(
      `pack '${m.name}': features hold ${features.length} numbers, expected ${m.numImages} x ${D}`,
    );
  }
  for (let i = 0; i < features.length; i++) {
    if (!Number.isFinite(features[i])) {
      const img = Math.floor(i / D);
      throw new Error(
        `pack '${m.name}': the features of image ${img} (${m.images[img]}) hold ${features[i]} at index ${i % D}`,
      );
    }
  }
}

/** Structural checks of a manifest, naming the field. */
function checkManifest(m: PackManifest, source = `pack '${m.name}'`): void {
  const positiveInt = (k: 'featureDim' | 'numImages' | 'crops') => {
    if (!(Number.isInteger(m[k]) && m[k] > 0))
      throw new Error(`${source}: '${k}' must be a positive integer, got ${JSON.stringify(m[k])}`);
  };
  if (typeof m.name !== 'string' || !m.name) throw new Error(`${source}: 'name' must be a non-empty string`);
  if (typeof m.encoder !== 'string' || !m.encoder)
    throw new Error(`${source}: 'encoder' must name the image-encoder preset`);
  positiveInt('featureDim');
  positiveInt('numImages');
  positiveInt('crops');
  if (m.featureType !== undefined && !PACK_FEATURE_TYPES.includes(m.featureType))
    throw new Error(
      `${source}: 'featureType' must be one of ${PACK_FEATURE_TYPES.join(', ')}, got ${JSON.stringify(m.featureType)}`,
    );
  if (!Array.isArray(m.images) || m.images.length !== m.numImages)
    throw new Error(
      `${source}: 'images' lists ${Array.isArray(m.images) ? m.images.length : 'no'} names, expected numImages = ${m.numImages}`,
    );
  if (!Array.isArray(m.captions) || !m.captions.length) throw new Error(`${source}: 'captions' is empty`);
  m.captions.forEach((c, k) => {
    if (!(Number.isInteger(c?.image) && c.image >= 0 && c.image < m.numImages) || typeof c.text !== 'string')
      throw new Error(
        `${source}: caption ${k} must be {image: 0..${m.numImages - 1}, text}, got ${JSON.stringify(c)}`,
      );
  });
  if (typeof m.splits !== 'object' || m.splits === null)
    throw new Error(`${source}: 'splits' must be an object`);
  for (const [split, list] of Object.entries(m.splits)) {
    if (!SPLIT_NAMES.includes(split as SplitName))
      throw new Error(`${source}: unknown split '${split}' (expected ${SPLIT_NAMES.join(', ')})`);
    if (!Array.isArray(list) || list.some((i) => !(Number.isInteger(i) && i >= 0 && i < m.numImages)))
      throw new Error(`${source}: split '${split}' must list image indices 0..${m.numImages - 1}`);
  }
  if (!Array.isArray(m.failedImages)) throw new Error(`${source}: 'failedImages' must be a list of names`);
}
