/**
 * Evaluation in chunks (src/model/evaluate.ts): the asynchronous evaluation gives way between chunks,
 * gives the very metrics of the synchronous one, stops on an abort at any chunk without leaking a
 * tensor, and sizes its chunks by the model's cost (so that a worker evaluating the largest allowed
 * model still reads a Pause within about a chunk).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../../src/model/tf';
import {
  captionRowsPerChunk,
  captionRowsStraight,
  CHUNK_CAPTIONS,
  EMBED_BATCH,
  embedSequences,
  evaluateSplit,
  evaluateSplitAsync,
  Readback,
  runChunked,
  runChunkedSync,
  scoreBlockSize,
  type Chunked,
  type EvalSource,
} from '../../src/model/evaluate';
import { OrderEmbeddingModel } from '../../src/model/model';
import { makeSyntheticDataset } from '../../src/model/synthetic';
import { Trainer } from '../../src/model/trainer';
import { estimateTrainingBytes, LIMITS } from '../../src/model/limits';
import type { ModelConfig } from '../../src/model/types';
import { useBackend } from '../helpers/tf';

beforeAll(() => useBackend('wasm'));

const ds = makeSyntheticDataset({ numImages: 300, imageDim: 32, seed: 4 });

/** A control that counts its turns and aborts at turn `abortAt` (never when 0). */
function counting(abortAt = 0): { turns: () => number; between: () => Promise<void>; signal: AbortSignal } {
  const ctrl = new AbortController();
  let turns = 0;
  return {
    turns: () => turns,
    signal: ctrl.signal,
    between: async () => {
      turns++;
      if (turns === abortAt) ctrl.abort(new Error(`stopped at turn ${turns}`));
      await new Promise((r) => setTimeout(r, 0));
    },
  };
}

