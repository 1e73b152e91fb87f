/**
 * Retrieval on the user's own photos, in the worker: the starter model (./starter.ts) or a trained run
 * ranks candidate captions for dropped photos (a caption bank, the loaded dataset's captions, or lines
 * the user typed), and a dropped folder of photos becomes a gallery searched by sentence. Photos are
 * encoded here with the run's image encoder (1 crop); nothing leaves the page. Gallery features are
 * cached in IndexedDB per photo, keyed by the file's path, size and modification time and the encoder.
 *
 * A run is only queried against what it was trained on: a run's dataset captions only when that dataset
 * is the loaded one, the caption bank only for runs trained on the starter's dataset; otherwise the
 * query fails with a message that says so. A failed query clears that query's previous results (the UI
 * drops them on the 'failed' event).
 */
import { calibrate, calibrateGenerality, type Calibration, type GeneralityScale } from '../model/calibration';
import { CAPTION_FILE_NAMES, parseCaptionFile } from '../model/data/flickr8k';
import {
  decodePhoto,
  ENCODER_PRESETS,
  extractFeatures,
  IdbFeatureCache,
  type EncoderPreset,
  type RgbImage,
} from '../model/encoders';
import { Retriever } from '../model/retrieval';
import { loadEncoder, type LoadedDataset } from './datasets';
import { errorMessage, MAX_QUERY_CHARS, type PickedFile } from './protocol';
import {
  MAX_PHOTOS_PER_REQUEST,
  MAX_TYPED_CANDIDATES,
  STARTER_RUN_ID,
  type CandidateSource,
  type PhotoRanking,
  type PhotosEvent,
  type PhotosQuery,
  type PhotosRequest,
} from './photos-protocol';
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
interface Resolved {
  retriever: Retriever;
  preset: EncoderPreset;
  trainedOn: string;
  calibration: Calibration | null;
  /** Caption bank the run may be queried against. */
  bank: string[] | null;
  bankProblem: string | null;
}

/** Photo names the gallery reads; anything else in a dropped folder is skipped. */
const PHOTO_NAME = /\.(jpe?g|png|gif|webp|bmp|avif|heic|heif|tiff?)$/i;
/** Gallery photos encoded (and cached) per chunk: cancel keeps what was done. */
const GALLERY_CHUNK = 32;
/** Largest gallery one folder may make. */
export const MAX_GALLERY_PHOTOS = 20000;
/** Dev photos a live run's calibration is measured on (it is measured again for every query). */
const LIVE_CALIBRATION_IMAGES = 200;
/**
 * Bank pairs of each kind the page measures the starter's generality scale on when its calibration file
 * has none (`npm run calibrate` measures 4000): enough for the percentiles, a few seconds to embed.
 */
const IN_PAGE_GENERALITY_PAIRS = 600;

/** The cache key of one photo's features: its path, size and modification time, and the encoder. */
export function galleryPhotoKey(encoder: string, path: string, size: number, lastModified: number): string {
  return `gallery|${encoder}|${size}|${lastModified}|${path}`;
}

interface Gallery {
  encoder: string;
  name: string;
  names: string[];
  captions: (string | undefined)[];
  /** [names.length, F] row-major. */
  features: Float32Array;
}

let starter: Starter | null = null;
let starterLoading: Promise<Starter | null> | null = null;
let gallery: Gallery | null = null;
/** The starter's generality scale measured in the page (its calibration file had none); undefined: not yet. */
let starterGenerality: GeneralityScale | null | undefined;
let galleryAbort: AbortController | null = null;
/** The starter bound to the loaded dataset (when it is the one the starter was trained on). */
let starterOnDataset: { loaded: LoadedDataset; retriever: Retriever } | null = null;
/** Calibrations of stored runs on the loaded dataset (their weights do not change). */
const storedCalibration = new Map<string, { loaded: LoadedDataset; calibration: Calibration | null }>();
/** The candidate texts of a loaded dataset (one array per dataset, so retrievers can keep embeddings). */
const datasetTexts = new WeakMap<LoadedDataset, string[]>();
const galleryCache = new IdbFeatureCache('orderembed-gallery');

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

