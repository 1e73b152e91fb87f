/**
 * The image-encoder timing behind `npm run bench:encoders -- --browser`: photos per second of an
 * encoder preset on this page's backend. Exposed through ./kernel-timings.ts.
 */
import {
  browserModelLoader,
  decodeImageBlob,
  ENCODER_PRESETS,
  extractFeatures,
  ImageEncoder,
} from '../src/model/encoders';

/**
 * Photos per second of an image-encoder preset on this page's backend (the browser's side of
 * `npm run bench:encoders -- --browser`): JPEG bytes in, decoded with createImageBitmap, features out.
 */
export async function benchEncoder(s: { preset: string; photos: number[][]; crops: 1 | 10; reps: number }) {
  const preset = ENCODER_PRESETS[s.preset];
  if (!preset) throw new Error(`unknown encoder '${s.preset}'`);
  const base = new URL('./', location.href).href;
  const enc = await ImageEncoder.load(
    preset,
    browserModelLoader({ baseUrl: base, sharedModelsUrl: `${base}shared-models` }),
  );
  try {
    const blobs = s.photos.map((b) => new Blob([new Uint8Array(b)], { type: 'image/jpeg' }));
    const decoded = await Promise.all(blobs.map((b, i) => decodeImageBlob(b, `photo ${i}`)));
    const run = (n: number) =>
      extractFeatures(enc, n, (i) => Promise.resolve(decoded[i]), { crops: s.crops });
    await run(Math.min(2, decoded.length)); // warm-up: compiles shaders / allocates
    const times: number[] = [];
    for (let r = 0; r < s.reps; r++) {
      const t0 = performance.now();
      await run(decoded.length);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const ms = times[Math.floor(times.length / 2)];
    return {
      photosPerSec: decoded.length / (ms / 1000),
      featureDim: enc.featureDim,
      inputSize: enc.preset.inputSize,
    };
  } finally {
    enc.dispose();
  }
}
