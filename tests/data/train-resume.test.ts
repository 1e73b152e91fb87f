/**
 * train --out checkpoints and --resume, end to end on the synthetic data: a run cut short and resumed
 * logs the uninterrupted run's losses to the last digit; out-of-range flags are refused as the Train
 * form refuses them (divergence itself: tests/model/checkpoint.test.ts).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runScript } from '../helpers/shared';

const train = (args: string[]) => runScript('train.ts', args);

const tmp = mkdtempSync(path.join(os.tmpdir(), 'orderembed-resume-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const SMALL = [
  '--images',
  '160',
  '--hidden',
  '16',
  '--word-dim',
  '8',
  '--batch',
  '16',
  '--eval-images',
  '40',
];

const losses = (dir: string): [number, number][] =>
  readFileSync(path.join(dir, 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { step: number; loss: number })
    .map((e) => [e.step, e.loss]);

describe('train checkpoints and --resume', () => {
  it('a run resumed from its checkpoint logs the uninterrupted losses to the last digit', async () => {
    const whole = path.join(tmp, 'whole');
    const cut = path.join(tmp, 'cut');
    const common = [
      ...SMALL,
      '--log-every',
      '1',
      '--eval-every',
      '6',
      '--sampling',
      'caption',
      '--dropout',
      '0.1',
    ];
    const [a, b] = await Promise.all([
      train([...common, '--steps', '16', '--out', whole]),
      train([...common, '--steps', '9', '--out', cut, '--checkpoint-every', '4']),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    // One checkpoint at a time: the tensors file of the last one (step 9) only.
    expect(
      readdirSync(cut)
        .filter((f) => f.startsWith('checkpoint'))
        .sort(),
    ).toEqual(['checkpoint-0000009.bin', 'checkpoint.json']);
    const c = await train(['--resume', cut, '--steps', '16']);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/resumed .* at step 9 of 16/);
    expect(losses(cut)).toEqual(losses(whole));
    expect(losses(cut)).toHaveLength(16);
    // The run's configuration comes from the checkpoint.
    const d = await train(['--resume', cut, '--steps', '20', '--lr', '0.01']);
    expect(d.code).not.toBe(0);
    expect(d.stderr).toMatch(/--resume takes the run's configuration from its checkpoint; drop --lr/);
  }, 240_000);

  it('--warmup is saved in the run config and honoured on resume (a cut run logs the whole one)', async () => {
    const whole = path.join(tmp, 'warm-whole');
    const cut = path.join(tmp, 'warm-cut');
    const common = [...SMALL, '--log-every', '1', '--eval-every', '5', '--warmup', '8'];
    const [a, b, plain] = await Promise.all([
      train([...common, '--steps', '10', '--out', whole]),
      train([...common, '--steps', '4', '--out', cut]),
      train([
        ...SMALL,
        '--log-every',
        '1',
        '--eval-every',
        '5',
        '--steps',
        '10',
        '--out',
        path.join(tmp, 'cold'),
      ]),
    ]);
    for (const r of [a, b, plain]) expect(r.code, r.stderr).toBe(0);
    expect(a.stdout).toMatch(/; lr warm-up over 8 steps/);
    const config = (dir: string) =>
      JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as { train: Record<string, unknown> };
    expect(config(whole).train.warmupSteps).toBe(8);
    // Without the flag the config has no such field: runs are what they were before the option.
    expect(config(path.join(tmp, 'cold')).train).not.toHaveProperty('warmupSteps');
    expect(losses(whole)).not.toEqual(losses(path.join(tmp, 'cold')));
    const c = await train(['--resume', cut, '--steps', '10']);
    expect(c.code, c.stderr).toBe(0);
    expect(losses(cut)).toEqual(losses(whole));
    const d = await train(['--resume', cut, '--steps', '12', '--warmup', '2']);
    expect(d.code).not.toBe(0);
    expect(d.stderr).toMatch(/--resume takes the run's configuration from its checkpoint; drop --warmup/);
  }, 240_000);

  it('refuses non-positive learning rates and out-of-range sizes, naming the flag', async () => {
    const runs = await Promise.all([
      train(['--lr', '0', '--steps', '1']),
      train(['--lr', '-1', '--steps', '1']),
      train(['--hidden', '12000', '--steps', '1']),
      train(['--batch', '1', '--steps', '1']),
      train(['--lr', '1e30', '--steps', '1']),
    ]);
    expect(runs.map((r) => r.code)).toEqual([1, 1, 1, 1, 1]);
    expect(runs[4].stderr).toMatch(/--lr: expected a number above 0 and at most 1, got 1e\+30/);
    expect(runs[0].stderr).toMatch(/--lr: expected a number above 0 and at most 1, got 0/);
    expect(runs[1].stderr).toMatch(/--lr: expected a number above 0 and at most 1, got -1/);
    expect(runs[2].stderr).toMatch(/--hidden: expected a whole number from 1 to 4096, got 12000/);
    expect(runs[3].stderr).toMatch(/--batch: expected a whole number from 2 to 1024, got 1/);
  }, 120_000);
});
