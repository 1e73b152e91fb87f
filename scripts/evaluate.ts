/**
 * Evaluates a trained run on a dataset split:
 *
 *   npm run evaluate -- --model <run folder>[,<run folder>...] --data <pack folder|flickr8k folder|synthetic>
 *                       [options]   (the table: EVALUATE in ./cli/commands.ts; `--help`, docs/cli.md)
 *
 * Several run folders, comma-separated, are evaluated as an ensemble: the sum of their scores ranks
 * (each model with its own vocabulary; the same image encoder and measure).
 *
 * Loads the model (src/model/export.ts), takes the split's image features from the pack, or computes
 * them from a Flickr8k folder with the model's image-encoder preset (file cache; the same code path as
 * prepare:flickr8k), and prints R@1/5/10, median and mean rank both ways. With --json, the last line of
 * stdout is {"i2t": {r1, r5, r10, medr, meanr}, "t2i": {...}, "rsum"}.
 */
import { initNodeBackend } from './lib/node-backend';
import { defaultThreadCount, ParallelPool } from './lib/parallel-pool';
import { parseCommand } from './cli/options';
import { EVALUATE } from './cli/commands';
import { loadScriptData } from './lib/script-data';
import { readRunFolder } from './lib/run-folder';
import { evaluateEnsemble } from '../src/model/evaluate';
import { importModel, type ImportedModel } from '../src/model/export';
import { SPLIT_NAMES, type SplitName } from '../src/model/data/flickr8k';

async function main(): Promise<void> {
  const { values: a } = parseCommand(EVALUATE);
  const json = Boolean(a.json);
  const log = (s: string) => (json ? process.stderr : process.stdout).write(s + '\n');
  const split = a.split;
  await initNodeBackend(a.backend);

  const folders = a.model;
  const runs: ImportedModel[] = [];
  let pool: ParallelPool | undefined;
  try {
    for (const f of folders) runs.push(importModel(readRunFolder(f)));
    // --threads: the embedding passes in shards over worker_threads (scripts/lib/parallel-pool.ts).
    const threads = a.threads ?? defaultThreadCount();
    pool = threads > 1 ? await ParallelPool.start(threads, a.backend, { onFailure: log }) : undefined;
    for (const r of runs) pool?.attachModel(r.model);
    const { config } = runs[0];
    runs.forEach((r, i) => {
      if (r.config.encoder !== config.encoder)
        throw new Error(
          `${folders[i]} was trained on ${r.config.encoder ?? 'synthetic'} features, ${folders[0]} on ${config.encoder ?? 'synthetic'}: an ensemble needs one image encoder`,
        );
    });
    const spec = a.data;
    if ((config.encoder === null) !== (spec === 'synthetic')) {
      throw new Error(
        config.encoder === null
          ? `${folders[0]} was trained on synthetic features (no image encoder): evaluate it with --data synthetic`
          : `${folders[0]} was trained on ${config.encoder} image features: --data must be a pack or a Flickr8k folder`,
      );
    }
    const data = await loadScriptData(spec, {
      expectEncoder: config.encoder ?? undefined,
      synthetic: { numImages: a.images, seed: a.seed },
      prepare: {
        limit: a.limit,
        thumbSize: 0,
        // A raw folder: encode only the split asked for (unknown splits fail there, naming the available ones).
        split: SPLIT_NAMES.includes(split as SplitName) ? (split as SplitName) : undefined,
      },
    });
    const ds = data.dataset;
    runs.forEach(({ config: c, vocab }, i) =>
      log(
        `model ${folders[i]}: ${c.model.layerNorm ? 'LN-GRU' : 'GRU'} H=${c.model.hiddenDim}, ` +
          `${c.model.measure}, vocabulary ${vocab.size}, trained ${c.steps} steps on ${c.dataset}`,
      ),
    );
    log(
      `data ${ds.name} (${data.kind}), split ${split}${runs.length > 1 ? `; an ensemble of ${runs.length}` : ''}`,
    );
    const m = evaluateEnsemble(runs, ds, split, {
      folds: Boolean(a.folds),
      maxImages: a['max-images'],
    });
    const row = (x: typeof m.i2t) =>
      `R@1 ${x.r1.toFixed(1)}  R@5 ${x.r5.toFixed(1)}  R@10 ${x.r10.toFixed(1)}  medr ${x.medr}  meanr ${x.meanr.toFixed(1)}`;
    log(`image -> caption: ${row(m.i2t)}`);
    log(`caption -> image: ${row(m.t2i)}`);
    log(`R-sum: ${m.rsum.toFixed(1)}`);
    if (json) process.stdout.write(JSON.stringify({ i2t: m.i2t, t2i: m.t2i, rsum: m.rsum }) + '\n');
  } finally {
    for (const r of runs) r.model.dispose();
    await pool?.close();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`evaluate: ${(e as Error).message}\n`);
  process.exit(1);
});
