/**
 * Pretrained word vectors: both file formats (and their errors, by line), the rotation into the word
 * dimension (inner products kept up to one scale, mean norm 1, missing words untouched), and the trainer.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  orthonormalRows,
  parseWordVectors,
  pretrainedEmbedding,
  wordVectorsFromMap,
} from '../../src/model/word-vectors';
import { Trainer } from '../../src/model/trainer';
import { makeSyntheticDataset } from '../../src/model/synthetic';
import { useBackend } from '../helpers/tf';

beforeAll(() => useBackend('wasm'));

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

describe('word vectors', () => {
  it('parses GloVe text and wink JSON, keeping only the words asked for', () => {
    const text = 'dog 0.5 -1 2\ncat 1 0 0.25\n\nthe 3 3 3\n';
    const all = parseWordVectors('glove.txt', text);
    expect(all.dim).toBe(3);
    expect(Array.from(all.get('cat')!)).toEqual([1, 0, 0.25]);
    const some = parseWordVectors('glove.txt', text, new Set(['dog']));
    expect(some.get('cat')).toBeUndefined();
    expect(Array.from(some.get('dog')!)).toEqual([0.5, -1, 2]);
    // wink-embeddings: d values, then the l2 norm and the word's index.
    const wink = JSON.stringify({ dimensions: 2, vectors: { dog: [0.5, 1, 1.118, 0], cat: [2, 0, 2, 1] } });
    const w = parseWordVectors('wink.json', wink);
    expect(w.dim).toBe(2);
    expect(Array.from(w.get('dog')!)).toEqual([0.5, 1]);
  });

  it('names malformed input by line and field', () => {
    expect(() => parseWordVectors('v.txt', 'dog 1 2\ncat 1\n')).toThrow(
      'v.txt, line 2: expected a word and 2 numbers, got 2 fields',
    );
    expect(() => parseWordVectors('v.txt', 'dog 1 2\ncat 1 x\n')).toThrow(
      'v.txt, line 2: value 2 (x) is not a number',
    );
    expect(() => parseWordVectors('v.txt', '\n')).toThrow('v.txt: no word vectors');
    expect(() => parseWordVectors('w.json', '{"dimensions": 2, "vectors": {"dog": [1]}}')).toThrow(
      'w.json: word "dog" needs 2 values',
    );
    expect(() => parseWordVectors('w.json', '{"dims": 2}')).toThrow(/expected \{dimensions, vectors/);
  });

  it('orthonormalRows has Q Q^T = I', () => {
    const Q = orthonormalRows(5, 12, 3);
    for (let i = 0; i < 5; i++)
      for (let j = 0; j < 5; j++)
        expect(dot(Q.subarray(i * 12, i * 12 + 12), Q.subarray(j * 12, j * 12 + 12))).toBeCloseTo(
          i === j ? 1 : 0,
          5,
        );
    expect(Array.from(orthonormalRows(2, 2, 3))).toEqual([1, 0, 0, 1]);
  });

  it('rotates the vectors into the embedding: inner products up to one scale, mean norm 1', () => {
    const table = new Map<string, Float32Array>([
      ['dog', Float32Array.from([1, 2, 0])],
      ['cat', Float32Array.from([0, 1, -3])],
      ['ball', Float32Array.from([2, 0, 1])],
    ]);
    const vectors = wordVectorsFromMap('tiny', table);
    const tokens = ['<pad>', '<unk>', 'dog', 'zebra', 'cat', 'ball'];
    const W = 8;
    const base = Float32Array.from({ length: tokens.length * W }, (_, i) => (i % 7) * 0.01);
    const { data, found } = pretrainedEmbedding(tokens, vectors, base, W, 9);
    expect(found).toBe(3);
    const row = (r: number) => data.subarray(r * W, (r + 1) * W);
    // Words the table lacks keep their rows.
    for (const r of [0, 1, 3])
      expect(Array.from(row(r))).toEqual(Array.from(base.subarray(r * W, (r + 1) * W)));
    const norms = [2, 4, 5].map((r) => Math.sqrt(dot(row(r), row(r))));
    expect((norms[0] + norms[1] + norms[2]) / 3).toBeCloseTo(1, 5);
    const g = ['dog', 'cat', 'ball'].map((w) => table.get(w)!);
    const scale = 3 / g.reduce((a, v) => a + Math.sqrt(dot(v, v)), 0);
    const rows = [2, 4, 5];
    for (let a = 0; a < 3; a++)
      for (let b = 0; b < 3; b++)
        expect(dot(row(rows[a]), row(rows[b]))).toBeCloseTo(dot(g[a], g[b]) * scale * scale, 5);
    expect(() => pretrainedEmbedding(tokens, vectors, base.subarray(0, 6 * 2), 2, 9)).toThrow(
      'tiny: 3-dimensional vectors do not fit a 2-dimensional word embedding (use --word-dim 3 or more)',
    );
  });

  it('Trainer.initWordVectors sets the rows of the vocabulary words the table has', () => {
    const ds = makeSyntheticDataset({ numImages: 80, imageDim: 16 });
    const tr = new Trainer(ds, { wordDim: 8, hiddenDim: 16 }, { batchSize: 8 });
    const tokens = tr.vocab.toJSON().tokens;
    const table = new Map(tokens.slice(2, 5).map((w, i) => [w, Float32Array.from([i + 1, 0, 1, -1])]));
    const before = tr.model.wordEmbedding.arraySync() as number[][];
    const { found, total } = tr.initWordVectors(wordVectorsFromMap('mini', table));
    expect({ found, total }).toEqual({ found: 3, total: tokens.length - 2 });
    const after = tr.model.wordEmbedding.arraySync() as number[][];
    expect(after[5]).toEqual(before[5]);
    expect(after[2]).not.toEqual(before[2]);
    // Rows 2 and 3 came from [1, 0, 1, -1] and [2, 0, 1, -1]: their inner product, scaled, is kept.
    const s = after[2].reduce((a, x, i) => a + x * after[3][i], 0);
    const n2 = after[2].reduce((a, x) => a + x * x, 0);
    expect(s / n2).toBeCloseTo(4 / 3, 4);
    expect(tr.config.train.wordVectors).toBe('mini');
    tr.step();
    expect(() => tr.initWordVectors(wordVectorsFromMap('mini', table))).toThrow(
      'word vectors: set them before training (1 steps done)',
    );
    tr.dispose();
  });
});
