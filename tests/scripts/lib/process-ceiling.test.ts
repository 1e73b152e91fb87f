import { describe, expect, it } from 'vitest';
import { processCeiling } from '../../../scripts/lib/process-ceiling';

describe('processCeiling', () => {
  it('times the one-thread step alone and in N processes at once, and divides', async () => {
    const c = await processCeiling(2, { H: 8, W: 8, batch: 4 }, 2);
    expect(c.aloneMs).toBeGreaterThan(0);
    expect(c.togetherMs).toBeGreaterThan(0);
    expect(c.ceiling).toBeCloseTo((2 * c.aloneMs) / c.togetherMs, 10);
  }, 120_000);

  it('rejects with the child’s own message on a bad size', async () => {
    await expect(processCeiling(2, { H: 0, W: 8, batch: 4 }, 1)).rejects.toThrow(
      /child exited with 1: usage: process-ceiling-child\.ts H W batch steps/,
    );
  }, 120_000);
});
