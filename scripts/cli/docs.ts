/**
 * Writes docs/cli.md from the option tables (./commands.ts): `npm run docs:cli`. The text goes through
 * Prettier with the project's settings, so the checked-in file passes `prettier --check` and
 * tests/scripts/cli.test.ts can compare it byte for byte.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { COMMANDS } from './commands';
import { cliMarkdown } from './options';

export const CLI_DOCS = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'docs',
  'cli.md',
);

/** docs/cli.md as the tables make it. */
export async function renderCliDocs(): Promise<string> {
  const config = (await prettier.resolveConfig(CLI_DOCS)) ?? {};
  return prettier.format(cliMarkdown(COMMANDS), { ...config, filepath: CLI_DOCS });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const text = await renderCliDocs();
  let old = '';
  try {
    old = readFileSync(CLI_DOCS, 'utf8');
  } catch {
    // first run
  }
  if (old === text) process.stdout.write(`${path.relative(process.cwd(), CLI_DOCS)} is up to date\n`);
  else {
    writeFileSync(CLI_DOCS, text);
    process.stdout.write(`wrote ${path.relative(process.cwd(), CLI_DOCS)}\n`);
  }
}
