import { describe, expect, it } from 'vitest';
import {
  float16Bits,
  float16FromLittleEndian,
  float16ToLittleEndian,
  float16Value,
} from '../../src/model/data/binary';

describe('float16', () => {
  it('encodes known values as IEEE 754 half precision', () => {
    expect(float16Bits(1)).toBe(0x3c00);
    expect(float16Bits(-2)).toBe(0xc000);
    expect(float16Bits(0.5)).toBe(0x3800);
    expect(float16Bits(1 / 3)).toBe(0x3555);
    expect(float16Bits(65504)).toBe(0x7bff); // largest finite half
    expect(float16Bits(65520)).toBe(0x7c00); // rounds up to infinity
    expect(float16Bits(2 ** -14)).toBe(0x0400); // smallest normal
    expect(float16Bits(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(float16Bits(2 ** -26)).toBe(0x0000); // below half of it: zero
    expect(float16Bits(-0)).toBe(0x8000);
    expect(float16Bits(Infinity)).toBe(0x7c00);
    expect(float16Value(float16Bits(NaN))).toBeNaN();
  });

  it('rounds to nearest, ties to even', () => {
    expect(float16Bits(1 + 2 ** -11)).toBe(0x3c00); // halfway between 0x3c00 and 0x3c01: even
    expect(float16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // halfway between 0x3c01 and 0x3c02: even
    expect(float16Bits(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01); // just above halfway
    expect(float16Bits(3 * 2 ** -25)).toBe(0x0002); // subnormal tie 1.5 -> 2
    expect(float16Bits(2 ** -25)).toBe(0x0000); // subnormal tie 0.5 -> 0
  });

  it('decodes every finite bit pattern back to itself', () => {
    for (let h = 0; h < 0x10000; h++) {
      const exp = (h >>> 10) & 0x1f;
      if (exp === 0x1f) continue;
      expect(float16Bits(float16Value(h))).toBe(h);
    }
  });

  it('round-trips weights through little-endian bytes within half a unit in the last place', () => {
    const values = new Float32Array(2000);
    let seed = 7;
    for (let i = 0; i < values.length; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      values[i] = (seed / 2 ** 31 - 0.5) * 2 ** ((i % 20) - 10);
    }
    const bytes = float16ToLittleEndian(values);
    expect(bytes.byteLength).toBe(4000);
    expect(new Uint8Array(bytes).slice(0, 2)).toEqual(
      new Uint8Array([float16Bits(values[0]) & 0xff, float16Bits(values[0]) >>> 8]),
    );
    const back = float16FromLittleEndian(bytes, 'test');
    for (let i = 0; i < values.length; i++) {
      const tol = Math.max(Math.abs(values[i]) * 2 ** -11, 2 ** -25);
      expect(Math.abs(back[i] - values[i])).toBeLessThanOrEqual(tol);
    }
  });

  it('names the data when the bytes are too few', () => {
    expect(() => float16FromLittleEndian(new Uint8Array(5), "weight 'x'", 2, 2)).toThrow(
      "weight 'x': needs bytes 2..6 but the data holds 5 bytes",
    );
  });
});
