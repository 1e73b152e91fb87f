/**
 * Retrieval in the worker (part of ./service.ts): ranks the loaded dataset's captions for a photo,
 * its images for a sentence, and tells which of two sentences is more general, with a live run's model,
 * a stored run's (opened once, its gallery embeddings cached) or the shipped starter's; and the
 * starter / own-photos calls (./photos.ts).
 */
import { importModel } from '../model/export';
import { Retriever } from '../model/retrieval';
import { validateRunFiles } from '../model/validate-run';
import { generalityScale, type Calibration, type GeneralityScale } from '../model/calibration';
import { photoFeatures } from './image-encoders';
import { currentRunFiles } from './checkpoints';
import * as photos from './photos';
import {
  STARTER_RUN_ID,
  type GalleryLoadArgs,
  type GallerySearchArgs,
  type RankPhotosArgs,
} from './photos-protocol';
import { errorMessage, generalityVerdict, type ImageHit } from './protocol';
import type { WorkerService } from './service';

/** A run that retrieval can query: a live run's trainer, or a stored run's imported model. */
export interface Queryable {
  retriever: Retriever;
  /** Disposes an imported model (live runs' models belong to their trainer). */
  dispose?: () => void;
  /** The run's measured energy scale, when it ships one (the starter). */
  calibration?: Calibration | null;
  /** The run's measured scale of "which sentence is more general" (the starter's, from its bank). */
  generality?: () => Promise<GeneralityScale | null>;
}

export class Queries {
  /** Stored runs opened for retrieval, by id. */
  private readonly opened = new Map<string, Queryable>();
  /** What the photos module (retrieval on the user's own photos, the starter) may use of this worker. */
  readonly photosContext: photos.PhotosContext;

  constructor(private readonly svc: WorkerService) {
    this.photosContext = {
      post: (event) => svc.post({ type: 'photos', event }),
      baseUrl: () => svc.baseUrl(),
      ensureBackend: () => svc.backend.ensure(),
      loaded: () => svc.loaded,
      runRetriever: async (runId) => (await this.queryable(runId)).retriever,
      isLive: (runId) => Boolean(svc.training.live(runId)),
    };
  }

  /** Disposes stored run `runId`'s opened model, if it is open. */
  forget(runId: string): void {
    this.opened.get(runId)?.dispose?.();
    this.opened.delete(runId);
  }

  /** Disposes every opened model (another dataset, another backend). */
  forgetAll(): void {
    for (const q of this.opened.values()) q.dispose?.();
    this.opened.clear();
  }

  // The starter and the user's own photos (./photos.ts): failures are posted as photos 'failed' events.

  loadStarter(): Promise<void> {
    return photos.loadStarter(this.photosContext);
  }

  rankPhotos(args: RankPhotosArgs): Promise<void> {
    return photos.rankPhotos(this.photosContext, args);
  }

  loadGallery(args: GalleryLoadArgs, signal?: AbortSignal): Promise<void> {
    return photos.loadGallery(this.photosContext, args, signal);
  }

  searchGallery(args: GallerySearchArgs): Promise<void> {
    return photos.searchGallery(this.photosContext, args);
  }

  /** `withDataset`: the query searches the loaded dataset (the starter is then bound to it, if it may be). */
  private async queryable(runId: string, withDataset = true): Promise<Queryable> {
    if (runId === STARTER_RUN_ID) return photos.starterRetriever(this.photosContext, withDataset);
    if (!this.svc.loaded) throw new Error('no dataset is loaded');
    const live = this.svc.training.live(runId);
    if (live) {
      const { trainer } = live;
      return { retriever: new Retriever(trainer.model, trainer.codec, trainer.dataset) };
    }
    return this.opened.get(runId) ?? (await this.openStored(runId));
  }

