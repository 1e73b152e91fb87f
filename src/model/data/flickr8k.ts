/**
 * Flickr8k caption and split files -> a list of captioned images, with no Node or DOM APIs: the browser
 * feeds it the files of a folder the user picks, the Node scripts feed it files read from disk.
 *
 * Accepted caption formats (all three describe the same photos):
 * - `captions.txt`: CSV with the header `image,caption`, 5 rows per photo; a caption may contain commas,
 *   so a row splits on its FIRST comma (a caption wrapped in double quotes, CSV style, is unquoted).
 * - `Flickr8k.token.txt` (the original release): `name.jpg#k<TAB>caption`.
 * - `dataset_flickr8k.json` (Karpathy's splits): `images[].filename`, `images[].split` (`train`, `val`,
 *   `test`; `val` becomes `dev`, `restval` `train`) and `images[].sentences[].raw` (or `.tokens`).
 *
 * Split lists (`Flickr_8k.trainImages.txt`, ...) hold one image name per line. A missing list means that
 * split is unavailable (its key is absent), never an error. A copy with no split information at all
 * (the common public download: `Images/` and `captions.txt` only) gets a seeded split by file name in
 * the standard 6000 / 1000 / 1000 proportions ({@link seededSplit}), and a note that says so.
 *
 * Bad input never stops the parse while something usable is left: each malformed or empty caption line
 * is skipped and reported with its file name and line number in `problems`, with a count; a file with
 * no usable line at all throws.
 *
 * The parsers are in ./flickr8k-captions.ts, the seeded split and the split-size warnings in
 * ./flickr8k-splits.ts; this file has the shapes, the folder layout and the dataset assembly.
 */
import { parseCaptionFile, parseSplitList } from './flickr8k-captions';
import { SEEDED_SPLIT_SEED, seededSplit } from './flickr8k-splits';

export {
  detectCaptionFormat,
  MAX_LISTED_PROBLEMS,
  parseCaptionFile,
  parseCaptionsCsv,
  parseFlickrToken,
  parseKarpathyJson,
  parseSplitList,
} from './flickr8k-captions';
export {
  batchWarning,
  MIN_MEANINGFUL_DEV_IMAGES,
  SEEDED_SPLIT_SEED,
  seededSplit,
  splitSizeWarnings,
  STANDARD_SPLIT_SIZES,
} from './flickr8k-splits';

/** The split names of a dataset (`Dataset.splits` keys). */
export type SplitName = 'train' | 'dev' | 'test';
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'dev', 'test'];

/** A text file by name (the name only appears in messages and picks the format). */
export interface TextFile {
  name: string;
  text: string;
}

/** One caption of a caption file, before images are numbered. */
export interface CaptionRow {
  image: string;
  caption: string;
  /** 1-based line of the row in its file (0 for formats without lines, e.g. JSON). */
  line: number;
}

/** What a caption-file parser returns. */
export interface ParsedCaptions {
  rows: CaptionRow[];
  /** Splits named inside the caption file itself (Karpathy's JSON only), as image names. */
  splits?: Partial<Record<SplitName, string[]>>;
  /** Skipped lines and other findings, each naming the file (and line). */
  problems: string[];
}

/**
 * Captioned images before feature extraction: image names, captions pointing at their image, splits as
 * image indices, and every problem found on the way (already human-readable).
 */
export interface CaptionedImages {
  images: string[];
  captions: { image: number; text: string }[];
  splits: Partial<Record<SplitName, number[]>>;
  problems: string[];
  /**
   * Things the user should know that are not problems, e.g. that the splits were made here because the
   * folder has no split lists (shown beside the dataset, not among its warnings).
   */
  notes?: string[];
}

/** Caption files of the three formats, in order of preference when several are present. */
export const CAPTION_FILE_NAMES = ['captions.txt', 'Flickr8k.token.txt', 'dataset_flickr8k.json'] as const;
/** The split-list file of each split. */
export const SPLIT_FILE_NAMES: Record<SplitName, string> = {
  train: 'Flickr_8k.trainImages.txt',
  dev: 'Flickr_8k.devImages.txt',
  test: 'Flickr_8k.testImages.txt',
};
/** Folder names that hold the photos in the known layouts (preferred over other folders of photos). */
export const IMAGE_DIR_NAMES = ['Images', 'images', 'Flicker8k_Dataset', 'Flickr8k_Dataset'] as const;
/**
 * File names taken for photos: JPEG (all of Flickr8k), and the other formats a user's folder may hold.
 * Those the browser cannot decode (HEIC, TIFF) are still listed, so that each gets a message naming it
 * (src/model/encoders/photo.ts) rather than silently missing from the dataset.
 */
export const PHOTO_NAME = /\.(jpe?g|png|gif|webp|bmp|avif|heic|heif|tiff?)$/i;

