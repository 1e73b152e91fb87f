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
 */

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

/** The standard Flickr8k split sizes (Hodosh et al. 2013): the proportions of a seeded split. */
export const STANDARD_SPLIT_SIZES: Readonly<Record<SplitName, number>> = {
  train: 6000,
  dev: 1000,
  test: 1000,
};
/** Seed of the split made for a folder without split lists. */
export const SEEDED_SPLIT_SEED = 1;

/** 32-bit FNV-1a of a string's UTF-16 code units, then a murmur3 finalizer (so similar names scatter). */
function hashName(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A seeded split of images by file name, in the proportions of {@link STANDARD_SPLIT_SIZES}
 * (6000 / 1000 / 1000 of 8000): the images are ordered by a hash of `seed` and their name, and the first
 * eighth becomes dev, the next eighth test, the rest train (at least one training image). The split of a
 * photo depends only on its name, the seed and how many photos there are, never on the order of the
 * files, so every copy of the same photos splits the same way. Returns image indices (sorted) per split;
 * a split that would be empty (fewer than 4 images) is absent.
 */
export function seededSplit(
  names: readonly string[],
  seed: number = SEEDED_SPLIT_SEED,
): Partial<Record<SplitName, number[]>> {
  const n = names.length;
  const total = STANDARD_SPLIT_SIZES.train + STANDARD_SPLIT_SIZES.dev + STANDARD_SPLIT_SIZES.test;
  const order = [...names.keys()]
    .map((i) => ({ i, h: hashName(`${seed}:${names[i]}`) }))
    .sort((a, b) => a.h - b.h || (names[a.i] < names[b.i] ? -1 : names[a.i] > names[b.i] ? 1 : a.i - b.i))
    .map((x) => x.i);
  const nDev = Math.min(Math.round((n * STANDARD_SPLIT_SIZES.dev) / total), Math.max(0, n - 1));
  const nTest = Math.min(Math.round((n * STANDARD_SPLIT_SIZES.test) / total), Math.max(0, n - 1 - nDev));
  const sorted = (list: number[]) => list.sort((a, b) => a - b);
  const out: Partial<Record<SplitName, number[]>> = {};
  const dev = order.slice(0, nDev);
  const test = order.slice(nDev, nDev + nTest);
  const train = order.slice(nDev + nTest);
  if (train.length) out.train = sorted(train);
  if (dev.length) out.dev = sorted(dev);
  if (test.length) out.test = sorted(test);
  return out;
}

/** Fewer dev images than this make recall@K too coarse to compare runs by (one image = 1/n of R@K). */
export const MIN_MEANINGFUL_DEV_IMAGES = 100;

/**
 * Warnings about splits too small to train or evaluate meaningfully: a dev split of fewer than
 * {@link MIN_MEANINGFUL_DEV_IMAGES} images (R@K moves in steps of 100/n points), none at all, and (when
 * `batchSize` is given) a batch larger than the training split (every step then sees the same images).
 */
export function splitSizeWarnings(
  splits: Partial<Record<SplitName, readonly number[]>>,
  batchSize?: number,
): string[] {
  const out: string[] = [];
  const train = splits.train?.length ?? 0;
  const dev = splits.dev?.length ?? 0;
  if (!dev) out.push('no dev split: training shows no recall curves');
  else if (dev < MIN_MEANINGFUL_DEV_IMAGES)
    out.push(
      `the dev split has only ${dev} image${dev === 1 ? '' : 's'}: recall@K moves in steps of ${(100 / dev).toFixed(1)} points, too coarse to compare runs (${MIN_MEANINGFUL_DEV_IMAGES}+ images make it meaningful)`,
    );
  const batch = batchSize === undefined ? null : batchWarning(train, batchSize);
  if (batch) out.push(batch);
  return out;
}

/**
 * The warning for a batch larger than the training split (every step then holds every training image:
 * no sampling noise, and the in-batch negatives are the same each step), or null.
 */
export function batchWarning(trainImages: number, batchSize: number): string | null {
  if (!(trainImages > 0 && batchSize > trainImages)) return null;
  return `the batch (${batchSize}) is larger than the training split (${trainImages} images): every step sees the whole split; use a batch of at most ${trainImages}`;
}

/** How many individual problems of one kind are listed before the rest are only counted. */
export const MAX_LISTED_PROBLEMS = 10;

/** Collects per-line problems of one kind: the first few verbatim, then a count. */
class ProblemLog {
  private readonly listed: string[] = [];
  private count = 0;

  constructor(
    private readonly fileName: string,
    private readonly what: string,
  ) {}

  /** @param where a 1-based line number, or a location such as `images[3]` for JSON */
  add(where: number | string, message: string): void {
    this.count++;
    const at = typeof where === 'number' ? `${this.fileName}:${where}` : `${this.fileName} ${where}`;
    if (this.listed.length < MAX_LISTED_PROBLEMS) this.listed.push(`${at}: ${message}`);
  }

  /** The listed messages, then one summary line when anything was found. */
  flush(into: string[]): void {
    into.push(...this.listed);
    const plural = (n: number) => `${n} ${this.what}${n === 1 ? '' : 's'}`;
    const rest = this.count - this.listed.length;
    if (rest > 0) into.push(`${this.fileName}: ... and ${plural(rest)} more`);
    if (this.count > 0) into.push(`${this.fileName}: ${plural(this.count)} skipped`);
  }
}

function shorten(text: string, max = 60): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max - 3)}...` : text);
}

/** Lines of a text file (LF, CRLF or CR endings), without a leading byte-order mark. */
function splitLines(text: string): string[] {
  return text.replace(/^\uFEFF/, '').split(/\r?\n|\r/);
}

/**
 * A CSV field that may be wrapped in double quotes (`""` inside is one quote). Returns the unquoted
 * value, or the text unchanged when it is not one well-formed quoted field (tolerant: a caption that
 * merely starts with a quote stays as written).
 */
function unquoteField(field: string): string {
  const t = field.trim();
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) {
    const inner = t.slice(1, -1);
    // Every quote inside must be doubled for this to be one quoted field.
    if (!inner.replace(/""/g, '').includes('"')) return inner.replace(/""/g, '"');
  }
  return field;
}

/**
 * Splits a CSV row into the image field and the rest, on the first comma that is not inside a quoted
 * image name. Returns null when the row has no such comma.
 */
function splitFirstField(line: string): [string, string] | null {
  let i = 0;
  if (line.trimStart().startsWith('"')) {
    // Quoted image name: find its closing quote (skipping doubled quotes), then the comma.
    i = line.indexOf('"') + 1;
    for (; i < line.length; i++) {
      if (line[i] === '"') {
        if (line[i + 1] === '"') i++;
        else break;
      }
    }
    if (i >= line.length) return null;
  }
  const comma = line.indexOf(',', i);
  return comma < 0 ? null : [line.slice(0, comma), line.slice(comma + 1)];
}

/** Adds a caption row or reports why the line is unusable (empty image name or caption). */
function pushRow(
  rows: CaptionRow[],
  malformed: ProblemLog,
  empty: ProblemLog,
  image: string,
  caption: string,
  line: number,
  raw: string,
): void {
  if (!image) {
    malformed.add(line, `no image name in ${shorten(raw)}`);
    return;
  }
  if (!caption.trim()) {
    empty.add(line, `empty caption for ${image}`);
    return;
  }
  rows.push({ image, caption: caption.trim(), line });
}

/** Throws when a caption file gave nothing usable, quoting the first problems. */
function requireRows(rows: CaptionRow[], fileName: string, problems: string[], expected: string): void {
  if (rows.length > 0) return;
  const why = problems.length ? `: ${problems.slice(0, 3).join('; ')}` : '';
  throw new Error(`${fileName}: no usable caption found (expected ${expected})${why}`);
}

/**
 * Parses Flickr8k's `captions.txt` (CSV with the header `image,caption`). Each row splits on its first
 * comma; quoted fields (`"a, b"`, `""` for a quote) are unquoted. Blank lines are ignored; a line with
 * no comma or no image name is malformed, a row with an empty caption is reported as empty; both are
 * skipped with their line numbers. Throws when no usable row is left.
 */
export function parseCaptionsCsv(text: string, fileName: string): ParsedCaptions {
  const lines = splitLines(text);
  const problems: string[] = [];
  const malformed = new ProblemLog(fileName, 'malformed line');
  const empty = new ProblemLog(fileName, 'empty caption');
  const rows: CaptionRow[] = [];
  let start = 0;
  while (start < lines.length && !lines[start].trim()) start++;
  if (start < lines.length) {
    const header = lines[start]
      .split(',')
      .map((f) => unquoteField(f).trim().toLowerCase())
      .join(',');
    if (header === 'image,caption') start++;
    else
      problems.push(
        `${fileName}:${start + 1}: expected the header 'image,caption', got ${shorten(lines[start])}; reading it as data`,
      );
  }
  for (let i = start; i < lines.length; i++) {
    const raw = lines[i];
    if (!raw.trim()) continue;
    const parts = splitFirstField(raw);
    if (!parts) {
      malformed.add(i + 1, `expected 'image,caption', got ${shorten(raw)}`);
      continue;
    }
    pushRow(rows, malformed, empty, unquoteField(parts[0]).trim(), unquoteField(parts[1]), i + 1, raw);
  }
  malformed.flush(problems);
  empty.flush(problems);
  requireRows(rows, fileName, problems, "CSV rows 'image,caption'");
  return { rows, problems };
}

/**
 * Parses the original `Flickr8k.token.txt`: `name.jpg#k<TAB>caption` per line (the `#k` caption number
 * is optional). Lines without a tab or image name are malformed, lines with an empty caption are
 * reported as empty; both are skipped with their line numbers. Throws when no usable line is left.
 */
