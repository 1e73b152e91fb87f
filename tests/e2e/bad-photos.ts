/**
 * Photos a user may hand the page that are unusual or not photos at all, for the browser tests: 1x1
 * images in formats a user's folder may hold (a GIF and a lossy WebP), the start of a HEIC file, a large
 * grey PNG (a 40-megapixel photo in a small file) and a text file named like a photo.
 */
import { encodePng } from '../../scripts/lib/png';

export const GIF_1PX = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
export const WEBP_1PX = Buffer.from('UklGRiIAAABXRUJQVlA4IBYAAAAwAQCdASoBAAEADsD+JaQAA3AAAAAA', 'base64');
export const HEIC_HEAD = Buffer.concat([
  Buffer.from([0, 0, 0, 24]),
  Buffer.from('ftypheic'),
  Buffer.from([0, 0, 0, 0]),
  Buffer.from('mif1heic'),
  Buffer.alloc(64),
]);

/** A grey RGB PNG of `w` x `h` pixels (one colour compresses well: a big photo in a small file). */
export function greyPng(w: number, h: number): Buffer {
  return encodePng({ width: w, height: h, channels: 3, data: new Uint8Array(w * h * 3).fill(128) }, 1);
}

/**
 * File name to bytes: a GIF, a WebP and a 40-megapixel PNG (7360 x 5520, decodable, scaled down on the
 * way), a text file named .jpg and a HEIC photo (not decodable by browsers).
 */
export function unusualPhotos(): Record<string, Buffer> {
  return {
    'tiny.gif': GIF_1PX,
    'tiny.webp': WEBP_1PX,
    'huge.png': greyPng(7360, 5520),
    'notes.jpg': Buffer.from('these are my notes, not a photo\n'),
    'IMG_0001.heic': HEIC_HEAD,
  };
}
