/** Test set-up for the model core in Node: a tfjs backend, and float comparison with a useful message. */
import { expect } from 'vitest';
import { initNodeBackend } from '../../scripts/lib/node-backend';
import { flatten } from './shared';

export async function useBackend(name: 'wasm' | 'cpu' = 'wasm'): Promise<void> {
  await initNodeBackend(name);
}

/** Asserts max |actual - expected| <= tol over nested arrays of the same size, naming the worst index. */
export function expectClose(actual: unknown, expected: unknown, tol: number, what = 'value'): void {
  const a = typeof actual === 'number' ? [actual] : flatten(actual);
  const e = typeof expected === 'number' ? [expected] : flatten(expected);
  expect(a.length, `${what}: size`).toBe(e.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - e[i]);
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  expect(
    worst,
    `${what}: max abs diff ${worst} at flat index ${at} (got ${a[at]}, expected ${e[at]})`,
  ).toBeLessThanOrEqual(tol);
}
