/**
 * The option table of every command-line tool, one `Command` per npm script: the scripts parse their
 * arguments with these (./options.ts `parseCommand`), `--help` prints them, and docs/cli.md is written
 * from them (`npm run docs:cli`). Adding an option is one entry here plus its use in the script.
 *
 * Kept light to import (no tfjs): the docs generator and the unit tests read it. The tables live in
 * ./commands/ by group (train.ts: train and compare, with the options they share in training.ts; runs.ts;
 * data.ts; wordnet.ts; bench.ts; common.ts: --backend, --json, --threads); this file gathers them.
 */
import type { Command } from './options';
import {
  BENCH_ENCODERS,
  BENCH_GALLERY,
  BENCH_GPU,
  BENCH_KERNELS,
  BENCH_MODEL,
  BENCH_UI,
  PROBE_ENCODERS,
} from './commands/bench';
import { MAKE_CAPTION_BANK, PREPARE_FLICKR8K, PREPARE_SCENES } from './commands/data';
import { CALIBRATE, EVALUATE, FORWARD, MAKE_STARTER, PLOT } from './commands/runs';
import { COMPARE, TRAIN } from './commands/train';
import { WORDNET } from './commands/wordnet';

export { TABLE_FLAGS, tableTrainFields } from './commands/training';
export {
  BENCH_ENCODERS,
  BENCH_GALLERY,
  BENCH_GPU,
  BENCH_KERNELS,
  BENCH_MODEL,
  BENCH_UI,
  PROBE_ENCODERS,
  MAKE_CAPTION_BANK,
  PREPARE_FLICKR8K,
  PREPARE_SCENES,
  CALIBRATE,
  EVALUATE,
  FORWARD,
  MAKE_STARTER,
  PLOT,
  COMPARE,
  TRAIN,
  WORDNET,
};

/** Every command with options, in the README's order. */
export const COMMANDS: readonly Command[] = [
  TRAIN,
  PREPARE_FLICKR8K,
  EVALUATE,
  COMPARE,
  CALIBRATE,
  MAKE_STARTER,
  WORDNET,
  PREPARE_SCENES,
  MAKE_CAPTION_BANK,
  FORWARD,
  PLOT,
  BENCH_MODEL,
  BENCH_ENCODERS,
  BENCH_KERNELS,
  BENCH_GPU,
  BENCH_UI,
  BENCH_GALLERY,
  PROBE_ENCODERS,
] as Command[];
