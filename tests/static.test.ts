/**
 * The tree's own checks, run with the suite so CI enforces them: strict TypeScript, ESLint, Prettier.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/shared';

function run(cmd: string, args: string[]): { ok: boolean; out: string } {
  try {
    const out = execFileSync(cmd, args, { cwd: repoRoot, encoding: 'utf8', stdio: 'pipe' });
    return { ok: true, out };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    return { ok: false, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

describe('static checks', () => {
  it('strict TypeScript compiles', () => {
    const r = run('node', ['node_modules/typescript/bin/tsc', '--noEmit', '-p', 'tsconfig.json']);
    expect(r.out.trim(), r.out).toBe('');
    expect(r.ok).toBe(true);
  }, 180_000);

  it('ESLint reports nothing', () => {
    const r = run('node', ['node_modules/eslint/bin/eslint.js', '.', '--max-warnings', '0']);
    expect(r.ok, r.out).toBe(true);
  }, 180_000);

  it('Prettier finds every file formatted', () => {
    const r = run('node', ['node_modules/prettier/bin/prettier.cjs', '--check', '.']);
    expect(r.ok, r.out).toBe(true);
  }, 180_000);
});