/** Where the files of a Flickr8k layout are, as paths relative to the folder (`/`-separated). */
export interface FlickrLayout {
  captions: string;
  splits: Partial<Record<SplitName, string>>;
  /** Folder of the photos ('' = the folder itself). */
  imageDir: string;
  /** File names of the photos in `imageDir`. */
  imageNames: string[];
}

/**
 * Finds the files of a Flickr8k layout among the relative paths of a folder's files (a recursive
 * listing in Node, `webkitRelativePath` of a folder picked in the browser; `\` is read as `/`): the
 * shallowest caption file by {@link CAPTION_FILE_NAMES} preference, the split lists beside it or
 * anywhere, and the folder of photos (a folder named as in {@link IMAGE_DIR_NAMES}, else the one with
 * the most photos). Throws naming what is missing.
 */
export function locateFlickrFiles(paths: readonly string[]): FlickrLayout {
  const norm = paths.map((p) => p.replace(/\\/g, '/').replace(/^\.\//, ''));
  const depth = (p: string) => p.split('/').length;
  const base = (p: string) => p.slice(p.lastIndexOf('/') + 1);
  const dirOf = (p: string) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');
  const shallowest = (name: string) =>
    norm.filter((p) => base(p) === name).sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : 1))[0];
  let captions: string | undefined;
  for (const name of CAPTION_FILE_NAMES) captions ??= shallowest(name);
  if (!captions) throw new Error(`no caption file found (expected one of ${CAPTION_FILE_NAMES.join(', ')})`);
  const splits: Partial<Record<SplitName, string>> = {};
  for (const split of SPLIT_NAMES) {
    const beside = norm.find(
      (p) => p === [dirOf(captions), SPLIT_FILE_NAMES[split]].filter(Boolean).join('/'),
    );
    const found = beside ?? shallowest(SPLIT_FILE_NAMES[split]);
    if (found) splits[split] = found;
  }
  const byDir = new Map<string, string[]>();
  for (const p of norm) {
    if (!PHOTO_NAME.test(p)) continue;
    const list = byDir.get(dirOf(p)) ?? [];
    list.push(base(p));
    byDir.set(dirOf(p), list);
  }
  if (!byDir.size)
    throw new Error(
      `no photos in the folder (${norm.length} file${norm.length === 1 ? '' : 's'}, none named .jpg, .jpeg, .png, .gif, .webp, .bmp, .avif or .heic); Flickr8k keeps its photos in Images/`,
    );
  const dirs = [...byDir.keys()];
  const named = dirs.filter((d) => (IMAGE_DIR_NAMES as readonly string[]).includes(base(d)));
  const pick = (named.length ? named : dirs).sort((a, b) => byDir.get(b)!.length - byDir.get(a)!.length)[0];
  return { captions, splits, imageDir: pick, imageNames: byDir.get(pick)!.sort() };
}

export interface FlickrFiles {
  /** The caption file (`captions.txt`, `Flickr8k.token.txt` or `dataset_flickr8k.json`). */
  captionsFile: TextFile;
  /** Split lists by split; an absent one means that split is unavailable (unless the JSON names it). */
  splitFiles?: Partial<Record<SplitName, TextFile>>;
  /**
   * Names of the images present in the image folder. When given, captions of images not among them are
   * reported and skipped, and so are split-list names without a usable image.
   */
  imageNames?: readonly string[];
}

