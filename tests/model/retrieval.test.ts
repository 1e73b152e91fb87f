import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../../src/model/tf';
import { Retriever } from '../../src/model/retrieval';
import { scores } from '../../src/model/scoring';
import { Trainer } from '../../src/model/trainer';
import { makeSyntheticDataset } from '../../src/model/synthetic';
import { useBackend } from '../helpers/tf';

beforeAll(() => useBackend('wasm'));

describe('Retriever', () => {
  const ds = makeSyntheticDataset({ numImages: 240, imageDim: 32, seed: 4 });
  let trainer: Trainer;
  let r: Retriever;
  beforeAll(() => {
    trainer = new Trainer(ds, { wordDim: 16, hiddenDim: 32 }, { batchSize: 32, seed: 2 });
    for (let i = 0; i < 60; i++) trainer.step();
    r = new Retriever(trainer.model, trainer.codec, ds);
  });

  it('searches the dev images with the shared scoring function, best first', async () => {
    const query = ds.captions[ds.captions.findIndex((c) => ds.splits.dev!.includes(c.image))].text;
    const { hits, unknown } = await r.searchImages(query, 5);
    expect(unknown).toEqual([]);
    expect(hits).toHaveLength(5);
    expect(hits.every((h) => ds.splits.dev!.includes(h.index))).toBe(true);
    for (let i = 1; i < hits.length; i++) expect(hits[i - 1].score).toBeGreaterThanOrEqual(hits[i].score);
    // Same numbers as scoring the dataset directly.
    const img = tf.tensor2d(ds.features.subarray(hits[0].index * 32, hits[0].index * 32 + 32), [1, 32]);
    const emb = trainer.embedTexts([query]);
    const imEmb = trainer.model.embedImages(img);
    const s = scores(imEmb, emb, 'order').dataSync()[0];
    expect(hits[0].score).toBeCloseTo(s, 4);
    tf.dispose([img, emb, imEmb]);
  });

  it('ranks captions for an image exactly as evaluation scores them', async () => {
    const dev = ds.splits.dev!;
    const scored = trainer.scoreImages(dev);
    const M = scored.captionIndex.length;
    for (const i of [0, 7, 19]) {
      const img = dev[i];
      const top = await r.rankCaptions(ds.features.slice(img * 32, img * 32 + 32), 10);
      const row = Array.from(scored.scores.subarray(i * M, (i + 1) * M));
      const expected = row
        .map((score, j) => ({ index: scored.captionIndex[j], score }))
        .sort((a, b) => b.score - a.score)
        .slice(0, 10);
      expect(top.map((t) => t.index)).toEqual(expected.map((t) => t.index));
      top.forEach((t, k) => expect(t.score).toBeCloseTo(expected[k].score, 4));
    }
  });

  it('lists unknown words and refuses texts with no known word, naming them', async () => {
    const known = ds.captions[0].text.split(' ')[0];
    expect((await r.searchImages(`${known} zorblax`, 3)).unknown).toEqual(['zorblax']);
    await expect(r.searchImages('zorblax quux', 3)).rejects.toThrow(
      /no word the model knows \(unknown: zorblax, quux\)/,
    );
    await expect(r.searchImages('   ', 3)).rejects.toThrow(/the search sentence is empty/);
  });

  it('gives the energies of two sentences both ways', async () => {
    const [a, b] = [ds.captions[0].text, ds.captions[1].text];
    const g = await r.generality(a, b);
    // E(a, b) = ||max(0, b - a)||^2 over the two sentences' embeddings, and E(b, a) the other way.
    const emb = trainer.embedTexts([a, b]);
    const v = emb.arraySync() as number[][];
    emb.dispose();
    const violation = (x: number[], y: number[]) =>
      x.reduce((sum, xi, k) => sum + Math.max(0, y[k] - xi) ** 2, 0);
    expect(g.eAB).toBeCloseTo(violation(v[0], v[1]), 5);
    expect(g.eBA).toBeCloseTo(violation(v[1], v[0]), 5);
    expect(g.similarity).toBeCloseTo(
      v[0].reduce((sum, x, k) => sum + x * v[1][k], 0),
      5,
    );
    expect(g.eAB).not.toBeCloseTo(g.eBA, 6); // two different captions: the order is not symmetric
    const same = await r.generality(ds.captions[0].text, ds.captions[0].text);
    expect(same.eAB).toBeCloseTo(0, 6);
    expect(same.eBA).toBeCloseTo(0, 6);
    expect(await r.typicalPositiveEnergy(50)).toBeGreaterThan(0);
  });

  it('refuses a model whose image features have another size', () => {
    const other = makeSyntheticDataset({ numImages: 40, imageDim: 8 });
    expect(() => new Retriever(trainer.model, trainer.codec, other)).toThrow(
      /8-d image features but the model expects 32-d/,
    );
  });

  it('does not leak tensors', async () => {
    await r.searchImages(ds.captions[0].text, 3);
    const n = tf.memory().numTensors;
    await r.searchImages(ds.captions[0].text, 3);
    await r.rankCaptions(ds.features.slice(0, 32), 3);
    await r.generality(ds.captions[0].text, ds.captions[2].text);
    expect(tf.memory().numTensors).toBe(n);
  });

  it('with cache: the same results as without, gallery embedded once, freed by dispose', async () => {
    const cached = new Retriever(trainer.model, trainer.codec, ds, {
      cache: true,
    });
    const n = tf.memory().numTensors;
    const photo = ds.features.slice(5 * 32, 6 * 32);
    const query = ds.captions[3].text;
    expect(await cached.rankCaptions(photo, 10)).toEqual(await r.rankCaptions(photo, 10));
    expect(await cached.searchImages(query, 5)).toEqual(await r.searchImages(query, 5));
    const held = tf.memory().numTensors;
    expect(held).toBe(n + 2); // the gallery's caption and image embeddings
    // Later queries reuse them: no new tensors, same answers.
    expect(await cached.rankCaptions(photo, 10)).toEqual(await r.rankCaptions(photo, 10));
    expect(await cached.searchImages(ds.captions[9].text, 5)).toEqual(
      await r.searchImages(ds.captions[9].text, 5),
    );
    expect(tf.memory().numTensors).toBe(held);
    // Another list of images is embedded afresh (and replaces the kept one).
    const some = ds.splits.dev!.slice(0, 10);
    expect(await cached.searchImages(query, 3, some)).toEqual(await r.searchImages(query, 3, some));
    expect(tf.memory().numTensors).toBe(held);
    cached.dispose();
    expect(tf.memory().numTensors).toBe(n);
  });

  it('answers a query whose kept embeddings are freed while it waits (a backend switch, another query)', async () => {
    const cached = new Retriever(trainer.model, trainer.codec, ds, { cache: true });
    const photo = ds.features.slice(5 * 32, 6 * 32);
    const query = ds.captions[3].text;
    const n = tf.memory().numTensors;
    // Each query computes all it needs before its first read, so freeing the cache meanwhile is safe.
    const ranking = cached.rankCaptions(photo, 10);
    cached.dispose();
    expect(await ranking).toEqual(await r.rankCaptions(photo, 10));
    const search = cached.searchImages(query, 5);
    cached.dispose();
    expect(await search).toEqual(await r.searchImages(query, 5));
    expect(tf.memory().numTensors).toBe(n);
  });
});

