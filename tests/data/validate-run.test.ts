import { beforeAll, describe, expect, it } from 'vitest';
import { Trainer } from '../../src/model/trainer';
import { makeSyntheticDataset } from '../../src/model/synthetic';
import { deserializeWeights, exportRun, serializeWeights, type RunFiles } from '../../src/model/export';
import { validateLogLines, validateRunFiles } from '../../src/model/validate-run';
import { checkRunSize, estimateTrainingBytes, LIMITS } from '../../src/model/limits';
import { RunStore } from '../../src/worker/run-store';
import { importRunFiles, rawRunFiles } from '../../src/worker/stored-runs';
import { validateStoredRun } from '../../src/worker/run-records';
import type { StoredRun } from '../../src/worker/protocol';
import { useBackend } from '../helpers/tf';

beforeAll(() => useBackend('wasm'));

let good: RunFiles;
beforeAll(() => {
  const ds = makeSyntheticDataset({ numImages: 60, imageDim: 12, seed: 5 });
  const tr = new Trainer(ds, { wordDim: 8, hiddenDim: 16 }, { batchSize: 8, seed: 2 });
  const history = [1, 2, 3].map((step) => ({ step, epoch: 0, seconds: step / 10, loss: tr.step().loss }));
  good = exportRun(tr, { history }).files;
  tr.dispose();
});

/** A copy of the files with one JSON file edited. */
function editJson(files: RunFiles, name: string, edit: (o: Record<string, unknown>) => void): RunFiles {
  const o = JSON.parse(files[name] as string) as Record<string, unknown>;
  edit(o);
  return { ...files, [name]: JSON.stringify(o) };
}

const bin = (files: RunFiles) => files['weights.bin'] as ArrayBuffer;

