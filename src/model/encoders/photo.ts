/**
 * Robust photo decoding for everything a user hands the page (a picked folder, a dropped photo):
 * {@link decodePhoto} checks the file before the browser decodes it, so that each kind of bad input gets
 * a message naming the file and the reason instead of a bare "The source image could not be decoded",
 * and so that a huge photo is scaled down while decoding instead of exhausting the worker's memory.
 *
 * - An empty file, or one that is not an image (text, PDF, ZIP, ...: sniffed from its first bytes, not
 *   trusted from the name), is refused.
 * - HEIC/HEIF (iPhone photos) and TIFF are refused with how to convert them: browsers cannot decode them.
 * - JPEG, PNG, GIF (first frame), WebP, BMP and AVIF are decoded. Their size is read from the header
 *   first: above {@link MAX_PHOTO_MEGAPIXELS} the photo is refused; otherwise one that is larger than
 *   needed is decoded straight to the requested size (createImageBitmap's resize options), so only the
 *   small bitmap is kept.
 *
 * The header parsing ({@link sniffPhoto}) is pure and runs anywhere; {@link decodePhoto} needs
 * createImageBitmap and OffscreenCanvas (a browser page or worker).
 */
import { decodeImageBlob } from './browser';
import type { RgbImage } from './types';

export type PhotoFormat = 'jpeg' | 'png' | 'gif' | 'webp' | 'bmp' | 'avif' | 'heic' | 'tiff';

/** Formats a browser decodes. */
export const DECODABLE_FORMATS: readonly PhotoFormat[] = ['jpeg', 'png', 'gif', 'webp', 'bmp', 'avif'];

/** Photos larger than this (width x height / 1e6) are refused: decoding one takes 4 bytes a pixel. */
export const MAX_PHOTO_MEGAPIXELS = 100;
/** Files larger than this are refused before being read. */
export const MAX_PHOTO_BYTES = 100 * 1024 * 1024;
/** How many leading bytes {@link decodePhoto} reads to find the format and size (JPEG EXIF can be long). */
export const PHOTO_HEADER_BYTES = 256 * 1024;

export interface PhotoHeader {
  format: PhotoFormat | null;
  /** Pixel size from the header, when the format is known and the header holds it. */
  width?: number;
  height?: number;
  /** What the bytes look like when they are not an image (for the message). */
  looksLike?: string;
}

const ascii = (b: Uint8Array, at: number, n: number): string =>
  String.fromCharCode(...b.subarray(at, Math.min(b.length, at + n)));

/** JPEG size from the first start-of-frame marker (SOF0..SOF15 except DHT, JPG, DAC). */
function jpegSize(b: Uint8Array): { width: number; height: number } | undefined {
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return undefined;
    const marker = b[i + 1];
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2; // markers without a length
      continue;
    }
    const len = (b[i + 2] << 8) | b[i + 3];
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: (b[i + 5] << 8) | b[i + 6], width: (b[i + 7] << 8) | b[i + 8] };
    }
    if (marker === 0xda || len < 2) return undefined; // image data before any frame header
    i += 2 + len;
  }
  return undefined;
}

