/**
 * The model's hand-written training gradients (image projection, BPTT, scatter into the word embedding,
 * dropout masks, both losses) against central differences of its loss, on the cpu backend.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../../src/model/tf';
import { OrderEmbeddingModel } from '../../src/model/model';
import { padTimeMajor } from '../../src/model/tokenizer';
import type { ModelConfig } from '../../src/model/types';
import { useBackend } from '../helpers/tf';

beforeAll(() => useBackend('cpu'));

const config: ModelConfig = {
  vocabSize: 11,
  wordDim: 5,
  hiddenDim: 6,
  imageDim: 7,
  layerNorm: true,
  measure: 'order',
  margin: 0.05,
  maxViolation: false,
};

/** A batch of 4 images and captions of lengths 3, 1, 2, 3 (word 3 used twice, so rows accumulate). */
function batch() {
  const features = tf.tensor2d(
    Array.from({ length: 4 * 7 }, (_, i) => Math.abs(Math.sin(i * 1.7)) * 2),
    [4, 7],
  );
  const b = padTimeMajor([
    Int32Array.of(2, 3, 4),
    Int32Array.of(5),
    Int32Array.of(3, 6),
    Int32Array.of(7, 8, 9),
  ]);
  return { features, ...b };
}

/** Loss and gradients of the model on the test batch. */
function lossAndGrads(
  m: OrderEmbeddingModel,
  opts: { dropout: number; seed: number; maxViolation: boolean },
) {
  const { features, ids, lengths } = batch();
  const r = m.lossAndGrads(features, ids, lengths, opts);
  const grads = Object.fromEntries(Object.entries(r.grads).map(([k, g]) => [k, g.dataSync().slice()]));
  tf.dispose([features, ...Object.values(r.grads)]);
  return { loss: r.loss, grads };
}

describe('OrderEmbeddingModel.lossAndGrads', () => {
  for (const [rate, maxViolation] of [
    [0, false],
    [0.3, false],
    [0.3, true],
  ] as const) {
    it(`gradients match central differences of the loss (dropout ${rate}, ${maxViolation ? 'max-violation' : 'summed'} loss)`, () => {
      const m = new OrderEmbeddingModel(config, 3);
      const opts = { dropout: rate, seed: 17, maxViolation };
      const { loss, grads } = lossAndGrads(m, opts);
      expect(loss).toBeGreaterThan(0);
      expect(Object.keys(grads).sort()).toEqual(m.variables.map((v) => v.name).sort());
      const eps = 1e-3;
      let checked = 0;
      for (const v of m.variables) {
        const g = grads[v.name];
        const base = v.dataSync().slice();
        // The largest entry of the gradient and two more (used word rows and gate columns included).
        let big = 0;
        g.forEach((x, i) => (Math.abs(x) > Math.abs(g[big]) ? (big = i) : 0));
        for (const i of [big, (big * 7 + 3) % g.length, (big * 13 + 5) % g.length]) {
          const at = (delta: number) => {
            const w = base.slice();
            w[i] += delta;
            v.assign(tf.tensor(w, v.shape));
            return lossAndGrads(m, opts).loss;
          };
          const numeric = (at(eps) - at(-eps)) / (2 * eps);
          v.assign(tf.tensor(base, v.shape));
          expect(
            Math.abs(numeric - g[i]),
            `${v.name}[${i}]: numeric ${numeric}, analytic ${g[i]}`,
          ).toBeLessThan(2e-3 + 2e-2 * Math.abs(g[i]));
          checked += Math.abs(g[i]) > 1e-3 ? 1 : 0;
        }
      }
      // Most checked entries are real gradients, not zeros that trivially agree.
      expect(checked).toBeGreaterThan(m.variables.length);
      m.dispose();
    });
  }

  it('dropout changes the loss, reproducibly from the seed, and rejects a rate outside [0, 1)', () => {
    const m = new OrderEmbeddingModel(config, 3);
    const run = (dropout: number, seed: number) => {
      const { features, ids, lengths } = batch();
      const r = m.lossAndGrads(features, ids, lengths, { dropout, seed });
      tf.dispose([features, ...Object.values(r.grads)]);
      return r.loss;
    };
    expect(run(0.5, 1)).toBe(run(0.5, 1));
    expect(run(0.5, 1)).not.toBe(run(0.5, 2));
    expect(run(0.5, 1)).not.toBe(run(0, 1));
    expect(() => run(1, 1)).toThrow('dropout: expected a rate in [0, 1), got 1');
    m.dispose();
  });
});

describe('OrderEmbeddingModel weights', () => {
  it('readWeights reads what getWeights does, as of the call, leaking nothing', async () => {
    const m = new OrderEmbeddingModel(config, 5);
    const before = m.getWeights();
    const n = tf.memory().numTensors;
    const reading = m.readWeights();
    // Training goes on while the weights are read: the copies were taken at the call.
    tf.tidy(() => m.wordEmbedding.assign(m.wordEmbedding.add(1)));
    const read = await reading;
    expect(read).toEqual(before);
    expect(read.find((w) => w.name === 'image.weight')?.shape).toEqual([6, 7]); // torch's [H, F]
    expect(tf.memory().numTensors).toBe(n);
    expect((await m.readWeights()).find((w) => w.name === 'word_embedding')?.data[0]).toBeCloseTo(
      before.find((w) => w.name === 'word_embedding')!.data[0] + 1,
      6,
    );
    m.dispose();
  });
});