describe('chunked evaluation', () => {
  it('gives the metrics of the synchronous evaluation, to the digit, yielding between chunks', async () => {
    const tr = new Trainer(ds, { wordDim: 16, hiddenDim: 32 }, { batchSize: 16, seed: 2 });
    for (let i = 0; i < 5; i++) tr.step();
    const sync = tr.evaluate('dev');
    const c = counting();
    const chunked = await tr.evaluateAsync('dev', {}, c);
    expect(chunked).toEqual(sync);
    // Images, captions, a score block, the ranking: a turn of the event loop between each.
    expect(c.turns()).toBeGreaterThanOrEqual(3);
    // An ensemble of two sources as well (a turn between the members).
    const src = (tr as unknown as { evalSource: EvalSource }).evalSource;
    const c2 = counting();
    expect(await evaluateSplitAsync([src, src], 'dev', { maxImages: 20 }, c2)).toEqual(
      evaluateSplit([src, src], 'dev', { maxImages: 20 }),
    );
    expect(c2.turns()).toBeGreaterThan(c.turns());
    tr.dispose();
  });

  it('stops at any chunk when aborted, rejecting with the reason and freeing its tensors', async () => {
    const tr = new Trainer(ds, { wordDim: 16, hiddenDim: 32 }, { batchSize: 16, seed: 2 });
    const total = counting();
    await tr.evaluateAsync('dev', {}, total);
    const before = tf.memory().numTensors;
    for (let at = 1; at <= total.turns(); at++) {
      const c = counting(at);
      await expect(tr.evaluateAsync('dev', {}, c)).rejects.toThrow(`stopped at turn ${at}`);
      expect(c.turns(), `aborted at turn ${at}`).toBe(at); // no chunk ran after the abort
      expect(tf.memory().numTensors, `tensors after an abort at turn ${at}`).toBe(before);
    }
    // An abort before the start: nothing runs.
    const ctrl = new AbortController();
    ctrl.abort(new Error('cancelled before'));
    await expect(
      tr.evaluateAsync('dev', {}, { between: () => Promise.resolve(), signal: ctrl.signal }),
    ).rejects.toThrow('cancelled before');
    expect(tf.memory().numTensors).toBe(before);
    tr.dispose();
  });

  it('reads what the work yields (a Readback) before its next chunk: at once, or awaited', async () => {
    // scoreImagesChunked yields its score blocks this way.
    function* work(): Chunked<number[]> {
      const got: number[] = [];
      for (let k = 1; k <= 3; k++) {
        yield; // a chunk
        const rb = new Readback(tf.tensor1d([k, 10 * k]));
        try {
          yield rb;
          got.push(...rb.value!);
        } finally {
          rb.tensor.dispose();
        }
      }
      return got;
    }
    const before = tf.memory().numTensors;
    expect(runChunkedSync(work())).toEqual([1, 10, 2, 20, 3, 30]);
    const c = counting();
    expect(await runChunked(work(), c)).toEqual([1, 10, 2, 20, 3, 30]);
    expect(c.turns()).toBe(3); // a read is a turn of its own: between() only for the plain chunks
    expect(tf.memory().numTensors).toBe(before);
  });

  it('sizes chunks by the model: the default size keeps full batches, the largest allowed embeds fewer', () => {
    const model = (hiddenDim: number, wordDim: number): OrderEmbeddingModel =>
      ({ config: { hiddenDim, wordDim } as ModelConfig }) as OrderEmbeddingModel;
    expect(captionRowsPerChunk(model(1024, 300))).toBe(CHUNK_CAPTIONS);
    expect(captionRowsPerChunk(model(32, 16))).toBe(CHUNK_CAPTIONS);
    // The largest hidden size the estimate allows at word size 2048 and batch 64.
    let largest = 0;
    for (let h = 64; h <= LIMITS.hiddenDim; h += 64) {
      const bytes = estimateTrainingBytes(
        { vocabSize: 1000, wordDim: 2048, hiddenDim: h, imageDim: 2048, layerNorm: true },
        { batchSize: 64, maxLength: 50 },
      );
      if (bytes <= LIMITS.trainingBytes) largest = h;
    }
    const rows = captionRowsPerChunk(model(largest, 2048));
    expect(rows).toBeLessThan(CHUNK_CAPTIONS / 4);
    expect(rows).toBeGreaterThanOrEqual(4);
    // The same multiply-adds per chunk, within a row's worth.
    const macs = (h: number, w: number, r: number) => r * 3 * h * (w + h);
    expect(macs(largest, 2048, rows)).toBeLessThanOrEqual(macs(1024, 300, CHUNK_CAPTIONS));
    expect(macs(largest, 2048, rows + 1)).toBeGreaterThan(macs(1024, 300, CHUNK_CAPTIONS));
    // Straight through (nothing waits between chunks): four chunks' worth, at most EMBED_BATCH.
    expect(captionRowsStraight(model(1024, 300))).toBe(4 * CHUNK_CAPTIONS);
    expect(captionRowsStraight(model(largest, 2048))).toBe(4 * rows);
    expect(captionRowsStraight(model(64, 16))).toBeLessThanOrEqual(EMBED_BATCH);
    // Score blocks: at most 1000 captions, fewer for many images of a large model, never none.
    expect(scoreBlockSize(10, 32)).toBe(1000);
    expect(scoreBlockSize(1000, 1024)).toBeLessThan(1000);
    expect(scoreBlockSize(1000, largest) * largest).toBeLessThanOrEqual(scoreBlockSize(1000, 1024) * 1024);
    expect(scoreBlockSize(50_000, LIMITS.hiddenDim)).toBe(1);
  });

  it('embeds captions in batches of like length, longest first, and returns them in their order, each its own', () => {
    const model = new OrderEmbeddingModel(
      {
        vocabSize: 40,
        wordDim: 8,
        hiddenDim: 16,
        imageDim: 32,
        layerNorm: true,
        measure: 'order',
        margin: 0.05,
        maxViolation: false,
      },
      3,
    );
    // 23 captions of 1 to 12 words, lengths in no order.
    const seqs = Array.from({ length: 23 }, (_, k) =>
      Array.from({ length: 1 + ((k * 7) % 12) }, (_, t) => 2 + ((k * 5 + t * 3) % 38)),
    );
    const batches: number[][] = [];
    const own = model.embedCaptions.bind(model);
    model.embedCaptions = (ids, lengths) => {
      batches.push(Array.from(lengths));
      return own(ids, lengths);
    };
    const before = tf.memory().numTensors;
    const all = embedSequences(model, seqs, 5);
    expect(tf.memory().numTensors).toBe(before + 1);
    // Batches of 5 in length order: each batch's lengths follow the previous batch's.
    expect(batches.map((b) => b.length)).toEqual([5, 5, 5, 5, 3]);
    expect(batches.flat()).toEqual(seqs.map((q) => q.length).sort((a, b) => b - a));
    // Row k is caption k's embedding, to the digit of embedding it alone.
    const rows = all.arraySync();
    seqs.forEach((q, k) => {
      const alone = embedSequences(model, [q]);
      expect(rows[k]).toEqual(alone.arraySync()[0]);
      alone.dispose();
    });
    all.dispose();
    model.dispose();
  });
});
