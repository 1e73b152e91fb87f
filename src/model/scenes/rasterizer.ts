/**
 * A tiny deterministic rasterizer for the built-in scenes: flat shapes on a vertical-gradient background,
 * drawn into a plain RGB `Uint8Array` (no canvas, no DOM).
 *
 * Why our own: the scenes are rendered at first load in the browser worker AND offline in Node (to
 * precompute feature packs), and both must produce the same bytes, or a pack computed in Node would not
 * match the pictures the browser shows. Canvas anti-aliasing differs between browsers, GPUs and
 * node-canvas builds, so shapes are drawn here from signed distance functions instead.
 *
 * Determinism rules followed throughout (they make the output byte-identical in every JS engine):
 * - only +, -, *, /, Math.sqrt, Math.min/max/abs/floor/ceil/round, which IEEE 754 and ECMAScript define
 *   exactly (no Math.sin/cos/exp/pow/hypot, whose last bit is implementation-defined);
 * - shape geometry is given by numeric literals, not computed with trigonometry at load time;
 * - colours are blended with integer arithmetic on a coverage quantised to 1/256.
 *
 * Anti-aliasing: coverage = clamp(0.5 - d, 0, 1) with d the signed distance (in pixels) from the pixel
 * centre to the shape's edge, i.e. a one-pixel linear ramp: cheap (one distance evaluation per pixel of
 * the shape's bounding box) and smooth enough at 224 x 224.
 */

import type { RgbImage } from '../encoders/types';

/** An 8-bit RGB colour. */
export type Rgb = readonly [number, number, number];

/**
 * An interleaved 8-bit RGB image, row-major, `data.length === width * height * 3`: the encoders'
 * `RgbImage` narrowed to what the rasterizer writes, so a rendered scene goes straight into them.
 */
export type RgbBuffer = RgbImage & { channels: 3; data: Uint8Array };

/** A signed distance function in shape units: negative inside, positive outside, |value| = distance. */
export type Sdf = (x: number, y: number) => number;

/** A new zero-filled (black) RGB image. */
export function createImage(width: number, height: number): RgbBuffer {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0))
    throw new Error(`image size must be positive integers, got ${width} x ${height}`);
  return { width, height, channels: 3, data: new Uint8Array(width * height * 3) };
}

/**
 * Fills the whole image with a vertical gradient from `top` (first row) to `bottom` (last row). Integer
 * interpolation, so every row's colour is exact and engine-independent.
 */
export function fillVerticalGradient(img: RgbBuffer, top: Rgb, bottom: Rgb): void {
  const { width, height, data } = img;
  const span = Math.max(1, height - 1);
  for (let y = 0; y < height; y++) {
    const r = Math.round((top[0] * (span - y) + bottom[0] * y) / span);
    const g = Math.round((top[1] * (span - y) + bottom[1] * y) / span);
    const b = Math.round((top[2] * (span - y) + bottom[2] * y) / span);
    let o = y * width * 3;
    for (let x = 0; x < width; x++, o += 3) {
      data[o] = r;
      data[o + 1] = g;
      data[o + 2] = b;
    }
  }
}

/** Where and how large a shape is drawn: centre and scale in pixels (1 shape unit = `scale` px). */
export interface Placement {
  cx: number;
  cy: number;
  scale: number;
}

/**
 * Draws a shape given by `sdf` (in shape units, with the shape inside the square [-1, 1]^2) at
 * `placement`, blending `colour` over what is there with one-pixel anti-aliased edges.
 *
 * `opacity` (0..1) scales the coverage and `offset` (px) shifts the shape, which is how soft shadows
 * are drawn; `soften` (px) widens the edge ramp (1 = crisp).
 */
