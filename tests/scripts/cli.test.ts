import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  COMMANDS,
  COMPARE,
  EVALUATE,
  FORWARD,
  PREPARE_FLICKR8K,
  TRAIN,
  WORDNET,
} from '../../scripts/cli/commands';
import { CLI_DOCS, renderCliDocs } from '../../scripts/cli/docs';
import { helpText, parseCommand, type Command, type Options } from '../../scripts/cli/options';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');

/** parseCommand with --help caught instead of exiting. */
function parse<O extends Options>(c: Command<O>, argv: string[]) {
  return parseCommand(c, argv, (text) => {
    throw new HelpShown(text);
  });
}

class HelpShown extends Error {}

/** The message parseCommand throws for these arguments. */
function refusal(c: Command, argv: string[]): string {
  try {
    parse(c, argv);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`${c.name} ${argv.join(' ')}: accepted`);
}

describe('parseCommand', () => {
  it('types and checks values, and fills defaults from the table', () => {
    const { values } = parse(COMPARE, ['--lr', '0.01', '--runs', 'ln-order,gru-cosine', '--max-violation']);
    expect(values.lr).toBe(0.01);
    expect(values.runs).toEqual(['ln-order', 'gru-cosine']);
    expect(values['max-violation']).toBe(true);
    // Defaults of the table.
    expect(values.hidden).toBe(COMPARE.options.hidden.default);
    expect(values.epochs).toBe(COMPARE.options.epochs.default);
    expect(values.steps).toBeUndefined();
    // train leaves what a checkpoint or --init run may set unset.
    const t = parse(TRAIN, ['--steps', '5', '--lr=0.5', '--sampling', 'caption']).values;
    expect(t).toMatchObject({ steps: 5, lr: 0.5, sampling: 'caption', backend: 'wasm' });
    expect(t.hidden).toBeUndefined();
    expect(t.ln).toBeUndefined();
  });

  it('refuses out-of-range values, naming the flag, the range and the value', () => {
    expect(refusal(TRAIN, ['--lr', '0'])).toBe('--lr: expected a number above 0 and at most 1, got 0');
    expect(refusal(TRAIN, ['--lr', '-1'])).toBe('--lr: expected a number above 0 and at most 1, got -1');
    expect(refusal(TRAIN, ['--lr', '1e30'])).toBe('--lr: expected a number above 0 and at most 1, got 1e+30');
    expect(refusal(TRAIN, ['--hidden', '12000'])).toBe(
      '--hidden: expected a whole number from 1 to 4096, got 12000',
    );
    expect(refusal(COMPARE, ['--batch', '1'])).toBe('--batch: expected a whole number from 2 to 1024, got 1');
    expect(refusal(TRAIN, ['--dropout', '1'])).toBe('--dropout: expected a rate in [0, 1), got 1');
    expect(refusal(TRAIN, ['--lr-decay', '0'])).toBe('--lr-decay: expected a positive factor, got 0');
    expect(refusal(TRAIN, ['--ln', 'maybe'])).toBe("--ln: expected one of on|off, got 'maybe'");
    expect(refusal(PREPARE_FLICKR8K, ['x', '--jobs', '0'])).toBe(
      '--jobs: expected a positive integer, got 0',
    );
    expect(refusal(PREPARE_FLICKR8K, ['x', '--crops', '5'])).toBe('--crops: expected 1 or 10, got 5');
    expect(refusal(WORDNET, ['--protocol', 'paper', '--variants', 'order,cube'])).toBe(
      "--variants: expected one of order|symmetric, got 'cube'",
    );
    expect(refusal(TRAIN, ['--steps', 'many'])).toBe("flag '--steps': expected a number, got 'many'");
  });

  it('names unknown flags, missing values, stray arguments and missing required options', () => {
    expect(refusal(TRAIN, ['--hiden', '8'])).toMatch(
      /^unknown flag '--hiden'\nusage: npm run train -- \[options\]/,
    );
    expect(refusal(TRAIN, ['--steps'])).toMatch(/^flag '--steps' needs a value/);
    expect(refusal(TRAIN, ['--json=yes'])).toMatch(/^flag '--json' takes no value/);
    expect(refusal(TRAIN, ['runs/x'])).toMatch(/^unexpected argument 'runs\/x'/);
    expect(refusal(EVALUATE, ['--data', 'p'])).toMatch(
      /^--model <run folder>\[,<run folder>\.\.\.\] is required/,
    );
    expect(refusal(WORDNET, [])).toMatch(/^--protocol paper\|corrected is required/);
    expect(parse(FORWARD, ['case.json']).positionals).toEqual(['case.json']);
  });

  it('prints help made from the table, every option with its help and default', () => {
    let text = '';
    try {
      parse(TRAIN, ['--steps', '3', '--help']);
    } catch (e) {
      if (!(e instanceof HelpShown)) throw e;
      text = e.message;
    }
    expect(text).toBe(helpText(TRAIN));
    for (const [name, o] of Object.entries(TRAIN.options)) {
      const line = text
        .split('\n')
        .find((l) => l.trimStart().startsWith(`--${name} `) || l.trim() === `--${name}`);
      expect(line, name).toBeDefined();
      expect(line).toContain(o.help);
    }
    expect(text).toMatch(
      /--hidden H +GRU hidden size = joint-embedding size \(default: 256, or the --init run's\)/,
    );
    expect(helpText(EVALUATE)).toMatch(/--split train\|dev\|test +the split to rank \(default: dev\)/);
  });
});

describe('command tables', () => {
  it('docs/cli.md is up to date with the tables (npm run docs:cli writes it)', async () => {
    expect(readFileSync(CLI_DOCS, 'utf8')).toBe(await renderCliDocs());
  });

  it('every table is an npm script, and every option has help text', () => {
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    for (const c of COMMANDS) {
      if (!c.run) expect(pkg.scripts[c.name], c.name).toMatch(/^tsx scripts\//);
      for (const [name, o] of Object.entries(c.options))
        expect(o.help.length, `${c.name} --${name}`).toBeGreaterThan(3);
    }
  });

  it("the README's commands table lists each npm command on one line and links docs/cli.md", () => {
    const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Command-line tools'));
    const table = section.slice(0, section.indexOf('\n## '));
    expect(table).toContain('(docs/cli.md)');
    for (const c of COMMANDS.filter((x) => !x.run)) {
      const rows = table
        .split('\n')
        .filter((l) => l.includes(`\`npm run ${c.name}\``) || l.includes(`npm run -s ${c.name}`));
      expect(rows, c.name).toHaveLength(1);
    }
  });
});
