/**
 * Summaries of a list of energies (order violations E, or any other scores): the median and the 90th
 * and 99th percentiles, linearly interpolated, of the finite values. What ./calibration.ts and
 * ./generality.ts report a model's energy scale in.
 */

/** The median, 90th and 99th percentiles of a list of energies. */
export interface EnergyStats {
  median: number;
  p90: number;
  p99: number;
  /** How many energies the percentiles are of. */
  count: number;
}

/** Linear-interpolated percentile `q` (0..1) of sorted values. */
export function quantile(sorted: readonly number[], q: number): number {
  if (!sorted.length) return Number.NaN;
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
}

/** {@link EnergyStats} of the finite `values` (NaN and infinities, e.g. a photo with no caption, left out). */
export function energyStats(values: readonly number[]): EnergyStats {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  return {
    median: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    p99: quantile(sorted, 0.99),
    count: sorted.length,
  };
}
