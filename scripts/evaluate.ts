/**
 * Evaluates a trained run on a dataset split:
 *
 *   npm run evaluate -- --model <run folder> --data <pack folder|flickr8k folder|synthetic> [--split dev]
 *                       [--json] [--folds] [--max-images N] [--limit N] [--images N --seed S (synthetic)]
 *
 * Loads the model (src/model/export.ts), takes the split's image features from the pack, or computes
 * them from a Flickr8k folder with the model's image-encoder preset (file cache; the same code path as
 * prepare:flickr8k), and prints R@1/5/10, median and mean rank both ways. With --json, the last line of
 * stdout is {"i2t": {r1, r5, r10, medr, meanr}, "t2i": {...}, "rsum"}.
 */
import { initNodeBackend } from './node-backend';
import { oneOf, parseArgs } from './args';
import { loadScriptData, readRunFolder } from './data-node';
import { evaluateModel } from '../src/model/evaluate';
import { importModel } from '../src/model/export';
import { SPLIT_NAMES, type SplitName } from '../src/model/data/flickr8k';

const USAGE = `usage: npm run evaluate -- --model <run folder> --data <pack folder|flickr8k folder|synthetic>
  [--split train|dev|test (default dev)] [--json] [--folds] [--max-images N]
  [--limit N (flickr8k folder)] [--images N --seed S (synthetic)] [--backend wasm|cpu]`;

async function main(): Promise<void> {
  const a = parseArgs(
    process.argv.slice(2),
    {
      model: 'string',
      data: 'string',
      split: 'string',
      json: 'boolean',
      folds: 'boolean',
      'max-images': 'number',
      limit: 'number',
      images: 'number',
      seed: 'number',
      backend: 'string',
    },
    USAGE,
  );
  if (a.model === undefined) throw new Error(`--model <run folder> is required\n${USAGE}`);
  if (a.data === undefined) throw new Error(`--data <folder> is required\n${USAGE}`);
  const json = Boolean(a.json);
  const log = (s: string) => (json ? process.stderr : process.stdout).write(s + '\n');
  const split = String(a.split ?? 'dev');
  await initNodeBackend(oneOf('backend', a.backend, ['wasm', 'cpu'] as const, 'wasm'));

  const { model, vocab, config } = importModel(readRunFolder(String(a.model)));
  try {
    const spec = String(a.data);
    if ((config.encoder === null) !== (spec === 'synthetic')) {
      throw new Error(
        config.encoder === null
          ? `${String(a.model)} was trained on synthetic features (no image encoder): evaluate it with --data synthetic`
          : `${String(a.model)} was trained on ${config.encoder} image features: --data must be a pack or a Flickr8k folder`,
      );
    }
    const data = await loadScriptData(spec, {
      expectEncoder: config.encoder ?? undefined,
      synthetic: { numImages: Number(a.images ?? 1200), seed: Number(a.seed ?? 1234) },
      prepare: {
        limit: a.limit === undefined ? undefined : Number(a.limit),
        thumbSize: 0,
        // A raw folder: encode only the split asked for (unknown splits fail there, naming the available ones).
        split: SPLIT_NAMES.includes(split as SplitName) ? (split as SplitName) : undefined,
      },
    });
    const ds = data.dataset;
    log(
      `model ${String(a.model)}: ${config.model.layerNorm ? 'LN-GRU' : 'GRU'} H=${config.model.hiddenDim}, ` +
        `${config.model.measure}, vocabulary ${vocab.size}, trained ${config.steps} steps on ${config.dataset}; ` +
        `data ${ds.name} (${data.kind}), split ${split}`,
    );
    const m = evaluateModel(model, vocab, ds, split, {
      folds: Boolean(a.folds),
      maxImages: a['max-images'] === undefined ? undefined : Number(a['max-images']),
      maxLength: config.train.maxLength,
    });
    const row = (x: typeof m.i2t) =>
      `R@1 ${x.r1.toFixed(1)}  R@5 ${x.r5.toFixed(1)}  R@10 ${x.r10.toFixed(1)}  medr ${x.medr}  meanr ${x.meanr.toFixed(1)}`;
    log(`image -> caption: ${row(m.i2t)}`);
    log(`caption -> image: ${row(m.t2i)}`);
    log(`R-sum: ${m.rsum.toFixed(1)}`);
    if (json) process.stdout.write(JSON.stringify({ i2t: m.i2t, t2i: m.t2i, rsum: m.rsum }) + '\n');
  } finally {
    model.dispose();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`evaluate: ${(e as Error).message}\n`);
  process.exit(1);
});