describe('Retriever on free texts and feature galleries (own photos)', () => {
  const ds = makeSyntheticDataset({ numImages: 120, imageDim: 16, seed: 7 });
  let trainer: Trainer;
  beforeAll(() => {
    trainer = new Trainer(ds, { wordDim: 8, hiddenDim: 16 }, { batchSize: 16, seed: 3 });
    for (let i = 0; i < 20; i++) trainer.step();
  });
  const photo = (i: number) => ds.features.slice(i * 16, (i + 1) * 16);

  it('keeps each distinct word sequence once, before the list is cut, and names unknown-only texts', async () => {
    const r = new Retriever(trainer.model, trainer.codec, null);
    const texts = [...new Set(ds.captions.map((c) => c.text))].slice(0, 6);
    const candidates = [
      texts[0],
      `  ${texts[0].toUpperCase()} . `, // same words: a repeat
      ...texts.slice(1),
      texts[1],
      'zorblax quux',
    ];
    const d = r.distinct(candidates);
    expect(d.texts).toEqual(texts);
    expect(d.repeated).toBe(2);
    expect(d.unknownOnly).toEqual(['zorblax quux']);
    expect(d.unknownWords).toEqual(['zorblax', 'quux']);
    // Ranking many copies of the same few texts still gives distinct texts only.
    const many = Array.from({ length: 40 }, (_, i) => candidates[i % candidates.length]);
    const [ranked] = await r.rankTexts(photo(3), 1, many, 10);
    expect(ranked.map((x) => x.text).sort()).toEqual([...texts].sort());
  });

  it('ranks texts for several photos exactly as the scoring function scores them, best first', async () => {
    const r = new Retriever(trainer.model, trainer.codec, null);
    const texts = [...new Set(ds.captions.map((c) => c.text))].slice(0, 30);
    const feats = new Float32Array([...photo(0), ...photo(5)]);
    const ranked = await r.rankTexts(feats, 2, texts, 4);
    expect(ranked).toHaveLength(2);
    [0, 5].forEach((img, p) => {
      const emb = trainer.embedTexts(texts);
      const im = trainer.model.embedImages(tf.tensor2d(photo(img), [1, 16]));
      const s = Array.from(scores(im, emb, 'order').dataSync());
      tf.dispose([emb, im]);
      const expected = s
        .map((score, j) => ({ text: texts[j], score }))
        .sort((a, b) => b.score - a.score)
        .slice(0, 4);
      expect(ranked[p].map((x) => x.text)).toEqual(expected.map((x) => x.text));
      ranked[p].forEach((x, k) => {
        expect(x.score).toBeCloseTo(expected[k].score, 4);
        expect(x.energy).toBeCloseTo(-expected[k].score, 4);
      });
    });
    await expect(r.rankTexts(feats, 3, texts, 4)).rejects.toThrow(/expected 3 x 16/);
    await expect(r.rankTexts(feats, 2, ['zorblax', 'quux .'], 4)).rejects.toThrow(
      'none of the 2 candidate captions has a word the model knows (unknown: zorblax, quux)',
    );
    expect(() => r.galleryImages()).toThrow(/no dataset to search/);
  });

  it('searches a gallery of features like the dataset search, and caches it by identity', async () => {
    const withDs = new Retriever(trainer.model, trainer.codec, ds);
    const cached = new Retriever(trainer.model, trainer.codec, null, { cache: true });
    const images = [2, 9, 14, 30, 41];
    const gallery = new Float32Array(images.length * 16);
    images.forEach((img, i) => gallery.set(photo(img), i * 16));
    const q = ds.captions[ds.captions.findIndex((c) => c.image === 9)].text;
    const mine = await cached.searchFeatures(q, gallery, images.length, 3);
    const theirs = await withDs.searchImages(q, 3, images);
    expect(mine.hits.map((h) => images[h.index])).toEqual(theirs.hits.map((h) => h.index));
    mine.hits.forEach((h, k) => expect(h.score).toBeCloseTo(theirs.hits[k].score, 4));
    // Display-ready: the energy to show (order model: E = -S).
    mine.hits.forEach((h) => expect(h.energy).toBe(-h.score));
    const n = tf.memory().numTensors;
    await cached.searchFeatures(q, gallery, images.length, 3);
    expect(tf.memory().numTensors).toBe(n);
    cached.dispose();
    expect(tf.memory().numTensors).toBe(n - 1);
  });

  it('lists each dataset caption once (captionsForPhoto), de-duplicated before the cut, display-ready', async () => {
    // The caption that fits photo 4 best, repeated (in other spellings) by every image: the raw ranking
    // opens with its copies, all with the same score.
    const best = (await new Retriever(trainer.model, trainer.codec, ds).captionsForPhoto(photo(4), 1))[0]
      .text;
    const spellings = [best, best.toUpperCase(), `${best} .`];
    const shared = {
      ...ds,
      captions: [
        ...ds.captions,
        ...Array.from({ length: ds.numImages }, (_, image) => ({ image, text: spellings[image % 3] })),
      ],
    };
    const r = new Retriever(trainer.model, trainer.codec, shared);
    const gallery = r.galleryCaptions();
    const raw = await r.rankCaptions(photo(4), gallery.length, gallery);
    expect(raw.slice(0, 5).every((x) => shared.captions[x.index].text.toLowerCase().startsWith(best))).toBe(
      true,
    );
    // Expected: the full ranking, each word sequence at its first (best) place, then the first 10.
    const seen = new Set<string>();
    const expected = raw
      .filter((x) => {
        const key = shared.captions[x.index].text.toLowerCase().replace(' .', '');
        return !seen.has(key) && Boolean(seen.add(key));
      })
      .slice(0, 10);
    const items = await r.captionsForPhoto(photo(4), 10);
    // De-duplicating after the cut would leave fewer than 10; not at all, the same text several times.
    expect(items).toHaveLength(10);
    expect(new Set(items.map((i) => i.text.toLowerCase().replace(' .', ''))).size).toBe(10);
    expect(items.map((i) => i.score)).toEqual(expected.map((x) => x.score));
    expect(items.slice(1).map((i) => i.caption)).toEqual(expected.slice(1).map((x) => x.index));
    for (const it of items) expect(shared.captions[it.caption]).toEqual({ image: it.image, text: it.text });
  });

  it('reports the unknown words of two sentences compared for generality', async () => {
    const r = new Retriever(trainer.model, trainer.codec, null);
    const g = await r.generality(`${ds.captions[0].text} zorblax`, ds.captions[1].text);
    expect(g.unknown).toEqual(['zorblax']);
  });
});
