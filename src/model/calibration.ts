/**
 * A model's own energy scale, measured on data it was not trained on (the dev split), so that the page
 * can say when nothing fits a photo and when two sentences are both far from containing each other.
 *
 * Order-violation energies E(image, caption) = ||max(0, c - im)||^2 have no fixed unit: their size
 * depends on the run (hidden size, margin, how long it trained). What is comparable is a query's best
 * energy against the energies of pairs that are known to match:
 *
 * - `matching`: for each dev photo, the energy of its best own caption (the lowest of its ~5);
 * - `bestOther`: for each dev photo, the lowest energy over the captions of the *other* dev photos,
 *   i.e. the best a photo gets from captions written for something else (the situation of a caption
 *   bank, which never holds a photo's own captions);
 * - `random`: each dev photo against one caption of another photo drawn at random (what "does not fit"
 *   looks like);
 * - `bank` (when a caption bank is given): for each dev photo, its best energy over the bank.
 *
 * `nothingFits` is the energy above which a photo's best candidate is reported as "nothing here fits
 * well": the 99th percentile of the in-distribution best energies (over the bank when there is one,
 * else over the other photos' captions), so about 1 dev photo in 100 would be flagged.
 *
 * `generality` (when a caption bank is given) is the caption-to-caption scale of "which sentence is more
 * general", measured on the bank's own levels of detail ("a dog", "a dog runs", "a black dog runs on
 * the grass"): see {@link calibrateGenerality} and {@link generalityVerdict}.
 *
 * The statistics are in ./energy-stats.ts and the generality scale and verdict in ./generality.ts; both
 * are importable from here.
 */
import * as tf from './tf';
import { embedDatasetImages, embedSequences } from './evaluate';
import type { OrderEmbeddingModel } from './model';
import { Retriever } from './retrieval';
import { Rng } from './rng';
import { scoreBlocks } from './scoring';
import type { CaptionCodec } from './caption-codec';
import { energyStats, type EnergyStats } from './energy-stats';
import { calibrateGenerality, type GeneralityCalibration } from './generality';
import type { Dataset } from './types';

// The energy statistics and the generality scale and verdict, importable from here as before.
export * from './energy-stats';
export * from './generality';

export const CALIBRATION_FORMAT = 'orderembed-calibration';
export const CALIBRATION_FILE = 'calibration.json';

export interface Calibration {
  format: typeof CALIBRATION_FORMAT;
  version: 1;
  dataset: string;
  split: string;
  images: number;
  matching: EnergyStats;
  bestOther: EnergyStats;
  random: EnergyStats;
  bank?: EnergyStats & { sentences: number };
  /** Best energies above this: "nothing here fits well". */
  nothingFits: number;
  /** Caption-to-caption energies on the caption bank: the thresholds of "which is more general". */
  generality?: GeneralityCalibration;
  /** Why `generality` could not be measured on the bank given (too few pairs). */
  generalityProblem?: string;
}

export interface CalibrateOptions {
  split?: 'dev' | 'train' | 'test';
  /** At most this many photos of the split (the first ones). Default 1000. */
  maxImages?: number;
  seed?: number;
  /** Caption bank sentences: adds `bank` and calibrates `nothingFits` against it. */
  bank?: readonly string[];
}