function webpSize(b: Uint8Array): { width: number; height: number } | undefined {
  const chunk = ascii(b, 12, 4);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (chunk === 'VP8X' && b.length >= 30) {
    const w24 = (o: number) => b[o] | (b[o + 1] << 8) | (b[o + 2] << 16);
    return { width: w24(24) + 1, height: w24(27) + 1 };
  }
  if (chunk === 'VP8 ' && b.length >= 30)
    return { width: dv.getUint16(26, true) & 0x3fff, height: dv.getUint16(28, true) & 0x3fff };
  if (chunk === 'VP8L' && b.length >= 25) {
    const bits = dv.getUint32(21, true);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  return undefined;
}

/**
 * The format and (where the header holds it) the size of a photo from its first bytes. `format` is null
 * for bytes that are no image format we know; `looksLike` then guesses what they are.
 */
export function sniffPhoto(bytes: Uint8Array): PhotoHeader {
  const b = bytes;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff)
    return { format: 'jpeg', ...jpegSize(b) };
  if (b.length >= 24 && ascii(b, 0, 8) === '\x89PNG\r\n\x1a\n')
    return { format: 'png', width: dv.getUint32(16), height: dv.getUint32(20) };
  if (b.length >= 10 && (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a'))
    return { format: 'gif', width: dv.getUint16(6, true), height: dv.getUint16(8, true) };
  if (b.length >= 16 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP')
    return { format: 'webp', ...webpSize(b) };
  if (b.length >= 26 && ascii(b, 0, 2) === 'BM')
    return { format: 'bmp', width: Math.abs(dv.getInt32(18, true)), height: Math.abs(dv.getInt32(22, true)) };
  if (b.length >= 12 && ascii(b, 4, 4) === 'ftyp') {
    // ISO base media file: the major brand, then compatible brands up to the box's end.
    const boxEnd = Math.min(b.length, dv.getUint32(0));
    const brands = [ascii(b, 8, 4)];
    for (let o = 16; o + 4 <= boxEnd; o += 4) brands.push(ascii(b, o, 4));
    if (brands.some((x) => x === 'avif' || x === 'avis')) return { format: 'avif' };
    if (brands.some((x) => /^(heic|heix|hevc|hevx|heim|heis|mif1|msf1)$/.test(x))) return { format: 'heic' };
    return { format: null, looksLike: `an ISO media file (${brands[0].trim()}), e.g. a video` };
  }
  if (b.length >= 4 && (ascii(b, 0, 4) === 'II*\0' || ascii(b, 0, 4) === 'MM\0*')) return { format: 'tiff' };
  let looksLike = 'not an image format we know';
  if (ascii(b, 0, 5) === '%PDF-') looksLike = 'a PDF document';
  else if (ascii(b, 0, 4) === 'PK\x03\x04') looksLike = 'a ZIP archive';
  else if (/^\s*<(\?xml|svg)/i.test(ascii(b, 0, 64)) && /<svg/i.test(ascii(b, 0, 1024)))
    looksLike = 'an SVG drawing';
  else if (/^\s*</.test(ascii(b, 0, 16))) looksLike = 'an HTML or XML document';
  else if (
    b.length > 0 &&
    b.subarray(0, 512).every((x) => x === 9 || x === 10 || x === 13 || (x >= 32 && x < 127) || x >= 128)
  )
    looksLike = 'a text file';
  return { format: null, looksLike };
}

const SUPPORTED = 'JPEG, PNG, GIF, WebP, BMP or AVIF';

/**
 * Why a photo with this header cannot be decoded (naming `name`), or null when it can. `size` is the
 * file's size in bytes.
 */
export function photoProblem(name: string, size: number, header: PhotoHeader): string | null {
  if (size === 0) return `${name}: the file is empty (0 bytes)`;
  if (size > MAX_PHOTO_BYTES)
    return `${name}: ${(size / 1048576).toFixed(0)} MB, larger than the ${MAX_PHOTO_BYTES / 1048576} MB this page reads; scale the photo down first`;
  const { format, width, height } = header;
  if (format === 'heic')
    return `${name}: a HEIC/HEIF photo (the iPhone's format), which browsers cannot decode; convert it to JPEG first (e.g. set the iPhone's camera to "Most Compatible", or export as JPEG)`;
  if (format === 'tiff')
    return `${name}: a TIFF image, which browsers cannot decode; convert it to JPEG or PNG`;
  if (format === null)
    return `${name}: not a photo (${header.looksLike ?? 'unknown content'}); use ${SUPPORTED}`;
  if (width !== undefined && height !== undefined) {
    if (width === 0 || height === 0)
      return `${name}: the ${format.toUpperCase()} header says ${width}x${height} pixels`;
    const mp = (width * height) / 1e6;
    if (mp > MAX_PHOTO_MEGAPIXELS)
      return `${name}: ${width}x${height} pixels (${mp.toFixed(0)} megapixels), larger than the ${MAX_PHOTO_MEGAPIXELS} megapixels this page decodes; scale it down first`;
  }
  return null;
}

/** The size to decode a `width` x `height` photo at so that its longer side is at most `maxSide`. */
export function fitWithin(width: number, height: number, maxSide: number): { width: number; height: number } {
  const long = Math.max(width, height);
  if (!(maxSide > 0) || long <= maxSide) return { width, height };
  const f = maxSide / long;
  return { width: Math.max(1, Math.round(width * f)), height: Math.max(1, Math.round(height * f)) };
}

export interface DecodePhotoOptions {
  /** Longer side of the decoded pixels at most (default 1024): the encoders need 224 to 512. */
  maxSide?: number;
}

/**
 * Decodes a photo the user gave (a File or Blob) to RGBA pixels, at most `maxSide` on its longer side.
 * Throws an Error whose message starts with `name` and says what is wrong and what to do (see the module
 * comment). The one entry point for photos from the user: picked folders and photos dropped for ranking.
 */
export async function decodePhoto(
  blob: Blob,
  name: string,
  opts: DecodePhotoOptions = {},
): Promise<RgbImage> {
  const maxSide = opts.maxSide ?? 1024;
  let head: Uint8Array;
  try {
    head = new Uint8Array(await blob.slice(0, PHOTO_HEADER_BYTES).arrayBuffer());
  } catch (e) {
    throw new Error(`${name}: cannot read the file (${(e as Error).message})`);
  }
  const header = sniffPhoto(head);
  const problem = photoProblem(name, blob.size, header);
  if (problem) throw new Error(problem);
  const what = header.format!.toUpperCase();
  if (typeof createImageBitmap === 'undefined' || typeof OffscreenCanvas === 'undefined')
    throw new Error(
      `${name}: cannot decode here: createImageBitmap and OffscreenCanvas are needed (a browser)`,
    );
  if (header.width && header.height) {
    // Known size: decode straight to the target size, so the full-size bitmap is never kept.
    const fit = fitWithin(header.width, header.height, maxSide);
    let bitmap: ImageBitmap;
    try {
      bitmap =
        fit.width === header.width && fit.height === header.height
          ? await createImageBitmap(blob)
          : await createImageBitmap(blob, {
              resizeWidth: fit.width,
              resizeHeight: fit.height,
              resizeQuality: 'medium',
            });
    } catch (e) {
      throw new Error(
        `${name}: cannot decode this ${what} file (damaged or cut short?): ${(e as Error).message || 'the browser refused it'}`,
      );
    }
    try {
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      const ctx = canvas.getContext('2d');
      if (!ctx) throw new Error(`${name}: no 2d canvas context to read the pixels`);
      ctx.drawImage(bitmap, 0, 0);
      return {
        width: bitmap.width,
        height: bitmap.height,
        data: ctx.getImageData(0, 0, bitmap.width, bitmap.height).data,
        channels: 4,
      };
    } finally {
      bitmap.close();
    }
  }
  try {
    return await decodeImageBlob(blob, name, { maxSide });
  } catch (e) {
    const msg = (e as Error).message.replace(/^cannot decode [^:]*: /, '');
    throw new Error(`${name}: cannot decode this ${what} file (damaged or cut short?): ${msg}`);
  }
}