export function drawShape(
  img: RgbBuffer,
  sdf: Sdf,
  placement: Placement,
  colour: Rgb,
  opts: { opacity?: number; offsetX?: number; offsetY?: number; soften?: number } = {},
): void {
  const { width, height, data } = img;
  const { opacity = 1, offsetX = 0, offsetY = 0, soften = 1 } = opts;
  const cx = placement.cx + offsetX;
  const cy = placement.cy + offsetY;
  const s = placement.scale;
  if (!(s > 0)) throw new Error(`shape scale must be positive, got ${s}`);
  // Shapes live in [-1, 1]^2; the ramp reaches soften/2 px beyond the edge.
  const pad = s + soften / 2 + 1;
  const x0 = Math.max(0, Math.floor(cx - pad));
  const x1 = Math.min(width - 1, Math.ceil(cx + pad));
  const y0 = Math.max(0, Math.floor(cy - pad));
  const y1 = Math.min(height - 1, Math.ceil(cy + pad));
  const inv = 1 / s;
  const [cr, cg, cb] = colour;
  // Coverage is quantised to 0..256 (a in 1/256ths), then blended as (bg * (256 - a) + c * a + 128) >> 8.
  const full = Math.round(256 * opacity);
  for (let y = y0; y <= y1; y++) {
    const v = (y + 0.5 - cy) * inv;
    let o = (y * width + x0) * 3;
    for (let x = x0; x <= x1; x++, o += 3) {
      const d = sdf((x + 0.5 - cx) * inv, v) * s; // signed distance in pixels
      const cov = 0.5 - d / soften;
      if (cov <= 0) continue;
      const a = cov >= 1 ? full : Math.round(cov * full);
      if (a === 0) continue;
      const na = 256 - a;
      data[o] = (data[o] * na + cr * a + 128) >> 8;
      data[o + 1] = (data[o + 1] * na + cg * a + 128) >> 8;
      data[o + 2] = (data[o + 2] * na + cb * a + 128) >> 8;
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Signed distance functions (after Inigo Quilez's 2D distance functions), in shape units, y pointing
// down as in the image. Each shape spans roughly [-0.95, 0.95] so that shapes of equal scale look of
// comparable size.

/** Circle of radius `r` at the origin. */
export function sdCircle(r: number): Sdf {
  return (x, y) => Math.sqrt(x * x + y * y) - r;
}

/** Axis-aligned box of half-extents `hx`, `hy` at the origin (exact distance outside and inside). */
export function sdBox(hx: number, hy: number): Sdf {
  return (x, y) => {
    const qx = Math.abs(x) - hx;
    const qy = Math.abs(y) - hy;
    const ox = Math.max(qx, 0);
    const oy = Math.max(qy, 0);
    return Math.sqrt(ox * ox + oy * oy) + Math.min(Math.max(qx, qy), 0);
  };
}

/**
 * Simple polygon (any winding, may be concave) from a flat vertex list [x0, y0, x1, y1, ...]: exact
 * distance to the nearest edge, negative inside by the crossing-number rule.
 */
export function sdPolygon(vertices: readonly number[]): Sdf {
  if (vertices.length < 6 || vertices.length % 2 !== 0)
    throw new Error(`a polygon needs >= 3 vertices as x, y pairs, got ${vertices.length} numbers`);
  const v = Float64Array.from(vertices);
  const n = v.length / 2;
  return (x, y) => {
    let dx0 = x - v[0];
    let dy0 = y - v[1];
    let best = dx0 * dx0 + dy0 * dy0;
    let inside = false;
    for (let i = 0, j = n - 1; i < n; j = i, i++) {
      const xi = v[2 * i];
      const yi = v[2 * i + 1];
      const ex = v[2 * j] - xi;
      const ey = v[2 * j + 1] - yi;
      const wx = x - xi;
      const wy = y - yi;
      let t = (wx * ex + wy * ey) / (ex * ex + ey * ey);
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      dx0 = wx - ex * t;
      dy0 = wy - ey * t;
      const dd = dx0 * dx0 + dy0 * dy0;
      if (dd < best) best = dd;
      const c1 = y >= yi;
      const c2 = y < v[2 * j + 1];
      const c3 = ex * wy > ey * wx;
      if ((c1 && c2 && c3) || (!c1 && !c2 && !c3)) inside = !inside;
    }
    const d = Math.sqrt(best);
    return inside ? -d : d;
  };
}

/**
 * Heart (Quilez's exact heart distance) scaled and flipped to image coordinates: the lobes at the top,
 * the point at the bottom, spanning about [-0.96, 0.96] x [-0.88, 0.88].
 */
export function sdHeart(): Sdf {
  // Quilez's heart: point at (0, 0), lobes up to y = 1.104, |x| <= 0.604, y pointing up.
  const k = 1.6; // shape units per heart unit
  const lobeR = 0.35355339059327373; // sqrt(2) / 4 as a literal
  return (x, y) => {
    const px = Math.abs(x) / k;
    const py = (0.88 - y) / k; // image y = 0.88 maps to the point, y down -> y up
    let d: number;
    if (py + px > 1) {
      const ax = px - 0.25;
      const ay = py - 0.75;
      d = Math.sqrt(ax * ax + ay * ay) - lobeR;
    } else {
      const bx = px;
      const by = py - 1;
      const m = 0.5 * Math.max(px + py, 0);
      const cx = px - m;
      const cy = py - m;
      d = Math.sqrt(Math.min(bx * bx + by * by, cx * cx + cy * cy)) * Math.sign(px - py);
    }
    return d * k;
  };
}
