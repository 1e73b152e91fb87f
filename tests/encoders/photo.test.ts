/**
 * The checks decodePhoto makes before a browser decodes a user's photo (src/model/encoders/photo.ts):
 * format and size from the header bytes, and a message naming the file for each kind of bad input. The
 * decoding itself needs a browser (tests/e2e/first-minute.e2e.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { encode as encodeJpeg } from 'jpeg-js';
import {
  decodePhoto,
  fitWithin,
  MAX_PHOTO_MEGAPIXELS,
  photoProblem,
  sniffPhoto,
} from '../../src/model/encoders';

const bytes = (...parts: (string | number[])[]): Uint8Array<ArrayBuffer> =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : p)));
const u32be = (v: number) => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
const u16le = (v: number) => [v & 255, (v >>> 8) & 255];

describe('sniffPhoto', () => {
  it('reads the size of a real JPEG from its frame header', () => {
    const w = 37;
    const h = 21;
    const jpg = encodeJpeg({ data: new Uint8Array(w * h * 4).fill(128), width: w, height: h }, 80).data;
    expect(sniffPhoto(new Uint8Array(jpg))).toEqual({ format: 'jpeg', width: 37, height: 21 });
  });

  it('reads PNG, GIF, WebP (VP8X, VP8L) and BMP headers', () => {
    const png = bytes('\x89PNG\r\n\x1a\n', u32be(13), 'IHDR', u32be(7360), u32be(5520));
    expect(sniffPhoto(png)).toEqual({ format: 'png', width: 7360, height: 5520 });
    expect(sniffPhoto(bytes('GIF89a', u16le(320), u16le(200)))).toEqual({
      format: 'gif',
      width: 320,
      height: 200,
    });
    const vp8x = bytes(
      'RIFF',
      [0, 0, 0, 0],
      'WEBP',
      'VP8X',
      [10, 0, 0, 0],
      [0, 0, 0, 0],
      [0x3f, 0x01, 0],
      [0xef, 0, 0],
    );
    expect(sniffPhoto(vp8x)).toEqual({ format: 'webp', width: 320, height: 240 });
    const bits = (99 & 0x3fff) | ((49 & 0x3fff) << 14); // width-1, height-1
    const vp8l = bytes(
      'RIFF',
      [0, 0, 0, 0],
      'WEBP',
      'VP8L',
      [0, 0, 0, 0],
      [0x2f],
      [bits & 255, (bits >>> 8) & 255, (bits >>> 16) & 255, bits >>> 24],
    );
    expect(sniffPhoto(vp8l)).toEqual({ format: 'webp', width: 100, height: 50 });
    const bmp = bytes('BM', new Array(16).fill(0), [64, 0, 0, 0], [0xc0, 0xff, 0xff, 0xff]);
    expect(sniffPhoto(bmp)).toEqual({ format: 'bmp', width: 64, height: 64 });
  });

  it('tells HEIC from AVIF by the ISO brands, and says what a non-image looks like', () => {
    expect(sniffPhoto(bytes(u32be(24), 'ftypheic', u32be(0), 'mif1heic')).format).toBe('heic');
    expect(sniffPhoto(bytes(u32be(24), 'ftypavif', u32be(0), 'mif1avif')).format).toBe('avif');
    expect(sniffPhoto(bytes(u32be(20), 'ftypisom', u32be(0), 'mp41')).looksLike).toMatch(/video/);
    expect(sniffPhoto(bytes('II*\0')).format).toBe('tiff');
    expect(sniffPhoto(bytes('%PDF-1.7 ...'))).toEqual({ format: null, looksLike: 'a PDF document' });
    expect(sniffPhoto(bytes('image,caption\na.jpg,a dog\n')).looksLike).toBe('a text file');
    expect(sniffPhoto(bytes('<svg xmlns="http://www.w3.org/2000/svg"/>')).looksLike).toBe('an SVG drawing');
    expect(sniffPhoto(bytes('PK\x03\x04')).looksLike).toBe('a ZIP archive');
  });
});

describe('photoProblem', () => {
  it('names the file and the reason for each kind of bad input; a decodable photo has none', () => {
    expect(photoProblem('a.jpg', 0, { format: null })).toBe('a.jpg: the file is empty (0 bytes)');
    expect(photoProblem('notes.jpg', 30, { format: null, looksLike: 'a text file' })).toMatch(
      /^notes\.jpg: not a photo \(a text file\); use JPEG, PNG, GIF, WebP, BMP or AVIF$/,
    );
    expect(photoProblem('IMG_1.HEIC', 3e6, { format: 'heic' })).toMatch(
      /^IMG_1\.HEIC: a HEIC\/HEIF photo .*convert it to JPEG/,
    );
    expect(photoProblem('scan.tif', 3e6, { format: 'tiff' })).toMatch(/^scan\.tif: a TIFF image/);
    expect(photoProblem('pano.png', 3e7, { format: 'png', width: 20000, height: 10000 })).toMatch(
      new RegExp(
        `^pano\\.png: 20000x10000 pixels \\(200 megapixels\\), larger than the ${MAX_PHOTO_MEGAPIXELS} megapixels`,
      ),
    );
    // A 40-megapixel photo is decoded (scaled down on the way), GIF and WebP too.
    expect(photoProblem('big.jpg', 2e7, { format: 'jpeg', width: 7360, height: 5520 })).toBeNull();
    expect(photoProblem('anim.gif', 1e5, { format: 'gif', width: 320, height: 200 })).toBeNull();
    expect(photoProblem('p.webp', 1e5, { format: 'webp', width: 320, height: 240 })).toBeNull();
  });

  it('fitWithin scales the longer side down to the limit, keeping the aspect', () => {
    expect(fitWithin(7360, 5520, 512)).toEqual({ width: 512, height: 384 });
    expect(fitWithin(300, 200, 512)).toEqual({ width: 300, height: 200 });
    expect(fitWithin(10, 20000, 100)).toEqual({ width: 1, height: 100 });
  });

  it('decodePhoto refuses bad input by its header before needing a browser, naming the file', async () => {
    await expect(decodePhoto(new Blob([bytes('hello world')]), 'Images/readme.jpg')).rejects.toThrow(
      /^Images\/readme\.jpg: not a photo \(a text file\)/,
    );
    await expect(
      decodePhoto(new Blob([bytes(u32be(24), 'ftypheic', u32be(0), 'mif1heic')]), 'IMG.heic'),
    ).rejects.toThrow(/^IMG\.heic: a HEIC\/HEIF photo/);
    const jpg = encodeJpeg({ data: new Uint8Array(16 * 4), width: 4, height: 4 }, 80).data;
    await expect(decodePhoto(new Blob([new Uint8Array(jpg)]), 'ok.jpg')).rejects.toThrow(
      /^ok\.jpg: cannot decode here: .*a browser/,
    );
  });
});
