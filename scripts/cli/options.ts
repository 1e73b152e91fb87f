/**
 * Command-line options from one table per command (./commands.ts): each option's name, type, default,
 * help text and range check live in one entry, from which the parser (`node:util` parseArgs), `--help`
 * and docs/cli.md (`npm run docs:cli`) are all made.
 *
 * Values come back typed and checked: a number option is a finite number, then its `check` (a range,
 * a limit of src/model/limits.ts, a set of choices) refuses anything else with a message naming the
 * flag, as the Train form does. An absent option is its `default`, or undefined when it has none (a
 * command that must tell "not given" from a value, e.g. `train --resume`, leaves the default out of the
 * table's `default` and says it in `defaultText`).
 */
import { parseArgs } from 'node:util';
import { checkIntLimit, type LimitName } from '../../src/model/limits';

export type OptionType = 'string' | 'number' | 'boolean';

/** One row of a command's table. */
export interface Option {
  type: OptionType;
  /** What the help text shows after the flag: `N`, `on|off`, `<run folder>`. */
  value?: string;
  help: string;
  /** The value of an absent option. */
  default?: unknown;
  /** The default as the help text says it, where the command decides it (e.g. "from the checkpoint"). */
  defaultText?: string;
  required?: boolean;
  /**
   * Range check and conversion of the value (a number for a number option, else a string); throws an
   * Error naming the flag.
   */
  check?: (flag: string, value: never) => unknown;
}

export type Options = Record<string, Option>;

export interface Command<O extends Options = Options> {
  /** The npm script: `train`, `prepare:flickr8k`. */
  name: string;
  /** One line, for the README's table. */
  summary: string;
  /** More on what it does and prints (Markdown), for docs/cli.md. */
  description?: string;
  /** Arguments that are not flags, as usage shows them: `<folder>`. */
  positionals?: string;
  /** How it is run, where not `npm run <name> --` (a script without an npm entry). */
  run?: string;
  options: O;
}

type Checked<O extends Option> = O extends { check: (flag: string, value: never) => infer T }
  ? T
  : O['type'] extends 'number'
    ? number
    : O['type'] extends 'boolean'
      ? boolean
      : string;

/** An option's parsed value: undefined when absent, unless it has a default or is required. */
type ValueOf<O extends Option> = O extends { required: true }
  ? Checked<O>
  : O extends { default: infer D }
    ? undefined extends D
      ? Checked<O> | undefined
      : Checked<O>
    : O['type'] extends 'boolean'
      ? boolean | undefined
      : Checked<O> | undefined;

export type Values<O extends Options> = { -readonly [K in keyof O]: ValueOf<O[K]> };

/** Declares a table row, keeping its literal types (for the parsed value's type). */
export const opt = <const O extends Option>(o: O): O => o;

// ---- checks (messages as the Train form words them) ----

/** A whole number above 0. */
export const positiveInt = (flag: string, n: number): number => {
  if (!(Number.isInteger(n) && n > 0))
    throw new Error(`--${flag}: expected a positive integer, got ${String(n)}`);
  return n;
};

/** A number above 0 (whole with `integer`). */
export const positive =
  (integer = false) =>
  (flag: string, n: number): number => {
    if (!(n > 0) || (integer && !Number.isInteger(n)))
      throw new Error(`--${flag}: expected a positive ${integer ? 'integer' : 'number'}, got ${String(n)}`);
    return n;
  };

/** A number within [min, max] (above min with `exclusiveMin`; whole with `integer`). */
export const numberIn =
  (min: number, max: number, opts: { exclusiveMin?: boolean; integer?: boolean } = {}) =>
  (flag: string, n: number): number => {
    const ok =
      Number.isFinite(n) &&
      (opts.exclusiveMin ? n > min : n >= min) &&
      n <= max &&
      (!opts.integer || Number.isInteger(n));
    if (!ok)
      throw new Error(
        `--${flag}: expected ${opts.integer ? 'a whole number' : 'a number'} ${opts.exclusiveMin ? 'above' : 'from'} ${min} ${opts.exclusiveMin ? 'and at most' : 'to'} ${max}, got ${String(n)}`,
      );
    return n;
  };

/** A size within its limit of src/model/limits.ts. */
export const withinLimit =
  (limit: LimitName, min = 1) =>
  (flag: string, n: number): number =>
    checkIntLimit(`--${flag}`, n, limit, min);

/** One of a fixed set of words. */
export const oneOf =
  <T extends string>(allowed: readonly T[]) =>
  (flag: string, s: string): T => {
    if (!allowed.includes(s as T))
      throw new Error(`--${flag}: expected one of ${allowed.join('|')}, got '${s}'`);
    return s as T;
  };

/** A comma-separated list, empty items dropped. */
export const list = (_flag: string, s: string): string[] => s.split(',').filter(Boolean);

/** A comma-separated list of words from a fixed set. */
export const listOf =
  <T extends string>(allowed: readonly T[]) =>
  (flag: string, s: string): T[] =>
    s.split(',').map((v) => oneOf(allowed)(flag, v.trim()));

// ---- parsing ----

/** `npm run train -- <positionals> [options]` */
function synopsis(c: Command): string {
  return `${c.run ?? `npm run ${c.name} --`} ${c.positionals ? `${c.positionals} ` : ''}[options]`;
}

