import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assembleWasm, HOST_WASM } from '../../../scripts/lib/host-wasm';
import { SUM_HOST_WASM } from '../../../src/model/parallel/sumHost.wasm-bytes';
import { makeGradParts, squaresOf, sumPartsInOrder } from '../../../src/model/parallel/sum-host';
import { splitBatch, sumInOrder } from '../../../src/model/parallel/shards';

/** Parts of P floats of mixed magnitudes (so that the order of the additions shows in the digits). */
function fill(parts: Float32Array[]): Float32Array[] {
  parts.forEach((p, k) => p.forEach((_, i) => (p[i] = Math.sin(i * 7 + k) * 10 ** ((i + k) % 9) - 3 * k)));
  return parts.map((p) => p.slice());
}

describe("the threads' gradient sum (src/model/parallel/sumHost.wat)", () => {
  it('ships the bytes its text assembles to (npm run build:wasm)', async () => {
    const bytes = await assembleWasm(readFileSync(HOST_WASM.sum.wat, 'utf8'));
    expect(Buffer.from(bytes).toString('base64')).toBe(SUM_HOST_WASM);
  });

  it('keeps every part in one shared WebAssembly memory, part 0 first', () => {
    const g = makeGradParts(3, 10);
    expect(g.memory).toBeInstanceOf(WebAssembly.Memory);
    expect(g.parts.map((p) => [p.buffer === g.memory!.buffer, p.byteOffset, p.length])).toEqual([
      [true, 0, 10],
      [true, 40, 10],
      [true, 80, 10],
    ]);
    expect(g.parts.every((p) => p.every((v) => v === 0))).toBe(true);
  });

  // P not a multiple of 4 and ranges that start and end off a quad (the pool's ranges are any split).
  it.each([
    [2, 1],
    [2, 4],
    [3, 101],
    [4, 1027],
  ])('%i parts of %i floats: the JS loop’s digits, range by range, into part 0', (n, P) => {
    const squares: number[][] = [];
    for (const simd of [true, false]) {
      const g = makeGradParts(n, P, simd);
      expect(g.memory !== null).toBe(simd);
      const copies = fill(g.parts);
      const want = sumInOrder(copies);
      const ranges = splitBatch(P, 3);
      squares.push(ranges.map((s) => sumPartsInOrder(g, n, s.start, s.start + s.size)));
      const differ = g.parts[0].filter((v, i) => !Object.is(v, want[i])).length;
      expect(differ, `${n} x ${P}, simd ${simd}: elements that differ`).toBe(0);
      // The other parts are read, not written.
      g.parts.slice(1).forEach((p, k) => expect(Array.from(p)).toEqual(Array.from(copies[k + 1])));
      // Each range's sum of squares is that of the result, as squaresOf takes it afterwards.
      expect(squares.at(-1)).toEqual(ranges.map((s) => squaresOf(g, s.start, s.start + s.size)));
    }
    expect(squares[0]).toEqual(squares[1]);
  });

  it('adds only the parts that took part in the step', () => {
    const g = makeGradParts(3, 6);
    const copies = fill(g.parts);
    sumPartsInOrder(g, 2, 0, 6);
    expect(Array.from(g.parts[0])).toEqual(Array.from(sumInOrder(copies.slice(0, 2))));
    // One part (a batch smaller than the pool): nothing to add, its squares all the same.
    expect(sumPartsInOrder(g, 1, 0, 6)).toBe(squaresOf(g, 0, 6));
    expect(Array.from(g.parts[0])).toEqual(Array.from(sumInOrder(copies.slice(0, 2))));
  });

  it('squares a range of the sum in float64 with the same digits in the module and the JS loop', () => {
    const P = 1031;
    const [simd, plain] = [true, false].map((on) => makeGradParts(2, P, on));
    fill(simd.parts);
    fill(plain.parts);
    expect(Array.from(plain.parts[0])).toEqual(Array.from(simd.parts[0]));
    const a = plain.parts[0];
    for (const [lo, hi] of [
      [0, P],
      [1, 1030],
      [5, 8],
      [7, 7],
    ]) {
      const got = squaresOf(simd, lo, hi);
      expect(got).toBe(squaresOf(plain, lo, hi));
      let exact = 0;
      for (let i = lo; i < hi; i++) exact += a[i] * a[i];
      expect(Math.abs(got - exact)).toBeLessThanOrEqual(1e-12 * Math.max(exact, 1e-300));
    }
    // Sums of squares of ranges add up to the whole (what the pool's norm is made of).
    const ranges = splitBatch(P, 3).map((s) => squaresOf(simd, s.start, s.start + s.size));
    const whole = squaresOf(simd, 0, P);
    expect(Math.abs(ranges.reduce((x, y) => x + y, 0) - whole)).toBeLessThanOrEqual(1e-12 * whole);
  });

  it('refuses a range outside the buffers, naming it', () => {
    const g = makeGradParts(2, 8);
    expect(() => sumPartsInOrder(g, 2, 4, 9)).toThrow(/range \[4, 9\) is outside 0..8/);
    expect(() => squaresOf(g, 0, 9)).toThrow(/squaresOf: range \[0, 9\) is outside 0..8/);
    expect(() => sumPartsInOrder(g, 3, 0, 8)).toThrow(/sumPartsInOrder: 3 parts of 2/);
    expect(() => sumPartsInOrder(g, 0, 0, 8)).toThrow(/sumPartsInOrder: 0 parts of 2/);
  });
});
