import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadTestVector, repoRoot, sharedDir } from './shared';

describe('shared directory helper', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('defaults to ../shared beside the repository', () => {
    vi.stubEnv('ORDEREMBED_SHARED', '');
    expect(sharedDir()).toBe(path.resolve(repoRoot, '..', 'shared'));
  });

  it('honours ORDEREMBED_SHARED and names the missing path', () => {
    const missing = path.resolve('/nonexistent-orderembed-shared');
    vi.stubEnv('ORDEREMBED_SHARED', missing);
    expect(sharedDir()).toBe(missing);
    expect(() => loadTestVector('recall')).toThrow(`shared directory not found at ${missing}`);
  });

  it('loads a vector from ORDEREMBED_SHARED and names a missing file', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'orderembed-shared-'));
    try {
      mkdirSync(path.join(dir, 'testvectors'));
      writeFileSync(path.join(dir, 'testvectors', 'tiny.json'), '{"x": [1, 2]}');
      vi.stubEnv('ORDEREMBED_SHARED', dir);
      expect(loadTestVector<{ x: number[] }>('tiny')).toEqual({ x: [1, 2] });
      expect(loadTestVector('tiny.json')).toEqual({ x: [1, 2] });
      expect(() => loadTestVector('no-such-vector')).toThrow(
        path.join(dir, 'testvectors', 'no-such-vector.json'),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
