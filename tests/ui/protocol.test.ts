import { describe, expect, it } from 'vitest';
import {
  BACKENDS,
  MAX_QUERY_CHARS,
  errorMessage,
  generalityVerdict,
  isBackendChoice,
  isBackendName,
} from '../../src/worker/protocol';

describe('helpers', () => {
  it('knows the backends', () => {
    expect(BACKENDS).toEqual(['webgpu', 'wasm', 'webgl', 'cpu']);
    for (const b of BACKENDS) expect(isBackendName(b)).toBe(true);
    expect(isBackendName('auto')).toBe(false);
    expect(isBackendChoice('auto')).toBe(true);
    expect(isBackendName('WASM')).toBe(false);
  });

  it('has a query limit', () => {
    expect(MAX_QUERY_CHARS).toBeGreaterThanOrEqual(100);
  });

  it('judges generality from the two energies', () => {
    expect(generalityVerdict(0, 0.5, 0.01)).toBe('b-more-general');
    expect(generalityVerdict(0.5, 0, 0.01)).toBe('a-more-general');
    expect(generalityVerdict(0, 0, 0.01)).toBe('equivalent');
    expect(generalityVerdict(1, 1.1, 0.01)).toBe('unrelated');
  });

  it('formats thrown values', () => {
    expect(errorMessage(new Error('boom'))).toBe('boom');
    expect(errorMessage(new TypeError(''))).toBe('TypeError');
    expect(errorMessage('plain')).toBe('plain');
    expect(errorMessage({ code: 7 })).toBe('{"code":7}');
    expect(errorMessage(undefined)).toBe('undefined');
  });
});
