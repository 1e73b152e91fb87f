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
 *
 * Without a dataset (the shipped starter model queried with the user's own photos and sentences) the
 * Retriever ranks free texts for photo features (`rankTexts`: a caption bank or typed candidates) and
 * searches a gallery of features (`searchFeatures`). What it returns is final: distinct texts (texts
 * with the same word ids embed identically, so each is kept once, before the list is cut), best first,
 * cut to the limit, with the energy to show; callers do not filter or re-rank it.
 *
 * Text is read through the model's caption codec (./caption-codec.ts): the same ids as in training,
 * and one rule for what a usable query is.
 *
 * The queries are asynchronous: scores are read with `data()`, never `dataSync()`, which on WebGPU
 * stalls the queue (and on a headless software adapter loses the device). Every tensor a query needs is
 * computed before its first read, so a query never touches the model or the kept embeddings after it
 * starts waiting (a backend switch or another query may free or replace them meanwhile).
 *
 * The result types and {@link TopK} are in ./ranked.ts, the kept gallery embeddings in
 * ./embedding-cache.ts; the types and TopK are importable from here.
 */
import * as tf from './tf';
import { embedDatasetImages, embedSequences } from './evaluate';
import type { OrderEmbeddingModel } from './model';
import { readAndDispose } from './ops';
import { orderViolation, scoreBlocks, scores } from './scoring';
import { hasKnownWord, type CaptionCodec } from './caption-codec';
import { EmbeddingCache } from './embedding-cache';
import {
  TopK,
  type DistinctTexts,
  type Ranked,
  type RankedCaption,
  type RankedImage,
  type RankedText,
} from './ranked';
import { tokenize } from './tokenizer';
import type { Dataset } from './types';

// The result types and TopK, importable from here as before.
export * from './ranked';

export class Retriever {
  private distinctCache: { of: readonly string[]; list: DistinctTexts } | null = null;
  private readonly cache: boolean;
  /** Gallery embeddings kept between queries (with `{ cache: true }`). */
  private readonly embeddings: EmbeddingCache;

  /**
   * @param codec how the model reads text (its vocabulary and caption length, as in training)
   * @param options.cache keep gallery embeddings between queries (only for a model that stays fixed)
   */
  constructor(
    readonly model: OrderEmbeddingModel,
    readonly codec: CaptionCodec,
    readonly dataset: Dataset | null,
    options: { cache?: boolean } = {},
  ) {
    this.cache = options.cache ?? false;
    this.embeddings = new EmbeddingCache(this.cache);
    if (dataset && dataset.imageDim !== model.config.imageDim) {
      throw new Error(
        `dataset '${dataset.name}' has ${dataset.imageDim}-d image features but the model expects ` +
          `${model.config.imageDim}-d: it was trained with another image encoder`,
      );
    }
    if (codec.size !== model.config.vocabSize) {
      throw new Error(
        `the vocabulary has ${codec.size} words but the model expects ${model.config.vocabSize}: model file from another vocabulary`,
      );
    }
  }

  /** The dataset, or a clear error for a Retriever made without one. */
  private data(): Dataset {
    if (!this.dataset)
      throw new Error('no dataset to search: this model is queried with your own photos and sentences');
    return this.dataset;
  }

  /** Images of the dev split, or all images when the dataset has none: what retrieval searches. */
  galleryImages(): number[] {
    const ds = this.data();
    const dev = ds.splits.dev;
    return dev?.length ? dev.slice() : Array.from({ length: ds.numImages }, (_, i) => i);
  }

  /** Captions of the gallery images. */
  galleryCaptions(): number[] {
    const images = new Set(this.galleryImages());
    const out: number[] = [];
    this.data().captions.forEach((c, k) => {
      if (images.has(c.image)) out.push(k);
    });
    return out;
  }

  /**
   * Candidate texts reduced to what the model can tell apart: texts with the same words (case,
   * punctuation and spacing aside) embed identically, so each is kept once, before any ranking cuts the
   * list; texts without a single known word are left out and named.
   */
  distinct(candidates: readonly string[]): DistinctTexts {
    const seen = new Set<string>();
    const out: DistinctTexts = { texts: [], ids: [], repeated: 0, unknownOnly: [], unknownWords: [] };
    const unknown = new Set<string>();
    for (const raw of candidates) {
      const text = raw.trim();
      const tokens = tokenize(text);
      if (!tokens.length) continue;
      const ids = this.codec.encodeWords(tokens);
      for (const t of tokens) if (!this.codec.vocab.has(t) && unknown.size < 50) unknown.add(t);
      if (!hasKnownWord(ids)) {
        if (out.unknownOnly.length < 20) out.unknownOnly.push(text);
        continue;
      }
      const key = ids.join(',');
      if (seen.has(key)) {
        out.repeated++;
        continue;
      }
      seen.add(key);
      out.texts.push(text);
      out.ids.push(ids);
    }
    out.unknownWords = [...unknown];
    return out;
  }

  /**
   * The candidates to rank: `distinct(candidates)` (kept for the same array when caching: a caption bank
   * asked again). Throws when none has a word the model knows, naming some unknown words.
   */
  candidates(candidates: readonly string[]): DistinctTexts {
    if (this.distinctCache?.of === candidates) return this.distinctCache.list;
    const list = this.distinct(candidates);
    if (!list.texts.length)
      throw new Error(
        `none of the ${candidates.length} candidate captions has a word the model knows` +
          (list.unknownWords.length ? ` (unknown: ${list.unknownWords.slice(0, 10).join(', ')})` : ''),
      );
    if (this.cache) this.distinctCache = { of: candidates, list };
    return list;
  }

  /**
   * For each photo (features of `count` photos, row-major [count, F]), the `limit` distinct candidate
   * texts that fit it best, best first (zero-shot: the candidates are whatever the caller offers). With
   * caching, the embeddings of the same `candidates` array (by identity: a caption bank) are kept.
   */
  async rankTexts(
    features: Float32Array,
    count: number,
    candidates: readonly string[] | DistinctTexts,
    limit: number,
  ): Promise<RankedText[][]> {
    const F = this.model.config.imageDim;
    if (count < 1 || features.length !== count * F)
      throw new Error(`photo features have ${features.length} values, expected ${count} x ${F}`);
    const list = 'ids' in candidates ? candidates : this.candidates(candidates);
    if (!list.texts.length) throw new Error('no candidate sentence has a word the model knows');
    const embedCandidates = () => embedSequences(this.model, list.ids);
    const caps = this.embeddings.keptRef('textCache', list.texts, embedCandidates); // [m, H]
    const ims = tf.tidy(() => this.model.embedImages(tf.tensor2d(features, [count, F]))); // [count, H]
    const tops = Array.from({ length: count }, () => new TopK(Math.max(1, limit)));
    await this.scoreAndFree(ims, caps, (block, start, n) => {
      // block: [count, n], every photo against candidates start .. start + n
      for (let i = 0; i < count; i++) for (let j = 0; j < n; j++) tops[i].push(start + j, block[i * n + j]);
    });
    const order = this.model.config.measure === 'order';
    return tops.map((t) =>
      t.result().map((r) => ({ text: list.texts[r.index], score: r.score, energy: order ? -r.score : null })),
    );
  }

  /**
   * The `limit` images of a gallery of features ([count, F] row-major: the user's own photos) that fit
   * a sentence best. With caching, the embeddings of the same `features` array are kept.
   */
  async searchFeatures(
    text: string,
    features: Float32Array,
    count: number,
    limit: number,
  ): Promise<{ hits: RankedImage[]; unknown: string[] }> {
    const F = this.model.config.imageDim;
    if (count < 1 || features.length !== count * F)
      throw new Error(`gallery features have ${features.length} values, expected ${count} x ${F}`);
    const { ids, unknown } = this.codec.encodeQuery(text, 'the search sentence');
    const ims = this.embeddings.keptRef('featureCache', features, () =>
      tf.tidy(() => this.model.embedImages(tf.tensor2d(features, [count, F]))),
    );
    const cap = embedSequences(this.model, [ids]); // [1, H]
    const s = scores(ims, cap, this.model.config.measure); // [count, 1]
    tf.dispose(this.cache ? cap : [cap, ims]);
    const [data] = await readAndDispose(s);
    const top = new TopK(Math.max(1, limit));
    for (let i = 0; i < count; i++) top.push(i, data[i]);
    const order = this.model.config.measure === 'order';
    return { hits: top.result().map((h) => ({ ...h, energy: order ? -h.score : null })), unknown };
  }

  /**
   * The `limit` best captions of the dataset for a photo, each once, ready to show. Many images share a
   * caption text (such as "three shapes"), and captions with the same word ids embed identically: only
   * the first of each is ranked, so duplicates are gone before the list is cut to `limit`.
   */
  async captionsForPhoto(
    features: Float32Array,
    limit: number,
    captions = this.galleryCaptions(),
  ): Promise<RankedCaption[]> {
    const ds = this.data();
    const seen = new Set<string>();
    const distinct = captions.filter((k) => {
      const key = this.captionIds(k).join(',');
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    return (await this.rankCaptions(features, limit, distinct)).map((r) => ({
      caption: r.index,
      image: ds.captions[r.index].image,
      text: ds.captions[r.index].text,
      score: r.score,
    }));
  }

  /** The `limit` captions of `captions` (default: the gallery's) that fit photo features best. */
  async rankCaptions(
    features: Float32Array,
    limit: number,
    captions = this.galleryCaptions(),
  ): Promise<Ranked[]> {
    const dim = this.data().imageDim;
    if (features.length !== dim) {
      throw new Error(`photo features have ${features.length} values, the model expects ${dim}`);
    }
    const top = new TopK(limit);
    const im = tf.tidy(() => this.model.embedImages(tf.tensor2d(features, [1, features.length])));
    const caps = this.captionEmbeddings(captions); // [m, H]
    await this.scoreAndFree(im, caps, (block, start, count) => {
      for (let j = 0; j < count; j++) top.push(captions[start + j], block[j]);
    });
    return top.result();
  }

  /**
   * Scores of photos `ims` against captions `caps` in blocks (scoreBlocks), then frees `ims`, and `caps`
   * too unless the retriever keeps them (caching).
   */
  private async scoreAndFree(
    ims: tf.Tensor2D,
    caps: tf.Tensor2D,
    onBlock: (block: Float32Array, start: number, count: number) => void,
  ): Promise<void> {
    try {
      await scoreBlocks(ims, caps, this.model.config.measure, 2048, onBlock);
    } finally {
      ims.dispose();
      if (!this.cache) caps.dispose();
    }
  }

  /** The `limit` images of `images` (default: the gallery) that fit a sentence best. */
  async searchImages(
    text: string,
    limit: number,
    images = this.galleryImages(),
  ): Promise<{ hits: Ranked[]; unknown: string[] }> {
    const { ids, unknown } = this.codec.encodeQuery(text, 'the search sentence');
    const cap = embedSequences(this.model, [ids]); // [1, H]
    const ims = this.imageEmbeddings(images); // [n, H]
    const top = new TopK(limit);
    // The one caption against every image: S is [n, 1] with images in the image role.
    const s = scores(ims, cap, this.model.config.measure); // [n, 1]
    tf.dispose(this.cache ? cap : [cap, ims]);
    const [data] = await readAndDispose(s);
    for (let i = 0; i < images.length; i++) top.push(images[i], data[i]);
    return { hits: top.result(), unknown };
  }

  /**
   * Order-violation energies between two sentences: eAB = E(a, b) = ||max(0, b - a)||^2 is ~0 when b is
   * more general than a (b lies below a in every coordinate), eBA the other way round. For a cosine
   * model the order is undefined; `similarity` is returned instead.
   */
  async generality(
    a: string,
    b: string,
  ): Promise<{ eAB: number; eBA: number; similarity: number; unknown: string[] }> {
    const pa = this.codec.encodeQuery(a, 'sentence A');
    const pb = this.codec.encodeQuery(b, 'sentence B');
    const emb = embedSequences(this.model, [pa.ids, pb.ids]); // [2, H]
    const three = tf.tidy(() => {
      const ea = emb.slice([0, 0], [1, -1]) as tf.Tensor2D; // [1, H]
      const eb = emb.slice([1, 0], [1, -1]) as tf.Tensor2D; // [1, H]
      // orderViolation(x, y)[0, 0] = ||max(0, y - x)||^2 with x in the "image" (specific) role.
      return tf.concat([orderViolation(ea, eb), orderViolation(eb, ea), ea.matMul(eb, false, true)], 1); // [1, 3]
    });
    emb.dispose();
    const [[eAB, eBA, similarity]] = await readAndDispose(three);
    return { eAB, eBA, similarity, unknown: [...new Set([...pa.unknown, ...pb.unknown])] };
  }

  /** The model's own energy scale: median order violation of matching dev pairs (the "~0" of generality). */
  async typicalPositiveEnergy(sample = 200): Promise<number> {
    const images = this.galleryImages().slice(0, sample);
    const ds = this.data();
    const caps = images.map((img) => ds.captions.findIndex((c) => c.image === img));
    const pairs = images.map((img, i) => [img, caps[i]] as const).filter(([, k]) => k >= 0);
    if (!pairs.length) return 0;
    const ims = embedDatasetImages(
      this.model,
      ds,
      pairs.map(([img]) => img),
    );
    const cs = embedSequences(
      this.model,
      pairs.map(([, k]) => this.captionIds(k)),
    );
    const e = tf.tidy(() => orderViolation(ims, cs)); // [n, n]
    tf.dispose([ims, cs]);
    const [d] = await readAndDispose(e);
    const diag = pairs.map((_, i) => d[i * pairs.length + i]).sort((x, y) => x - y);
    return diag[Math.floor(diag.length / 2)];
  }

  /** Frees the cached gallery embeddings (the model belongs to whoever made it). */
  dispose(): void {
    this.embeddings.dispose();
    this.distinctCache = null;
  }

  /** [m, H] embeddings of dataset captions (kept between queries when caching). */
  private captionEmbeddings(captions: number[]): tf.Tensor2D {
    return this.embeddings.kept('captionCache', captions, () =>
      embedSequences(
        this.model,
        captions.map((k) => this.captionIds(k)),
      ),
    );
  }

  /** [n, H] embeddings of dataset images (kept between queries when caching). */
  private imageEmbeddings(images: number[]): tf.Tensor2D {
    return this.embeddings.kept('imageCache', images, () =>
      embedDatasetImages(this.model, this.data(), images),
    );
  }

  /** Word ids of dataset caption k, as in training. */
  private captionIds(k: number): Int32Array {
    return this.codec.encodeCaption(this.data().captions[k].text, k);
  }
}
