/**
 * The gallery embeddings a Retriever (./retrieval.ts) keeps between queries when its model no longer
 * changes (a stored run): joint-space embeddings of dataset captions and images, recognised by their
 * list of indices, and of free-text lists and feature galleries, recognised by identity (the same
 * caption bank or photo gallery array asked again). Only the query itself is then embedded.
 *
 * Without caching every call embeds afresh and the caller owns (and disposes) the result; with it, the
 * cache owns what it keeps, replaces it when a new list comes, and frees it in `dispose()`.
 */
import type * as tf from './tf';

/** Embeddings of a list of dataset items, kept for the next query with the same list. */
interface Cached {
  items: number[];
  emb: tf.Tensor2D;
}

const sameItems = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** Embeddings of a free-text list or a feature gallery, kept for the next query with the same list. */
interface KeptByRef<T> {
  of: T;
  emb: tf.Tensor2D;
}

export class EmbeddingCache {
  private captionCache: Cached | null = null;
  private imageCache: Cached | null = null;
  private textCache: KeptByRef<readonly string[]> | null = null;
  private featureCache: KeptByRef<Float32Array> | null = null;

  /** @param enabled keep embeddings between calls (only for a model that stays fixed) */
  constructor(readonly enabled: boolean) {}

  /**
   * `embed()` of `items`, or, when caching, the tensor kept in `slot` for the same list (a new list
   * replaces it). Without caching the caller owns (and disposes) the result; with it, the cache does.
   */
  kept(slot: 'captionCache' | 'imageCache', items: number[], embed: () => tf.Tensor2D): tf.Tensor2D {
    if (!this.enabled) return embed();
    const held = this[slot];
    if (held && sameItems(held.items, items)) return held.emb;
    const emb = embed();
    held?.emb.dispose();
    this[slot] = { items: items.slice(), emb };
    return emb;
  }

  /** Like `kept`, for a list or an array recognised by identity (a caption bank, a photo gallery). */
  keptRef(
    slot: 'textCache' | 'featureCache',
    of: readonly string[] | Float32Array,
    embed: () => tf.Tensor2D,
  ): tf.Tensor2D {
    if (!this.enabled) return embed();
    const held: KeptByRef<unknown> | null = this[slot];
    if (held && held.of === of) return held.emb;
    const emb = embed();
    held?.emb.dispose();
    if (slot === 'textCache') this.textCache = { of: of as readonly string[], emb };
    else this.featureCache = { of: of as Float32Array, emb };
    return emb;
  }

  /** Frees every kept embedding. */
  dispose(): void {
    for (const held of [this.captionCache, this.imageCache, this.textCache, this.featureCache])
      held?.emb.dispose();
    this.captionCache = this.imageCache = null;
    this.textCache = null;
    this.featureCache = null;
  }
}
