/**
 * The user's actions on the training worker: each validates its input (a message is shown instead of
 * sending), tells the store what was asked, and calls the worker; exports are saved as a .zip. The
 * connection itself (spawning, events, crash and silence recovery) is ./worker-connection.ts.
 */
import { isRunActive, parseForm, startOptions, type QueryKind } from './store';
import { imageFileError, queryError, runFilesFrom, safeFileName } from './files';
import { writeZip } from './zip';
import { WorkerConnection } from './worker-connection';
import type { GalleryLoadArgs, GallerySearchArgs, RankPhotosArgs } from '../worker/photos-protocol';
import {
  errorMessage,
  type BackendChoice,
  type DatasetSource,
  type EncoderChoice,
  type PickedFile,
} from '../worker/protocol';

export {
  initialSourceFromUrl,
  pageBaseUrl,
  sourceLabel,
  threadsFromUrl,
  type ClientOptions,
  type WorkerLike,
} from './worker-connection';

/** How many ranked captions and image hits to ask for. */
export const RANK_LIMIT = 10;
export const SEARCH_LIMIT = 12;
/** Largest subtree the Hierarchy view trains and draws. */
export const HIERARCHY_MAX_NODES = 2500;

export class TrainingClient extends WorkerConnection {
  /** Cancels the gallery load in flight (its signal went with the 'loadGallery' call). */
  private galleryAbort: AbortController | null = null;

  // -------------------------------------------------------------------------------------------
  // Datasets

  loadDataset(source: DatasetSource): void {
    this.lastSource = source;
    this.sendLoad(source);
  }

  loadScenes(numImages?: number): void {
    this.loadDataset(numImages ? { kind: 'scenes', numImages } : { kind: 'scenes' });
  }

  /** A feature pack at `url`, relative to the page's base URL. Returns an error message or null. */
  loadPack(url: string): string | null {
    const trimmed = url.trim();
    if (trimmed === '') return 'The pack URL is empty.';
    let abs: string;
    try {
      abs = new URL(trimmed, this.baseUrl()).href.replace(/\/+$/, '');
    } catch {
      return `“${trimmed}” is not a URL.`;
    }
    this.loadDataset({ kind: 'pack', url: abs });
    return null;
  }

  /** A picked or dropped folder. Returns an error message or null. */
  loadFolder(name: string, files: PickedFile[], encoder: EncoderChoice): string | null {
    if (files.length === 0) return `The folder “${name}” is empty.`;
    if ('url' in encoder && encoder.url.trim() === '') return 'Type the encoder’s model.json URL.';
    const enc = 'url' in encoder ? { url: new URL(encoder.url.trim(), this.baseUrl()).href } : encoder;
    this.loadDataset({ kind: 'folder', name, files, encoder: enc });
    return null;
  }

  /** Cancels the dataset load in progress: its AbortSignal aborts (the worker stops between batches). */
  cancelLoad(): void {
    this.state.loadCancelled();
    this.abortLoad();
  }

  // -------------------------------------------------------------------------------------------
  // Training

  /** Validates the form and starts one run, or two differing only in layerNorm (`compare`). */
  start(compare = false): boolean {
    const s = this.state;
    const parsed = parseForm(s.form);
    if (!parsed.ok) {
      s.setFormErrors(parsed.errors);
      return false;
    }
    s.starting();
    this.call('start', startOptions(parsed.run, compare));
    this.armSilentWatch();
    return true;
  }

  pause(): void {
    this.state.pauseRequested();
    this.call('pause');
  }

  resume(): void {
    this.call('resume');
  }

  reset(): void {
    this.call('reset');
  }

  evaluate(): void {
    this.call('evaluate');
  }

  /** Switching backends needs a fresh worker (tfjs state is per backend); the dataset is reloaded. */
  setBackend(backend: BackendChoice): void {
    if (isRunActive(this.state.status)) return;
    this.state.setRequestedBackend(backend);
    this.connect();
  }

  // -------------------------------------------------------------------------------------------
  // Retrieval (validated here; a message is shown instead of sending)

  private invalid(kind: QueryKind, message: string | null): boolean {
    this.state.setQueryError(kind, message);
    return message !== null;
  }

  private noRun(kind: QueryKind, runId: string | null): boolean {
    return this.invalid(kind, runId ? null : 'No trained run to ask: start training, or open a stored run.');
  }

