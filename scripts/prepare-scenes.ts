/**
 * Builds the built-in scenes' feature pack, so that the playground opens ready to train without running
 * a CNN over 1200 images first. The pack ships in the repository (public/scenes/, about 3 MB: float16
 * features, no thumbnails since the page renders scene thumbnails itself), so `npm start` never runs
 * this; rerun it after a change of the scene generator (SCENES_VERSION) or of the default encoder:
 *
 *   npm run prepare:scenes -- [options]   (PREPARE_SCENES in ./cli/commands.ts; `--help`, docs/cli.md)
 *
 * Renders the scenes (src/model/scenes), extracts their features with the default encoder (whose
 * weights ship with the page, so the browser can reproduce or extend the pack) through the same
 * extractFeatures the worker uses, and writes a pack in the format of src/model/data/pack.ts:
 * manifest.json, features.bin and, with --thumb-size > 0, thumbs/<i>.jpg (each scene rendered again at
 * the thumbnail size, sharper than shrinking the 224 px image). The output is deterministic: the same
 * code and weights give the same bytes (the manifest's creation time is fixed; tests/scenes/shipped.test.ts
 * re-encodes a sample of scenes and compares). First it writes a few sample scenes as PNGs into
 * docs/img/ (scenes-<i>.png, scenes-grid.png) and prints their captions; last, the render and
 * extraction timings as one JSON line.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { encode as encodeJpeg } from 'jpeg-js';
import { parseCommand } from './cli/options';
import { PREPARE_SCENES } from './cli/commands';
import { encodePng } from './lib/png';
import { initNodeBackend } from './lib/node-backend';
import { writePack } from './lib/packs';
import { nodeModelLoader, repoRoot } from './lib/node-images';
import { ENCODER_PRESETS } from '../src/model/encoders/presets';
import { ImageEncoder } from '../src/model/encoders/encoder';
import type { EncoderPreset } from '../src/model/encoders/types';
import { extractFeatures } from '../src/model/encoders/extract';
import { captionsFor, makeSceneSet, renderScene, type SceneSpec } from '../src/model/scenes/scenes';
import { buildScenesPack, SCENES_PACK_CREATED_AT } from '../src/model/scenes/pack';
import { createImage, type RgbBuffer } from '../src/model/scenes/rasterizer';

/** JPEG bytes of an RGB image (jpeg-js takes RGBA). */
function jpegOf(img: RgbBuffer, quality: number): Uint8Array {
  const n = img.width * img.height;
  const rgba = new Uint8Array(n * 4);
  for (let p = 0; p < n; p++) {
    rgba[4 * p] = img.data[3 * p];
    rgba[4 * p + 1] = img.data[3 * p + 1];
    rgba[4 * p + 2] = img.data[3 * p + 2];
    rgba[4 * p + 3] = 255;
  }
  return encodeJpeg({ data: rgba, width: img.width, height: img.height }, quality).data;
}

/**
 * Sample scenes for the docs: `docs/img/scenes-<i>.png` for the first scenes with 1, 2 and 3 objects in
 * turn (`count` in all, scene index i), and `docs/img/scenes-grid.png` with the first 8 scenes in a
 * 4 x 2 grid. Their captions go to stderr, to quote in the docs.
 */
function writeSamples(specs: SceneSpec[], count: number, dir: string, log: (s: string) => void): void {
  mkdirSync(dir, { recursive: true });
  const picks: number[] = [];
  for (let k = 0; picks.length < count && k < 3 * count; k++) {
    const want = (k % 3) + 1;
    const i = specs.findIndex((s, j) => s.objects.length === want && !picks.includes(j));
    if (i >= 0) picks.push(i);
  }
  for (const i of picks) {
    const file = path.join(dir, `scenes-${i}.png`);
    writeFileSync(file, encodePng(renderScene(specs[i])));
    log(`${path.relative(repoRoot, file)}: ${captionsFor(specs[i]).join(' | ')}`);
  }
  const side = 224;
  const pad = 6;
  const cols = 4;
  const shown = specs.slice(0, 8);
  const rows = Math.ceil(shown.length / cols);
  const grid = createImage(cols * side + (cols + 1) * pad, rows * side + (rows + 1) * pad);
  grid.data.fill(255);
  shown.forEach((spec, i) => {
    const img = renderScene(spec, side);
    const x0 = pad + (i % cols) * (side + pad);
    const y0 = pad + Math.floor(i / cols) * (side + pad);
    for (let y = 0; y < side; y++)
      grid.data.set(img.data.subarray(y * side * 3, (y + 1) * side * 3), ((y0 + y) * grid.width + x0) * 3);
  });
  const file = path.join(dir, 'scenes-grid.png');
  writeFileSync(file, encodePng(grid));
  log(`${path.relative(repoRoot, file)}: scenes 0-${shown.length - 1}`);
}

