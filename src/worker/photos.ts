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
 *
 * One function per call of the worker service (./service.ts, through ./queries.ts): loadStarter,
 * rankPhotos, loadGallery (cancelled by its AbortSignal) and searchGallery.
 */
import { errorMessage } from './protocol';
import type { GalleryLoadArgs, GallerySearchArgs, PhotosQuery, RankPhotosArgs } from './photos-protocol';
import { ensureStarter, type PhotosContext } from './photos-models';
import { encodeGallery, searchInGallery } from './photos-gallery';
import { rank } from './photos-ranking';

export {
  currentStarter,
  ensureStarter,
  forgetStarter,
  starterRetriever,
  type PhotosContext,
} from './photos-models';
export { galleryPhotoKey, MAX_GALLERY_PHOTOS } from './photos-gallery';
export { typedCandidates } from './photos-ranking';

/**
 * Runs one photos query; its failure becomes the 'failed' event of that query (the UI clears the query's
 * previous results and shows the message where they were), so the call itself resolves.
 */
async function answer(
  ctx: PhotosContext,
  query: PhotosQuery,
  runId: string | undefined,
  work: () => Promise<unknown>,
): Promise<void> {
  try {
    await work();
  } catch (e) {
    ctx.post({ kind: 'failed', query, message: errorMessage(e), ...(runId ? { runId } : {}) });
  }
}

/** Loads the starter model and its caption bank from the page's `starter/` folder (once). */
export function loadStarter(ctx: PhotosContext): Promise<void> {
  return answer(ctx, 'starter', undefined, () => ensureStarter(ctx));
}

/** Ranks candidate captions for each photo ('rankProgress', then 'ranked'). */
export function rankPhotos(ctx: PhotosContext, args: RankPhotosArgs): Promise<void> {
  return answer(ctx, 'rank', args.runId, () => rank(ctx, args));
}

/**
 * Encodes a folder of photos into the gallery ('galleryProgress', then 'galleryLoaded'). `signal` cancels
 * it between photos: the query fails saying how far it got, and the photos encoded so far stay cached.
 */
export function loadGallery(ctx: PhotosContext, args: GalleryLoadArgs, signal?: AbortSignal): Promise<void> {
  return answer(ctx, 'gallery', args.runId, () => encodeGallery(ctx, args, signal));
}

/** Searches the gallery by sentence ('searchResults'). */
export function searchGallery(ctx: PhotosContext, args: GallerySearchArgs): Promise<void> {
  return answer(ctx, 'search', args.runId, () => searchInGallery(ctx, args));
}
