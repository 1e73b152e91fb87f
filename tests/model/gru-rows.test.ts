/**
 * Which rows a GRU step computes (src/model/gru-rows.ts): the length order, the rows still going, the
 * packed input rows and back. The GRU's own test (./gru.test.ts) checks the passes built on them.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../../src/model/tf';
import {
  activeRows,
  inverseOrder,
  lengthOrder,
  packedRows,
  stepBlocks,
  unpackRows,
} from '../../src/model/gru-rows';
import { useBackend } from '../helpers/tf';

beforeAll(() => useBackend('wasm'));

describe('GRU rows', () => {
  it('orders rows longest first, ties in their given order, and maps them back', () => {
    const o = lengthOrder([2, 5, 2, 7, 5])!;
    expect(Array.from(o.rows)).toEqual([3, 1, 4, 0, 2]);
    expect(Array.from(o.lengths)).toEqual([7, 5, 5, 2, 2]);
    [0, 1, 2, 3, 4].forEach((k) => expect(o.rows[o.back[k]]).toBe(k)); // row k went to back[k]
    expect(Array.from(inverseOrder(o.back))).toEqual(Array.from(o.rows));
    // Already longest first (or all alike): nothing to reorder.
    expect(lengthOrder([7, 5, 5, 2])).toBeNull();
    expect(lengthOrder([4, 4, 4])).toBeNull();
  });

  it('counts the rows still going at each step, and packs their time-major rows step after step', () => {
    const active = activeRows([3, 2, 2, 1], 3);
    expect(active).toEqual([4, 3, 1]);
    expect(Array.from(packedRows(active, 4)!)).toEqual([0, 1, 2, 3, 4, 5, 6, 8]);
    expect(stepBlocks(active)).toEqual([
      [0, 4],
      [4, 3],
      [7, 1],
    ]);
    expect(packedRows(activeRows([2, 2], 2), 2)).toBeUndefined(); // every row runs every step
  });

  it('puts packed rows back at their places, zeros elsewhere', () => {
    const packed = Int32Array.of(0, 1, 2, 4);
    const rows = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8], [4, 2]);
    const all = unpackRows(rows, packed, 6);
    expect(all.arraySync()).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
      [0, 0],
      [7, 8],
      [0, 0],
    ]);
    tf.dispose([rows, all]);
  });
});