export function parseFlickrToken(text: string, fileName: string): ParsedCaptions {
  const lines = splitLines(text);
  const problems: string[] = [];
  const malformed = new ProblemLog(fileName, 'malformed line');
  const empty = new ProblemLog(fileName, 'empty caption');
  const rows: CaptionRow[] = [];
  lines.forEach((raw, i) => {
    if (!raw.trim()) return;
    const tab = raw.indexOf('\t');
    if (tab < 0) {
      malformed.add(i + 1, `expected 'name.jpg#k<TAB>caption', got ${shorten(raw)}`);
      return;
    }
    const key = raw.slice(0, tab).trim();
    const hash = key.search(/#\d+$/);
    pushRow(rows, malformed, empty, hash < 0 ? key : key.slice(0, hash), raw.slice(tab + 1), i + 1, raw);
  });
  malformed.flush(problems);
  empty.flush(problems);
  requireRows(rows, fileName, problems, "lines 'name.jpg#k<TAB>caption'");
  return { rows, problems };
}

const KARPATHY_SPLITS: Record<string, SplitName> = {
  train: 'train',
  restval: 'train',
  val: 'dev',
  dev: 'dev',
  test: 'test',
};

/**
 * Parses Karpathy's `dataset_flickr8k.json`: `{images: [{filename, split, sentences: [{raw, tokens}]}]}`.
 * Captions come from `raw` (else the joined `tokens`); `split` val -> dev, restval -> train. Entries
 * without a file name and empty sentences are skipped and reported by their position
 * (`images[i].sentences[j]`). Throws for invalid JSON or when no usable caption is left.
 */
export function parseKarpathyJson(text: string, fileName: string): ParsedCaptions {
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new Error(`${fileName}: not valid JSON (${(e as Error).message})`);
  }
  const images = (doc as { images?: unknown } | null)?.images;
  if (!Array.isArray(images)) throw new Error(`${fileName}: expected an object with an 'images' array`);
  const problems: string[] = [];
  const bad = new ProblemLog(fileName, 'unusable entry');
  const rows: CaptionRow[] = [];
  const splits: Partial<Record<SplitName, string[]>> = {};
  const unknownSplits = new Map<string, number>();
  images.forEach((entry: unknown, i) => {
    const e = (entry ?? {}) as { filename?: unknown; split?: unknown; sentences?: unknown };
    if (typeof e.filename !== 'string' || !e.filename.trim()) {
      bad.add(`images[${i}]`, `no 'filename'`);
      return;
    }
    const name = e.filename.trim();
    if (typeof e.split === 'string') {
      const split = KARPATHY_SPLITS[e.split];
      if (split) (splits[split] ??= []).push(name);
      else unknownSplits.set(e.split, (unknownSplits.get(e.split) ?? 0) + 1);
    }
    const sentences = Array.isArray(e.sentences) ? e.sentences : [];
    if (!sentences.length) bad.add(`images[${i}]`, `no 'sentences' for ${name}`);
    sentences.forEach((s: unknown, j: number) => {
      const { raw, tokens } = (s ?? {}) as { raw?: unknown; tokens?: unknown };
      const caption =
        typeof raw === 'string'
          ? raw
          : Array.isArray(tokens)
            ? tokens.filter((t) => typeof t === 'string').join(' ')
            : '';
      if (!caption.trim()) bad.add(`images[${i}].sentences[${j}]`, `empty caption for ${name}`);
      else rows.push({ image: name, caption: caption.trim(), line: 0 });
    });
  });
  bad.flush(problems);
  for (const [split, n] of unknownSplits)
    problems.push(
      `${fileName}: ${n} image(s) with unknown split '${split}' (expected train, restval, val, test)`,
    );
  requireRows(rows, fileName, problems, 'images[].sentences[].raw');
  return { rows, splits, problems };
}

/** Image names of a split list, one per line (blank lines ignored, surrounding spaces trimmed). */
export function parseSplitList(text: string): string[] {
  return splitLines(text)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

/** Which parser reads a caption file: by extension, else by content (a tab-separated `#k` key). */
export function detectCaptionFormat(file: TextFile): 'csv' | 'token' | 'karpathy' {
  const name = file.name.toLowerCase();
  if (name.endsWith('.json')) return 'karpathy';
  if (name.endsWith('.csv')) return 'csv';
  const first = splitLines(file.text).find((l) => l.trim()) ?? '';
  if (first.trimStart().startsWith('{')) return 'karpathy';
  if (/^[^\t,]+#\d+\t/.test(first) || (first.includes('\t') && !first.includes(','))) return 'token';
  return 'csv';
}

/** Parses a caption file in any of the three formats (see {@link detectCaptionFormat}). */
export function parseCaptionFile(file: TextFile): ParsedCaptions {
  switch (detectCaptionFormat(file)) {
    case 'karpathy':
      return parseKarpathyJson(file.text, file.name);
    case 'token':
      return parseFlickrToken(file.text, file.name);
    default:
      return parseCaptionsCsv(file.text, file.name);
  }
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