function listSome(names: readonly string[], max = 5): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown}, ... (${names.length} in all)` : shown;
}

/**
 * Numbers the captioned images (in the order of their first caption) and resolves the split lists to
 * image indices. Reports (in `problems`): the caption parser's findings; captions whose image is not in
 * `imageNames` (skipped); images of the folder without a caption (ignored); split-list names that are
 * not among the captioned images (skipped); images listed in two splits. A split list given as a file
 * overrides a split named inside Karpathy's JSON. Throws when no captioned image is left.
 */
export function buildFlickrDataset(files: FlickrFiles): CaptionedImages {
  const { captionsFile, splitFiles = {}, imageNames } = files;
  const parsed = parseCaptionFile(captionsFile);
  const problems = [...parsed.problems];
  const present = imageNames ? new Set(imageNames) : null;

  const index = new Map<string, number>();
  const images: string[] = [];
  const captions: { image: number; text: string }[] = [];
  const missing = new Map<string, number>();
  for (const row of parsed.rows) {
    if (present && !present.has(row.image)) {
      missing.set(row.image, (missing.get(row.image) ?? 0) + 1);
      continue;
    }
    let k = index.get(row.image);
    if (k === undefined) {
      k = images.length;
      images.push(row.image);
      index.set(row.image, k);
    }
    captions.push({ image: k, text: row.caption });
  }
  if (missing.size) {
    const n = [...missing.values()].reduce((a, b) => a + b, 0);
    problems.push(
      `${captionsFile.name}: ${n} caption(s) of ${missing.size} image(s) not found in the image folder, skipped: ${listSome([...missing.keys()])}`,
    );
  }
  if (present) {
    const uncaptioned = [...present].filter((n) => !index.has(n));
    if (uncaptioned.length)
      problems.push(
        `${uncaptioned.length} image(s) in the folder have no caption, ignored: ${listSome(uncaptioned)}`,
      );
  }
  if (!images.length) {
    throw new Error(
      `${captionsFile.name}: none of the captioned images is in the image folder (${imageNames?.length ?? 0} images there)`,
    );
  }

  const splits: Partial<Record<SplitName, number[]>> = {};
  for (const split of SPLIT_NAMES) {
    const file = splitFiles[split];
    const names = file ? parseSplitList(file.text) : parsed.splits?.[split];
    if (!names) continue;
    const source = file ? file.name : `${captionsFile.name} (split '${split}')`;
    const seen = new Set<number>();
    const unknown: string[] = [];
    for (const name of names) {
      const k = index.get(name);
      if (k === undefined) unknown.push(name);
      else seen.add(k);
    }
    if (unknown.length)
      problems.push(
        `${source}: ${unknown.length} name(s) not among the captioned images, skipped: ${listSome(unknown)}`,
      );
    if (!seen.size) {
      problems.push(`${source}: no usable image, so the '${split}' split is unavailable`);
      continue;
    }
    splits[split] = [...seen].sort((a, b) => a - b);
  }
  const notes: string[] = [];
  const anySplitGiven =
    SPLIT_NAMES.some((s) => splitFiles[s]) || SPLIT_NAMES.some((s) => parsed.splits?.[s]?.length);
  if (!anySplitGiven) {
    Object.assign(splits, seededSplit(images));
    const sizes = SPLIT_NAMES.map((s) => `${s} ${splits[s]?.length ?? 0}`).join(' / ');
    notes.push(
      `No split lists (${Object.values(SPLIT_FILE_NAMES).join(', ')}) in the folder: the ${images.length} photos were split by file name with seed ${SEEDED_SPLIT_SEED} into ${sizes} (the standard 6000 / 1000 / 1000 proportions).`,
    );
  }
  for (let a = 0; a < SPLIT_NAMES.length; a++) {
    for (let b = a + 1; b < SPLIT_NAMES.length; b++) {
      const sa = splits[SPLIT_NAMES[a]];
      const sb = splits[SPLIT_NAMES[b]];
      if (!sa || !sb) continue;
      const other = new Set(sb);
      const both = sa.filter((k) => other.has(k)).map((k) => images[k]);
      if (both.length)
        problems.push(
          `${both.length} image(s) are in both '${SPLIT_NAMES[a]}' and '${SPLIT_NAMES[b]}': ${listSome(both)}`,
        );
    }
  }
  return { images, captions, splits, problems, ...(notes.length ? { notes } : {}) };
}

/**
 * Keeps at most `limit` images, taken from the start of each split in proportion to the split's size
 * (at least one per split while the limit allows); images in no split are dropped. Captions and split
 * indices are renumbered. For quick runs and small test packs.
 */
export function limitImages(data: CaptionedImages, limit: number): CaptionedImages {
  if (!(Number.isInteger(limit) && limit > 0))
    throw new Error(`limit must be a positive integer, got ${limit}`);
  const present = SPLIT_NAMES.filter((s) => data.splits[s]?.length);
  if (!present.length) return selectImages(data, [...data.images.keys()].slice(0, limit));
  const total = present.reduce((n, s) => n + data.splits[s]!.length, 0);
  if (total <= limit) return selectImages(data, [...new Set(present.flatMap((s) => data.splits[s]!))]);
  const keep = new Set<number>();
  present.forEach((s) => {
    const list = data.splits[s]!;
    const share = Math.max(1, Math.round((limit * list.length) / total));
    for (const k of list.slice(0, share)) if (keep.size < limit) keep.add(k);
  });
  return selectImages(
    data,
    [...keep].sort((a, b) => a - b),
  );
}

/**
 * The captioned images restricted to `keep` (old indices, in the new order): captions and splits are
 * renumbered, entries of dropped images removed. Problems are carried over.
 */
export function selectImages(data: CaptionedImages, keep: readonly number[]): CaptionedImages {
  const map = new Map(keep.map((old, k) => [old, k]));
  const splits: Partial<Record<SplitName, number[]>> = {};
  for (const s of SPLIT_NAMES) {
    const list = data.splits[s];
    if (!list) continue;
    const kept = list.filter((k) => map.has(k)).map((k) => map.get(k)!);
    if (kept.length) splits[s] = kept;
  }
  return {
    images: keep.map((k) => data.images[k]),
    captions: data.captions
      .filter((c) => map.has(c.image))
      .map((c) => ({ image: map.get(c.image)!, text: c.text })),
    splits,
    problems: [...data.problems],
    ...(data.notes ? { notes: [...data.notes] } : {}),
  };
}
