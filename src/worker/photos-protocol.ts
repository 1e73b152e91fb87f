/**
 * The starter model and retrieval on the user's own photos, as the worker service serves them: the
 * arguments of its calls `loadStarter()`, `rankPhotos(args)`, `loadGallery(args, signal?)` and
 * `searchGallery(args)` (UI -> worker, ./service.ts), and the events it answers with, nested in the main
 * protocol as `{ type: 'photos', event }` (worker -> UI), so that this part of the protocol lives with
 * the code that serves it (./starter.ts, ./photos.ts).
 */
import type { Calibration } from '../model/calibration';
import type { PickedFile } from './protocol';

/** The run id under which the shipped starter model is queried. */
export const STARTER_RUN_ID = 'starter';

/** Where the candidate captions for a photo come from. */
export type CandidateSource = 'bank' | 'dataset' | 'typed';

/** How many photos one ranking request may hold, and how many typed candidate lines. */
export const MAX_PHOTOS_PER_REQUEST = 200;
export const MAX_TYPED_CANDIDATES = 5000;

/** `rankPhotos`: ranks candidate captions for each photo: the caption bank, the dataset's, or typed lines. */
export interface RankPhotosArgs {
  runId: string;
  photos: PickedFile[];
  source: CandidateSource;
  /** With source 'typed': the candidates, one a line. */
  typed?: string;
  limit: number;
}

/** `loadGallery`: encodes a folder of photos (cached in IndexedDB) into a gallery searched by sentence. */
export interface GalleryLoadArgs {
  runId: string;
  name: string;
  files: PickedFile[];
}

/** `searchGallery`: the gallery's photos that best fit a sentence. */
export interface GallerySearchArgs {
  runId: string;
  query: string;
  limit: number;
}

/** The starter as the page shows it. */
export interface StarterInfo {
  id: typeof STARTER_RUN_ID;
  label: string;
  dataset: string;
  encoder: string | null;
  steps: number;
  hiddenDim: number;
  layerNorm: boolean;
  /** Dev R@1 both ways when metrics.json has them. */
  dev: { i2t: number; t2i: number; rsum: number } | null;
  calibration: Calibration | null;
  /** Bytes of weights.bin. */
  weightBytes: number;
}

export interface RankedText {
  text: string;
  score: number;
  /** Order-violation energy (lower fits better); null for a cosine run. */
  energy: number | null;
}

export interface PhotoRanking {
  name: string;
  items: RankedText[];
  /** Energy of the best candidate (order runs). */
  best: number | null;
  /** The best candidate's energy is above the run's calibrated "nothing fits" energy. */
  nothingFits: boolean;
  /** Why this photo got no ranking (not an image, HEIC, too large...). */
  error?: string;
}

export interface GalleryHit {
  index: number;
  name: string;
  score: number;
  energy: number | null;
  /** The photo's first caption when the folder had captions. */
  caption?: string;
}

export type PhotosQuery = 'starter' | 'rank' | 'gallery' | 'search';

export type PhotosEvent =
  | { kind: 'starterProgress'; file: string; loaded: number; total: number }
  | {
      kind: 'starterLoaded';
      starter: StarterInfo;
      /** The caption bank: its file and sentence count, or why it could not be read. */
      bank: { file: string; sentences: number } | { file: string; error: string };
      /** Non-fatal problems (calibration missing or unreadable...). */
      problems: string[];
      ms: number;
    }
  | { kind: 'rankProgress'; runId: string; done: number; total: number }
  | {
      kind: 'ranked';
      runId: string;
      source: CandidateSource;
      /** Distinct candidates ranked. */
      candidates: number;
      /** Candidates dropped as repeats, and those with no known word. */
      repeated: number;
      unknownOnly: string[];
      unknownWords: string[];
      /** The energy above which a photo gets "nothing here fits well" (null: not calibrated). */
      nothingFits: number | null;
      results: PhotoRanking[];
    }
  | { kind: 'galleryProgress'; done: number; total: number; photosPerSec: number; cached: number }
  | {
      kind: 'galleryLoaded';
      runId: string;
      name: string;
      encoder: string;
      count: number;
      cached: number;
      failed: string[];
      skipped: number;
      captions: number;
      ms: number;
    }
  | {
      kind: 'searchResults';
      runId: string;
      query: string;
      hits: GalleryHit[];
      total: number;
      unknown: string[];
    }
  /** A query failed: its previous results are cleared and the message shown. */
  | { kind: 'failed'; query: PhotosQuery; runId?: string; message: string };
