/**
 * UI state of the starter model and of retrieval on the user's own photos: what the worker's 'photos'
 * events say (src/worker/photos-protocol.ts), folded by a pure reducer, plus the run the Retrieve tab
 * queries. Results carry the run that produced them and are cleared when that run changes or when
 * the same query fails.
 */
import { create } from 'zustand';
import type {
  CandidateSource,
  GalleryHit,
  PhotosEvent,
  PhotosQuery,
  StarterInfo,
} from '../../worker/photos-protocol';

type Ranked = Extract<PhotosEvent, { kind: 'ranked' }>;
type GalleryLoaded = Extract<PhotosEvent, { kind: 'galleryLoaded' }>;

export interface StarterState {
  state: 'loading' | 'ready' | 'failed';
  /** weights.bin bytes so far. */
  progress: { loaded: number; total: number } | null;
  info: StarterInfo | null;
  message: string | null;
  bank: { file: string; sentences: number } | { file: string; error: string } | null;
  problems: string[];
  ms: number | null;
}

export interface PhotosState {
  starter: StarterState;
  /** The run the Retrieve tab queries (null: the default, the first live run or the starter). */
  selectedRunId: string | null;
  source: CandidateSource;
  typed: string;
  rank: {
    pending: boolean;
    progress: { done: number; total: number } | null;
    result: Ranked | null;
    error: string | null;
    /** The dropped photos by name (previews); references only. */
    files: ReadonlyMap<string, Blob>;
  };
  gallery: {
    pending: boolean;
    progress: { done: number; total: number; photosPerSec: number; cached: number; since: number } | null;
    loaded: GalleryLoaded | null;
    error: string | null;
    files: ReadonlyMap<string, Blob>;
  };
  search: {
    pending: boolean;
    result: { runId: string; query: string; hits: GalleryHit[]; total: number; unknown: string[] } | null;
    error: string | null;
  };
}

export function initialPhotosState(): PhotosState {
  return {
    starter: {
      state: 'loading',
      progress: null,
      info: null,
      message: null,
      bank: null,
      problems: [],
      ms: null,
    },
    selectedRunId: null,
    source: 'bank',
    typed: '',
    rank: { pending: false, progress: null, result: null, error: null, files: new Map() },
    gallery: { pending: false, progress: null, loaded: null, error: null, files: new Map() },
    search: { pending: false, result: null, error: null },
  };
}

const FAILED: Record<PhotosQuery, (s: PhotosState, message: string) => Partial<PhotosState>> = {
  starter: (s, message) => ({ starter: { ...s.starter, state: 'failed', message, progress: null } }),
  rank: (s, error) => ({ rank: { ...s.rank, pending: false, progress: null, result: null, error } }),
  gallery: (s, error) => ({
    gallery: { ...s.gallery, pending: false, progress: null, loaded: null, error },
    search: { ...s.search, result: null },
  }),
  search: (_s, error) => ({ search: { pending: false, result: null, error } }),
};

/** Pure reducer: the state change caused by one 'photos' event. */
export function reducePhotos(s: PhotosState, e: PhotosEvent): Partial<PhotosState> {
  switch (e.kind) {
    case 'starterProgress':
      return { starter: { ...s.starter, progress: { loaded: e.loaded, total: e.total } } };
    case 'starterLoaded':
      return {
        starter: {
          state: 'ready',
          progress: null,
          info: e.starter,
          message: null,
          bank: e.bank,
          problems: e.problems,
          ms: e.ms,
        },
        // Without a bank the typed candidates are what is left.
        source: 'error' in e.bank && s.source === 'bank' ? 'typed' : s.source,
      };
    case 'rankProgress':
      return { rank: { ...s.rank, progress: { done: e.done, total: e.total } } };
    case 'ranked':
      return { rank: { ...s.rank, pending: false, progress: null, result: e, error: null } };
    case 'galleryProgress':
      return {
        gallery: {
          ...s.gallery,
          progress: { ...e, since: s.gallery.progress?.since ?? Date.now() },
        },
      };
    case 'galleryLoaded':
      return { gallery: { ...s.gallery, pending: false, progress: null, loaded: e, error: null } };
    case 'searchResults':
      return {
        search: {
          pending: false,
          error: null,
          result: { runId: e.runId, query: e.query, hits: e.hits, total: e.total, unknown: e.unknown },
        },
      };
    case 'failed':
      return FAILED[e.query](s, e.message);
  }
}

export interface PhotosActions {
  selectRun(runId: string | null): void;
  setSource(source: CandidateSource): void;
  setTyped(typed: string): void;
  rankRequested(files: ReadonlyMap<string, Blob>): void;
  rankInvalid(message: string): void;
  galleryRequested(files: ReadonlyMap<string, Blob>): void;
  galleryInvalid(message: string): void;
  galleryCancelled(): void;
  searchRequested(): void;
  searchInvalid(message: string): void;
}

export const usePhotosStore = create<PhotosState & PhotosActions>()((set) => ({
  ...initialPhotosState(),
  selectRun: (runId) =>
    set((s) =>
      runId === s.selectedRunId
        ? {}
        : {
            selectedRunId: runId,
            // Results name the run that produced them: another run's answers are not shown.
            rank: { ...s.rank, result: null, error: null },
            search: { ...s.search, result: null, error: null },
          },
    ),
  setSource: (source) => set({ source }),
  setTyped: (typed) => set({ typed }),
  rankRequested: (files) =>
    set((s) => ({ rank: { ...s.rank, pending: true, progress: null, error: null, files } })),
  rankInvalid: (error) => set((s) => ({ rank: { ...s.rank, pending: false, result: null, error } })),
  galleryRequested: (files) =>
    set((s) => ({
      gallery: { ...s.gallery, pending: true, progress: null, error: null, loaded: null, files },
      search: { pending: false, result: null, error: null },
    })),
  galleryInvalid: (error) => set((s) => ({ gallery: { ...s.gallery, pending: false, loaded: null, error } })),
  galleryCancelled: () => set((s) => ({ gallery: { ...s.gallery, pending: false } })),
  searchRequested: () => set((s) => ({ search: { ...s.search, pending: true, error: null } })),
  searchInvalid: (error) => set({ search: { pending: false, result: null, error } }),
}));

export function applyPhotosEvent(e: PhotosEvent): void {
  usePhotosStore.setState((s) => reducePhotos(s, e));
}

/** A fresh worker: it loads the starter again, and holds no gallery. */
export function workerReplaced(): void {
  usePhotosStore.setState((s) => ({
    starter: initialPhotosState().starter,
    rank: { ...s.rank, pending: false, progress: null },
    gallery: { ...initialPhotosState().gallery },
    search: initialPhotosState().search,
  }));
}
