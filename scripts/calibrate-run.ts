/**
 * Measures a run's energy scale on a dataset split and writes `calibration.json` into the run folder
 * (src/model/calibration.ts says what is measured); the page uses it for "nothing here fits well" and,
 * with the caption bank, for "which sentence is more general" (its thresholds are measured on the
 * bank's sentence pairs). make-starter copies it into the starter folder.
 *
 *   npm run calibrate -- --model <run folder> --data <pack folder|flickr8k folder> [options]
 *   (CALIBRATE in ./cli/commands.ts; `--help`, docs/cli.md)
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { initNodeBackend } from './lib/node-backend';
import { parseCommand } from './cli/options';
import { CALIBRATE } from './cli/commands';
import { loadScriptData } from './lib/script-data';
import { readRunFolder } from './lib/run-folder';
import { calibrate, CALIBRATION_FILE } from '../src/model/calibration';
import { importModel } from '../src/model/export';
import { parseCaptionBank } from '../src/model/caption-bank';

async function main(): Promise<void> {
  const { values: a } = parseCommand(CALIBRATE);
  const split = a.split;
  const json = Boolean(a.json);
  const log = (s: string) => (json ? process.stderr : process.stdout).write(s + '\n');
  await initNodeBackend(a.backend);

  const folder = path.resolve(a.model);
  const m = importModel(readRunFolder(folder));
  try {
    const data = await loadScriptData(a.data, {
      expectEncoder: m.config.encoder ?? undefined,
      prepare: { thumbSize: 0, split },
    });
    const bankFile =
      a.bank !== undefined
        ? a.bank
        : existsSync('public/starter/caption-bank.txt')
          ? 'public/starter/caption-bank.txt'
          : null;
    const bank = bankFile ? parseCaptionBank(readFileSync(bankFile, 'utf8'), bankFile).sentences : undefined;
    const c = await calibrate(m.model, m.codec, data.dataset, { split, maxImages: a['max-images'], bank });
    const out = path.join(folder, CALIBRATION_FILE);
    writeFileSync(out, JSON.stringify(c, null, 2) + '\n');
    const row = (name: string, s: { median: number; p90: number; p99: number }) =>
      `${name.padEnd(38)} median ${s.median.toFixed(4)}  p90 ${s.p90.toFixed(4)}  p99 ${s.p99.toFixed(4)}`;
    log(`${c.images} ${split} photos of ${c.dataset}; energies (order violation, lower fits better):`);
    log(row('best own caption', c.matching));
    log(row('best caption of another photo', c.bestOther));
    log(row('a random caption of another photo', c.random));
    if (c.bank) log(row(`best of the bank (${c.bank.sentences} sentences)`, c.bank));
    log(`"nothing here fits well" above ${c.nothingFits.toFixed(4)}`);
    const g = c.generality;
    if (g) {
      log(`which sentence is more general, on ${g.sentences} bank sentences (caption to caption):`);
      log(row(`E(specific, general), ${g.containedPairs} pairs`, g.contained));
      log(row('E(general, specific), the same pairs', g.reverse));
      log(row(`unrelated, the smaller, ${g.unrelatedPairs} pairs`, g.unrelated));
      log(
        `  about 0 up to ${g.near.toFixed(4)}, far above ${g.far.toFixed(4)}, a direction when ` +
          `|log ratio| >= ${g.asymmetry.toFixed(4)}; read right: ${(100 * g.agreement.contained).toFixed(1)}% ` +
          `of contained pairs, ${(100 * g.agreement.unrelated).toFixed(1)}% of unrelated pairs`,
      );
    } else if (c.generalityProblem)
      log(`which sentence is more general: not measured (${c.generalityProblem})`);
    log(`wrote ${out}`);
    if (json) process.stdout.write(JSON.stringify(c) + '\n');
  } finally {
    m.model.dispose();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`calibrate: ${(e as Error).message}\n`);
  process.exit(1);
});
