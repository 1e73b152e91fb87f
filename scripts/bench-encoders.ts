/**
 * npm run bench:encoders [-- options]   (BENCH_ENCODERS in ./cli/commands.ts; `--help`, docs/cli.md)
 *
 * Feature-extraction speed (photos per second) of each image encoder preset, per tfjs backend that
 * Node has (wasm, cpu), 1-crop and 10-crop, on real Flickr8k photos. The photos are decoded once up
 * front, so the figures are the encoder's (crop, resize, network, read-back); JPEG decoding with jpeg-js
 * is measured on its own line. The cpu backend is plain JavaScript and very slow, so it gets fewer
 * photos (--cpu-photos). Encoders whose model is missing (no ../shared, fallback not vendored) are
 * reported and skipped. Prints a table and a last line of name=value figures.
 *
 * --browser: the same in headless Chromium (the page's own wasm, WebGL on SwiftShader GL, WebGPU on
 * SwiftShader), photos decoded by the browser, through the kernels.html test page.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseCommand } from './cli/options';
import { BENCH_ENCODERS } from './cli/commands';
import { initNodeBackend } from './lib/node-backend';
import { decodeJpeg, nodeModelLoader, sharedRoot } from './lib/node-images';
import { ENCODER_PRESETS, ImageEncoder, extractFeatures, type RgbImage } from '../src/model/encoders';
import { serveAndLaunch } from '../tests/e2e/harness';

/** Chromium flags per backend (no GPU here: SwiftShader provides WebGL and WebGPU). */
const BROWSER_FLAGS: Record<string, string[]> = {
  wasm: ['--disable-gpu'],
  cpu: ['--disable-gpu'],
  webgl: ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist'],
  webgpu: ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-webgpu-adapter=swiftshader'],
};

async function browserBench(
  files: string[],
  bytes: Buffer[],
  backends: string[],
  ids: string[],
  crops: (1 | 10)[],
) {
  console.log(
    `bench:encoders --browser  ${files.length} Flickr8k photos, photos/s (median of 3 after a warm-up)`,
  );
  console.log('backend | encoder | input | dim | crops | photos/s');
  const figures: string[] = [];
  const photos = bytes.map((b) => [...b]);
  for (const backend of backends) {
    const served = await serveAndLaunch(BROWSER_FLAGS[backend] ?? []);
    try {
      const page = await served.browser.newPage();
      await page.goto(`${served.url}kernels.html`);
      await page.waitForFunction(() => document.body.dataset.ready === '1');
      const info = await page.evaluate((b) => window.kernelsPage.init(b as 'wasm'), backend);
      for (const id of ids) {
        for (const c of crops) {
          try {
            const r = await page.evaluate((a) => window.kernelsPage.benchEncoder(a), {
              preset: id,
              photos,
              crops: c,
              reps: 3,
            });
            console.log(
              `${info.backend} | ${id} | ${r.inputSize} | ${r.featureDim} | ${c} | ${r.photosPerSec.toFixed(2)}`,
            );
            figures.push(`browser.${info.backend}.${id}.crops${c}_per_s=${r.photosPerSec.toFixed(2)}`);
          } catch (e) {
            console.log(`${info.backend} | ${id} | ${c} | failed: ${(e as Error).message.split('\n')[0]}`);
          }
        }
      }
    } finally {
      await served.close();
    }
  }
  console.log(figures.join(' '));
}

async function main(): Promise<void> {
  const { values: a } = parseCommand(BENCH_ENCODERS);
  const nPhotos = a.photos;
  const nCpu = a['cpu-photos'];
  const backends = (a.backends ?? ['wasm', 'cpu']) as ('wasm' | 'cpu')[];
  // (--browser reads --backends itself: wasm, webgl, webgpu, cpu.)
  const ids = a.encoders ?? Object.keys(ENCODER_PRESETS);
  const cropModes = a.crops.map(Number) as (1 | 10)[];

  const dir = path.join(sharedRoot(), 'data', 'flickr8k', 'Images');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.jpg'))
    .sort()
    .slice(0, nPhotos);
  if (files.length === 0) throw new Error(`no Flickr8k photos in ${dir}`);
  const bytes = files.map((f) => readFileSync(path.join(dir, f)));
  if (a.browser) {
    const browserBackends = a.backends ?? ['wasm', 'webgl', 'webgpu'];
    await browserBench(files, bytes, browserBackends, ids, cropModes);
    return;
  }
  const t0 = performance.now();
  const photos: RgbImage[] = bytes.map((b, i) => decodeJpeg(b, files[i]));
  const decodePerSec = files.length / ((performance.now() - t0) / 1000);
  const { width, height } = photos[0];

  console.log(
    `bench:encoders  ${files.length} Flickr8k photos (${width}x${height}), photos/s after decoding`,
  );
  console.log(`jpeg-js decode: ${decodePerSec.toFixed(1)} photos/s`);
  console.log('backend | encoder | input | dim | crops | photos | photos/s');
  const figures: string[] = [`jpeg_decode_per_s=${decodePerSec.toFixed(1)}`];
  for (const backend of backends) {
    await initNodeBackend(backend);
    const n = backend === 'cpu' ? Math.min(nCpu, photos.length) : photos.length;
    for (const id of ids) {
      const preset = ENCODER_PRESETS[id];
      if (!preset) throw new Error(`unknown encoder '${id}'`);
      let enc: ImageEncoder;
      try {
        enc = await ImageEncoder.load(preset, nodeModelLoader());
      } catch (err) {
        console.log(`${backend} | ${id} | skipped: ${(err as Error).message}`);
        continue;
      }
      for (const crops of cropModes) {
        const batchSize = crops === 10 ? 4 : 16;
        // Warm-up on one photo: first calls allocate what later ones reuse (wasm/cpu kernels do not
        // depend on the batch size, so one photo is enough and keeps the slow cpu backend's run short).
        await extractFeatures(enc, 1, async (i) => photos[i], { crops, batchSize });
        const start = performance.now();
        await extractFeatures(enc, n, async (i) => photos[i], { crops, batchSize });
        const perSec = n / ((performance.now() - start) / 1000);
        console.log(
          `${backend} | ${id} | ${enc.preset.inputSize} | ${enc.featureDim} | ${crops} | ${n} | ${perSec.toFixed(2)}`,
        );
        figures.push(`${backend}.${id}.crops${crops}_per_s=${perSec.toFixed(2)}`);
      }
      enc.dispose();
    }
  }
  console.log(figures.join(' '));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