  rankCaptions(runId: string | null, file: File | null | undefined): boolean {
    if (this.invalid('rank', imageFileError(file)) || this.noRun('rank', runId) || !file || !runId)
      return false;
    this.state.queryRequested('rank');
    this.call('rankCaptions', runId, file, file.name, RANK_LIMIT);
    return true;
  }

  searchImages(runId: string | null, query: string): boolean {
    if (this.invalid('search', queryError(query)) || this.noRun('search', runId) || !runId) return false;
    this.state.queryRequested('search');
    this.call('searchImages', runId, query.trim(), SEARCH_LIMIT);
    return true;
  }

  compareSentences(runId: string | null, a: string, b: string): boolean {
    const err = queryError(a, 'Sentence A') ?? queryError(b, 'Sentence B');
    if (this.invalid('generality', err) || this.noRun('generality', runId) || !runId) return false;
    this.state.queryRequested('generality');
    this.call('compareSentences', runId, a.trim(), b.trim());
    return true;
  }

  // -------------------------------------------------------------------------------------------
  // Hierarchy mode

  /** Trains 2-D order embeddings of the WordNet subtree below `root` live; false for an empty name. */
  startHierarchy(root: string): boolean {
    const name = root.trim();
    if (!name) {
      this.store.setState((s) => ({
        hierarchy: { ...s.hierarchy, error: 'Type a synset name such as mammal.n.01.' },
      }));
      return false;
    }
    this.state.hierarchyRequested(name);
    this.call('hierarchyStart', name, HIERARCHY_MAX_NODES);
    return true;
  }

  stopHierarchy(): void {
    this.call('hierarchyStop');
  }

  // -------------------------------------------------------------------------------------------
  // Stored runs

  openRun(runId: string): void {
    this.state.openRequested(runId);
    this.call('openRun', runId);
  }

  exportRun(runId: string): void {
    this.state.exportRequested(runId);
    this.call('exportRun', runId);
  }

  deleteRun(runId: string): void {
    this.call('deleteRun', runId);
  }

  renameRun(runId: string, label: string): void {
    this.call('renameRun', runId, label);
  }

  /** Continues a stored run from its last checkpoint (the worker checks the loaded dataset). */
  resumeRun(runId: string): void {
    this.state.starting();
    this.call('resumeRun', runId);
    this.armSilentWatch();
  }

  /** Asks the worker to store a checkpoint of the training runs now (the page is hidden or closing). */
  checkpointNow(): void {
    if (this.worker && isRunActive(this.state.status)) this.call('checkpointNow');
  }

  listRuns(): void {
    this.call('listRuns');
  }

  /** Imports a run from an exported .zip or its files; resolves to an error message or null. */
  async importFiles(picked: readonly File[]): Promise<string | null> {
    this.state.importRequested();
    try {
      const { files, label } = await runFilesFrom(picked);
      this.call('importRun', files, label);
      return null;
    } catch (e) {
      const message = `import failed: ${errorMessage(e)}`;
      this.state.setRunsError(message);
      return message;
    }
  }

  protected download(runId: string, files: Record<string, string | ArrayBuffer>): void {
    const s = this.state;
    const label = s.stored.find((r) => r.id === runId)?.label ?? s.runs[runId]?.label ?? 'run';
    try {
      const zip = writeZip(files);
      this.save(
        `${safeFileName(label)}-${safeFileName(runId)}.zip`,
        new Blob([zip], { type: 'application/zip' }),
      );
    } catch (e) {
      s.setRunsError(`export failed: ${errorMessage(e)}`);
    } finally {
      s.exportFinished();
    }
  }

  // -------------------------------------------------------------------------------------------
  // The user's own photos (built and validated by ./retrieve/photos-actions.ts)

  rankPhotos(args: RankPhotosArgs): void {
    this.call('rankPhotos', args);
  }

  /** Encodes a folder into the gallery, with an AbortSignal of its own that `cancelGallery` aborts. */
  loadGallery(args: GalleryLoadArgs): void {
    // A newer folder supersedes the one in flight in the worker; Cancel aborts the newest.
    this.galleryAbort = new AbortController();
    this.call('loadGallery', args, this.galleryAbort.signal);
  }

  /** Aborts the signal of the gallery load last sent (the worker stops; what it encoded stays cached). */
  cancelGallery(): void {
    this.galleryAbort?.abort();
    this.galleryAbort = null;
  }

  searchGallery(args: GallerySearchArgs): void {
    this.call('searchGallery', args);
  }
}
