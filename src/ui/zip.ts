/**
 * A tiny ZIP writer and reader for uncompressed ("stored") archives, enough to pack a run's files into
 * one download and to read it back. No compression: the weights are float32 noise that deflate barely
 * shrinks, and every unzip tool reads stored entries. CRC-32 is checked on read.
 *
 * Not supported (clear errors instead): compressed entries, encryption, ZIP64, multi-disk archives.
 * Read limits (../model/limits.ts), checked on the declared sizes before any entry is copied: at most
 * LIMITS.zipEntries entries of at most LIMITS.zipEntryBytes each; names must be relative paths without
 * `..` (an archive cannot name a file outside its folder).
 */
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

/** CRC-32 (IEEE 802.3, as in ZIP and PNG) of some bytes. */
export function crc32(data: Uint8Array): number {
  const t = crcTable();
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_END = 0x06054b50;
/** General-purpose flag bit 11: names are UTF-8. */
const FLAG_UTF8 = 0x0800;
const MAX_32 = 0xffffffff;

const toBytes = (c: ZipContent): Uint8Array =>
  typeof c === 'string' ? new TextEncoder().encode(c) : c instanceof Uint8Array ? c : new Uint8Array(c);

/** MS-DOS time and date of a Date (2-second resolution, years 1980..2107). */
function dosDateTime(d: Date): { time: number; date: number } {
  const year = Math.min(2107, Math.max(1980, d.getFullYear()));
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
    date: ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

/**
 * Packs files into an uncompressed ZIP. Names are used as given (`a.json`, `dir/b.bin`); they must be
 * unique, relative and free of `..`.
 */
export function writeZip(
  files: Record<string, ZipContent>,
  modified: Date = new Date(),
): Uint8Array<ArrayBuffer> {
  const { time, date } = dosDateTime(modified);
  const enc = new TextEncoder();
  const entries = Object.entries(files).map(([name, content]) => {
    if (name === '' || name.startsWith('/') || name.split('/').includes('..'))
      throw new Error(`zip: invalid entry name ${JSON.stringify(name)}`);
    const data = toBytes(content);
    if (data.length >= MAX_32) throw new Error(`zip: ${name} is too large (4 GiB at most)`);
    return { name: enc.encode(name), data, crc: crc32(data), offset: 0 };
  });
  const localSize = entries.reduce((s, e) => s + 30 + e.name.length + e.data.length, 0);
  const centralSize = entries.reduce((s, e) => s + 46 + e.name.length, 0);
  const out = new Uint8Array(localSize + centralSize + 22);
  const view = new DataView(out.buffer);
  let p = 0;
  const u16 = (v: number) => {
    view.setUint16(p, v, true);
    p += 2;
  };
  const u32 = (v: number) => {
    view.setUint32(p, v >>> 0, true);
    p += 4;
  };
  const bytes = (b: Uint8Array) => {
    out.set(b, p);
    p += b.length;
  };
  for (const e of entries) {
    e.offset = p;
    u32(SIG_LOCAL);
    u16(20); // version needed: 2.0
    u16(FLAG_UTF8);
    u16(0); // method: stored
    u16(time);
    u16(date);
    u32(e.crc);
    u32(e.data.length); // compressed size
    u32(e.data.length); // uncompressed size
    u16(e.name.length);
    u16(0); // extra field length
    bytes(e.name);
    bytes(e.data);
  }
  const centralStart = p;
  for (const e of entries) {
    u32(SIG_CENTRAL);
    u16(20); // version made by
    u16(20); // version needed
    u16(FLAG_UTF8);
    u16(0);
    u16(time);
    u16(date);
    u32(e.crc);
    u32(e.data.length);
    u32(e.data.length);
    u16(e.name.length);
    u16(0); // extra
    u16(0); // comment
    u16(0); // disk number
    u16(0); // internal attributes
    u32(0); // external attributes
    u32(e.offset);
    bytes(e.name);
  }
  const centralLength = p - centralStart;
  u32(SIG_END);
  u16(0); // this disk
  u16(0); // disk with the central directory
  u16(entries.length);
  u16(entries.length);
  u32(centralLength);
  u32(centralStart);
  u16(0); // comment length
  return out;
}

const METHOD_NAMES: Record<number, string> = {
  8: 'deflate',
  9: 'deflate64',
  12: 'bzip2',
  14: 'lzma',
  93: 'zstd',
};

/**
 * Reads the entries of an uncompressed ZIP (as written by {@link writeZip}; folders are skipped). Throws
 * an Error naming the problem: not a ZIP, a compressed or encrypted entry, a truncated file, a CRC
 * mismatch.
 */
export function readZip(input: ArrayBuffer | Uint8Array): ZipEntry[] {
  const buf = input instanceof Uint8Array ? input : new Uint8Array(input);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
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

  const dec = new TextDecoder();
  const entries: ZipEntry[] = [];
  let p = centralStart;
  for (let k = 0; k < count; k++) {
    if (p + 46 > end || view.getUint32(p, true) !== SIG_CENTRAL)
      throw new Error(`damaged ZIP: central directory entry ${k + 1} of ${count} is missing`);
    const flags = view.getUint16(p + 8, true);
    const method = view.getUint16(p + 10, true);
    const crc = view.getUint32(p + 16, true);
    const compressed = view.getUint32(p + 20, true);
    const size = view.getUint32(p + 24, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    const localOffset = view.getUint32(p + 42, true);
    const name = dec.decode(buf.subarray(p + 46, p + 46 + nameLen));
    p += 46 + nameLen + extraLen + commentLen;

    if (name.endsWith('/')) continue; // a folder
    if (name === '' || /^[\\/]|^[a-zA-Z]:/.test(name) || name.split(/[\\/]/).includes('..'))
      throw new Error(`unsafe entry name ${JSON.stringify(name)} (absolute, or with '..'): refused`);
    if (size > LIMITS.zipEntryBytes || compressed > LIMITS.zipEntryBytes)
      throw new Error(
        `${name}: declares ${formatBytes(Math.max(size, compressed))}; at most ${formatBytes(LIMITS.zipEntryBytes)} per entry`,
      );
    if (flags & 1) throw new Error(`${name}: encrypted ZIP entries are not supported`);
    if (method !== 0) {
      const what = METHOD_NAMES[method] ?? `method ${method}`;
      throw new Error(
        `${name}: compressed entry (${what}); only uncompressed (stored) ZIPs such as the playground's exports can be read — unzip it and pick the files instead`,
      );
    }
    if (compressed !== size) throw new Error(`damaged ZIP: ${name} has two different sizes`);
    if (localOffset + 30 > buf.length || view.getUint32(localOffset, true) !== SIG_LOCAL)
      throw new Error(`damaged ZIP: the local header of ${name} is missing`);
    const dataStart =
      localOffset + 30 + view.getUint16(localOffset + 26, true) + view.getUint16(localOffset + 28, true);
    if (dataStart + size > buf.length) throw new Error(`damaged ZIP: ${name} is truncated`);
    const data = buf.slice(dataStart, dataStart + size);
    if (crc32(data) !== crc) throw new Error(`damaged ZIP: CRC-32 mismatch in ${name}`);
    entries.push({ name, data });
  }
  return entries;
}