  /** Opens stored run `runId` on the loaded dataset (its model checked against it first). */
  async openStored(runId: string): Promise<Queryable> {
    const loaded = this.svc.loaded;
    if (!loaded) throw new Error('no dataset is loaded');
    const meta = await this.svc.store.get(runId);
    const files = meta && (await currentRunFiles(this.svc.store, meta));
    if (!files || !meta)
      throw new Error(`run ${runId} has no stored model (it never paused, finished or checkpointed)`);
    if (meta.dataset !== loaded.info.name)
      throw new Error(
        `run '${meta.label}' was trained on ${meta.dataset}; the loaded dataset is ${loaded.info.name}, which it is not queried against: load ${meta.dataset} on the Data tab, or ask the starter model`,
      );
    validateRunFiles(files); // sizes and shapes before anything is allocated
    const m = importModel(files);
    try {
      // A stored run's model stays fixed: its gallery embeddings are kept between queries.
      const retriever = new Retriever(m.model, m.codec, loaded.dataset, { cache: true });
      const q: Queryable = {
        retriever,
        dispose: () => {
          retriever.dispose();
          m.model.dispose();
        },
      };
      this.forget(runId);
      this.opened.set(runId, q);
      return q;
    } catch (e) {
      m.model.dispose();
      throw new Error(
        `run '${meta.label}' (trained on ${meta.dataset}) does not fit the loaded dataset: ${errorMessage(e)}`,
      );
    }
  }

  async rankCaptions(runId: string, image: Blob, name: string, limit: number): Promise<void> {
    const loaded = this.svc.loaded;
    if (!loaded) throw new Error('no dataset is loaded');
    if (!loaded.preset)
      throw new Error(
        `dataset '${loaded.info.name}' has no image encoder (synthetic features): load scenes or photos to rank captions for a photo`,
      );
    const { retriever } = await this.queryable(runId);
    const features = await photoFeatures(image, name, loaded.preset, this.svc.baseUrl());
    const captions = retriever.galleryCaptions();
    // Final, distinct, display-ready (many scenes share a caption text such as "three shapes").
    const items = await retriever.captionsForPhoto(features, Math.max(1, Math.min(limit, 100)), captions);
    this.svc.post({ type: 'captionRanking', runId, name, total: captions.length, items });
  }

  async searchImages(runId: string, query: string, limit: number): Promise<void> {
    const { retriever } = await this.queryable(runId);
    const loaded = this.svc.loaded;
    const images = retriever.galleryImages();
    const { hits, unknown } = await retriever.searchImages(query, Math.max(1, Math.min(limit, 60)), images);
    const names = loaded?.info.imagePaths;
    const transfer: Transferable[] = [];
    const items: ImageHit[] = hits.map((h) => {
      const hit: ImageHit = { image: h.index, name: names?.[h.index] ?? `image ${h.index}`, score: h.score };
      if (loaded?.thumb) {
        hit.thumb = loaded.thumb(h.index);
        transfer.push(hit.thumb.data.buffer);
      }
      return hit;
    });
    this.svc.post({ type: 'imageResults', runId, query, items, total: images.length, unknown }, transfer);
  }

  async compareSentences(runId: string, a: string, b: string): Promise<void> {
    const q = await this.queryable(runId, false);
    const { retriever } = q;
    const { eAB, eBA, similarity, unknown } = await retriever.generality(a, b);
    if (retriever.model.config.measure !== 'order') {
      this.svc.post({
        type: 'generality',
        runId,
        a,
        b,
        eAB: similarity,
        eBA: similarity,
        verdict: 'not-order',
        unknown,
      });
      return;
    }
    // "~0", "far from 0" and a telling difference on this model's own caption-to-caption scale, measured
    // on the caption bank (the starter's calibration.json, or in the page). Without one, the median
    // energy of matching image-caption pairs sets the scale (the calibration's, else measured on the
    // loaded dataset; without either, the larger of the two energies).
    const { near, far, asymmetry } =
      (await q.generality?.()) ??
      generalityScale(
        q.calibration?.matching.median ??
          (retriever.dataset ? await retriever.typicalPositiveEnergy() : Math.max(eAB, eBA) / 8),
      );
    this.svc.post({
      type: 'generality',
      runId,
      a,
      b,
      eAB,
      eBA,
      verdict: generalityVerdict(eAB, eBA, near, far, asymmetry),
      unknown,
    });
  }
}
