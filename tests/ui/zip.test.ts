import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { runFilesFrom } from '../../src/ui/files';
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
    // fflate sets the UTF-8 flag where it matters: on names that are not plain ASCII.
    const zip = writeZip({ 'ä.txt': 'x' }, new Date(2025, 0, 2, 3, 4, 6));
    const view = new DataView(zip.buffer);
    expect(view.getUint16(6, true)).toBe(0x0800);
    expect(view.getUint16(8, true)).toBe(0); // stored
    expect(view.getUint16(10, true)).toBe((3 << 11) | (4 << 5) | 3);
    expect(view.getUint16(12, true)).toBe((45 << 9) | (1 << 5) | 2);
    expect(readZip(zip)[0]!.name).toBe('ä.txt');
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

  it('gives a clear error for a compression method other than deflate', () => {
    const zip = writeZip({ 'config.json': '{}', 'weights.bin': bytes(64) });
    // Mark the second entry bzip2-compressed, in its local and central headers.
    const view = new DataView(zip.buffer);
    const local = find(zip, 0x04034b50)[1]!;
    const central = find(zip, 0x02014b50)[1]!;
    view.setUint16(local + 8, 12, true);
    view.setUint16(central + 10, 12, true);
    expect(() => readZip(zip)).toThrow(/weights\.bin: compressed entry \(bzip2\)/);
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

/** A run folder as a user has it on disk: text, float32 noise, and a compressible metrics log. */
function runFolder(): Record<string, Uint8Array> {
  const history = Array.from({ length: 2000 }, (_, i) => ({ step: i * 10, loss: 1 / (i + 1) }));
  return {
    'config.json': enc.encode('{"format":"orderembed-run","label":"LN-GRU · ünïcode"}\n'),
    'weights.json': enc.encode('{"weights":[]}\n'),
    // Over one 64 KiB inflate chunk even when deflate cannot shrink it.
    'weights.bin': bytes(300_000, 7),
    'metrics.json': enc.encode(JSON.stringify({ history }) + '\n'),
  };
}

/** Central-directory (name, method) pairs, to show which entries a tool really deflated. */
function methods(zip: Uint8Array): Record<string, number> {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const out: Record<string, number> = {};
  for (const p of find(zip, 0x02014b50)) {
    const nameLen = view.getUint16(p + 28, true);
    out[dec.decode(zip.subarray(p + 46, p + 46 + nameLen))] = view.getUint16(p + 10, true);
  }
  return out;
}

function hasTool(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('readZip of archives deflated by real zip tools', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orderembed-zip-'));
  const folder = join(dir, 'my-run');
  const files = runFolder();
  mkdirSync(folder);
  for (const [name, data] of Object.entries(files)) writeFileSync(join(folder, name), data);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Checks a re-zipped run folder entry by entry, and that it imports as a run. */
  async function expectRunFolder(zip: Uint8Array): Promise<void> {
    // The tool deflated the compressible files: this archive really tests inflating.
    expect(methods(zip)['my-run/metrics.json']).toBe(8);
    const entries = readZip(zip);
    expect(entries.map((e) => e.name).sort()).toEqual(
      Object.keys(files)
        .map((n) => `my-run/${n}`)
        .sort(),
    );
    for (const e of entries) expect(e.data).toEqual(files[e.name.slice('my-run/'.length)]);
    const run = await runFilesFrom([new File([zip as Uint8Array<ArrayBuffer>], 'my-run.zip')]);
    expect(Object.keys(run.files).sort()).toEqual(Object.keys(files).sort());
    expect(new Uint8Array(run.files['weights.bin'] as ArrayBuffer)).toEqual(files['weights.bin']);
    expect(run.files['config.json']).toBe(dec.decode(files['config.json']));
  }

  it.skipIf(!hasTool('zip', ['-v']))('imports a run folder re-zipped with `zip -r`', async () => {
    execFileSync('zip', ['-q', '-r', 'zip-r.zip', 'my-run'], { cwd: dir });
    await expectRunFolder(readFileSync(join(dir, 'zip-r.zip')));
  });

  it.skipIf(!hasTool('python3', ['--version']))(
    "imports a run folder zipped by Python's zipfile (ZIP_DEFLATED)",
    async () => {
      const script = [
        'import os, sys, zipfile',
        "with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:",
        "    for n in sorted(os.listdir('my-run')): z.write(os.path.join('my-run', n))",
      ].join('\n');
      execFileSync('python3', ['-c', script, 'py.zip'], { cwd: dir });
      await expectRunFolder(readFileSync(join(dir, 'py.zip')));
    },
  );
});

describe('readZip against deflate bombs', () => {
  /**
   * One deflated entry of `actual` zero bytes whose headers declare `declared` bytes and the CRC-32 of
   * the first `declared` bytes (so only the size cap, not the checksum, can catch it).
   */
  function bomb(actual: number, declared: number): Uint8Array {
    const compressed = deflateSync(new Uint8Array(actual), { level: 9 });
    const zip = writeZip({ 'weights.bin': compressed });
    const view = new DataView(zip.buffer);
    const crc = crc32(new Uint8Array(declared));
    for (const [sig, methodAt, crcAt, sizeAt] of [
      [0x04034b50, 8, 14, 22],
      [0x02014b50, 10, 16, 24],
    ] as const) {
      const p = find(zip, sig)[0]!;
      view.setUint16(p + methodAt, 8, true);
      view.setUint32(p + crcAt, crc, true);
      view.setUint32(p + sizeAt, declared, true);
    }
    return zip;
  }

  it('inflates an honest deflated entry', () => {
    const zip = bomb(100_000, 100_000);
    expect(readZip(zip)[0]!.data).toEqual(new Uint8Array(100_000));
  });

  it('refuses an entry that inflates past a small declared size, with a matching CRC-32', () => {
    // 16 MiB of zeros deflate to about 16 KiB; the archive claims 1 KiB.
    const zip = bomb(16 * 1024 ** 2, 1024);
    expect(zip.length).toBeLessThan(200_000);
    expect(() => readZip(zip)).toThrow(/weights\.bin: inflates past its declared 1\.0 KiB; refused/);
  });

  it('refuses an entry that inflates to less than it declares', () => {
    expect(() => readZip(bomb(1000, 5000))).toThrow(/weights\.bin inflates to 1000 bytes but declares 5000/);
  });

  it('names the entry whose deflate stream is damaged', () => {
    const zip = bomb(100_000, 100_000);
    const start = 30 + 'weights.bin'.length;
    for (let i = 0; i < 8; i++) zip[start + 4 + i]! ^= 0x5a;
    expect(() => readZip(zip)).toThrow(/damaged ZIP: weights\.bin|weights\.bin: inflates past/);
  });

  it('refuses entries whose declared sizes pass the total before inflating any', () => {
    // Two deflated entries of 0.9 GiB each: both under the per-entry limit, together over the total.
    const two = writeZip({ 'a.bin': 'x', 'b.bin': 'y' });
    const view = new DataView(two.buffer);
    for (const p of find(two, 0x02014b50)) {
      view.setUint16(p + 10, 8, true);
      view.setUint32(p + 24, Math.floor(0.9 * 1024 ** 3), true);
    }
    expect(() => readZip(two)).toThrow(/entries declare 1\.8 GiB in all \(up to b\.bin\); at most 1\.0 GiB/);
  });
});
