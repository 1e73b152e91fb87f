/**
 * Measures a run's energy scale on a dataset split and writes `calibration.json` into the run folder
 * (src/model/calibration.ts says what is measured); the page uses it for "nothing here fits well" and
 * for "neither sentence contains the other". make-starter copies it into the starter folder.
 *
 *   npm run calibrate -- --model <run folder> --data <pack folder|flickr8k folder>
 *                        [--split dev] [--bank public/starter/caption-bank.txt] [--max-images 1000] [--json]
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { initNodeBackend } from './node-backend';
import { oneOf, parseArgs } from './args';
import { loadScriptData, readRunFolder } from './data-node';
import { calibrate, CALIBRATION_FILE } from '../src/model/calibration';
import { importModel } from '../src/model/export';
import { parseCaptionBank } from '../src/model/caption-bank';

const USAGE = `usage: npm run calibrate -- --model <run folder> --data <pack folder|flickr8k folder>
  [--split dev|train|test (default dev)] [--bank <caption bank .txt> (default public/starter/caption-bank.txt when present)]
  [--max-images N (default 1000)] [--json] [--backend wasm|cpu]`;

async function main(): Promise<void> {
  const a = parseArgs(
    process.argv.slice(2),
    {
      model: 'string',
      data: 'string',
      split: 'string',
      bank: 'string',
      'max-images': 'number',
      json: 'boolean',
      backend: 'string',
    },
    USAGE,
  );
  if (a.model === undefined) throw new Error(`--model <run folder> is required\n${USAGE}`);
  if (a.data === undefined) throw new Error(`--data <folder> is required\n${USAGE}`);
  const split = oneOf('split', a.split, ['dev', 'train', 'test'] as const, 'dev');
  const json = Boolean(a.json);
  const log = (s: string) => (json ? process.stderr : process.stdout).write(s + '\n');
  await initNodeBackend(oneOf('backend', a.backend, ['wasm', 'cpu'] as const, 'wasm'));

  const folder = path.resolve(String(a.model));
  const m = importModel(readRunFolder(folder));
  try {
    const data = await loadScriptData(String(a.data), {
      expectEncoder: m.config.encoder ?? undefined,
      prepare: { thumbSize: 0, split },
    });
    const bankFile =
      a.bank !== undefined
        ? String(a.bank)
        : existsSync('public/starter/caption-bank.txt')
          ? 'public/starter/caption-bank.txt'
          : null;
    const bank = bankFile ? parseCaptionBank(readFileSync(bankFile, 'utf8'), bankFile).sentences : undefined;
    const c = calibrate(m.model, m.vocab, data.dataset, {
      split,
      maxImages: a['max-images'] === undefined ? 1000 : Number(a['max-images']),
      bank,
      maxLength: m.config.train.maxLength,
    });
    const out = path.join(folder, CALIBRATION_FILE);
    writeFileSync(out, JSON.stringify(c, null, 2) + '\n');
    const row = (name: string, s: { median: number; p90: number; p99: number }) =>
      `${name.padEnd(38)} median ${s.median.toFixed(4)}  p90 ${s.p90.toFixed(4)}  p99 ${s.p99.toFixed(4)}`;
    log(`${c.images} ${split} photos of ${c.dataset}; energies (order violation, lower fits better):`);
    log(row('best own caption', c.matching));
    log(row('best caption of another photo', c.bestOther));
    log(row('a random caption of another photo', c.random));
    if (c.bank) log(row(`best of the bank (${c.bank.sentences} sentences)`, c.bank));
    log(`"nothing here fits well" above ${c.nothingFits.toFixed(4)}; wrote ${out}`);
    if (json) process.stdout.write(JSON.stringify(c) + '\n');
  } finally {
    m.model.dispose();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`calibrate: ${(e as Error).message}\n`);
  process.exit(1);
});
