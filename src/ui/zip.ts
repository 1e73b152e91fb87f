/**
 * ZIP export and import of a run's files, on fflate (npm `fflate`).
 *
 * Writing: {@link writeZip} stores the files uncompressed (fflate `zipSync`, level 0): the weights are
 * float32 noise that deflate barely shrinks, and every unzip tool reads stored entries.
 *
 * Reading: {@link readZip} takes stored and deflated entries, so a run folder re-zipped by any zip tool
 * (`zip -r`, Python's zipfile, a file manager) imports. Every entry is checked before anything is
 * inflated, on the sizes the central directory declares (fflate `unzipSync`'s filter sees them): at most
 * LIMITS.zipEntries entries of at most LIMITS.zipEntryBytes each and LIMITS.uploadBytes in all; names
 * must be relative paths without `..` (an archive cannot name a file outside its folder). A deflated
 * entry is then inflated in 64 KiB input chunks into a buffer of its declared size and refused as soon
 * as it grows past it, so a deflate bomb that lies about its size costs at most one chunk's output
 * (deflate expands at most 1032-fold: 66 MiB), never the bomb's full size. CRC-32 is checked on read.
 *
 * fflate reports neither the flags nor the CRC-32 nor where an entry's data starts, so a short walk of
 * the central directory ({@link centralRecords}) reads those three fields.
 *
 * Not supported (clear errors instead): other compression methods, encryption, ZIP64, multi-disk
 * archives.
 */
import { Inflate, unzipSync, zipSync, type UnzipFileInfo } from 'fflate';
import { formatBytes, LIMITS } from '../model/limits';

export type ZipContent = string | ArrayBuffer | Uint8Array;

export interface ZipEntry {
  name: string;
  data: Uint8Array;
}

let CRC_TABLE: Uint32Array | null = null;

function crcTable(): Uint32Array {
  if (CRC_TABLE) return CRC_TABLE;
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  CRC_TABLE = t;
  return t;
}

/** CRC-32 (IEEE 802.3, as in ZIP and PNG) of some bytes (fflate keeps its own private). */
export function crc32(data: Uint8Array): number {
  const t = crcTable();
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_END = 0x06054b50;
const MAX_32 = 0xffffffff;
const METHOD_STORED = 0;
const METHOD_DEFLATE = 8;
/** Compressed bytes handed to the inflater at a time: bounds its output per step to 1032 times this. */
const INFLATE_CHUNK = 64 * 1024;

const toBytes = (c: ZipContent): Uint8Array =>
  typeof c === 'string' ? new TextEncoder().encode(c) : c instanceof Uint8Array ? c : new Uint8Array(c);

/**
 * Packs files into an uncompressed ZIP. Names are used as given (`a.json`, `dir/b.bin`); they must be
 * unique, relative and free of `..`. Non-ASCII names carry the UTF-8 flag.
 */
export function writeZip(
  files: Record<string, ZipContent>,
  modified: Date = new Date(),
): Uint8Array<ArrayBuffer> {
  // ZIP's MS-DOS dates cover 1980..2107; fflate accepts 1980..2099.
  const year = modified.getFullYear();
  const mtime = year < 1980 ? new Date(1980, 0, 1) : year > 2099 ? new Date(2099, 11, 31) : modified;
  const entries: Record<string, Uint8Array> = {};
  for (const [name, content] of Object.entries(files)) {
    if (name === '' || name.startsWith('/') || name.split('/').includes('..'))
      throw new Error(`zip: invalid entry name ${JSON.stringify(name)}`);
    const data = toBytes(content);
    if (data.length >= MAX_32) throw new Error(`zip: ${name} is too large (4 GiB at most)`);
    entries[name] = data;
  }
  return zipSync(entries, { level: 0, mtime }) as Uint8Array<ArrayBuffer>;
}

const METHOD_NAMES: Record<number, string> = {
  9: 'deflate64',
  12: 'bzip2',
  14: 'lzma',
  93: 'zstd',
};

/** The fields of a central-directory record that fflate's filter does not report. */
interface CentralRecord {
  flags: number;
  crc: number;
  localOffset: number;
}

/**
 * The end-of-central-directory checks and, in order, each entry's flags, CRC-32 and local-header
 * offset. Throws for a file that is not a ZIP, a multi-part or ZIP64 archive, too many entries, or a
 * damaged central directory.
 */
function centralRecords(buf: Uint8Array, view: DataView): CentralRecord[] {
  // The end-of-central-directory record is the last 22 bytes plus a comment of at most 65535 bytes.
  let end = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === SIG_END) {
      end = i;
      break;
    }
  }
  if (end < 0) throw new Error('not a ZIP file (no end-of-central-directory record)');
  const count = view.getUint16(end + 10, true);
  const centralLength = view.getUint32(end + 12, true);
  const centralStart = view.getUint32(end + 16, true);
  if (view.getUint16(end + 4, true) !== 0 || view.getUint16(end + 6, true) !== 0)
    throw new Error('multi-part ZIP archives are not supported');
  if (count === 0xffff || centralStart === MAX_32) throw new Error('ZIP64 archives are not supported');
  if (centralStart + centralLength > end)
    throw new Error('damaged ZIP: the central directory is out of range');
  if (count > LIMITS.zipEntries)
    throw new Error(
      `the ZIP holds ${count} entries; a run has a few files (at most ${LIMITS.zipEntries} are read)`,
    );
  const records: CentralRecord[] = [];
  let p = centralStart;
  for (let k = 0; k < count; k++) {
    if (p + 46 > end || view.getUint32(p, true) !== SIG_CENTRAL)
      throw new Error(`damaged ZIP: central directory entry ${k + 1} of ${count} is missing`);
    records.push({
      flags: view.getUint16(p + 8, true),
      crc: view.getUint32(p + 16, true),
      localOffset: view.getUint32(p + 42, true),
    });
    // Fixed part, then name, extra field and comment.
    p += 46 + view.getUint16(p + 28, true) + view.getUint16(p + 30, true) + view.getUint16(p + 32, true);
  }
  return records;
}

