/** Minimal `--flag value` parser for the scripts, with clear messages for unknown or malformed flags. */
import { checkIntLimit, type LimitName } from '../src/model/limits';

export type FlagSpec = Record<string, 'string' | 'number' | 'boolean'>;

export function parseArgs(
  argv: string[],
  spec: FlagSpec,
  usage: string,
): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      process.stdout.write(usage + '\n');
      process.exit(0);
    }
    if (!a.startsWith('--')) throw new Error(`unexpected argument '${a}'\n${usage}`);
    const name = a.slice(2);
    const kind = spec[name];
    if (!kind) throw new Error(`unknown flag '${a}'\n${usage}`);
    if (kind === 'boolean') {
      out[name] = true;
      continue;
    }
    const v = argv[++i];
    if (v === undefined) throw new Error(`flag '${a}' needs a value\n${usage}`);
    if (kind === 'number') {
      const n = Number(v);
      if (!Number.isFinite(n)) throw new Error(`flag '${a}': expected a number, got '${v}'`);
      out[name] = n;
    } else out[name] = v;
  }
  return out;
}

/** A flag's value as a positive integer (undefined when the flag is absent); names the flag otherwise. */
export function positiveInt(flag: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(Number.isInteger(n) && n > 0))
    throw new Error(`--${flag}: expected a positive integer, got ${String(v)}`);
  return n;
}

/** The schedule flags of train and compare, with their {@link scheduleFlags} spec. */
export const SCHEDULE_FLAGS: FlagSpec = {
  'lr-decay-at': 'number',
  'lr-decay': 'number',
  'max-violation-after': 'number',
  dropout: 'number',
};

/**
 * The training schedule from --lr-decay-at N [--lr-decay F] (step decay of the learning rate) and
 * --max-violation-after N (the summed loss for N steps, then max-violation), and --dropout P.
 */
export function scheduleFlags(a: Record<string, unknown>): {
  lrDecayStep?: number;
  lrDecayFactor?: number;
  maxViolationStep?: number;
  dropout?: number;
} {
  const dropout = a.dropout === undefined ? undefined : Number(a.dropout);
  if (dropout !== undefined && !(dropout >= 0 && dropout < 1))
    throw new Error(`--dropout: expected a rate in [0, 1), got ${String(a.dropout)}`);
  const factor = a['lr-decay'] === undefined ? undefined : Number(a['lr-decay']);
  if (factor !== undefined && !(factor > 0))
    throw new Error(`--lr-decay: expected a positive factor, got ${String(a['lr-decay'])}`);
  return {
    lrDecayStep: positiveInt('lr-decay-at', a['lr-decay-at']),
    lrDecayFactor: factor,
    maxViolationStep: positiveInt('max-violation-after', a['max-violation-after']),
    dropout,
  };
}

export function oneOf<T extends string>(flag: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T))
    throw new Error(`--${flag}: expected one of ${allowed.join('|')}, got '${String(value)}'`);
  return value as T;
}

/**
 * Like {@link parseArgs}, but arguments that are not flags (or flag values) are returned in order as
 * `positionals` instead of being rejected, e.g. the folder of `prepare:flickr8k -- <folder> --limit 40`.
 */
export function parseArgsWithPositionals(
  argv: string[],
  spec: FlagSpec,
  usage: string,
): { flags: Record<string, string | number | boolean>; positionals: string[] } {
  const positionals: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('-')) positionals.push(a);
    else {
      rest.push(a);
      const kind = spec[a.slice(2)];
      if (kind && kind !== 'boolean' && i + 1 < argv.length) rest.push(argv[++i]);
    }
  }
  return { flags: parseArgs(rest, spec, usage), positionals };
}

/**
 * A number flag's value within [min, max] (above min with `exclusiveMin`; whole with `integer`), or
 * undefined when the flag is absent; anything else is refused naming the flag and the range, as the
 * Train form does.
 */
export function numberIn(
  flag: string,
  v: unknown,
  min: number,
  max: number,
  opts: { exclusiveMin?: boolean; integer?: boolean } = {},
): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  const ok =
    Number.isFinite(n) &&
    (opts.exclusiveMin ? n > min : n >= min) &&
    n <= max &&
    (!opts.integer || Number.isInteger(n));
  if (!ok)
    throw new Error(
      `--${flag}: expected ${opts.integer ? 'a whole number' : 'a number'} ${opts.exclusiveMin ? 'above' : 'from'} ${min} ${opts.exclusiveMin ? 'and at most' : 'to'} ${max}, got ${String(v)}`,
    );
  return n;
}

/** A size flag within its limit of src/model/limits.ts (undefined when absent). */
export function limitInt(flag: string, v: unknown, limit: LimitName, min = 1): number | undefined {
  return v === undefined ? undefined : checkIntLimit(`--${flag}`, Number(v), limit, min);
}

/**
 * The model and training flags train and compare share, range-checked as the Train form checks them
 * (sizes within src/model/limits.ts, a positive learning rate); absent flags are undefined.
 */
export function trainingFlags(a: Record<string, unknown>): {
  seed?: number;
  batchSize?: number;
  learningRate?: number;
  hiddenDim?: number;
  wordDim?: number;
  images?: number;
  steps?: number;
} {
  return {
    seed: numberIn('seed', a.seed, 0, 2 ** 31 - 1, { integer: true }),
    batchSize: limitInt('batch', a.batch, 'batchSize', 2),
    learningRate: numberIn('lr', a.lr, 0, 1, { exclusiveMin: true }),
    hiddenDim: limitInt('hidden', a.hidden, 'hiddenDim'),
    wordDim: limitInt('word-dim', a['word-dim'], 'wordDim'),
    images: limitInt('images', a.images, 'numImages', 2),
    steps: limitInt('steps', a.steps, 'steps'),
  };
}
