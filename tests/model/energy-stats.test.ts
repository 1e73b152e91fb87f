import { describe, expect, it } from 'vitest';
import * as calibration from '../../src/model/calibration';
import { energyStats, quantile } from '../../src/model/energy-stats';

describe('energy statistics', () => {
  it('interpolates percentiles of the finite values', () => {
    const s = energyStats([...Array.from({ length: 101 }, (_, i) => i), Number.NaN]);
    expect(s).toEqual({ median: 50, p90: 90, p99: 99, count: 101 });
    // Unsorted input, and infinities (a photo with no caption) left out as NaN is.
    expect(energyStats([3, Infinity, 1, 2, -Infinity])).toEqual({ median: 2, p90: 2.8, p99: 2.98, count: 3 });
    expect(energyStats([])).toEqual({ median: NaN, p90: NaN, p99: NaN, count: 0 });
  });

  it('reads a quantile of sorted values between the two neighbours', () => {
    expect(quantile([10, 20], 0.25)).toBe(12.5);
    expect(quantile([10, 20, 40], 0.75)).toBe(30);
    expect(quantile([5], 0.99)).toBe(5);
    expect(quantile([1, 2, 3], 0)).toBe(1);
    expect(quantile([1, 2, 3], 1)).toBe(3);
    expect(quantile([], 0.5)).toBeNaN();
  });

  it('is still exported by ./calibration.ts, where it used to live', () => {
    expect(calibration.energyStats).toBe(energyStats);
    expect(calibration.quantile).toBe(quantile);
  });
});
