import { describe, expect, it } from 'vitest';
import { crc32, readZip, writeZip } from '../../src/ui/zip';

const enc = new TextEncoder();
const dec = new TextDecoder();

function bytes(n: number, seed = 1): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Offsets of a 4-byte little-endian signature in a buffer. */
function find(buf: Uint8Array, sig: number): number[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const hits: number[] = [];
  for (let i = 0; i + 4 <= buf.length; i++) if (view.getUint32(i, true) === sig) hits.push(i);
  return hits;
}

describe('crc32', () => {
  it('matches the standard check values', () => {
    expect(crc32(enc.encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(enc.encode('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
  });
});

describe('writeZip / readZip', () => {
  const weights = bytes(10_000);
  const files = {
    'config.json': '{"format":"orderembed-run","label":"LN-GRU · ünïcode"}\n',
    'weights.json': '{"weights":[]}\n',
    'weights.bin': weights.buffer,
    'metrics.json': '{"history":[]}\n',
  };

  it('round-trips text and binary files in order', () => {
    const zip = writeZip(files, new Date(2025, 0, 2, 3, 4, 6));
    const entries = readZip(zip);
    expect(entries.map((e) => e.name)).toEqual(Object.keys(files));
    expect(dec.decode(entries[0]!.data)).toBe(files['config.json']);
    expect(entries[2]!.data).toEqual(weights);
    // Stored: the archive is the data plus headers (30 + name per entry, 46 + name, 22).
    const names = Object.keys(files).reduce((s, n) => s + n.length, 0);
    const data = Object.values(files).reduce(
      (s, v) => s + (typeof v === 'string' ? enc.encode(v).length : v.byteLength),
      0,
    );
    expect(zip.length).toBe(data + 4 * 76 + 2 * names + 22);
    expect(find(zip, 0x04034b50)).toHaveLength(4);
    expect(find(zip, 0x06054b50)).toHaveLength(1);
  });

  it('writes DOS time and date and the UTF-8 flag', () => {
    const zip = writeZip({ 'a.txt': 'x' }, new Date(2025, 0, 2, 3, 4, 6));
    const view = new DataView(zip.buffer);
    expect(view.getUint16(6, true)).toBe(0x0800);
    expect(view.getUint16(8, true)).toBe(0); // stored
    expect(view.getUint16(10, true)).toBe((3 << 11) | (4 << 5) | 3);
    expect(view.getUint16(12, true)).toBe((45 << 9) | (1 << 5) | 2);
  });

  it('reads an empty archive and skips folders', () => {
    expect(readZip(writeZip({}))).toEqual([]);
    const zip = writeZip({ 'run/': '', 'run/config.json': '{}' });
    expect(readZip(zip).map((e) => e.name)).toEqual(['run/config.json']);
  });

  it('refuses bad names', () => {
    expect(() => writeZip({ '../x': 'a' })).toThrow(/invalid entry name/);
    expect(() => writeZip({ '/abs': 'a' })).toThrow(/invalid entry name/);
  });

  it('gives a clear error for a file that is not a ZIP', () => {
    expect(() => readZip(enc.encode('{"not":"a zip"}'))).toThrow(/not a ZIP file/);
    expect(() => readZip(new Uint8Array(0))).toThrow(/not a ZIP file/);
  });

  it('gives a clear error for a compressed entry', () => {
    const zip = writeZip({ 'config.json': '{}', 'weights.bin': bytes(64) });
    // Mark the second entry deflated, in its local and central headers.
    const view = new DataView(zip.buffer);
    const local = find(zip, 0x04034b50)[1]!;
    const central = find(zip, 0x02014b50)[1]!;
    view.setUint16(local + 8, 8, true);
    view.setUint16(central + 10, 8, true);
    expect(() => readZip(zip)).toThrow(/weights\.bin: compressed entry \(deflate\)/);
  });

  it('gives a clear error for an encrypted entry', () => {
    const zip = writeZip({ 'a.bin': bytes(8) });
    const central = find(zip, 0x02014b50)[0]!;
    new DataView(zip.buffer).setUint16(central + 8, 0x0801, true);
    expect(() => readZip(zip)).toThrow(/a\.bin: encrypted/);
  });

  it('detects damaged data (CRC-32) and truncation', () => {
    const zip = writeZip({ 'weights.bin': bytes(100) });
    const bad = zip.slice();
    bad[30 + 'weights.bin'.length + 10]! ^= 0xff;
    expect(() => readZip(bad)).toThrow(/CRC-32 mismatch in weights\.bin/);
    expect(() => readZip(zip.slice(0, zip.length - 30))).toThrow(/not a ZIP|damaged/);
  });
});

describe('readZip limits', () => {
  /** A zip of one entry, with its name's bytes (same length) and its declared sizes patched. */
  function patched(name: string, declared?: number): Uint8Array {
    const zip = writeZip({ 'aa/b.json': '{}' });
    const view = new DataView(zip.buffer);
    const enc = new TextEncoder().encode(name);
    for (let i = 0; i + 4 <= zip.length; i++) {
      const sig = view.getUint32(i, true);
      if (sig === 0x04034b50) zip.set(enc, i + 30);
      if (sig === 0x02014b50) {
        zip.set(enc, i + 46);
        if (declared !== undefined) {
          view.setUint32(i + 20, declared, true);
          view.setUint32(i + 24, declared, true);
        }
      }
    }
    return zip;
  }

  it('refuses entry names that climb out of the folder or are absolute', () => {
    expect(() => readZip(patched('../b.json'))).toThrow(/unsafe entry name "\.\.\/b\.json"/);
    expect(() => readZip(patched('/a/b.json'))).toThrow(/unsafe entry name/);
    expect(() => readZip(patched('a\\..\\bb'))).toThrow(/unsafe entry name/);
    expect(readZip(patched('aa/c.json'))[0]!.name).toBe('aa/c.json');
  });

  it('refuses an entry that declares 4 GiB before copying anything', () => {
    expect(() => readZip(patched('aa/b.json', 0xfffffff0))).toThrow(
      /aa\/b\.json: declares 4\.0 GiB; at most 1\.0 GiB/,
    );
  });
});
