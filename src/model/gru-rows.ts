/**
 * Which rows of a padded, time-major caption batch a GRU step computes (./gru-composite.ts): the rows
 * ordered longest first, so that the rows still going at step t are the first active[t]; the input rows
 * of those steps packed one step after another; and back.
 */
import * as tf from './tf';

/**
 * The batch's rows ordered by length, longest first (stable), with the lengths in that order and, for
 * each given row, where it went; null when they are in that order already. A padded batch runs to its
 * longest caption: over all rows, a step's products and gates are masked, not skipped, for the rows that
 * have ended (on Flickr8k about half of a batch's rows x steps); longest first, the rows still going at
 * step t are the first active[t], and the step computes those only (as PyTorch's packed sequences).
 * Each row's values are those of the step over all rows (rows are independent, and the mask's ops are
 * kept), so the outputs keep their digits; the weight gradients' sums over rows skip the zero terms of
 * the ended rows, which may change their rounding.
 */
export function lengthOrder(
  lengths: ArrayLike<number>,
): { rows: Int32Array; lengths: Int32Array; back: Int32Array } | null {
  const B = lengths.length;
  let sorted = true;
  for (let b = 1; b < B && sorted; b++) sorted = lengths[b] <= lengths[b - 1];
  if (sorted) return null;
  const rows = Int32Array.from({ length: B }, (_, b) => b).sort((a, b) => lengths[b] - lengths[a] || a - b);
  return { rows, lengths: Int32Array.from(rows, (r) => lengths[r]), back: inverseOrder(rows) };
}

/** back[rows[i]] = i. */
export function inverseOrder(rows: Int32Array): Int32Array {
  const back = new Int32Array(rows.length);
  rows.forEach((r, i) => (back[r] = i));
  return back;
}

/** active[t] = rows with t < length (lengths longest first: the first active[t] rows). */
export function activeRows(lengths: ArrayLike<number>, T: number): number[] {
  return Array.from({ length: T }, (_, t) => {
    let n = 0;
    while (n < lengths.length && lengths[n] > t) n++;
    return n;
  });
}

/** The first n rows of m (m itself when that is all of them). */
export function firstRows<T extends tf.Tensor2D>(m: T, n: number): T {
  return n < m.shape[0] ? (m.slice([0, 0], [n, m.shape[1]]) as T) : m;
}

/** top [n, C] with the rows n.. of all [B, C] below it (top itself when n = B). */
export function withRowsBelow(top: tf.Tensor2D, all: tf.Tensor2D): tf.Tensor2D {
  const [n, C] = top.shape;
  const B = all.shape[0];
  return n < B ? (tf.concat([top, all.slice([n, 0], [B - n, C])]) as tf.Tensor2D) : top;
}

/** m [n, C] with zero rows below it up to B rows (m itself when n = B). */
export function padRows(m: tf.Tensor2D, B: number): tf.Tensor2D {
  const [n, C] = m.shape;
  return n < B ? (tf.concat([m, tf.zeros([B - n, C])]) as tf.Tensor2D) : m;
}

/**
 * The time-major rows (t * B + b) the steps compute, step after step (step t: its first active[t]);
 * undefined when that is all T*B rows.
 */
export function packedRows(active: number[], B: number): Int32Array | undefined {
  const R = active.reduce((a, n) => a + n, 0);
  if (R === active.length * B) return undefined;
  const rows = new Int32Array(R);
  let i = 0;
  active.forEach((n, t) => {
    for (let b = 0; b < n; b++) rows[i++] = t * B + b;
  });
  return rows;
}

/** [first row, rows] of each step's block in the packed rows. */
export function stepBlocks(active: number[]): [number, number][] {
  let start = 0;
  return active.map((n) => {
    const block: [number, number] = [start, n];
    start += n;
    return block;
  });
}

/** rows [R, C] put at their time-major places `packed` of [N, C], zeros elsewhere. */
export function unpackRows(rows: tf.Tensor2D, packed: Int32Array, N: number): tf.Tensor2D {
  const [R, C] = rows.shape;
  const from = new Int32Array(N).fill(R); // R: the zero row appended below
  packed.forEach((row, i) => (from[row] = i));
  const withZero = tf.concat([rows, tf.zeros([1, C])]) as tf.Tensor2D; // [R + 1, C]
  return tf.gather(withZero, tf.tensor1d(from, 'int32')) as tf.Tensor2D; // [N, C]
}
