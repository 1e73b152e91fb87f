/**
 * Writes the starter model that ships with the app (public/starter/, opened when the page first loads)
 * from a run folder written by `npm run train -- --out`:
 *
 *   npm run make-starter -- --from <run folder> [options]   (MAKE_STARTER in ./cli/commands.ts; `--help`)
 *
 * The weights are stored as float16 by default (half the bytes; docs/results.md measures what that costs
 * on dev). config.json and metrics.json are copied; calibration.json (`npm run calibrate`) too when the
 * run folder has one; codec.json is copied, or made from config.json when the run has none. Each file is written under a temporary name and then renamed, so an interrupted
 * run never leaves a half-written starter; other files in the folder (the caption bank) are left alone.
 */
import { existsSync, readFileSync, renameSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseCommand } from './cli/options';
import { MAKE_STARTER } from './cli/commands';
import { readRunFolder } from './lib/run-folder';
import { deserializeWeights, RUN_FILES, serializeWeights, type RunFiles } from '../src/model/export';
import { asText } from '../src/model/data/binary';
import { CaptionCodec } from '../src/model/caption-codec';
import { validateRunFiles, type ValidRunFiles } from '../src/model/validate-run';

/** Files beside the run's own that travel with it when present (codec.json: absent in older runs). */
const EXTRA_FILES = ['calibration.json', RUN_FILES.codec];

function writeAtomically(file: string, content: string | ArrayBuffer): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, typeof content === 'string' ? content : new Uint8Array(content));
  renameSync(tmp, file);
}

function main(): void {
  const { values: a } = parseCommand(MAKE_STARTER);
  const from = path.resolve(a.from);
  const out = path.resolve(a.out);
  const dtype = a.dtype;

  const files = readRunFolder(from);
  for (const name of Object.values(RUN_FILES))
    if (files[name] === undefined && name !== RUN_FILES.codec)
      throw new Error(`${path.join(from, name)}: missing (is this a run folder?)`);
  // config.json, weights.json against weights.bin's length, codec.json: checked as an import checks them.
  let valid: ValidRunFiles;
  try {
    valid = validateRunFiles(files);
  } catch (e) {
    throw new Error(`${from}: ${(e as Error).message}`);
  }
  const weights = deserializeWeights(valid.manifest, files[RUN_FILES.weights] as Uint8Array);
  const packed = serializeWeights(weights, dtype);

  // What the narrower type costs, per weight: the largest absolute rounding error.
  const back = deserializeWeights(packed.manifest, new Uint8Array(packed.bytes));
  let worst = { name: '', err: 0 };
  weights.forEach((w, i) => {
    let err = 0;
    for (let j = 0; j < w.data.length; j++) err = Math.max(err, Math.abs(w.data[j] - back[i].data[j]));
    if (err > worst.err) worst = { name: w.name, err };
  });

  mkdirSync(out, { recursive: true });
  const outFiles: RunFiles = {
    [RUN_FILES.config]: asText(files[RUN_FILES.config]),
    [RUN_FILES.metrics]: asText(files[RUN_FILES.metrics]),
    [RUN_FILES.weightsManifest]: JSON.stringify(packed.manifest, null, 1) + '\n',
    [RUN_FILES.weights]: packed.bytes,
  };
  for (const name of EXTRA_FILES) {
    const p = path.join(from, name);
    if (existsSync(p)) outFiles[name] = readFileSync(p, 'utf8');
  }
  // The starter always carries its codec: a run folder without one (the PyTorch trainer's, older runs)
  // gets the codec its config.json implies, so the page never asks for a file that is not there.
  if (outFiles[RUN_FILES.codec] === undefined)
    outFiles[RUN_FILES.codec] = CaptionCodec.fromRunConfig(valid.config).toFileText();
  for (const [name, content] of Object.entries(outFiles)) writeAtomically(path.join(out, name), content);
  const mb = (n: number) => (n / 1e6).toFixed(1);
  process.stdout.write(
    `wrote ${out}: ${Object.keys(outFiles).join(', ')}; weights ${dtype} ${mb(packed.bytes.byteLength)} MB ` +
      `(float32 ${mb((files[RUN_FILES.weights] as Uint8Array).byteLength)} MB), largest rounding error ` +
      `${worst.err.toExponential(2)} (${worst.name || 'none'})\n`,
  );
}

try {
  main();
} catch (e) {
  process.stderr.write(`make-starter: ${(e as Error).message}\n`);
  process.exit(1);
}