function fail(ctx: PhotosContext, query: PhotosQuery, e: unknown, runId?: string): void {
  ctx.post({ kind: 'failed', query, message: errorMessage(e), ...(runId ? { runId } : {}) });
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
function starterGeneralityScale(s: Starter): GeneralityScale | null {
  if (s.calibration?.generality) return s.calibration.generality;
  if (starterGenerality === undefined) {
    try {
      starterGenerality = s.bank
        ? calibrateGenerality(s.imported.model, s.imported.codec, s.bank, {
            maxPairs: IN_PAGE_GENERALITY_PAIRS,
          })
        : null;
    } catch {
      starterGenerality = null;
    }
  }
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
  generality: () => GeneralityScale | null;
}> {
  const r = await resolveStarter(ctx, withDataset);
  const s = starter!;
  return { retriever: r.retriever, calibration: r.calibration, generality: () => starterGeneralityScale(s) };
}

/** The calibration of a run on the loaded dataset: measured now (live run) or once (stored run). */
function runCalibration(
  ctx: PhotosContext,
  runId: string,
  r: Retriever,
  loaded: LoadedDataset,
): Calibration | null {
  const held = storedCalibration.get(runId);
  if (held && held.loaded === loaded && !ctx.isLive(runId)) return held.calibration;
  let c: Calibration | null = null;
  try {
    if (r.model.config.measure === 'order')
      c = calibrate(r.model, r.codec, loaded.dataset, {
        split: loaded.dataset.splits.dev?.length ? 'dev' : 'train',
        maxImages: LIVE_CALIBRATION_IMAGES,
      });
  } catch {
    c = null; // too few photos to measure: no "nothing fits" verdict
  }
  if (!ctx.isLive(runId)) storedCalibration.set(runId, { loaded, calibration: c });
  return c;
}

async function resolve(ctx: PhotosContext, runId: string, withDataset: boolean): Promise<Resolved> {
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
    calibration: runCalibration(ctx, runId, retriever, loaded),
    bank: sameAsStarter ? s.bank : null,
    bankProblem: sameAsStarter
      ? null
      : `the caption bank is written for the starter's ${s?.info.dataset ?? 'Flickr8k'} vocabulary; this run was trained on ${loaded.info.name}: rank its dataset's captions or your own`,
  };
}

/** Distinct caption texts of the loaded dataset's retrieval gallery (dev split, or all). */
function datasetCandidates(loaded: LoadedDataset, r: Retriever): string[] {
  let texts = datasetTexts.get(loaded);
  if (!texts) {
    texts = r.galleryCaptions().map((k) => loaded.dataset.captions[k].text);
    datasetTexts.set(loaded, texts);
  }
  return texts;
}

/** The candidate lines the user typed; throws for an empty list. */
export function typedCandidates(typed: string | undefined): string[] {
  const lines = (typed ?? '')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  if (!lines.length)
    throw new Error('the list of candidate captions is empty: type at least one caption, one a line');
  if (lines.length > MAX_TYPED_CANDIDATES)
    throw new Error(`${lines.length} candidate captions; at most ${MAX_TYPED_CANDIDATES} are accepted`);
  const long = lines.findIndex((l) => l.length > MAX_QUERY_CHARS);
  if (long >= 0)
    throw new Error(
      `candidate caption ${long + 1} is ${lines[long].length} characters long; at most ${MAX_QUERY_CHARS}`,
    );
  return lines;
}