function usageLine(c: Command): string {
  return `usage: ${synopsis(c)}; --help lists them`;
}

/**
 * Old-style negative numbers: `--lr -1` is the value -1 (node's parseArgs would take `-1` for a flag),
 * so the range check can name it.
 */
function joinNegativeNumbers(argv: readonly string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    const o = a.startsWith('--') ? options[a.slice(2)] : undefined;
    if (o && o.type !== 'boolean' && next !== undefined && /^-[\d.]/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** Reworded errors of node's parseArgs, each naming the flag or argument. */
function reword(e: unknown, c: Command): Error {
  const err = e as { code?: string; message?: string };
  const flag = /'(-[^' ]+)/.exec(err.message ?? '')?.[1] ?? '';
  const msg =
    err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
      ? `unknown flag '${flag}'`
      : err.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL'
        ? `unexpected argument '${/'([^']*)'/.exec(err.message ?? '')?.[1] ?? ''}'`
        : err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && /does not take/.test(err.message ?? '')
          ? `flag '${flag}' takes no value`
          : err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE'
            ? `flag '${flag}' needs a value`
            : (err.message ?? String(e));
  return new Error(`${msg}\n${usageLine(c)}`);
}

/**
 * Parses a command's arguments against its table. `--help` (`-h`) prints the generated help and exits.
 * Throws an Error naming the flag for an unknown flag, a missing value, a value out of range, or a
 * missing required option.
 */
export function parseCommand<O extends Options>(
  c: Command<O>,
  argv: readonly string[] = process.argv.slice(2),
  onHelp: (text: string) => never = (text) => {
    process.stdout.write(text + '\n');
    process.exit(0);
  },
): { values: Values<O>; positionals: string[] } {
  const spec: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const [name, o] of Object.entries(c.options))
    spec[name] = { type: o.type === 'boolean' ? 'boolean' : 'string' };
  let parsed;
  try {
    parsed = parseArgs({
      args: joinNegativeNumbers(argv, c.options),
      options: spec,
      strict: true,
      allowPositionals: c.positionals !== undefined,
    });
  } catch (e) {
    throw reword(e, c);
  }
  if (parsed.values.help) onHelp(helpText(c));
  const values: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(c.options)) {
    const raw = parsed.values[name];
    if (raw === undefined) {
      if (o.required)
        throw new Error(`--${name}${o.value ? ` ${o.value}` : ''} is required\n${usageLine(c)}`);
      values[name] = o.default;
      continue;
    }
    let v: string | number | boolean = raw as string | boolean;
    if (o.type === 'number') {
      const n = Number(raw);
      if (raw === '' || !Number.isFinite(n))
        throw new Error(`flag '--${name}': expected a number, got '${String(raw)}'`);
      v = n;
    }
    values[name] = o.check ? (o.check as (f: string, x: unknown) => unknown)(name, v) : v;
  }
  return { values: values as Values<O>, positionals: parsed.positionals };
}

// ---- help and docs ----

function flagLabel(name: string, o: Option): string {
  return `--${name}${o.type === 'boolean' ? '' : ` ${o.value ?? (o.type === 'number' ? 'N' : 'VALUE')}`}`;
}

function defaultLabel(o: Option): string | undefined {
  if (o.defaultText !== undefined) return o.defaultText;
  if (o.default === undefined || o.default === false) return undefined;
  return Array.isArray(o.default) ? o.default.join(',') : String(o.default);
}

/** The `--help` text of a command. */
export function helpText(c: Command): string {
  const rows = Object.entries(c.options).map(([name, o]) => {
    const d = defaultLabel(o);
    return [
      flagLabel(name, o),
      `${o.help}${o.required ? ' (required)' : ''}${d !== undefined ? ` (default: ${d})` : ''}`,
    ] as const;
  });
  const width = Math.max(0, ...rows.map(([f]) => f.length));
  return [
    `usage: ${synopsis(c)}`,
    '',
    c.summary,
    '',
    'options:',
    ...rows.map(([f, h]) => `  ${f.padEnd(width)}  ${h}`),
    `  ${'--help, -h'.padEnd(width)}  this text`,
  ].join('\n');
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** docs/cli.md: every command's options, from the tables. */
export function cliMarkdown(commands: readonly Command[]): string {
  const parts = [
    '# Command-line tools',
    '',
    '<!-- Generated from scripts/cli/commands.ts by `npm run docs:cli`; tests/scripts/cli.test.ts checks it. -->',
    '',
    'Each command prints this with `--help`. Flags take their value as the next argument (`--steps 100`)',
    'or after `=` (`--lr=0.001`).',
    '',
  ];
  for (const c of commands) {
    parts.push(`## \`${c.run ?? `npm run ${c.name}`}\``, '', c.summary, '');
    if (c.description) parts.push(c.description, '');
    parts.push(`Usage: \`${synopsis(c)}\``, '');
    const entries = Object.entries(c.options);
    if (entries.length === 0) {
      parts.push('No options.', '');
      continue;
    }
    parts.push('| option | default | what |', '| --- | --- | --- |');
    for (const [name, o] of entries) {
      const d = defaultLabel(o);
      parts.push(
        `| \`${cell(flagLabel(name, o))}\` | ${o.required ? 'required' : d !== undefined ? cell(d) : ''} | ${cell(o.help)} |`,
      );
    }
    parts.push('');
  }
  return parts.join('\n');
}
