/** The scene rasterizer's primitives: distance functions, gradient fill, anti-aliased blending. */
import { describe, expect, it } from 'vitest';
import {
  createImage,
  drawShape,
  fillVerticalGradient,
  sdBox,
  sdCircle,
  sdHeart,
  sdPolygon,
} from '../../src/model/scenes/rasterizer';

const px = (data: Uint8Array, width: number, x: number, y: number) => {
  const o = (y * width + x) * 3;
  return [data[o], data[o + 1], data[o + 2]];
};

describe('distance functions', () => {
  it('circle and box give exact signed distances', () => {
    const c = sdCircle(0.5);
    expect(c(0, 0)).toBe(-0.5);
    expect(c(1, 0)).toBe(0.5);
    const b = sdBox(0.5, 0.25);
    expect(b(0, 0)).toBe(-0.25);
    expect(b(1, 0)).toBe(0.5);
    expect(b(1.5, 1.25)).toBeCloseTo(Math.sqrt(2), 12);
  });

  it('a polygon square matches the box, whatever the winding', () => {
    const box = sdBox(0.6, 0.6);
    const cw = sdPolygon([-0.6, -0.6, 0.6, -0.6, 0.6, 0.6, -0.6, 0.6]);
    const ccw = sdPolygon([-0.6, -0.6, -0.6, 0.6, 0.6, 0.6, 0.6, -0.6]);
    for (let y = -1; y <= 1; y += 0.125)
      for (let x = -1; x <= 1; x += 0.125) {
        expect(cw(x, y)).toBeCloseTo(box(x, y), 12);
        expect(ccw(x, y)).toBeCloseTo(box(x, y), 12);
      }
  });

  it('a concave polygon (an L) is inside only where the L is', () => {
    const l = sdPolygon([0, 0, 2, 0, 2, 1, 1, 1, 1, 2, 0, 2]);
    expect(l(0.5, 0.5)).toBeLessThan(0);
    expect(l(0.5, 1.5)).toBeLessThan(0);
    expect(l(1.5, 1.5)).toBeCloseTo(0.5, 12); // in the notch, 0.5 from both inner edges
  });

  it('the heart has lobes at the top, its point at the bottom and fits in [-1, 1]^2', () => {
    const h = sdHeart();
    expect(h(0, 0)).toBeLessThan(0);
    expect(h(-0.5, -0.4)).toBeLessThan(0); // left lobe
    expect(h(0.5, -0.4)).toBeLessThan(0); // right lobe
    expect(h(0, -0.8)).toBeGreaterThan(0); // the dip between the lobes
    expect(h(0, 0.85)).toBeLessThan(0.02); // just at the point
    expect(h(0.6, 0.6)).toBeGreaterThan(0); // beside the point
    for (let t = -1; t <= 1; t += 0.05) {
      for (const [x, y] of [
        [t, -1],
        [t, 1],
        [-1, t],
        [1, t],
      ])
        expect(h(x, y), `(${x}, ${y})`).toBeGreaterThan(0);
    }
  });
});

describe('drawing', () => {
  it('fills a vertical gradient with exact end rows', () => {
    const img = createImage(3, 5);
    fillVerticalGradient(img, [0, 100, 200], [40, 100, 0]);
    expect(px(img.data, 3, 0, 0)).toEqual([0, 100, 200]);
    expect(px(img.data, 3, 2, 4)).toEqual([40, 100, 0]);
    expect(px(img.data, 3, 1, 2)).toEqual([20, 100, 100]);
  });

  it('draws a shape solid inside, untouched outside, blended on the edge', () => {
    const img = createImage(32, 32);
    fillVerticalGradient(img, [255, 255, 255], [255, 255, 255]);
    drawShape(img, sdCircle(1), { cx: 16, cy: 16, scale: 8 }, [200, 0, 0]);
    expect(px(img.data, 32, 16, 16)).toEqual([200, 0, 0]);
    expect(px(img.data, 32, 16, 2)).toEqual([255, 255, 255]);
    // Pixel centre (24.5, 16.5) is ~0.52 px outside the radius-8 circle: untouched; (23.5, 16.5) is
    // ~0.5 px inside: about half covered.
    expect(px(img.data, 32, 24, 16)).toEqual([255, 255, 255]);
    const [r, g] = px(img.data, 32, 23, 16);
    expect(r).toBeGreaterThan(200);
    expect(g).toBeGreaterThan(0);
    expect(g).toBeLessThan(255);
  });

  it('clips shapes at the image border', () => {
    const img = createImage(10, 10);
    drawShape(img, sdBox(1, 1), { cx: 0, cy: 0, scale: 4 }, [9, 9, 9]);
    expect(px(img.data, 10, 0, 0)).toEqual([9, 9, 9]);
    expect(px(img.data, 10, 9, 9)).toEqual([0, 0, 0]);
  });

  it('rejects bad sizes and polygons', () => {
    expect(() => createImage(0, 4)).toThrow(/positive integers/);
    expect(() => sdPolygon([0, 0, 1, 1])).toThrow(/>= 3 vertices/);
  });
});
