/**
 * Retrieval with a trained model: rank a dataset's captions for a photo (caption-rank), rank its images
 * for a sentence (search), and tell which of two sentences is more general. All three score with the
 * one scoring function of training and evaluation (./scoring.ts: S = -E for order embeddings, cosine
 * similarity for the symmetric baseline; higher is better).
 *
 * Works on a live Trainer's model or on one imported from a run's files, in the worker and in Node.
 * With `{ cache: true }` (a model that no longer changes: a stored run) the joint-space embeddings of
 * the gallery's captions and images are kept between queries, so only the query itself is embedded;
 * `dispose()` frees them.
 */
import * as tf from './tf';
import { embedDatasetImages, embedSequences } from './evaluate';
import type { OrderEmbeddingModel } from './model';
import { orderViolation, scoreBlocks, scores } from './scoring';
import { PAD_ID, tokenize, UNK_ID, type Vocabulary } from './tokenizer';
import type { Dataset } from './types';

export interface Ranked {
  /** Index of the caption or image in the dataset. */
  index: number;
  /** Higher is better: -E (order) or cosine similarity. */
  score: number;
}

export interface TextPlacement {
  ids: Int32Array;
  /** Words of the text that are not in the vocabulary (they map to the unknown-word id). */
  unknown: string[];
}

/** Keeps the `k` best (highest score) of a stream of scores, in descending order. */
export class TopK {
  private readonly items: Ranked[] = [];
  constructor(private readonly k: number) {}

  push(index: number, score: number): void {
    const items = this.items;
    if (items.length === this.k && score <= items[items.length - 1].score) return;
    // Insertion into a short sorted list: k is a page of results, not the gallery.
    let at = items.length;
    while (at > 0 && items[at - 1].score < score) at--;
    items.splice(at, 0, { index, score });
    if (items.length > this.k) items.pop();
  }

  result(): Ranked[] {
    return this.items.slice();
  }
}

/** Embeddings of a list of dataset items, kept for the next query with the same list. */
interface Cached {
  items: number[];
  emb: tf.Tensor2D;
}

const sameItems = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

export class Retriever {
  private captionCache: Cached | null = null;
  private imageCache: Cached | null = null;
  private readonly cache: boolean;

  /**
   * @param maxLength captions are cut to this many tokens, as in training
   * @param options.cache keep gallery embeddings between queries (only for a model that stays fixed)
   */
  constructor(
    readonly model: OrderEmbeddingModel,
    readonly vocab: Vocabulary,
    readonly dataset: Dataset,
    readonly maxLength: number,
    options: { cache?: boolean } = {},
  ) {
    this.cache = options.cache ?? false;
    if (dataset.imageDim !== model.config.imageDim) {
      throw new Error(
        `dataset '${dataset.name}' has ${dataset.imageDim}-d image features but the model expects ` +
          `${model.config.imageDim}-d: it was trained with another image encoder`,
      );
    }
    if (vocab.size !== model.config.vocabSize) {
      throw new Error(
        `the vocabulary has ${vocab.size} words but the model expects ${model.config.vocabSize}: model file from another vocabulary`,
      );
    }
  }

  /** Images of the dev split, or all images when the dataset has none: what retrieval searches. */
  galleryImages(): number[] {
    const dev = this.dataset.splits.dev;
    return dev?.length ? dev.slice() : Array.from({ length: this.dataset.numImages }, (_, i) => i);
  }

  /** Captions of the gallery images. */
  galleryCaptions(): number[] {
    const images = new Set(this.galleryImages());
    const out: number[] = [];
    this.dataset.captions.forEach((c, k) => {
      if (images.has(c.image)) out.push(k);
    });
    return out;
  }

  /**
   * Word ids of a free text (a query), cut to maxLength. Throws for an empty text or one without a
   * single word of the vocabulary, naming `what` and listing the unknown words.
   */
  place(text: string, what = 'the sentence'): TextPlacement {
    const trimmed = text.trim();
    if (!trimmed) throw new Error(`${what} is empty`);
    const tokens = tokenize(trimmed);
    if (!tokens.length) throw new Error(`${what} (${JSON.stringify(trimmed)}) has no words`);
    const ids = Int32Array.from(tokens.slice(0, this.maxLength), (t) => this.vocab.idOf(t));
    const unknown = [...new Set(tokens.filter((t) => !this.vocab.has(t)))];
    if (!ids.some((id) => id !== PAD_ID && id !== UNK_ID)) {
      throw new Error(
        `${what} (${JSON.stringify(trimmed)}) has no word the model knows (unknown: ${unknown.join(', ')}); ` +
          `its vocabulary is the ${this.vocab.size} words of the training captions`,
      );
    }
    return { ids, unknown };
  }

