import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../../src/model/tf';
import { Trainer } from '../../src/model/trainer';
import { OrderEmbeddingModel } from '../../src/model/model';
import { makeSyntheticDataset } from '../../src/model/synthetic';
import { evaluateEnsemble, evaluateModel, scoreImages } from '../../src/model/evaluate';
import { evaluateScores } from '../../src/model/recall';
import {
  deserializeWeights,
  exportRun,
  importModel,
  RUN_FILES,
  serializeWeights,
  type RunFiles,
} from '../../src/model/export';
import { Vocabulary } from '../../src/model/tokenizer';
import { useBackend } from '../helpers/tf';

beforeAll(() => useBackend('wasm'));

function trained(layerNorm: boolean): Trainer {
  const ds = makeSyntheticDataset({ numImages: 120, imageDim: 24, seed: 5 });
  const tr = new Trainer(ds, { wordDim: 8, hiddenDim: 16, layerNorm }, { batchSize: 16, seed: 2 });
  for (let i = 0; i < 5; i++) tr.step();
  return tr;
}

/** A copy of the files with one JSON file edited. */
function editJson(files: RunFiles, name: string, edit: (o: Record<string, unknown>) => void): RunFiles {
  const o = JSON.parse(files[name] as string) as Record<string, unknown>;
  edit(o);
  return { ...files, [name]: JSON.stringify(o) };
}

