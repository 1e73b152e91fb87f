import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from '../../src/model/tf';
import { settle, time } from '../../bench/timing';
import { useBackend } from '../helpers/tf';

beforeAll(() => useBackend('wasm'));
afterEach(() => vi.restoreAllMocks());

describe('time', () => {
  it('returns the median of the timed runs, after one untimed warm-up run', async () => {
    vi.spyOn(console, 'log').mockImplementation(() => {});
    // performance.now() is read before and after each run: a 100 ms warm-up, then runs of 5, 1 and 3 ms.
    const clock = [0, 100, 0, 5, 0, 1, 0, 3];
    vi.spyOn(performance, 'now').mockImplementation(() => clock.shift()!);
    let runs = 0;
    const ms = await time(async () => void runs++, 3, 'x');
    expect(runs).toBe(4);
    expect(ms).toBe(3);
    expect(clock).toEqual([]);
  });
});

describe('settle', () => {
  it('waits for the data of one tensor or several, then frees them', async () => {
    const n = tf.memory().numTensors;
    const a = tf.ones([2, 2]);
    const b = tf.zeros([3]);
    await settle(a);
    expect(a.isDisposed).toBe(true);
    await settle([b, tf.ones([1])]);
    expect(b.isDisposed).toBe(true);
    expect(tf.memory().numTensors).toBe(n);
  });
});
