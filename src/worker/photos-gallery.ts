/**
 * A dropped folder of photos becomes a gallery searched by sentence (./photos.ts). Features are cached
 * in IndexedDB per photo, keyed by the file's path, size and modification time and the encoder. The
 * caller's AbortSignal cancels the encoding between photos (a newer folder cancels it too); what was
 * encoded stays cached.
 */
import { CAPTION_FILE_NAMES, parseCaptionFile } from '../model/data/flickr8k';
import { IdbFeatureCache } from '../model/encoders';
import type { PickedFile } from './protocol';
import type { GalleryLoadArgs, GallerySearchArgs } from './photos-protocol';
import { encodePhotos, resolve, type PhotosContext } from './photos-models';

/** Photo names the gallery reads; anything else in a dropped folder is skipped. */
const PHOTO_NAME = /\.(jpe?g|png|gif|webp|bmp|avif|heic|heif|tiff?)$/i;
/** Gallery photos encoded (and cached) per chunk: cancel keeps what was done. */
const GALLERY_CHUNK = 32;
/** Largest gallery one folder may make. */
export const MAX_GALLERY_PHOTOS = 20000;

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

let gallery: Gallery | null = null;
let galleryAbort: AbortController | null = null;
const galleryCache = new IdbFeatureCache('orderembed-gallery');

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

/**
 * Encodes `req.files`' photos into the gallery ('galleryProgress', then 'galleryLoaded'). `signal`
 * cancels it: it throws, saying how far it got; the photos encoded by then stay cached.
 */
export async function encodeGallery(
  ctx: PhotosContext,
  req: GalleryLoadArgs,
  signal?: AbortSignal,
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
  galleryAbort?.abort(); // a newer folder supersedes the one being encoded
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
  // The caller's cancel is read where the loop checks `abort` (between chunks, and inside one).
  const onAbort = () => abort.abort();
  if (signal?.aborted) abort.abort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (let c = 0; c < todo.length; c += GALLERY_CHUNK) {
      if (abort.signal.aborted) break; // before a chunk: not even the encoder is loaded for it
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
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
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

/** The gallery's photos that best fit `req.query` ('searchResults'). */
export async function searchInGallery(ctx: PhotosContext, req: GallerySearchArgs): Promise<void> {
  const g = gallery;
  if (!g) throw new Error('no gallery yet: drop a folder of photos first');
  const m = await resolve(ctx, req.runId, false);
  if (m.preset.id !== g.encoder)
    throw new Error(
      `the gallery “${g.name}” was encoded with ${g.encoder}; this run uses ${m.preset.id}: drop the folder again to encode it for this run`,
    );
  const count = g.names.length;
  const { hits, unknown } = await m.retriever.searchFeatures(
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