/** An entry checked against the limits, with where its (compressed) data lies. */
interface CheckedEntry {
  info: UnzipFileInfo;
  crc: number;
  dataStart: number;
}

/**
 * Checks one entry on its declared sizes, name, flags and method, and finds its data; throws an Error
 * naming the entry. Nothing is read from the data yet.
 */
function checkEntry(
  info: UnzipFileInfo,
  record: CentralRecord,
  buf: Uint8Array,
  view: DataView,
): CheckedEntry {
  const { name, size: compressed, originalSize: size, compression: method } = info;
  if (name === '' || /^[\\/]|^[a-zA-Z]:/.test(name) || name.split(/[\\/]/).includes('..'))
    throw new Error(`unsafe entry name ${JSON.stringify(name)} (absolute, or with '..'): refused`);
  if (size > LIMITS.zipEntryBytes || compressed > LIMITS.zipEntryBytes)
    throw new Error(
      `${name}: declares ${formatBytes(Math.max(size, compressed))}; at most ${formatBytes(LIMITS.zipEntryBytes)} per entry`,
    );
  if (record.flags & 1) throw new Error(`${name}: encrypted ZIP entries are not supported`);
  if (method !== METHOD_STORED && method !== METHOD_DEFLATE) {
    const what = METHOD_NAMES[method] ?? `method ${method}`;
    throw new Error(
      `${name}: compressed entry (${what}); only stored and deflated entries can be read — unzip it and pick the files instead`,
    );
  }
  if (method === METHOD_STORED && compressed !== size)
    throw new Error(`damaged ZIP: ${name} has two different sizes`);
  const local = record.localOffset;
  if (local + 30 > buf.length || view.getUint32(local, true) !== SIG_LOCAL)
    throw new Error(`damaged ZIP: the local header of ${name} is missing`);
  const dataStart = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
  if (dataStart + compressed > buf.length) throw new Error(`damaged ZIP: ${name} is truncated`);
  return { info, crc: record.crc, dataStart };
}

/**
 * Inflates one deflated entry into a buffer of its declared size, a chunk of input at a time, and
 * stops with an Error as soon as the output passes that size (a deflate bomb) or if it ends short.
 */
function inflateCapped(name: string, compressed: Uint8Array, declared: number): Uint8Array {
  const out = new Uint8Array(declared);
  let written = 0;
  const inflater = new Inflate((chunk) => {
    if (written + chunk.length > declared)
      throw new Error(
        `${name}: inflates past its declared ${formatBytes(declared)}; refused (a deflate bomb or a damaged ZIP)`,
      );
    out.set(chunk, written);
    written += chunk.length;
  });
  try {
    for (let p = 0; p < compressed.length || p === 0; p += INFLATE_CHUNK) {
      const end = Math.min(compressed.length, p + INFLATE_CHUNK);
      inflater.push(compressed.subarray(p, end), end === compressed.length);
    }
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (message.startsWith(`${name}: `)) throw e;
    throw new Error(`damaged ZIP: ${name} does not inflate (${message})`);
  }
  if (written !== declared)
    throw new Error(`damaged ZIP: ${name} inflates to ${written} bytes but declares ${declared}`);
  return out;
}

/**
 * Reads the entries of a ZIP of stored or deflated entries (folders are skipped). Every entry is
 * checked against the limits before any is read or inflated. Throws an Error naming the problem: not a
 * ZIP, an unsupported or encrypted entry, an entry past a limit, a truncated file, a CRC mismatch.
 */
export function readZip(input: ArrayBuffer | Uint8Array): ZipEntry[] {
  // A plain Uint8Array view, also of a Node Buffer (whose slice() would share memory, not copy).
  const buf =
    input instanceof Uint8Array
      ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength)
      : new Uint8Array(input);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const records = centralRecords(buf, view);
  const checked: CheckedEntry[] = [];
  let total = 0;
  let k = 0;
  // The filter sees each entry's declared sizes in central-directory order; returning false keeps fflate
  // from extracting anything: the data is read below, once every entry has passed.
  unzipSync(buf, {
    filter: (info) => {
      const record = records[k++];
      if (!record) throw new Error('damaged ZIP: the central directory holds more entries than it declares');
      if (info.name.endsWith('/')) return false; // a folder
      const entry = checkEntry(info, record, buf, view);
      total += info.originalSize;
      if (total > LIMITS.uploadBytes)
        throw new Error(
          `the ZIP's entries declare ${formatBytes(total)} in all (up to ${info.name}); at most ${formatBytes(LIMITS.uploadBytes)} are read`,
        );
      checked.push(entry);
      return false;
    },
  });
  return checked.map(({ info, crc, dataStart }) => {
    const raw = buf.subarray(dataStart, dataStart + info.size);
    const data =
      info.compression === METHOD_STORED ? raw.slice() : inflateCapped(info.name, raw, info.originalSize);
    if (crc32(data) !== crc) throw new Error(`damaged ZIP: CRC-32 mismatch in ${info.name}`);
    return { name: info.name, data };
  });
}