async function main(): Promise<void> {
  const { values: a } = parseCommand(PREPARE_SCENES);
  const numImages = a.images;
  const seed = a.seed;
  const encoderId = a.encoder;
  const outDir = path.resolve(repoRoot, a.out);
  const featureType = a['feature-type'];
  const thumbSize = a['thumb-size'];
  const batchSize = a.batch;
  const backend = a.backend;
  const samples = a.samples;
  const docsDir = path.resolve(repoRoot, a.docs);
  const known = ENCODER_PRESETS[encoderId];
  if (!known)
    throw new Error(`unknown --encoder '${encoderId}' (known: ${Object.keys(ENCODER_PRESETS).join(', ')})`);
  // --model: the same preset (id, preprocessing, output) with its weights read from another folder.
  const preset: EncoderPreset = a.model
    ? { ...known, source: { kind: 'url', url: pathToFileURL(path.resolve(a.model)).href } }
    : known;
  if (!(Number.isInteger(thumbSize) && thumbSize >= 0))
    throw new Error(`--thumb-size: expected an integer >= 0`);

  const log = (s: string) => process.stderr.write(s + '\n');
  const set = makeSceneSet({ numImages, seed });
  if (samples > 0) writeSamples(set.specs, samples, docsDir, log);

  // Rendering alone, timed apart from the network (the worker does the same at first load).
  let t = performance.now();
  for (const spec of set.specs) renderScene(spec);
  const renderMs = performance.now() - t;
  log(
    `rendered ${numImages} scenes in ${renderMs.toFixed(0)} ms (${(renderMs / numImages).toFixed(2)} ms each)`,
  );

  const backendName = await initNodeBackend(backend);
  t = performance.now();
  const encoder = await ImageEncoder.load(preset, nodeModelLoader());
  const loadMs = performance.now() - t;
  log(`encoder ${encoderId} (${encoder.featureDim}-d) loaded on ${backendName} in ${loadMs.toFixed(0)} ms`);

  t = performance.now();
  let lastLog = 0;
  const { features, failed } = await extractFeatures(
    encoder,
    numImages,
    (i) => Promise.resolve(renderScene(set.specs[i], preset.inputSize || 224)),
    {
      batchSize,
      onProgress: (done, total, perSec) => {
        if (done === total || performance.now() - lastLog > 5000) {
          lastLog = performance.now();
          const eta =
            perSec > 0 && done < total ? `, about ${Math.ceil((total - done) / perSec)} s left` : '';
          log(`  ${done}/${total} scenes, ${perSec.toFixed(1)} images/s${eta}`);
        }
      },
    },
  );
  const extractMs = performance.now() - t;
  if (failed.length) throw new Error(`feature extraction failed for scenes ${failed.join(', ')}`);
  log(`rendered + extracted ${numImages} scenes in ${(extractMs / 1000).toFixed(1)} s`);

  const pack = buildScenesPack({ numImages, seed }, features, {
    encoder: encoderId,
    featureDim: encoder.featureDim,
    thumbSize: thumbSize > 0 ? thumbSize : null,
    featureType,
    createdAt: SCENES_PACK_CREATED_AT,
  });
  t = performance.now();
  await writePack(outDir, pack, (i) =>
    Promise.resolve(thumbSize > 0 ? jpegOf(renderScene(set.specs[i], thumbSize), 90) : undefined),
  );
  log(
    `wrote ${path.relative(repoRoot, outDir)}/ (${numImages} scenes, ${set.captions.length} captions) ` +
      `in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );

  process.stdout.write(
    JSON.stringify({
      images: numImages,
      encoder: encoderId,
      backend: backendName,
      featureDim: encoder.featureDim,
      featureType,
      renderMsPerImage: Number((renderMs / numImages).toFixed(3)),
      encoderLoadSeconds: Number((loadMs / 1000).toFixed(2)),
      extractSeconds: Number((extractMs / 1000).toFixed(2)),
      out: path.relative(repoRoot, outDir),
    }) + '\n',
  );
  encoder.dispose();
}

main().catch((e: unknown) => {
  process.stderr.write(`prepare:scenes: ${(e as Error).message}\n`);
  process.exit(1);
});
