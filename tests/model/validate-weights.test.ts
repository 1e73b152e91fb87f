import { beforeAll, describe, expect, it } from 'vitest';
import { OrderEmbeddingModel } from '../../src/model/model';
import type { ModelConfig } from '../../src/model/types';
import { expectedWeightShapes, validateWeightsManifest } from '../../src/model/validate-weights';
import { useBackend } from '../helpers/tf';

beforeAll(() => useBackend('wasm'));

const config = (layerNorm: boolean): ModelConfig => ({
  vocabSize: 7,
  wordDim: 3,
  hiddenDim: 4,
  imageDim: 5,
  layerNorm,
  measure: 'order',
  margin: 0.05,
  maxViolation: false,
});

type Entry = { name: string; shape: number[]; offset: number };

/** The manifest of a model's weights laid end to end, and the byte length of that weights.bin. */
function packed(m: ModelConfig, bytesPer = 4): { manifest: Record<string, unknown>; bytes: number } {
  let offset = 0;
  const weights = expectedWeightShapes(m).map(({ name, shape }) => {
    const w = { name, shape, offset };
    offset += shape.reduce((a, b) => a * b, 1) * bytesPer;
    return w;
  });
  const dtype = bytesPer === 2 ? 'float16' : 'float32';
  return {
    manifest: { format: 'orderembed-weights', version: 1, dtype, byteOrder: 'little', weights },
    bytes: offset,
  };
}

/** `packed` with the weight list edited. */
function edited(m: ModelConfig, edit: (w: Entry[]) => void) {
  const { manifest, bytes } = packed(m);
  const weights = structuredClone(manifest.weights) as Entry[];
  edit(weights);
  return { manifest: { ...manifest, weights }, bytes };
}

describe('expectedWeightShapes', () => {
  it.each([true, false])(
    'lists the weights of the built model, in order, with its shapes (layerNorm %s)',
    (ln) => {
      const model = new OrderEmbeddingModel(config(ln), 1);
      try {
        expect(expectedWeightShapes(config(ln))).toEqual(model.weightShapes);
      } finally {
        model.dispose();
      }
    },
  );
});

describe('validateWeightsManifest', () => {
  const m = config(true);

  it('accepts every weight once, aligned, filling weights.bin exactly (float32 and float16)', () => {
    const { manifest, bytes } = packed(m);
    const v = validateWeightsManifest(manifest, m, bytes);
    expect(v.dtype).toBe('float32');
    expect(v.weights.map((w) => w.name)).toEqual(expectedWeightShapes(m).map((w) => w.name));
    const half = packed(m, 2);
    expect(validateWeightsManifest(half.manifest, m, half.bytes).dtype).toBe('float16');
  });

  it('refuses a truncated or padded weights.bin, naming it and the bytes', () => {
    const { manifest, bytes } = packed(m);
    expect(() => validateWeightsManifest(manifest, m, bytes - 4)).toThrow(
      /^weights\.bin: weight 'image\.bias' \[4\] needs bytes \d+\.\.\d+ but the file holds \d+ bytes \(truncated\?\)$/,
    );
    expect(() => validateWeightsManifest(manifest, m, bytes + 4)).toThrow(
      /^weights\.bin: holds \d+ bytes but the weights of weights\.json take \d+ \(trailing or stray bytes\)/,
    );
  });

  it('refuses unexpected, repeated, missing, misshapen, misaligned and overlapping weights', () => {
    const check = (edit: (w: Entry[]) => void) => {
      const { manifest, bytes } = edited(m, edit);
      return () => validateWeightsManifest(manifest, m, bytes);
    };
    expect(check((w) => (w[0].name = 'extra'))).toThrow(
      /weights\[0\]: unexpected weight 'extra' \(this model has word_embedding, /,
    );
    expect(check((w) => w.push({ ...w[0] }))).toThrow(
      /weights\[\d+\]: weight 'word_embedding' appears twice/,
    );
    expect(check((w) => w.pop())).toThrow(/^weights\.json: missing weight\(s\) image\.bias$/);
    expect(check((w) => (w[0].shape = [3, 7]))).toThrow(
      /weights\.json: weight 'word_embedding': expected shape \[7,3\] \(from config\.json\), got \[3,7\]/,
    );
    expect(check((w) => (w[1].offset += 2))).toThrow(
      /weights\[1\]\.offset: expected a multiple of 4 \(float32\)/,
    );
    expect(check((w) => (w[1].offset = w[0].offset))).toThrow(
      /^weights\.json: weights 'word_embedding' and 'gru\.weight_ih' overlap$/,
    );
  });

  it('refuses another format, version, dtype or byte order', () => {
    const { manifest, bytes } = packed(m);
    const check = (patch: Record<string, unknown>) => () =>
      validateWeightsManifest({ ...manifest, ...patch }, m, bytes);
    expect(check({ format: 'x' })).toThrow(/weights\.json: format: expected 'orderembed-weights'/);
    expect(check({ version: 2 })).toThrow(/weights\.json: version: expected 1, got 2/);
    expect(check({ dtype: 'int8' })).toThrow(/weights\.json: dtype: expected one of 'float32', 'float16'/);
    expect(check({ byteOrder: 'big' })).toThrow(/weights\.json: byteOrder: expected 'little'/);
  });
});
