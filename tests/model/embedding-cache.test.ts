import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../../src/model/tf';
import { EmbeddingCache } from '../../src/model/embedding-cache';
import { useBackend } from '../helpers/tf';

beforeAll(() => useBackend('wasm'));

/** An embed function that counts its calls and makes a fresh [n, 2] tensor each time. */
function counter(n: number) {
  const c = { calls: 0, embed: () => (c.calls++, tf.fill([n, 2], c.calls) as tf.Tensor2D) };
  return c;
}

describe('EmbeddingCache', () => {
  it('without caching embeds on every call and keeps nothing (the caller disposes)', () => {
    const cache = new EmbeddingCache(false);
    const c = counter(3);
    const n = tf.memory().numTensors;
    const a = cache.kept('captionCache', [1, 2, 3], c.embed);
    const b = cache.kept('captionCache', [1, 2, 3], c.embed);
    expect(c.calls).toBe(2);
    expect(a).not.toBe(b);
    tf.dispose([a, b]);
    cache.dispose();
    expect(tf.memory().numTensors).toBe(n);
  });

  it('keeps dataset embeddings for the same list of indices (by value), replacing them for another', () => {
    const cache = new EmbeddingCache(true);
    const c = counter(3);
    const n = tf.memory().numTensors;
    const items = [4, 5, 6];
    const a = cache.kept('imageCache', items, c.embed);
    items.push(7); // the cache holds its own copy of the list
    expect(cache.kept('imageCache', [4, 5, 6], c.embed)).toBe(a);
    expect(c.calls).toBe(1);
    const b = cache.kept('imageCache', [4, 5], c.embed);
    expect(c.calls).toBe(2);
    expect(a.isDisposed).toBe(true); // replaced, freed
    expect(tf.memory().numTensors).toBe(n + 1);
    // Captions and images are kept apart.
    cache.kept('captionCache', [4, 5], c.embed);
    expect(c.calls).toBe(3);
    expect(cache.kept('imageCache', [4, 5], c.embed)).toBe(b);
    cache.dispose();
    expect(tf.memory().numTensors).toBe(n);
  });

  it('keeps free-text and feature embeddings for the same array (by identity)', () => {
    const cache = new EmbeddingCache(true);
    const c = counter(2);
    const n = tf.memory().numTensors;
    const bank = ['a dog', 'a cat'];
    const photos = new Float32Array(4);
    const t = cache.keptRef('textCache', bank, c.embed);
    expect(cache.keptRef('textCache', bank, c.embed)).toBe(t);
    const f = cache.keptRef('featureCache', photos, c.embed);
    expect(cache.keptRef('featureCache', photos, c.embed)).toBe(f);
    expect(c.calls).toBe(2);
    // An equal but different array is another list: embedded afresh, the old one freed.
    const t2 = cache.keptRef('textCache', [...bank], c.embed);
    expect(c.calls).toBe(3);
    expect(t.isDisposed).toBe(true);
    expect(t2.isDisposed).toBe(false);
    expect(tf.memory().numTensors).toBe(n + 2);
    cache.dispose();
    expect(f.isDisposed && t2.isDisposed).toBe(true);
    expect(tf.memory().numTensors).toBe(n);
  });
});
