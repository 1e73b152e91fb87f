/**
 * Flickr8k caption files and split lists -> rows (./flickr8k.ts has the formats): the three caption
 * formats, each malformed or empty line skipped and reported with its file name and line number (the
 * first few verbatim, then a count); a file with no usable line at all throws.
 */
import type { CaptionRow, ParsedCaptions, SplitName, TextFile } from './flickr8k';

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
