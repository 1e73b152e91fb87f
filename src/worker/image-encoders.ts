/**
 * The image encoders of the worker: each preset's model loaded once per worker and backend (from the
 * page's own URLs), and the features of one uploaded photo with a dataset's encoder. Dataset loads
 * (./datasets.ts, ./dataset-folder.ts) and the photo queries use them.
 */
import {
  browserModelLoader,
  customPreset,
  decodePhoto,
  ENCODER_PRESETS,
  encoderSourceHint,
  extractFeatures,
  ImageEncoder,
  type EncoderPreset,
} from '../model/encoders';
import type { EncoderChoice } from './protocol';

/** The preset of an encoder choice; throws for an unknown preset id, naming the known ones. */
export function presetOf(choice: EncoderChoice): EncoderPreset {
  if ('url' in choice) return customPreset(choice.url);
  const p = ENCODER_PRESETS[choice.preset];
  if (!p)
    throw new Error(
      `unknown image encoder '${choice.preset}' (presets: ${Object.keys(ENCODER_PRESETS).join(', ')})`,
    );
  return p;
}

const encoders = new Map<string, Promise<ImageEncoder>>();

/**
 * Loads (once per worker and backend) the encoder of a preset; models come from the page's own URLs.
 * A failure names the model file and says how to get it.
 */
export function loadEncoder(preset: EncoderPreset, baseUrl: string): Promise<ImageEncoder> {
  let p = encoders.get(preset.id);
  if (!p) {
    p = ImageEncoder.load(
      preset,
      browserModelLoader({ baseUrl, sharedModelsUrl: `${baseUrl}shared-models` }),
    ).catch((e: unknown) => {
      throw new Error(`${(e as Error).message} (${encoderSourceHint(preset)})`);
    });
    encoders.set(preset.id, p);
    p.catch(() => encoders.delete(preset.id));
  }
  return p;
}

/** Forgets loaded encoders (after a backend change their weights live on a dead backend). */
export function forgetEncoders(): void {
  encoders.clear();
}

/** Features of one uploaded photo with the dataset's encoder (for caption ranking). */
export async function photoFeatures(
  blob: Blob,
  name: string,
  preset: EncoderPreset,
  baseUrl: string,
): Promise<Float32Array> {
  const encoder = await loadEncoder(preset, baseUrl);
  const img = await decodePhoto(blob, name, { maxSide: 1024 });
  const r = await extractFeatures(encoder, 1, () => Promise.resolve(img), {});
  if (r.failed.length) throw new Error(`${name}: could not be encoded`);
  return r.features;
}
