import { describe, expect, it } from 'vitest';
import { LOSS_EMA, MAX_HISTORY, appendLoss, runFromStored, seriesNames, thin } from '../../../src/ui/store';
import { storedRun } from '../fake-worker';

describe('loss history', () => {
  it('computes a bias-corrected EMA and skips non-finite or repeated points', () => {
    const r = appendLoss({ loss: [], emaAcc: 0, emaCount: 0 }, [
      { step: 1, loss: 2 },
      { step: 2, loss: NaN },
      { step: 3, loss: 1 },
      { step: 3, loss: 5 },
    ]);
    expect(r.loss.map((x) => x.step)).toEqual([1, 3]);
    expect(r.loss[0]?.smooth).toBeCloseTo(2);
    const expected = (LOSS_EMA * (1 - LOSS_EMA) * 2 + (1 - LOSS_EMA) * 1) / (1 - LOSS_EMA ** 2);
    expect(r.loss[1]?.smooth).toBeCloseTo(expected);
  });

  it('thin halves a full history', () => {
    const rows = Array.from({ length: 9 }, (_, i) => i);
    expect(thin(rows, 10)).toBe(rows);
    expect(
      thin(
        Array.from({ length: 10 }, (_, i) => i),
        10,
      ),
    ).toEqual([0, 2, 4, 6, 8, 9]);
  });

  it('samples a long stored history', () => {
    const history = Array.from({ length: 5000 }, (_, i) => ({ step: i + 1, epoch: 0, seconds: i, loss: 1 }));
    const r = runFromStored(storedRun('x', 'GRU', { history }));
    expect(r.loss.length).toBeLessThanOrEqual(MAX_HISTORY / 2 + 1);
    expect(r.loss.at(-1)?.step).toBe(5000);
  });

  it('makes series names unique', () => {
    const names = seriesNames([
      { id: 'a', label: 'LN-GRU' },
      { id: 'b', label: 'GRU' },
      { id: 'c', label: 'LN-GRU' },
    ]);
    expect([...names.values()]).toEqual(['LN-GRU', 'GRU', 'LN-GRU (2)']);
  });
});
