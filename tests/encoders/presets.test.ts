/** Presets, custom presets and the browser-side helpers that need no browser. */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ENCODER_ID,
  ENCODER_PRESETS,
  FALLBACK_ENCODER_ID,
  customPreset,
  decodeImageBlob,
  isGraphModelJson,
  modelUrlOf,
} from '../../src/model/encoders';

describe('presets', () => {
  it('has the quality default, the small ImageNet model and the offline fallback', () => {
    expect(Object.keys(ENCODER_PRESETS)).toEqual(
      expect.arrayContaining(['mobilenet-v1-1.0-trunk', 'mobilenet-v2-0.35', FALLBACK_ENCODER_ID]),
    );
    expect(DEFAULT_ENCODER_ID).toBe('mobilenet-v1-1.0-trunk');
    const v1 = ENCODER_PRESETS['mobilenet-v1-1.0-trunk'];
    expect(v1).toMatchObject({ inputSize: 224, featureDim: 1024, offset: -1, pool: 'mean' });
    expect(v1.output).toEqual({ layer: 'conv_dw_13_relu' });
    expect(v1.scale).toBeCloseTo(1 / 127.5, 12);
    expect(ENCODER_PRESETS['mobilenet-v2-0.35']).toMatchObject({ output: 'layers0', featureDim: 1280 });
    // The same trunk and weights, pooled two ways.
    const mm = ENCODER_PRESETS['mobilenet-v1-1.0-trunk-meanmax'];
    expect(mm).toMatchObject({ featureDim: 2048, pool: 'meanmax', inputSize: 224, scale: v1.scale });
    expect([mm.source, mm.output]).toEqual([v1.source, v1.output]);
    for (const [id, p] of Object.entries(ENCODER_PRESETS)) expect(p.id).toBe(id);
  });

  it('customPreset points at model.json and leaves size and dim to be measured', () => {
    expect(customPreset('https://example.org/m/').source).toEqual({
      kind: 'url',
      url: 'https://example.org/m/model.json',
    });
    expect(customPreset('/data/my-model').source).toEqual({ kind: 'url', url: '/data/my-model/model.json' });
    const p = customPreset('https://example.org/m/other.json', { pool: 'none', scale: 1 / 255, offset: 0 });
    expect(p).toMatchObject({ featureDim: 0, inputSize: 0, pool: 'none', output: 'model', offset: 0 });
    expect(p.source).toEqual({ kind: 'url', url: 'https://example.org/m/other.json' });
    expect(() => customPreset('  ')).toThrow(/empty/);
  });
});

describe('browser helpers', () => {
  it('maps sources to model.json URLs', () => {
    const fb = ENCODER_PRESETS[FALLBACK_ENCODER_ID].source;
    expect(modelUrlOf(fb)).toBe(`/models/${FALLBACK_ENCODER_ID}/model.json`);
    expect(modelUrlOf(fb, { baseUrl: '/app/' })).toBe(`/app/models/${FALLBACK_ENCODER_ID}/model.json`);
    expect(
      modelUrlOf({ kind: 'shared', dir: 'mobilenet-v2-0.35' }, { sharedModelsUrl: '/shared-models' }),
    ).toBe('/shared-models/mobilenet-v2-0.35/model.json');
    expect(() => modelUrlOf({ kind: 'shared', dir: 'x' })).toThrow(/not served to the browser/);
  });

  it('tells graph models from layers models', () => {
    expect(isGraphModelJson({ format: 'graph-model', modelTopology: { node: [] } })).toBe(true);
    expect(isGraphModelJson({ modelTopology: { node: [] } })).toBe(true);
    expect(isGraphModelJson({ format: 'layers-model', modelTopology: { class_name: 'Model' } })).toBe(false);
    expect(isGraphModelJson(null)).toBe(false);
  });

  it('decodeImageBlob says what is missing outside a browser, naming the photo', async () => {
    await expect(decodeImageBlob(new Blob([new Uint8Array(4)]), 'holiday.jpg')).rejects.toThrow(
      /holiday\.jpg.*createImageBitmap/,
    );
  });
});
