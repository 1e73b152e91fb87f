/**
 * What the own-photos UI asks the worker, validated here first (a message instead of a call): the
 * photos to rank and their candidates, a folder for the gallery (cancelled by aborting its signal), a
 * gallery search.
 */
import type { TrainingClient } from '../client';
import { queryError } from '../files';
import type { PickedFile } from '../../worker/protocol';
import { MAX_PHOTOS_PER_REQUEST, type CandidateSource } from '../../worker/photos-protocol';
import { usePhotosStore } from './photos-store';

/** Best distinct captions shown per photo, and gallery hits per search. */
export const PHOTO_RANK_LIMIT = 10;
export const GALLERY_SEARCH_LIMIT = 12;

const store = () => usePhotosStore.getState();

/** Ranks candidates for dropped or picked photos with `runId`; false (and a message) when invalid. */
export function rankPhotos(
  client: TrainingClient,
  runId: string | null,
  files: readonly File[],
  source: CandidateSource,
  typed: string,
): boolean {
  if (!runId)
    return (store().rankInvalid('No model to ask yet: the starter is loading, or train a run.'), false);
  if (!files.length) return (store().rankInvalid('No photo was dropped.'), false);
  if (files.length > MAX_PHOTOS_PER_REQUEST)
    return (
      store().rankInvalid(
        `${files.length} photos at once; at most ${MAX_PHOTOS_PER_REQUEST} (drop a folder on the gallery below instead).`,
      ),
      false
    );
  if (source === 'typed' && !typed.split('\n').some((l) => l.trim()))
    return (
      store().rankInvalid('The list of candidate captions is empty: type at least one caption, one a line.'),
      false
    );
  const photos: PickedFile[] = files.map((f) => ({ path: f.name, file: f }));
  store().rankRequested(new Map(photos.map((p) => [p.path, p.file])));
  client.rankPhotos({
    runId,
    photos,
    source,
    ...(source === 'typed' ? { typed } : {}),
    limit: PHOTO_RANK_LIMIT,
  });
  return true;
}

/** Encodes a folder of photos into the gallery (for `runId`'s encoder). */
export function loadGallery(
  client: TrainingClient,
  runId: string | null,
  name: string,
  files: PickedFile[],
): boolean {
  if (!runId)
    return (store().galleryInvalid('No model to ask yet: the starter is loading, or train a run.'), false);
  if (!files.length) return (store().galleryInvalid(`The folder “${name}” is empty.`), false);
  store().galleryRequested(new Map(files.map((f) => [f.path, f.file])));
  client.loadGallery({ runId, name, files });
  return true;
}

/** Cancels the gallery load in flight: its AbortSignal aborts (what was encoded stays cached). */
export function cancelGallery(client: TrainingClient): void {
  store().galleryCancelled();
  client.cancelGallery();
}

export function searchGallery(client: TrainingClient, runId: string | null, query: string): boolean {
  const err = queryError(query, 'The search sentence');
  if (err) return (store().searchInvalid(err), false);
  if (!runId) return (store().searchInvalid('No model to ask yet.'), false);
  if (!store().gallery.loaded) return (store().searchInvalid('Drop a folder of photos first.'), false);
  store().searchRequested();
  client.searchGallery({ runId, query: query.trim(), limit: GALLERY_SEARCH_LIMIT });
  return true;
}
