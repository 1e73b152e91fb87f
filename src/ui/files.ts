/**
 * Files the user gives the page: photos, picked or dropped folders, run files, downloads. Only light
 * work here (paths, names, a few header bytes); features are computed in the worker.
 */
import { MAX_QUERY_CHARS, type PickedFile } from '../worker/protocol';
import { readZip } from './zip';
import { formatBytes, LIMITS } from '../model/limits';

// HEIC/HEIF count as photos so that each gets a message naming it (decodePhoto explains how to convert).
const IMAGE_EXTENSIONS = ['jpg', 'jpeg', 'png', 'gif', 'webp', 'bmp', 'avif', 'heic', 'heif'];

const extension = (name: string): string => {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? '' : name.slice(dot + 1).toLowerCase();
};

/** Whether a picked file is a photo the browser can decode (by MIME type, else by extension). */
export function isImageFile(file: { name: string; type: string }): boolean {
  if (file.type) return file.type.startsWith('image/') && file.type !== 'image/svg+xml';
  return IMAGE_EXTENSIONS.includes(extension(file.name));
}

/** A message naming the file when it is not a photo; null when it is fine. */
export function imageFileError(
  file: { name: string; type: string; size: number } | null | undefined,
): string | null {
  if (!file) return 'Choose a photo first.';
  if (!isImageFile(file))
    return `${file.name}: not a photo (${file.type || 'unknown type'}); use a JPEG, PNG, GIF, WebP or BMP image.`;
  if (file.size === 0) return `“${file.name}” is empty.`;
  return null;
}

/** A message naming what is wrong with a typed query; null when it can be sent. */
export function queryError(text: string, what = 'The sentence'): string | null {
  if (text.trim() === '') return `${what} is empty: type a few words.`;
  if (text.length > MAX_QUERY_CHARS)
    return `${what} is too long: ${text.length} characters, at most ${MAX_QUERY_CHARS}.`;
  return null;
}

/** Skips hidden files and folders (.DS_Store, .git/...) that a folder pick drags along. */
const isHidden = (path: string): boolean =>
  path.split('/').some((seg) => seg.startsWith('.') || seg === '__MACOSX');

/** Drops the top folder of a path (`Flickr8k/Images/1.jpg` -> `Images/1.jpg`). */
export function stripTopFolder(path: string): string {
  const p = path.replace(/^\/+/, '');
  const slash = p.indexOf('/');
  return slash < 0 ? p : p.slice(slash + 1);
}

/** The folder name and files of an `<input type=file webkitdirectory>` selection. */
export function pickedFolder(files: ArrayLike<File>): { name: string; files: PickedFile[] } {
  const list = Array.from(files);
  const first = list[0]?.webkitRelativePath ?? '';
  const name = first.includes('/') ? first.slice(0, first.indexOf('/')) : 'folder';
  const picked = list
    .map((f) => ({ path: f.webkitRelativePath ? stripTopFolder(f.webkitRelativePath) : f.name, file: f }))
    .filter((f) => f.path !== '' && !isHidden(f.path));
  return { name, files: picked };
}

// Minimal shapes of the File and Directory Entries API (drag and drop of folders).
interface FsEntry {
  isFile: boolean;
  isDirectory: boolean;
  name: string;
  fullPath: string;
}
interface FsFileEntry extends FsEntry {
  file(ok: (f: File) => void, fail: (e: unknown) => void): void;
}
interface FsDirEntry extends FsEntry {
  createReader(): { readEntries(ok: (entries: FsEntry[]) => void, fail: (e: unknown) => void): void };
}

async function walk(entry: FsEntry, out: PickedFile[], root: string): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((ok, fail) => (entry as FsFileEntry).file(ok, fail));
    const full = entry.fullPath.replace(/^\/+/, '');
    out.push({ path: root && full.startsWith(`${root}/`) ? full.slice(root.length + 1) : full, file });
    return;
  }
  if (!entry.isDirectory) return;
  const reader = (entry as FsDirEntry).createReader();
  // readEntries returns the entries in chunks (100 at a time in Chrome) until an empty one.
  for (;;) {
    const chunk = await new Promise<FsEntry[]>((ok, fail) => reader.readEntries(ok, fail));
    if (chunk.length === 0) break;
    for (const e of chunk) await walk(e, out, root);
  }
}

/**
 * The folder and files of a drop: one dropped folder is walked (paths relative to it); dropped files
 * are taken as they are.
 */
