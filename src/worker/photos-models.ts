/**
 * The model that answers a photos query (./photos.ts), with what it was trained on: the starter
 * (./starter.ts, loaded once, bound to the loaded dataset when that is the one it was trained on) or a
 * trained run, with its calibration (measured now for a live run, once for a stored one) and the caption
 * bank it may be queried against; and how photos are encoded for it (1 crop).
 */
import { calibrate, calibrateGenerality, type Calibration, type GeneralityScale } from '../model/calibration';
import {
  decodePhoto,
  ENCODER_PRESETS,
  extractFeatures,
  type EncoderPreset,
  type RgbImage,
} from '../model/encoders';
import { Retriever } from '../model/retrieval';
import type { LoadedDataset } from './datasets';
import { loadEncoder } from './image-encoders';
import type { PickedFile } from './protocol';
import { STARTER_RUN_ID, type PhotosEvent } from './photos-protocol';
import { disposeStarter, loadStarter, type Starter } from './starter';

/** What the worker lends this module. */
export interface PhotosContext {
  post(event: PhotosEvent): void;
  baseUrl(): string;
  ensureBackend(): Promise<boolean>;
  loaded(): LoadedDataset | null;
  /** A live or stored run's retriever (bound to the loaded dataset); throws for an unknown run. */
  runRetriever(runId: string): Promise<Retriever>;
  /** Whether the run trains in the worker now (its weights change: no cached calibration). */
  isLive(runId: string): boolean;
}

/** A model ready to answer, with what it was trained on. */
export interface Resolved {
  retriever: Retriever;
  preset: EncoderPreset;
  trainedOn: string;
  calibration: Calibration | null;
  /** Caption bank the run may be queried against. */
  bank: string[] | null;
  bankProblem: string | null;
}

/** Dev photos a live run's calibration is measured on (it is measured again for every query). */
const LIVE_CALIBRATION_IMAGES = 200;
/**
 * Bank pairs of each kind the page measures the starter's generality scale on when its calibration file
 * has none (`npm run calibrate` measures 4000): enough for the percentiles, a few seconds to embed.
 */
const IN_PAGE_GENERALITY_PAIRS = 600;

let starter: Starter | null = null;
let starterLoading: Promise<Starter | null> | null = null;
/**
 * The starter's generality scale measured in the page (its calibration file had none), as a promise so
 * that queries asked while it is measured share the one measurement; undefined: not yet.
 */
let starterGenerality: Promise<GeneralityScale | null> | undefined;
/** The starter bound to the loaded dataset (when it is the one the starter was trained on). */
let starterOnDataset: { loaded: LoadedDataset; retriever: Retriever } | null = null;
/** Calibrations of stored runs on the loaded dataset (their weights do not change). */
const storedCalibration = new Map<string, { loaded: LoadedDataset; calibration: Calibration | null }>();

export function currentStarter(): Starter | null {
  return starter;
}

/** Loads the starter once (later calls share the first load). */
export function ensureStarter(ctx: PhotosContext): Promise<Starter | null> {
  starterLoading ??= (async () => {
    if (!(await ctx.ensureBackend())) return null;
    starter = await loadStarter(ctx.baseUrl(), ctx.post);
    return starter;
  })();
  return starterLoading;
}

/** After a backend change the starter's weights live on a dead backend: load it again when asked. */
export function forgetStarter(): void {
  disposeStarter(starter);
  starterOnDataset?.retriever.dispose();
  starter = null;
  starterLoading = null;
  starterOnDataset = null;
  starterGenerality = undefined;
  storedCalibration.clear();
}

function presetById(id: string | null | undefined, what: string): EncoderPreset {
  const p = id ? ENCODER_PRESETS[id] : undefined;
  if (!p)
    throw new Error(`${what} has no known image encoder (${id ?? 'none'}): photos cannot be encoded for it`);
  return p;
}

/** The starter, bound to the loaded dataset when `withDataset` (which must be the one it was trained on). */
async function resolveStarter(ctx: PhotosContext, withDataset: boolean): Promise<Resolved> {
  const s = await ensureStarter(ctx);
  if (!s) throw new Error('the starter model is not loaded (see the message at the top of the page)');
  const preset = presetById(s.info.encoder, 'the starter');
  let retriever = s.retriever;
  if (withDataset) {
    const loaded = ctx.loaded();
    if (!loaded) throw new Error('no dataset is loaded');
    if (loaded.info.name !== s.info.dataset || loaded.info.encoder !== s.info.encoder)
      throw new Error(
        `the starter was trained on ${s.info.dataset} (${s.info.encoder} features); the loaded dataset is ` +
          `${loaded.info.name} (${loaded.info.encoder ?? 'no encoder'}), which it is not queried against: ` +
          `rank the caption bank or your own captions instead, or load ${s.info.dataset}`,
      );
    if (starterOnDataset?.loaded !== loaded) {
      starterOnDataset?.retriever.dispose();
      starterOnDataset = {
        loaded,
        retriever: new Retriever(s.imported.model, s.imported.codec, loaded.dataset, { cache: true }),
      };
    }
    retriever = starterOnDataset.retriever;
  }
  return {
    retriever,
    preset,
    trainedOn: s.info.dataset,
    calibration: s.calibration,
    bank: s.bank,
    bankProblem: s.bank ? null : 'the caption bank (starter/caption-bank.txt) could not be read',
  };
}