describe('run export / import', () => {
  it.each([true, false])(
    'gives back a model with identical scores and metrics (layerNorm %s)',
    (layerNorm) => {
      const tr = trained(layerNorm);
      const history = [{ step: 5, epoch: 0, seconds: 0.1, loss: 1.5 }];
      const { files } = exportRun(tr, { encoder: null, history });
      expect(Object.keys(files).sort()).toEqual(Object.values(RUN_FILES).sort());
      const manifest = JSON.parse(files[RUN_FILES.weightsManifest] as string) as {
        weights: { name: string; shape: number[] }[];
      };
      const H = 16;
      expect(manifest.weights.map((w) => w.name)).toEqual([
        'word_embedding',
        'gru.weight_ih',
        'gru.weight_hh',
        'gru.bias_ih',
        'gru.bias_hh',
        ...(layerNorm ? ['gru.ln_weight_ih', 'gru.ln_bias_ih', 'gru.ln_weight_hh', 'gru.ln_bias_hh'] : []),
        'image.weight',
        'image.bias',
      ]);
      expect(manifest.weights.find((w) => w.name === 'image.weight')!.shape).toEqual([H, 24]); // torch: out x in
      // Node reads weights.bin as a Buffer (a Uint8Array view): give it one.
      const imported = importModel({
        ...files,
        [RUN_FILES.weights]: new Uint8Array(files[RUN_FILES.weights] as ArrayBuffer),
      });
      expect(imported.config.steps).toBe(5);
      expect(imported.metrics?.history).toEqual(history);
      expect(imported.vocab.size).toBe(tr.vocab.size);
      const before = tr.model.getWeights();
      const after = imported.model.getWeights();
      after.forEach((w, i) => expect(Array.from(w.data)).toEqual(Array.from(before[i].data)));

      const ds = tr.dataset;
      const images = ds.splits.dev!;
      const a = tr.scoreImages(images);
      const b = scoreImages(
        {
          model: imported.model,
          dataset: ds,
          captionIds: (k) => imported.vocab.encode(ds.captions[k].text, k),
        },
        images,
      );
      expect(b.captionIndex).toEqual(a.captionIndex);
      expect(Array.from(b.scores)).toEqual(Array.from(a.scores));
      const m = evaluateModel(imported.model, imported.codec, ds, 'dev');
      expect(m).toEqual(tr.evaluate('dev'));
      expect(() => evaluateModel(imported.model, imported.codec, ds, 'test')).toThrow(
        "has no 'test' split (available: train, dev)",
      );
      imported.model.dispose();
      tr.dispose();
    },
  );

  it('stores weights as float16 on request: half the bytes, each weight within float16 rounding', () => {
    const tr = trained(true);
    const weights = tr.model.getWeights();
    const half = serializeWeights(weights, 'float16');
    const full = serializeWeights(weights);
    expect(half.manifest.dtype).toBe('float16');
    expect(half.bytes.byteLength * 2).toBe(full.bytes.byteLength);
    const { files } = exportRun(tr, { encoder: null });
    const imported = importModel({
      ...files,
      [RUN_FILES.weights]: new Uint8Array(half.bytes),
      [RUN_FILES.weightsManifest]: JSON.stringify(half.manifest),
    });
    imported.model.getWeights().forEach((w, i) => {
      expect(w.name).toBe(weights[i].name);
      w.data.forEach((v, j) => {
        const x = weights[i].data[j];
        expect(Math.abs(v - x)).toBeLessThanOrEqual(Math.max(Math.abs(x) * 2 ** -11, 2 ** -25));
      });
    });
    expect(() =>
      deserializeWeights({ ...half.manifest, dtype: 'int8' as 'float16' }, new Uint8Array(half.bytes)),
    ).toThrow("weights.json: field 'dtype' is \"int8\", expected 'float32' or 'float16'");
    imported.model.dispose();
    tr.dispose();
  });

  it("evaluates an ensemble by the sum of its members' scores", () => {
    const a = trained(true);
    const b = trained(false);
    const ds = a.dataset;
    const images = ds.splits.dev!;
    const sa = a.scoreImages(images);
    const sb = b.scoreImages(images);
    expect(sb.captionIndex).toEqual(sa.captionIndex);
    const summed = sa.scores.map((x, i) => x + sb.scores[i]);
    const expected = evaluateScores(summed, images.length, sa.captionImage.length, sa.captionImage);
    const members = [a, b].map((t) => ({ model: t.model, codec: t.codec }));
    const m = evaluateEnsemble(members, ds, 'dev');
    expect(m).toEqual(expected);
    // Not simply one of the two members.
    expect([a.evaluate('dev'), b.evaluate('dev')]).not.toContainEqual(m);
    // One member is the model alone.
    expect(evaluateEnsemble(members.slice(0, 1), ds, 'dev')).toEqual(a.evaluate('dev'));
    expect(() => evaluateEnsemble([], ds, 'dev')).toThrow('evaluate: no model given');
    const cos = new Trainer(ds, { wordDim: 8, hiddenDim: 16, measure: 'cosine' }, { batchSize: 16, seed: 2 });
    expect(() => evaluateEnsemble([...members, { model: cos.model, codec: cos.codec }], ds, 'dev')).toThrow(
      "ensemble: the models' scores are not comparable (measures order and cosine)",
    );
    [a, b, cos].forEach((t) => t.dispose());
  });

  it('fails clearly on a missing file, a misshapen weight or another vocabulary', () => {
    const tr = trained(true);
    const { files } = exportRun(tr);
    const n = tf.memory().numTensors;
    // What constructing and disposing a model leaves behind (0 once gru.ts frees its initial tensors).
    new OrderEmbeddingModel(tr.config.model).dispose();
    const baseline = tf.memory().numTensors - n;
    const without = (name: string) => Object.fromEntries(Object.entries(files).filter(([k]) => k !== name));
    expect(() => importModel(without(RUN_FILES.config))).toThrow(/missing file 'config\.json'/);
    expect(() => importModel(without(RUN_FILES.weights))).toThrow(/missing file 'weights\.bin'/);
    expect(() => importModel(without(RUN_FILES.weightsManifest))).toThrow(/missing file 'weights\.json'/);
    const noMetrics = importModel(without(RUN_FILES.metrics));
    expect(noMetrics.metrics).toBeUndefined();
    noMetrics.model.dispose();

    const shape = editJson(files, RUN_FILES.weightsManifest, (o) => {
      (o.weights as { name: string; shape: number[] }[])[2].shape = [48, 8];
    });
    expect(() => importModel(shape)).toThrow(
      "weights.json: weight 'gru.weight_hh': expected shape [48,16] (from config.json), got [48,8]",
    );
    const short = { ...files, [RUN_FILES.weights]: (files[RUN_FILES.weights] as ArrayBuffer).slice(0, 100) };
    expect(() => importModel(short)).toThrow(/weights\.bin: weight 'word_embedding' .* holds 100 bytes/);
    const otherVocab = editJson(files, RUN_FILES.config, (o) => {
      o.vocab = new Vocabulary(['<pad>', '<unk>', 'dog', 'cat']).toJSON();
    });
    expect(() => importModel(otherVocab)).toThrow(/model file from another vocabulary/);
    const format = editJson(files, RUN_FILES.config, (o) => {
      o.format = 'something-else';
    });
    expect(() => importModel(format)).toThrow(
      /config\.json: format: expected 'orderembed-run', got "something-else"/,
    );
    // A failed import frees its model: three constructions (baseline, noMetrics, shape) leave 3 x baseline.
    expect(tf.memory().numTensors).toBe(n + 3 * baseline);
    tr.dispose();
  });
});
