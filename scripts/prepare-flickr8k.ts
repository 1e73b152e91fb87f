/**
 * Builds a feature pack from a Flickr8k folder, for the playground and the headless trainer:
 *
 *   npm run prepare:flickr8k -- <folder> [--encoder preset] [--crops 1|10] [--out dir] [--limit N]
 *                               [--thumb-size S] [--cache dir] [--mirror]
 *
 * Reads the folder (captions.txt, Flickr8k.token.txt or dataset_flickr8k.json; the
 * Flickr_8k.{train,dev,test}Images.txt lists; Images/), encodes every captioned photo with the image
 * encoder (progress with photos/s and ETA on stderr; features cached in files, so a rerun is instant),
 * and writes manifest.json, features.bin and thumbs/ to --out (default
 * public/packs/flickr8k-<encoder>[-crops10][-limitN][-mirror], git-ignored). Photos that cannot be read or
 * decoded are named, left out and listed in the manifest's failedImages. With --mirror the features are
 * those of the photos mirrored left-right: a second view for `train --augment <that pack>`.
 */
import path from 'node:path';
import { oneOf, parseArgsWithPositionals } from './args';
import { defaultPackDir, prepareFlickrPack, writePack } from './data-node';
import { initNodeBackend } from './node-backend';
import { DEFAULT_ENCODER_ID, ENCODER_PRESETS } from '../src/model/encoders/presets';

const USAGE = `usage: npm run prepare:flickr8k -- <folder> [--encoder ${Object.keys(ENCODER_PRESETS).join('|')}]
  [--crops 1|10] [--out dir] [--limit N] [--thumb-size S (0: none)] [--cache dir] [--backend wasm|cpu] [--mirror]
  default encoder ${DEFAULT_ENCODER_ID}, 1 crop, out public/packs/flickr8k-<encoder>`;

async function main(): Promise<void> {
  const { flags: a, positionals } = parseArgsWithPositionals(
    process.argv.slice(2),
    {
      encoder: 'string',
      crops: 'number',
      out: 'string',
      limit: 'number',
      'thumb-size': 'number',
      cache: 'string',
      backend: 'string',
      mirror: 'boolean',
    },
    USAGE,
  );
  if (positionals.length !== 1) throw new Error(`expected one folder, got ${positionals.length}\n${USAGE}`);
  const crops = Number(a.crops ?? 1);
  if (crops !== 1 && crops !== 10) throw new Error(`--crops: expected 1 or 10, got ${crops}`);
  if (a.mirror && crops !== 1)
    throw new Error('--mirror: a 1-crop view (10-crop features already include the mirrors)');
  const limit = a.limit === undefined ? undefined : Number(a.limit);
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0))
    throw new Error(`--limit: expected a positive integer, got ${limit}`);
  const encoder = String(a.encoder ?? DEFAULT_ENCODER_ID);
  const out = a.out ? path.resolve(String(a.out)) : defaultPackDir(encoder, crops, limit, Boolean(a.mirror));
  await initNodeBackend(oneOf('backend', a.backend, ['wasm', 'cpu'] as const, 'wasm'));
  const prepared = await prepareFlickrPack(positionals[0], {
    encoder,
    crops,
    mirror: Boolean(a.mirror),
    limit,
    thumbSize: a['thumb-size'] === undefined ? undefined : Number(a['thumb-size']),
    cacheDir: a.cache ? path.resolve(String(a.cache)) : undefined,
  });
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

main().catch((e: unknown) => {
  process.stderr.write(`prepare:flickr8k: ${(e as Error).message}\n`);
  process.exit(1);
});
