/**
 * Access to the shared data directory (`../shared` beside the repository, or $ORDEREMBED_SHARED) from
 * tests: reference test vectors, Flickr8k, image-encoder models. Node-only (tests and scripts).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file lives in <root>/tests/helpers/). */
export const repoRoot: string = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A command-line tool's run: exit code, stdout, stderr. */
export interface ScriptRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `scripts/<script>` (TypeScript, through tsx) with `args` in a child process, from the repository root. */
export function runScript(script: string, args: readonly string[]): Promise<ScriptRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [
        path.join(repoRoot, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
        path.join(repoRoot, 'scripts', script),
        ...args,
      ],
      { cwd: repoRoot, encoding: 'utf8', maxBuffer: 1 << 24 },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/**
 * Absolute path of the shared directory: $ORDEREMBED_SHARED if set, else `<repoRoot>/../shared`.
 * Does not check that it exists; see {@link requireSharedDir}.
 */
export function sharedDir(): string {
  const fromEnv = process.env.ORDEREMBED_SHARED;
  return fromEnv && fromEnv.trim() !== '' ? path.resolve(fromEnv) : path.resolve(repoRoot, '..', 'shared');
}

/** Like {@link sharedDir} but throws a clear error naming the path when the directory is missing. */
export function requireSharedDir(): string {
  const dir = sharedDir();
  if (!existsSync(dir)) {
    throw new Error(
      `shared directory not found at ${dir}; expected ../shared beside the repository ` +
        `(or set ORDEREMBED_SHARED to its location)`,
    );
  }
  return dir;
}

/** Path of `<shared>/testvectors/<name>.json` (`name` may include the .json extension). */
export function testVectorPath(name: string): string {
  const file = name.endsWith('.json') ? name : `${name}.json`;
  return path.join(sharedDir(), 'testvectors', file);
}

/**
 * Loads and parses a reference test vector, e.g. `loadTestVector<RecallVector>('recall')`. Throws an
 * error naming the path if the shared directory or the file is missing, or the JSON is invalid.
 */
export function loadTestVector<T = unknown>(name: string): T {
  requireSharedDir();
  const file = testVectorPath(name);
  if (!existsSync(file)) {
    throw new Error(`test vector ${JSON.stringify(name)} not found: expected the file ${file}`);
  }
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (err) {
    throw new Error(`test vector ${file} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Flattens a nested array of numbers (e.g. a [N][M] matrix from a test vector) row-major. */
export function flatten(nested: unknown): number[] {
  const out: number[] = [];
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) for (const y of x) walk(y);
    else out.push(x as number);
  };
  walk(nested);
  return out;
}
