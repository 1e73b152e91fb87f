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
import { errorMessage } from './protocol';
import type { PhotosQuery, PhotosRequest } from './photos-protocol';
import { ensureStarter, type PhotosContext } from './photos-models';
import { cancelGallery, loadGallery, searchGallery } from './photos-gallery';
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

function fail(ctx: PhotosContext, query: PhotosQuery, e: unknown, runId?: string): void {
  ctx.post({ kind: 'failed', query, message: errorMessage(e), ...(runId ? { runId } : {}) });
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
        cancelGallery();
        return;
      case 'gallerySearch':
        await searchGallery(ctx, req);
        return;
    }
  } catch (e) {
    fail(ctx, QUERY_OF[req.kind], e, runId);
  }
}
