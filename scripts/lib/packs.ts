/**
 * Feature packs on disk (manifest.json, features.bin, thumbs/<i>.jpg): read, write, and where
 * prepare:flickr8k puts one by default. The (de)serialization lives in src/model/data/pack.ts, shared
 * with the browser.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  PACK_FEATURES,
  PACK_MANIFEST,
  packThumbPath,
  packToDataset,
  parsePackManifest,
  serializePack,
  type Pack,
  type PackManifest,
} from '../../src/model/data/pack';
import type { Dataset } from '../../src/model/types';
import { repoRoot } from './node-images';

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

/**
 * Default pack folder of a Flickr8k preparation:
 * public/packs/flickr8k-<encoder>[-crops10][-limitN][-mirror].
 */
export function defaultPackDir(encoder: string, crops: number, limit?: number, mirror = false): string {
  const name = `flickr8k-${encoder}${crops === 10 ? '-crops10' : ''}${limit ? `-limit${limit}` : ''}${mirror ? '-mirror' : ''}`;
  return path.join(repoRoot, 'public', 'packs', name);
}
