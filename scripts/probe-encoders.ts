/**
 * Retrieval probe of image encoders on Flickr8k: how good are an encoder's features for caption
 * retrieval? This is how the offline fallback encoder was chosen (docs/benchmarks.md, "Image encoders").
 *
 *   npx tsx scripts/probe-encoders.ts [options]   (PROBE_ENCODERS in ./cli/commands.ts; `--help`)
 *
 * For each encoder: 1-crop features of the first `--train` photos of Flickr_8k.trainImages.txt and the
 * first `--dev` of Flickr_8k.devImages.txt (cached as files in --cache, default runs/encoder-probe),
 * then per seed the project's Trainer with a small cosine model (LN-GRU, hidden 256, words 128) for
 * `--epochs` epochs on the training photos' captions, and dev R@1 in both directions (1000 photos,
 * 5000 captions). Candidates not among ENCODER_PRESETS are read from
 * `<models-dir>/<id>/model.json` (vendor them with scripts/vendor-fallback-encoder.mjs --out).
 * Ends with one JSON line of the results.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseCommand } from './cli/options';
import { PROBE_ENCODERS } from './cli/commands';
import { initNodeBackend } from './lib/node-backend';
import { FileFeatureCache, nodeModelLoader, readJpeg, repoRoot, sharedRoot } from './lib/node-images';
import {
  ENCODER_PRESETS,
  ImageEncoder,
  extractFeatures,
  featureCacheKey,
  hashStrings,
  type EncoderPreset,
} from '../src/model/encoders';
import { Trainer } from '../src/model/trainer';
import type { Dataset } from '../src/model/types';

/** Candidates that are not presets: read from --models-dir. */
const CANDIDATES: Record<string, Omit<EncoderPreset, 'source'>> = {
  'nsfwjs-mobilenet-v2-mid': {
    id: 'nsfwjs-mobilenet-v2-mid',
    label: 'nsfwjs mobilenet_v2_mid (TF-Hub MobileNetV2 1.4, ImageNet, fine-tuned for NSFW classes), 1792-d',
    inputSize: 224,
    scale: 1 / 255, // TF-Hub image models take 0..1
    offset: 0,
    featureDim: 1792,
    output: {
      layer:
        'StatefulPartitionedCall/sequential/keras_layer/StatefulPartitionedCall/StatefulPartitionedCall/' +
        'StatefulPartitionedCall/predict/feature_vector/SpatialSqueeze',
    }, // pooled trunk [N, 1792], before the classification head
    pool: 'none',
  },
};

interface Flickr {
  names: string[];
  captions: { image: number; text: string }[];
  train: number[];
  dev: number[];
}

function readFlickr(dir: string, nTrain: number, nDev: number): Flickr {
  const list = (f: string): string[] =>
    readFileSync(path.join(dir, f), 'utf8')
      .split(/\r?\n/)
      .map((s) => s.trim())
      .filter(Boolean);
  const train = list('Flickr_8k.trainImages.txt').slice(0, nTrain);
  const dev = list('Flickr_8k.devImages.txt').slice(0, nDev);
  const names = [...train, ...dev];
  const index = new Map(names.map((n, i) => [n, i]));
  const captions: Flickr['captions'] = [];
  const lines = readFileSync(path.join(dir, 'captions.txt'), 'utf8').split(/\r?\n/).slice(1);
  for (const line of lines) {
    const comma = line.indexOf(','); // split on the FIRST comma: captions contain commas
    if (comma < 0) continue;
    const i = index.get(line.slice(0, comma).trim());
    let text = line.slice(comma + 1).trim();
    if (text.startsWith('"') && text.endsWith('"')) text = text.slice(1, -1).replace(/""/g, '"');
    if (i !== undefined && text) captions.push({ image: i, text });
  }
  return { names, captions, train: train.map((_, i) => i), dev: dev.map((_, i) => train.length + i) };
}

function presetFor(id: string, modelsDir: string): EncoderPreset {
  if (ENCODER_PRESETS[id] && ENCODER_PRESETS[id].source.kind === 'shared') return ENCODER_PRESETS[id];
  const base = CANDIDATES[id] ?? ENCODER_PRESETS[id];
  if (!base)
    throw new Error(
      `unknown encoder '${id}'; one of ${[...Object.keys(ENCODER_PRESETS), ...Object.keys(CANDIDATES)]}`,
    );
  return { ...base, source: { kind: 'url', url: path.join(modelsDir, id, 'model.json') } };
}