/** Encodes photos (1 crop) with the preset; failed photos get their message. */
async function encodePhotos(
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

async function rank(ctx: PhotosContext, req: Extract<PhotosRequest, { kind: 'rank' }>): Promise<void> {
  const { runId, photos, source } = req;
  if (!photos.length) throw new Error('no photo was given');
  if (photos.length > MAX_PHOTOS_PER_REQUEST)
    throw new Error(
      `${photos.length} photos at once; at most ${MAX_PHOTOS_PER_REQUEST} (drop a folder on the gallery instead)`,
    );
  const typed = source === 'typed' ? typedCandidates(req.typed) : null;
  if (!(await ctx.ensureBackend())) throw new Error('no tfjs backend');
  const m = await resolve(ctx, runId, source === 'dataset');
  let candidates: readonly string[];
  if (source === 'bank') {
    if (!m.bank) throw new Error(m.bankProblem ?? 'no caption bank');
    candidates = m.bank;
  } else if (source === 'dataset') {
    candidates = datasetCandidates(ctx.loaded()!, m.retriever);
  } else candidates = typed!;
  // Distinct before any cut; throws when none has a word the model knows.
  const list = m.retriever.candidates(candidates);
  ctx.post({ kind: 'rankProgress', runId, done: 0, total: photos.length });
  const { features, errors } = await encodePhotos(m.preset, photos, ctx.baseUrl(), (done, total) =>
    ctx.post({ kind: 'rankProgress', runId, done, total }),
  );
  const F = m.preset.featureDim;
  const ok = photos.map((_, i) => i).filter((i) => !errors.has(i));
  const good = new Float32Array(ok.length * F);
  ok.forEach((i, row) => good.set(features.subarray(i * F, (i + 1) * F), row * F));
  // Bank and dataset candidates are used through the very same array each time, so a caching
  // retriever keeps their embeddings; typed lines are embedded per query.
  const ranked = ok.length
    ? m.retriever.rankTexts(good, ok.length, source === 'typed' ? list : candidates, req.limit)
    : [];
  // "Nothing fits" is judged on the bank (the calibrated reference) when the run has one, else on the
  // dataset's captions; a few typed lines are no reference.
  const threshold = m.calibration?.nothingFits ?? null;
  let judged: (number | null)[] = ranked.map((r) => (source === 'typed' ? null : (r[0]?.energy ?? null)));
  if (source === 'typed' && m.bank && ok.length && threshold !== null)
    judged = m.retriever.rankTexts(good, ok.length, m.bank, 1).map((r) => r[0]?.energy ?? null);
  const results: PhotoRanking[] = photos.map((p, i) => {
    const row = ok.indexOf(i);
    if (row < 0) return { name: p.path, items: [], best: null, nothingFits: false, error: errors.get(i) };
    const items = ranked[row];
    const best = judged[row];
    return {
      name: p.path,
      items,
      best: items[0]?.energy ?? null,
      nothingFits: threshold !== null && best !== null && best > threshold,
    };
  });
  if (!ok.length) throw new Error(results.map((r) => r.error).join('; '));
  ctx.post({
    kind: 'ranked',
    runId,
    source: source satisfies CandidateSource,
    candidates: list.texts.length,
    repeated: list.repeated,
    unknownOnly: list.unknownOnly,
    unknownWords: list.unknownWords,
    nothingFits: threshold,
    results,
  });
}

/** The first caption of each photo, when the folder holds a caption file. */
async function folderCaptions(
  files: readonly PickedFile[],
  names: readonly string[],
): Promise<(string | undefined)[]> {
  const file = files.find((f) =>
    (CAPTION_FILE_NAMES as readonly string[]).includes(f.path.split('/').pop() ?? ''),
  );
  if (!file) return names.map(() => undefined);
  try {
    const parsed = parseCaptionFile({ name: file.path, text: await file.file.text() });
    const first = new Map<string, string>();
    for (const row of parsed.rows) if (!first.has(row.image)) first.set(row.image, row.caption);
    return names.map((n) => first.get(n.split('/').pop() ?? n));
  } catch {
    return names.map(() => undefined);
  }
}

async function loadGallery(
  ctx: PhotosContext,
  req: Extract<PhotosRequest, { kind: 'galleryLoad' }>,
): Promise<void> {
  const t0 = performance.now();
  const photos = req.files.filter((f) => PHOTO_NAME.test(f.path));
  const skipped = req.files.length - photos.length;
  if (!photos.length)
    throw new Error(
      `the folder “${req.name}” holds no photos (JPEG, PNG, GIF, WebP, BMP or AVIF) among its ${req.files.length} files`,
    );
  if (photos.length > MAX_GALLERY_PHOTOS)
    throw new Error(
      `the folder “${req.name}” holds ${photos.length} photos; a gallery takes at most ${MAX_GALLERY_PHOTOS}`,
    );
  photos.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  if (!(await ctx.ensureBackend())) throw new Error('no tfjs backend');
  const m = await resolve(ctx, req.runId, false);
  galleryAbort?.abort();
  const abort = new AbortController();
  galleryAbort = abort;
  const F = m.preset.featureDim;
  const keys = photos.map((p) =>
    galleryPhotoKey(m.preset.id, p.path, p.file.size, (p.file as Partial<File>).lastModified ?? 0),
  );
  const all = new Float32Array(photos.length * F);
  const have = new Array<boolean>(photos.length).fill(false);
  let cached = 0;
  for (let i = 0; i < photos.length; i++) {
    const f = await galleryCache.get(keys[i]);
    if (f && f.length === F) {
      all.set(f, i * F);
      have[i] = true;
      cached++;
    }
  }
  const todo = photos.map((_, i) => i).filter((i) => !have[i]);
  const failed: string[] = [];
  const bad = new Set<number>();
  let done = cached;
  const start = performance.now();
  ctx.post({ kind: 'galleryProgress', done, total: photos.length, photosPerSec: 0, cached });
  try {
    for (let c = 0; c < todo.length; c += GALLERY_CHUNK) {
      const chunk = todo.slice(c, c + GALLERY_CHUNK);
      let encoded: Awaited<ReturnType<typeof encodePhotos>>;
      try {
        encoded = await encodePhotos(
          m.preset,
          chunk.map((i) => photos[i]),
          ctx.baseUrl(),
          () => undefined,
          abort.signal,
        );
      } catch (e) {
        // Cancelled inside a chunk: the chunk's own count means nothing to the user; the folder's does.
        if (abort.signal.aborted) break;
        throw e;
      }
      const { features, errors } = encoded;
      for (let j = 0; j < chunk.length; j++) {
        const i = chunk[j];
        const err = errors.get(j);
        if (err) {
          failed.push(err);
          bad.add(i);
          continue;
        }
        const row = features.subarray(j * F, (j + 1) * F);
        all.set(row, i * F);
        await galleryCache.put(keys[i], row, { count: 1, featureDim: F });
      }
      done += chunk.length;
      const secs = (performance.now() - start) / 1000;
      ctx.post({
        kind: 'galleryProgress',
        done,
        total: photos.length,
        photosPerSec: secs > 0 ? (done - cached) / secs : 0,
        cached,
      });
      if (abort.signal.aborted) break;
    }
  } finally {
    if (galleryAbort === abort) galleryAbort = null;
  }
  if (abort.signal.aborted)
    throw new Error(
      `encoding the folder “${req.name}” was cancelled after ${done} of ${photos.length} photos (those are cached)`,
    );
  const keep = photos.map((_, i) => i).filter((i) => !bad.has(i));
  if (!keep.length)
    throw new Error(`no photo of the folder “${req.name}” could be read: ${failed.slice(0, 3).join('; ')}`);
  const features = new Float32Array(keep.length * F);
  keep.forEach((i, row) => features.set(all.subarray(i * F, (i + 1) * F), row * F));
  const names = keep.map((i) => photos[i].path);
  const captions = await folderCaptions(req.files, names);
  gallery = { encoder: m.preset.id, name: req.name, names, captions, features };
  ctx.post({
    kind: 'galleryLoaded',
    runId: req.runId,
    name: req.name,
    encoder: m.preset.id,
    count: names.length,
    cached,
    failed: failed.slice(0, 20),
    skipped,
    captions: captions.filter(Boolean).length,
    ms: performance.now() - t0,
  });
}

async function searchGallery(
  ctx: PhotosContext,
  req: Extract<PhotosRequest, { kind: 'gallerySearch' }>,
): Promise<void> {
  const g = gallery;
  if (!g) throw new Error('no gallery yet: drop a folder of photos first');
  const m = await resolve(ctx, req.runId, false);
  if (m.preset.id !== g.encoder)
    throw new Error(
      `the gallery “${g.name}” was encoded with ${g.encoder}; this run uses ${m.preset.id}: drop the folder again to encode it for this run`,
    );
  const count = g.names.length;
  const { hits, unknown } = m.retriever.searchFeatures(
    req.query,
    g.features,
    count,
    Math.max(1, Math.min(req.limit, 60)),
  );
  ctx.post({
    kind: 'searchResults',
    runId: req.runId,
    query: req.query,
    total: count,
    unknown,
    hits: hits.map((h) => ({
      index: h.index,
      name: g.names[h.index],
      score: h.score,
      energy: h.energy,
      ...(g.captions[h.index] ? { caption: g.captions[h.index] } : {}),
    })),
  });
}

const QUERY_OF: Record<PhotosRequest['kind'], PhotosQuery> = {
  loadStarter: 'starter',
  rank: 'rank',
  galleryLoad: 'gallery',
  galleryCancel: 'gallery',
  gallerySearch: 'search',
};

/** Serves one request of the photos protocol; failures become 'failed' events for that query. */
export async function handlePhotos(ctx: PhotosContext, req: PhotosRequest): Promise<void> {
  const runId = 'runId' in req ? req.runId : undefined;
  try {
    switch (req.kind) {
      case 'loadStarter':
        await ensureStarter(ctx);
        return;
      case 'rank':
        await rank(ctx, req);
        return;
      case 'galleryLoad':
        await loadGallery(ctx, req);
        return;
      case 'galleryCancel':
        galleryAbort?.abort();
        return;
      case 'gallerySearch':
        await searchGallery(ctx, req);
        return;
    }
  } catch (e) {
    fail(ctx, QUERY_OF[req.kind], e, runId);
  }
}