  /** The `limit` captions of `captions` (default: the gallery's) that fit photo features best. */
  rankCaptions(features: Float32Array, limit: number, captions = this.galleryCaptions()): Ranked[] {
    if (features.length !== this.dataset.imageDim) {
      throw new Error(
        `photo features have ${features.length} values, the model expects ${this.dataset.imageDim}`,
      );
    }
    const top = new TopK(limit);
    const im = tf.tidy(() => this.model.embedImages(tf.tensor2d(features, [1, features.length])));
    const caps = this.captionEmbeddings(captions); // [m, H]
    scoreBlocks(im, caps, this.model.config.measure, 2048, (block, start, count) => {
      for (let j = 0; j < count; j++) top.push(captions[start + j], block[j]);
    });
    im.dispose();
    if (!this.cache) caps.dispose();
    return top.result();
  }

  /** The `limit` images of `images` (default: the gallery) that fit a sentence best. */
  searchImages(
    text: string,
    limit: number,
    images = this.galleryImages(),
  ): { hits: Ranked[]; unknown: string[] } {
    const { ids, unknown } = this.place(text, 'the search sentence');
    const cap = embedSequences(this.model, [ids]); // [1, H]
    const ims = this.imageEmbeddings(images); // [n, H]
    const top = new TopK(limit);
    // The one caption against every image: S is [n, 1] with images in the image role.
    const s = scores(ims, cap, this.model.config.measure); // [n, 1]
    const data = s.dataSync();
    for (let i = 0; i < images.length; i++) top.push(images[i], data[i]);
    tf.dispose([cap, s]);
    if (!this.cache) ims.dispose();
    return { hits: top.result(), unknown };
  }

  /**
   * Order-violation energies between two sentences: eAB = E(a, b) = ||max(0, b - a)||^2 is ~0 when b is
   * more general than a (b lies below a in every coordinate), eBA the other way round. For a cosine
   * model the order is undefined; `similarity` is returned instead.
   */
  generality(a: string, b: string): { eAB: number; eBA: number; similarity: number } {
    const pa = this.place(a, 'sentence A');
    const pb = this.place(b, 'sentence B');
    const emb = embedSequences(this.model, [pa.ids, pb.ids]); // [2, H]
    const out = tf.tidy(() => {
      const ea = emb.slice([0, 0], [1, -1]) as tf.Tensor2D;
      const eb = emb.slice([1, 0], [1, -1]) as tf.Tensor2D;
      // orderViolation(x, y)[0, 0] = ||max(0, y - x)||^2 with x in the "image" (specific) role.
      const eAB = orderViolation(ea, eb).dataSync()[0];
      const eBA = orderViolation(eb, ea).dataSync()[0];
      const cos = ea.matMul(eb, false, true).dataSync()[0];
      return { eAB, eBA, similarity: cos };
    });
    emb.dispose();
    return out;
  }

  /** The model's own energy scale: median order violation of matching dev pairs (the "~0" of generality). */
  typicalPositiveEnergy(sample = 200): number {
    const images = this.galleryImages().slice(0, sample);
    const caps = images.map((img) => this.dataset.captions.findIndex((c) => c.image === img));
    const pairs = images.map((img, i) => [img, caps[i]] as const).filter(([, k]) => k >= 0);
    if (!pairs.length) return 0;
    const ims = embedDatasetImages(
      this.model,
      this.dataset,
      pairs.map(([img]) => img),
    );
    const cs = embedSequences(
      this.model,
      pairs.map(([, k]) => this.captionIds(k)),
    );
    const e = tf.tidy(() => orderViolation(ims, cs));
    const d = e.dataSync();
    const diag = pairs.map((_, i) => d[i * pairs.length + i]).sort((x, y) => x - y);
    tf.dispose([ims, cs, e]);
    return diag[Math.floor(diag.length / 2)];
  }

  /** Frees the cached gallery embeddings (the model belongs to whoever made it). */
  dispose(): void {
    this.captionCache?.emb.dispose();
    this.imageCache?.emb.dispose();
    this.captionCache = this.imageCache = null;
  }

  /** [m, H] embeddings of dataset captions (kept between queries when caching). */
  private captionEmbeddings(captions: number[]): tf.Tensor2D {
    return this.kept('captionCache', captions, () =>
      embedSequences(
        this.model,
        captions.map((k) => this.captionIds(k)),
      ),
    );
  }

  /** [n, H] embeddings of dataset images (kept between queries when caching). */
  private imageEmbeddings(images: number[]): tf.Tensor2D {
    return this.kept('imageCache', images, () => embedDatasetImages(this.model, this.dataset, images));
  }

  /**
   * `embed()` of `items`, or, when caching, the tensor kept in `slot` for the same list (a new list
   * replaces it). Without caching the caller owns (and disposes) the result; with it, the Retriever does.
   */
  private kept(slot: 'captionCache' | 'imageCache', items: number[], embed: () => tf.Tensor2D): tf.Tensor2D {
    if (!this.cache) return embed();
    const held = this[slot];
    if (held && sameItems(held.items, items)) return held.emb;
    const emb = embed();
    held?.emb.dispose();
    this[slot] = { items: items.slice(), emb };
    return emb;
  }

  private captionIds(k: number): Int32Array {
    return Int32Array.from(this.vocab.encode(this.dataset.captions[k].text, k).slice(0, this.maxLength));
  }
}
