/**
 * What this machine gives to N independent jobs: the ceiling for any speed-up of a training step over N
 * threads. Runs the one-thread LN-GRU training step (the same size and data as bench:model's threads
 * part) in one child process alone, then in N child processes at once, and compares throughputs:
 *
 *   ceiling = N * (ms of a step alone) / (median ms of a step while N processes run)
 *
 * N processes share nothing (each its own wasm instance, heap and weights), so a data-parallel pool
 * cannot beat this: with N cores that each run at full speed it is N; on a VM whose vCPUs share a
 * physical core's caches, memory bandwidth or a host's scheduler it is less (1.41 for N = 2 on the
 * 2-core machine of docs/benchmarks.md, where a plain JS loop got 1.65).
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './stats';

export interface CeilingSize {
  H: number;
  W: number;
  batch: number;
}

export interface Ceiling {
  /** Median ms of a step in one process running alone. */
  aloneMs: number;
  /** Median over the N processes of each one's median ms of a step, all running at once. */
  togetherMs: number;
  ceiling: number;
}

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'process-ceiling-child.ts');

/** Median step ms printed by one child process (`steps` timed steps after one warm-up step). */
function child(size: CeilingSize, steps: number): Promise<number> {
  const require = createRequire(import.meta.url);
  const tsx = path.join(path.dirname(require.resolve('tsx/package.json')), 'dist', 'cli.mjs');
  const args = [tsx, CHILD, String(size.H), String(size.W), String(size.batch), String(steps)];
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      const m = /^step_ms=([\d.]+)$/m.exec(out);
      if (code === 0 && m) resolve(Number(m[1]));
      else reject(new Error(`process ceiling: child exited with ${code}: ${err.trim().split('\n').at(-1)}`));
    });
  });
}

/** The ceiling for `n` processes at `size`: one process alone, then `n` at once (`steps` timed steps each). */
export async function processCeiling(n: number, size: CeilingSize, steps: number): Promise<Ceiling> {
  const aloneMs = await child(size, steps);
  const together = await Promise.all(Array.from({ length: n }, () => child(size, steps)));
  const togetherMs = median(together);
  return { aloneMs, togetherMs, ceiling: (n * aloneMs) / togetherMs };
}