/** Measures a model's energy scale on a split of a dataset (see the file comment). Order models only. */
export async function calibrate(
  model: OrderEmbeddingModel,
  codec: CaptionCodec,
  dataset: Dataset,
  opts: CalibrateOptions = {},
): Promise<Calibration> {
  if (model.config.measure !== 'order')
    throw new Error('calibration is of order-violation energies: this run uses cosine similarity');
  const split = opts.split ?? 'dev';
  const images = (dataset.splits[split] ?? []).slice(0, opts.maxImages ?? 1000);
  if (images.length < 2)
    throw new Error(
      `dataset '${dataset.name}' has ${images.length} photos in its ${split} split; 2 or more are needed`,
    );
  const row = new Map(images.map((img, i) => [img, i]));
  const caps: number[] = [];
  dataset.captions.forEach((c, k) => {
    if (row.has(c.image)) caps.push(k);
  });
  const owner = Int32Array.from(caps, (k) => row.get(dataset.captions[k].image)!);
  const ims = embedDatasetImages(model, dataset, images); // [n, H]
  const cs = embedSequences(
    model,
    caps.map((k) => codec.encodeCaption(dataset.captions[k].text, k)),
  ); // [m, H]
  const n = images.length;
  const own = new Float64Array(n).fill(Infinity);
  const other = new Float64Array(n).fill(Infinity);
  const rng = new Rng(opts.seed ?? 1);
  // One random non-matching caption per photo, drawn up front so the block order does not matter.
  const randomPick = images.map((_, i) => {
    for (;;) {
      const j = rng.int(caps.length);
      if (owner[j] !== i) return j;
    }
  });
  const random = new Float64Array(n);
  try {
    await scoreBlocks(ims, cs, 'order', 2048, (block, start, count) => {
      // block [n, count]: S = -E of every photo against captions start .. start + count
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < count; j++) {
          const e = -block[i * count + j];
          const k = start + j;
          if (owner[k] === i) own[i] = Math.min(own[i], e);
          else other[i] = Math.min(other[i], e);
          if (randomPick[i] === k) random[i] = e;
        }
      }
    });
  } finally {
    tf.dispose([ims, cs]);
  }
  const out: Calibration = {
    format: CALIBRATION_FORMAT,
    version: 1,
    dataset: dataset.name,
    split,
    images: n,
    matching: energyStats([...own]),
    bestOther: energyStats([...other]),
    random: energyStats([...random]),
    nothingFits: Number.NaN,
  };
  let reference = out.bestOther;
  if (opts.bank?.length) {
    // Caching: the bank is embedded once, not once per batch of photos.
    const r = new Retriever(model, codec, dataset, { cache: true });
    const list = r.distinct(opts.bank);
    const best: number[] = [];
    try {
      for (let i = 0; i < n; i += 64) {
        const batch = images.slice(i, i + 64);
        const f = new Float32Array(batch.length * dataset.imageDim);
        batch.forEach((img, b) =>
          f.set(
            dataset.features.subarray(img * dataset.imageDim, (img + 1) * dataset.imageDim),
            b * dataset.imageDim,
          ),
        );
        for (const ranked of await r.rankTexts(f, batch.length, list, 1))
          best.push(ranked[0].energy ?? Number.NaN);
      }
    } finally {
      r.dispose();
    }
    out.bank = { ...energyStats(best), sentences: list.texts.length };
    reference = out.bank;
  }
  out.nothingFits = reference.p99;
  if (opts.bank?.length) {
    try {
      out.generality = await calibrateGenerality(model, codec, opts.bank, opts);
    } catch (e) {
      out.generalityProblem = (e as Error).message; // the page then falls back to `generalityScale`
    }
  }
  return out;
}

/** Reads a calibration.json; throws naming the file and the field that is wrong. */
export function parseCalibration(json: unknown, file = CALIBRATION_FILE): Calibration {
  const rec = json as Record<string, unknown> | null;
  if (!rec || typeof rec !== 'object' || rec.format !== CALIBRATION_FORMAT)
    throw new Error(`${file}: not a calibration file (format should be '${CALIBRATION_FORMAT}')`);
  for (const key of ['matching', 'bestOther', 'random'] as const) {
    const s = rec[key] as Record<string, unknown> | undefined;
    if (!s || !['median', 'p90', 'p99'].every((k) => typeof s[k] === 'number'))
      throw new Error(`${file}: field '${key}' needs numbers median, p90 and p99`);
  }
  if (typeof rec.nothingFits !== 'number' || !(rec.nothingFits > 0))
    throw new Error(`${file}: field 'nothingFits' must be a positive number`);
  if (rec.generality !== undefined) {
    const g = rec.generality as Record<string, unknown> | null;
    for (const key of ['near', 'far', 'asymmetry'] as const)
      if (!g || typeof g[key] !== 'number' || !((g[key] as number) >= 0))
        throw new Error(`${file}: field 'generality.${key}' must be a number, 0 or more`);
  }
  return rec as unknown as Calibration;
}