/**
 * The starter's scale of "which sentence is more general": its calibration file's (measured by
 * `npm run calibrate` on the caption bank), else measured here once on a sample of the bank; null
 * without a bank (or when the bank gives too few pairs).
 */
function starterGeneralityScale(s: Starter): Promise<GeneralityScale | null> {
  if (s.calibration?.generality) return Promise.resolve(s.calibration.generality);
  starterGenerality ??= s.bank
    ? calibrateGenerality(s.imported.model, s.imported.codec, s.bank, {
        maxPairs: IN_PAGE_GENERALITY_PAIRS,
      }).catch(() => null)
    : Promise.resolve(null);
  return starterGenerality;
}

/**
 * The starter's retriever for the worker's own queries (search the loaded dataset, which sentence is
 * more general), with the energy scale its calibration gives (null: none shipped) and its generality
 * scale (measured on first use when the calibration has none).
 */
export async function starterRetriever(
  ctx: PhotosContext,
  withDataset: boolean,
): Promise<{
  retriever: Retriever;
  calibration: Calibration | null;
  generality: () => Promise<GeneralityScale | null>;
}> {
  const r = await resolveStarter(ctx, withDataset);
  const s = starter!;
  return { retriever: r.retriever, calibration: r.calibration, generality: () => starterGeneralityScale(s) };
}

/** The calibration of a run on the loaded dataset: measured now (live run) or once (stored run). */
async function runCalibration(
  ctx: PhotosContext,
  runId: string,
  r: Retriever,
  loaded: LoadedDataset,
): Promise<Calibration | null> {
  const held = storedCalibration.get(runId);
  if (held && held.loaded === loaded && !ctx.isLive(runId)) return held.calibration;
  let c: Calibration | null = null;
  try {
    if (r.model.config.measure === 'order')
      c = await calibrate(r.model, r.codec, loaded.dataset, {
        split: loaded.dataset.splits.dev?.length ? 'dev' : 'train',
        maxImages: LIVE_CALIBRATION_IMAGES,
      });
  } catch {
    c = null; // too few photos to measure: no "nothing fits" verdict
  }
  if (!ctx.isLive(runId)) storedCalibration.set(runId, { loaded, calibration: c });
  return c;
}

export async function resolve(ctx: PhotosContext, runId: string, withDataset: boolean): Promise<Resolved> {
  if (runId === STARTER_RUN_ID) return resolveStarter(ctx, withDataset);
  const loaded = ctx.loaded();
  if (!loaded) throw new Error('no dataset is loaded');
  const retriever = await ctx.runRetriever(runId);
  if (!loaded.preset)
    throw new Error(
      `dataset '${loaded.info.name}' has no image encoder (synthetic features): photos cannot be encoded for its runs`,
    );
  const s = starter;
  const sameAsStarter = s !== null && s.info.dataset === loaded.info.name;
  return {
    retriever,
    preset: loaded.preset,
    trainedOn: loaded.info.name,
    calibration: await runCalibration(ctx, runId, retriever, loaded),
    bank: sameAsStarter ? s.bank : null,
    bankProblem: sameAsStarter
      ? null
      : `the caption bank is written for the starter's ${s?.info.dataset ?? 'Flickr8k'} vocabulary; this run was trained on ${loaded.info.name}: rank its dataset's captions or your own`,
  };
}

/** Encodes photos (1 crop) with the preset; failed photos get their message. */
export async function encodePhotos(
  preset: EncoderPreset,
  photos: readonly PickedFile[],
  baseUrl: string,
  onProgress: (done: number, total: number, perSec: number) => void,
  signal?: AbortSignal,
): Promise<{ features: Float32Array; errors: Map<number, string> }> {
  const encoder = await loadEncoder(preset, baseUrl);
  const errors = new Map<number, string>();
  const r = await extractFeatures(
    encoder,
    photos.length,
    (i): Promise<RgbImage> => decodePhoto(photos[i].file, photos[i].path, { maxSide: 512 }),
    {
      signal,
      onProgress,
      onError: (i, err) => errors.set(i, err.message),
    },
  );
  for (const i of r.failed) if (!errors.has(i)) errors.set(i, `${photos[i].path}: could not be encoded`);
  return { features: r.features, errors };
}
