import { describe, expect, it } from 'vitest';
import { storedValues } from '../../src/model/encoders/cache';

/** A record as IdbFeatureCache.put stores it. */
function record(key: string, values: number[], info: { count?: number; featureDim?: number } = {}) {
  return { key, data: new Float32Array(values).buffer, info };
}

describe('feature cache records read back', () => {
  it('returns the values of a whole record for its key', () => {
    const got = storedValues(record('k', [1, 2, 3, 4, 5, 6], { count: 2, featureDim: 3 }), 'k');
    expect(Array.from(got ?? [])).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('treats a record of another key, odd bytes, a contradicted size or a non-record as a miss', () => {
    expect(storedValues(record('other', [1, 2]), 'k')).toBeUndefined();
    expect(storedValues({ key: 'k', data: new ArrayBuffer(6), info: {} }, 'k')).toBeUndefined();
    expect(storedValues(record('k', [1, 2, 3, 4], { count: 2, featureDim: 3 }), 'k')).toBeUndefined();
    expect(storedValues({ key: 'k', data: [1, 2], info: {} }, 'k')).toBeUndefined();
    expect(storedValues(null, 'k')).toBeUndefined();
    expect(storedValues('k', 'k')).toBeUndefined();
  });
});