async function main(): Promise<void> {
  const { values: a } = parseCommand(PROBE_ENCODERS);
  const backend = await initNodeBackend(a.backend);
  const ids = a.encoders;
  const modelsDir = path.resolve(a['models-dir'] ?? path.join(repoRoot, 'public', 'models'));
  const epochs = a.epochs;
  const seeds = a.seeds.map(Number);
  const flickrDir = path.join(sharedRoot(), 'data', 'flickr8k');
  const fl = readFlickr(flickrDir, a.train, a.dev);
  const cache = new FileFeatureCache(path.resolve(a.cache ?? path.join(repoRoot, 'runs', 'encoder-probe')));
  const imagesId = `flickr8k-probe-${fl.names.length}-${hashStrings(fl.names)}`;
  console.log(
    `probe: ${fl.train.length} train / ${fl.dev.length} dev photos, ${fl.captions.length} captions; backend ${backend}; ` +
      `Trainer: cosine LN-GRU hidden 256 words 128, ${epochs} epochs, seeds ${seeds.join(',')}`,
  );

  const results: Record<string, unknown>[] = [];
  for (const id of ids) {
    const preset = presetFor(id, modelsDir);
    const key = featureCacheKey({ encoder: id, crops: 1, images: imagesId });
    let features = await cache.get(key);
    let imagesPerSec: number | null = null;
    let featureDim: number;
    if (features) {
      featureDim = features.length / fl.names.length;
      console.log(`${id}: features from the cache (${featureDim}-d)`);
    } else {
      const enc = await ImageEncoder.load(preset, nodeModelLoader());
      featureDim = enc.featureDim;
      const t0 = performance.now();
      let last = 0;
      const res = await extractFeatures(
        enc,
        fl.names.length,
        (i) => readJpeg(path.join(flickrDir, 'Images', fl.names[i])),
        {
          onProgress: (done, total, ips) => {
            if (done - last >= 500 || done === total) {
              last = done;
              process.stdout.write(`  ${id}: ${done}/${total} photos, ${ips.toFixed(1)}/s\n`);
            }
          },
          onError: (i, err) => console.warn(`  ${id}: photo ${fl.names[i]} failed: ${err.message}`),
        },
      );
      imagesPerSec = fl.names.length / ((performance.now() - t0) / 1000);
      enc.dispose();
      if (res.failed.length) throw new Error(`${id}: ${res.failed.length} photos failed`);
      features = res.features;
      await cache.put(key, features, { featureDim, count: fl.names.length });
    }

    const ds: Dataset = {
      name: `flickr8k-probe/${id}`,
      imageDim: featureDim,
      features,
      numImages: fl.names.length,
      captions: fl.captions,
      splits: { train: fl.train, dev: fl.dev },
    };
    const runs: { i2t: number; t2i: number; rsum: number }[] = [];
    for (const seed of seeds) {
      const t0 = performance.now();
      const tr = new Trainer(
        ds,
        { hiddenDim: 256, wordDim: 128, measure: 'cosine', layerNorm: true },
        { seed },
      );
      const steps = Math.ceil((fl.train.length * 5) / tr.config.train.batchSize) * epochs;
      for (let s = 0; s < steps; s++) tr.step();
      const m = tr.evaluate('dev');
      tr.dispose();
      runs.push({ i2t: m.i2t.r1, t2i: m.t2i.r1, rsum: m.rsum });
      console.log(
        `  ${id} seed ${seed}: ${steps} steps in ${((performance.now() - t0) / 1000).toFixed(0)} s; ` +
          `dev R@1 caption ${m.i2t.r1.toFixed(1)} image ${m.t2i.r1.toFixed(1)}, rsum ${m.rsum.toFixed(1)}`,
      );
    }
    const mean = (f: (r: (typeof runs)[number]) => number) =>
      runs.reduce((s, r) => s + f(r), 0) / runs.length;
    results.push({
      encoder: id,
      featureDim,
      inputSize: preset.inputSize,
      imagesPerSec: imagesPerSec === null ? null : Number(imagesPerSec.toFixed(1)),
      captionR1: Number(mean((r) => r.i2t).toFixed(1)),
      imageR1: Number(mean((r) => r.t2i).toFixed(1)),
      rsum: Number(mean((r) => r.rsum).toFixed(1)),
    });
  }
  console.log('\nencoder | dim | input | photos/s | caption R@1 | image R@1 | rsum');
  for (const r of results) {
    console.log(
      `${r.encoder} | ${r.featureDim} | ${r.inputSize} | ${r.imagesPerSec ?? '(cached)'} | ${r.captionR1} | ${r.imageR1} | ${r.rsum}`,
    );
  }
  console.log(
    JSON.stringify({ backend, epochs, seeds, train: fl.train.length, dev: fl.dev.length, results }),
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