export async function droppedFolder(dt: DataTransfer): Promise<{ name: string; files: PickedFile[] }> {
  const items = Array.from(dt.items ?? []);
  const entries = items
    .map((it) =>
      it.kind === 'file' && 'webkitGetAsEntry' in it ? (it.webkitGetAsEntry() as FsEntry | null) : null,
    )
    .filter((e): e is FsEntry => e !== null);
  const dirs = entries.filter((e) => e.isDirectory);
  if (dirs.length === 1 && entries.length === 1) {
    const dir = dirs[0]!;
    const out: PickedFile[] = [];
    await walk(dir, out, dir.name);
    return { name: dir.name, files: out.filter((f) => !isHidden(f.path)) };
  }
  if (entries.length > 0) {
    const out: PickedFile[] = [];
    for (const e of entries) await walk(e, out, '');
    return { name: 'dropped files', files: out.filter((f) => !isHidden(f.path)) };
  }
  const files = Array.from(dt.files ?? []).map((f) => ({ path: f.name, file: f as Blob }));
  return { name: 'dropped files', files };
}

export async function readBytes(file: Blob): Promise<ArrayBuffer> {
  if (typeof file.arrayBuffer === 'function') return file.arrayBuffer();
  return new Promise((ok, fail) => {
    const r = new FileReader();
    r.onload = () => ok(r.result as ArrayBuffer);
    r.onerror = () => fail(r.error ?? new Error(`could not read the file`));
    r.readAsArrayBuffer(file);
  });
}

/**
 * The files of a run: config.json, weights.json, weights.bin (and metrics.json, and codec.json but for
 * runs saved before it; a run folder written by `train --out` has log.jsonl instead of metrics.json, or
 * as well, and its checkpoint files, which are not imported).
 */
export const RUN_FILE_NAMES = [
  'config.json',
  'weights.json',
  'weights.bin',
  'metrics.json',
  'codec.json',
  'log.jsonl',
] as const;
/** Files of a `train --out` folder that a picked folder may bring along; skipped. */
const SKIPPED_RUN_FILES = ['checkpoint.json', 'checkpoint.bin'];
const REQUIRED_RUN_FILES = ['config.json', 'weights.json', 'weights.bin'];

const baseName = (path: string): string => path.slice(path.lastIndexOf('/') + 1);

const decodeEntry = (name: string, bytes: Uint8Array): string | ArrayBuffer =>
  name.endsWith('.json') || name.endsWith('.jsonl')
    ? new TextDecoder().decode(bytes)
    : (bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);

const isZip = (name: string, head: Uint8Array): boolean =>
  name.toLowerCase().endsWith('.zip') ||
  (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04);

/**
 * A run's files from what the user picked: one .zip exported by the playground, or the run's files
 * themselves. Throws an Error naming a missing or unexpected file.
 */
export async function runFilesFrom(
  picked: readonly File[],
): Promise<{ files: Record<string, string | ArrayBuffer>; label: string }> {
  if (picked.length === 0) throw new Error('Choose a run .zip or its files first.');
  for (const f of picked)
    if (f.size > LIMITS.uploadBytes)
      throw new Error(
        `“${f.name}” is ${formatBytes(f.size)}; at most ${formatBytes(LIMITS.uploadBytes)} is read`,
      );
  const files: Record<string, string | ArrayBuffer> = {};
  if (picked.length === 1) {
    const f = picked[0]!;
    const bytes = new Uint8Array(await readBytes(f));
    if (isZip(f.name, bytes)) {
      let entries;
      try {
        entries = readZip(bytes);
      } catch (e) {
        throw new Error(`${f.name}: ${e instanceof Error ? e.message : String(e)}`);
      }
      for (const e of entries) {
        const name = baseName(e.name);
        if ((RUN_FILE_NAMES as readonly string[]).includes(name)) files[name] = decodeEntry(name, e.data);
      }
      if (Object.keys(files).length === 0)
        throw new Error(`${f.name} holds no run files (${RUN_FILE_NAMES.join(', ')}); is it a run export?`);
    } else {
      files[f.name] = decodeEntry(f.name, bytes);
    }
  } else {
    for (const f of picked) {
      if (SKIPPED_RUN_FILES.includes(f.name)) continue;
      if (!(RUN_FILE_NAMES as readonly string[]).includes(f.name))
        throw new Error(`“${f.name}” is not a run file (a run has ${RUN_FILE_NAMES.join(', ')})`);
      files[f.name] = decodeEntry(f.name, new Uint8Array(await readBytes(f)));
    }
  }
  const missing = REQUIRED_RUN_FILES.filter((n) => !(n in files));
  if (missing.length > 0)
    throw new Error(`missing ${missing.join(', ')} (a run has ${RUN_FILE_NAMES.join(', ')})`);
  // No label: the worker names the run from its validated config (model, dataset, time).
  return { files, label: '' };
}

/** A file name made of safe characters (for downloads). */
export function safeFileName(s: string): string {
  return s.replace(/[^\p{L}\p{N}._-]+/gu, '-').replace(/^-+|-+$/g, '') || 'run';
}

/** Lets the browser save `data` as `name`. */
export function saveBlob(name: string, data: Blob): void {
  const url = URL.createObjectURL(data);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
