/**
 * Flickr8k folders on disk, read and parsed: any of the three caption formats, the split lists, an image
 * folder. The parsing lives in src/model/data/flickr8k.ts (shared with the browser); this file only
 * lists and reads the files.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  buildFlickrDataset,
  locateFlickrFiles,
  type CaptionedImages,
  type FlickrLayout,
  type SplitName,
  type TextFile,
} from '../../src/model/data/flickr8k';

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

/** True when `p` is a folder (false when it is missing or a file). */
export function isDir(p: string): boolean {
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