describe('validateRunFiles', () => {
  it('accepts an exported run and returns its typed config and history', () => {
    const v = validateRunFiles(good);
    expect(v.config.model.hiddenDim).toBe(16);
    expect(v.history.map((h) => h.step)).toEqual([1, 2, 3]);
    expect(v.manifest.weights.length).toBeGreaterThan(4);
  });

  it('accepts float16 weights (the compact starter) by their 2-byte size', () => {
    const { manifest, bytes } = serializeWeights(
      deserializeWeights(JSON.parse(good['weights.json'] as string), bin(good)),
      'float16',
    );
    const half = { ...good, 'weights.json': JSON.stringify(manifest), 'weights.bin': bytes };
    expect(validateRunFiles(half).manifest.dtype).toBe('float16');
    expect(() => validateRunFiles({ ...half, 'weights.bin': bin(good) })).toThrow(/trailing/);
  });

  it.each([
    ['steps as a string', (c: Record<string, unknown>) => (c.steps = '40'), /config\.json: steps: .*"40"/],
    [
      'hidden size 12000',
      (c: Record<string, unknown>) => ((c.model as Record<string, unknown>).hiddenDim = 12000),
      /config\.json: model\.hiddenDim: .* 1 to 4096, got 12000/,
    ],
    [
      'a negative learning rate',
      (c: Record<string, unknown>) => ((c.train as Record<string, unknown>).learningRate = -1),
      /config\.json: train\.learningRate: .*got -1/,
    ],
    [
      'a vocabulary of another size',
      (c: Record<string, unknown>) => ((c.model as Record<string, unknown>).vocabSize = 5),
      /vocabulary has \d+ words but model\.vocabSize is 5/,
    ],
    ['a wrong format', (c: Record<string, unknown>) => (c.format = 'zip'), /config\.json: format/],
  ])('refuses config.json with %s, naming the field', (_, edit, message) => {
    expect(() => validateRunFiles(editJson(good, 'config.json', edit))).toThrow(message);
  });

  it('refuses a metrics.json entry whose step is not a number', () => {
    const bad = editJson(good, 'metrics.json', (m) => {
      (m.history as Record<string, unknown>[])[1].step = 'two';
    });
    expect(() => validateRunFiles(bad)).toThrow(/metrics\.json: history\[1\]\.step: .*"two"/);
    const notArray = editJson(good, 'metrics.json', (m) => (m.history = { length: 3 }));
    expect(() => validateRunFiles(notArray)).toThrow(/metrics\.json: history: expected an array/);
  });

  it('refuses truncated and trailing weight bytes, naming weights.bin', () => {
    const b = new Uint8Array(bin(good));
    const truncated = { ...good, 'weights.bin': b.slice(0, b.length - 4).buffer };
    expect(() => validateRunFiles(truncated)).toThrow(
      /weights\.bin: weight 'image\.bias' \[16\] needs bytes .*\(truncated\?\)/,
    );
    const longer = new Uint8Array(b.length + 8);
    longer.set(b);
    expect(() => validateRunFiles({ ...good, 'weights.bin': longer.buffer })).toThrow(
      /weights\.bin: holds \d+ bytes but .* take \d+ \(trailing/,
    );
  });

  it('refuses a manifest with a wrong shape, a missing, duplicated, overlapping or misaligned weight', () => {
    const edit = (f: (w: { name: string; shape: number[]; offset: number }[]) => void) =>
      editJson(good, 'weights.json', (m) =>
        f(m.weights as { name: string; shape: number[]; offset: number }[]),
      );
    expect(() => validateRunFiles(edit((w) => (w[0].shape = [3, 3])))).toThrow(
      /weight 'word_embedding': expected shape \[\d+,8\] \(from config\.json\), got \[3,3\]/,
    );
    expect(() => validateRunFiles(edit((w) => w.pop()))).toThrow(/missing weight\(s\) image\.bias/);
    expect(() => validateRunFiles(edit((w) => w.push({ ...w[0] })))).toThrow(/appears twice/);
    expect(() => validateRunFiles(edit((w) => (w[1].offset = w[0].offset)))).toThrow(/overlap/);
    expect(() => validateRunFiles(edit((w) => (w[1].offset += 2)))).toThrow(
      /offset: expected a multiple of 4/,
    );
  });

  it('reads the curve of log.jsonl when there is no metrics.json, naming a bad line', () => {
    const { 'metrics.json': _, ...rest } = good;
    const log =
      '{"step":10,"epoch":0,"seconds":1,"loss":0.5}\n\n{"step":20,"epoch":1,"seconds":2,"loss":0.25}\n';
    expect(validateRunFiles({ ...rest, 'log.jsonl': log }).history.map((h) => h.step)).toEqual([10, 20]);
    expect(() => validateLogLines('{"step":1,"loss":1}\nnot json\n')).toThrow(
      /log\.jsonl: line 2 is not valid JSON/,
    );
    expect(() => validateLogLines('{"step":-1,"loss":1}')).toThrow(/log\.jsonl: line 1\.step/);
  });
});

describe('limits', () => {
  it('refuses hidden 4096 with word size 2048 and a large batch by the memory estimate, and hidden 8192 by size', () => {
    const model = { vocabSize: 5000, wordDim: 2048, hiddenDim: 4096, imageDim: 480, layerNorm: true };
    expect(() => checkRunSize(model, { batchSize: 128, maxLength: 50 })).toThrow(
      /would need about [\d.]+ GiB of memory \(hidden 4096, word size 2048, batch 128/,
    );
    expect(() => checkRunSize({ ...model, hiddenDim: 8192 }, { batchSize: 128, maxLength: 50 })).toThrow(
      /hidden size: .*1 to 4096, got 8192/,
    );
    const big = { ...model, wordDim: 1024, hiddenDim: 2048 };
    const est = estimateTrainingBytes(big, { batchSize: 1024, maxLength: 200 });
    expect(est).toBeGreaterThan(LIMITS.trainingBytes);
    expect(() => checkRunSize(big, { batchSize: 1024, maxLength: 200 })).toThrow(
      /would need about [\d.]+ GiB of memory .* at most 2\.0 GiB/,
    );
    // The paper's recipe fits.
    const paper = { vocabSize: 8000, wordDim: 300, hiddenDim: 1024, imageDim: 1024, layerNorm: true };
    expect(checkRunSize(paper, { batchSize: 128, maxLength: 50 })).toBeLessThan(LIMITS.trainingBytes);
  });
});

describe('stored runs', () => {
  const record = (id: string): StoredRun => {
    const c = JSON.parse(good['config.json'] as string) as {
      model: StoredRun['model'];
      train: StoredRun['train'];
    };
    return {
      id,
      label: id,
      createdAt: '2026-01-01T00:00:00Z',
      dataset: 'synthetic',
      encoder: null,
      model: c.model,
      train: c.train,
      step: 3,
      epoch: 0,
      seconds: 1,
      state: 'done',
      history: [{ step: 1, epoch: 0, seconds: 0.5, loss: 0.5 }],
    };
  };

  it('lists a damaged record with its reason without hiding the good ones, and exports it raw', async () => {
    const store = new RunStore('test');
    await store.save(record('a'), good);
    await store.save({ ...record('b'), step: '40' as unknown as number });
    await store.save({
      ...record('c'),
      history: [{ step: 'x', loss: 1 }] as unknown as StoredRun['history'],
    });
    const { runs, damaged } = await store.list();
    expect(runs.map((r) => r.id)).toEqual(['a']);
    expect(damaged).toEqual([
      { id: 'b', reason: expect.stringMatching(/run b: step: .*"40"/) as unknown as string },
      { id: 'c', reason: expect.stringMatching(/run c: history\[0\]\.step/) as unknown as string },
    ]);
    const raw = await rawRunFiles(store, 'b');
    expect(JSON.parse(raw['run-record.json'] as string).step).toBe('40');
    await store.delete('b');
    expect((await store.list()).damaged.map((d) => d.id)).toEqual(['c']);
  });

  it('imports a valid run with a default name, and stores nothing for a malformed one', async () => {
    const store = new RunStore('test');
    const run = await importRunFiles(store, good, '');
    expect(run.label).toMatch(/^LN-GRU, synthetic, \d\d:\d\d \(imported\)$/);
    expect(validateStoredRun(run).step).toBe(3);
    const bad = editJson(good, 'config.json', (c) => (c.steps = '40'));
    await expect(importRunFiles(store, bad, 'x')).rejects.toThrow(/config\.json: steps/);
    const { runs, damaged } = await store.list();
    expect(runs.map((r) => r.id)).toEqual([run.id]);
    expect(damaged).toEqual([]);
    expect(Object.keys((await store.getFiles(run.id))!).sort()).toEqual([
      'codec.json',
      'config.json',
      'metrics.json',
      'weights.bin',
      'weights.json',
    ]);
  });
});
