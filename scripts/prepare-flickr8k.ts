/**
 * Builds a feature pack from a Flickr8k folder, for the playground and the headless trainer:
 *
 *   npm run prepare:flickr8k -- <folder> [options]   (PREPARE_FLICKR8K in ./cli/commands.ts; `--help`)
 *
 * Reads the folder (captions.txt, Flickr8k.token.txt or dataset_flickr8k.json; the
 * Flickr_8k.{train,dev,test}Images.txt lists; Images/), encodes every captioned photo with the image
 * encoder (progress with photos/s and ETA on stderr; features cached in files, so a rerun is instant),
 * and writes manifest.json, features.bin and thumbs/ to --out (default
 * public/packs/flickr8k-<encoder>[-crops10][-limitN][-mirror], git-ignored). Photos that cannot be read or
 * decoded are named, left out and listed in the manifest's failedImages. With --mirror the features are
 * those of the photos mirrored left-right: a second view for `train --augment <that pack>`. With --jobs N,
 * N child processes encode interleaved 500-photo chunks into the cache side by side (tfjs-wasm in Node
 * uses one core per process), then this process packs them: 10-crop features on a 2-core machine take
 * about half the time.
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseCommand } from './cli/options';
import { PREPARE_FLICKR8K } from './cli/commands';
import { defaultPackDir, writePack } from './lib/packs';
import { encodeFlickrShard, prepareFlickrPack, type Shard } from './lib/prepare-flickr';
import { initNodeBackend } from './lib/node-backend';

async function main(): Promise<void> {
  const { values: a, positionals } = parseCommand(PREPARE_FLICKR8K);
  if (positionals.length !== 1)
    throw new Error(
      `expected one folder, got ${positionals.length}\nusage: npm run prepare:flickr8k -- <folder> [options]`,
    );
  const crops = a.crops;
  if (a.mirror && crops !== 1)
    throw new Error('--mirror: a 1-crop view (10-crop features already include the mirrors)');
  const limit = a.limit;
  const encoder = a.encoder;
  const out = a.out ? path.resolve(a.out) : defaultPackDir(encoder, crops, limit, Boolean(a.mirror));
  const jobs = a.jobs;
  const opts = {
    encoder,
    crops,
    mirror: Boolean(a.mirror),
    limit,
    thumbSize: a['thumb-size'],
    cacheDir: a.cache ? path.resolve(a.cache) : undefined,
    chunkSize: a['chunk-size'],
  } as const;
  if (a.shard !== undefined) {
    // One job of --jobs N (started by the parent below): encode this shard's chunks into the cache.
    const m = /^(\d+)\/(\d+)$/.exec(a.shard);
    if (!m) throw new Error(`--shard: expected index/count, got '${a.shard}'`);
    const shard: Shard = { index: Number(m[1]), count: Number(m[2]) };
    await initNodeBackend(a.backend);
    const r = await encodeFlickrShard(positionals[0], opts, shard);
    process.stdout.write(
      `shard ${a.shard}: ${r.computed} photos computed, ${r.cached} cached, ${r.failed} failed\n`,
    );
    return;
  }
  if (jobs > 1) await runJobs(jobs, process.argv.slice(2));
  await initNodeBackend(a.backend);
  const prepared = await prepareFlickrPack(positionals[0], opts);
  await writePack(out, prepared.pack, prepared.thumb);
  const m = prepared.pack.manifest;
  const splits = Object.entries(m.splits)
    .map(([s, l]) => `${s} ${l.length}`)
    .join(', ');
  process.stdout.write(
    `wrote ${out}: ${m.numImages} photos (${splits}), ${m.captions.length} captions, ${m.featureDim}-d ${m.encoder} features` +
      `, ${m.failedImages.length} failed\n`,
  );
}

/**
 * Runs this script as `jobs` child processes, child k with --shard k/jobs, each line of their output
 * prefixed with [job k]; rejects naming the job that failed. Afterwards every chunk is cached (apart from
 * chunks with unreadable photos, which the packing pass encodes again and reports).
 */
async function runJobs(jobs: number, argv: string[]): Promise<void> {
  const rest = argv.filter(
    (_, i) => argv[i] !== '--jobs' && argv[i - 1] !== '--jobs' && !argv[i]!.startsWith('--jobs='),
  );
  const t0 = performance.now();
  process.stderr.write(`encoding in ${jobs} processes\n`);
  const children = Array.from({ length: jobs }, (_, k) =>
    fork(process.argv[1], [...rest, '--shard', `${k}/${jobs}`], { stdio: 'pipe' }),
  );
  try {
    await Promise.all(
      children.map((child, k) => {
        for (const stream of [child.stdout!, child.stderr!])
          createInterface({ input: stream }).on('line', (line) =>
            process.stderr.write(`[job ${k}] ${line}\n`),
          );
        return new Promise<void>((resolve, reject) => {
          child.on('error', reject);
          child.on('exit', (code, signal) =>
            code === 0
              ? resolve()
              : reject(new Error(`job ${k} of ${jobs} failed (${signal ?? `exit code ${code}`})`)),
          );
        });
      }),
    );
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill(); // one failed: stop the others
  }
  process.stderr.write(`${jobs} jobs done in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`prepare:flickr8k: ${(e as Error).message}\n`);
  process.exit(1);
});
