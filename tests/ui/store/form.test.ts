// @vitest-environment jsdom
import { beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_FORM, initialState, parseForm, startOptions, useUiStore } from '../../../src/ui/store';

beforeEach(() => {
  useUiStore.setState(initialState());
});

describe('form', () => {
  it('parses the default form', () => {
    const parsed = parseForm(DEFAULT_FORM);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.run).toEqual({
      model: {
        layerNorm: true,
        measure: 'order',
        wordDim: 128,
        hiddenDim: 256,
        margin: 0.05,
        maxViolation: false,
      },
      train: { batchSize: 64, learningRate: 0.001, seed: 1 },
      evalEvery: 25,
      evalImages: 500,
      maxSteps: 0,
    });
  });

  it('refuses a run whose memory estimate is past the limit, with the estimate', () => {
    const parsed = parseForm({ ...DEFAULT_FORM, hiddenDim: '4096', wordDim: '2048' });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.errors.hiddenDim).toMatch(/would need about [\d.]+ GiB of memory; at most 2\.0 GiB/);
    expect(parseForm({ ...DEFAULT_FORM, hiddenDim: '1024', wordDim: '300' }).ok).toBe(true);
  });

  it('reports one message per invalid field', () => {
    const parsed = parseForm({
      ...DEFAULT_FORM,
      hiddenDim: '12.5',
      batchSize: '',
      learningRate: 'fast',
      margin: '0',
      seed: '-1',
      evalEvery: '0',
    });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.errors).toEqual({
      hiddenDim: 'Must be a whole number.',
      batchSize: 'Required.',
      learningRate: 'Must be a number.',
      margin: expect.stringMatching(/greater than 0/),
      seed: expect.stringMatching(/between 0 and/),
      evalEvery: expect.stringMatching(/between 1 and/),
    });
  });

  it('passes a learning-rate decay step to the runs only when it is set', () => {
    const at = parseForm({ ...DEFAULT_FORM, lrDecayStep: '1800' });
    if (!at.ok) throw new Error('form invalid');
    expect(at.run.train).toEqual({ batchSize: 64, learningRate: 0.001, seed: 1, lrDecayStep: 1800 });
    const never = parseForm(DEFAULT_FORM);
    if (!never.ok) throw new Error('form invalid');
    expect(never.run.train).not.toHaveProperty('lrDecayStep');
    const bad = parseForm({ ...DEFAULT_FORM, lrDecayStep: '2.5' });
    expect(bad.ok ? {} : bad.errors).toEqual({ lrDecayStep: 'Must be a whole number.' });
  });

  it('maps max-violation with a warm-up and dropout to the run config, and checks their ranges', () => {
    const warm = parseForm({ ...DEFAULT_FORM, maxViolation: true, maxViolationAfter: '500', dropout: '0.2' });
    if (!warm.ok) throw new Error('form invalid');
    expect(warm.run.model.maxViolation).toBe(false);
    expect(warm.run.train).toEqual({
      batchSize: 64,
      learningRate: 0.001,
      seed: 1,
      maxViolationStep: 500,
      dropout: 0.2,
    });
    const hard = parseForm({ ...DEFAULT_FORM, maxViolation: true });
    if (!hard.ok) throw new Error('form invalid');
    expect(hard.run.model.maxViolation).toBe(true);
    expect(hard.run.train).not.toHaveProperty('maxViolationStep');
    // The warm-up alone, without the max-violation box, changes nothing.
    const off = parseForm({ ...DEFAULT_FORM, maxViolationAfter: '500' });
    if (!off.ok) throw new Error('form invalid');
    expect(off.run.model.maxViolation).toBe(false);
    expect(off.run.train).toEqual({ batchSize: 64, learningRate: 0.001, seed: 1 });
    const bad = parseForm({ ...DEFAULT_FORM, dropout: '0.95', maxViolationAfter: '-1' });
    expect(bad.ok ? {} : bad.errors).toEqual({
      dropout: 'Must be between 0 and 0.9.',
      maxViolationAfter: 'Must be between 0 and 10000000.',
    });
  });

  it('compare gives two runs that differ only in layerNorm', () => {
    const parsed = parseForm({ ...DEFAULT_FORM, layerNorm: false, measure: 'cosine', margin: '0.2' });
    if (!parsed.ok) throw new Error('form invalid');
    const opts = startOptions(parsed.run, true, 1234);
    expect(opts.runs.map((r) => [r.id, r.label, r.model.layerNorm])).toEqual([
      ['ln-ya', 'LN-GRU', true],
      ['gru-ya', 'GRU', false],
    ]);
    const [a, b] = opts.runs;
    expect({ ...a!.model, layerNorm: null }).toEqual({ ...b!.model, layerNorm: null });
    expect(a!.train).toEqual(b!.train);
    expect(a!.model.measure).toBe('cosine');
    expect(startOptions(parsed.run, false, 1234).runs.map((r) => r.label)).toEqual(['GRU']);
  });

  it('switching the measure moves an untouched margin to its default', () => {
    const st = useUiStore.getState();
    st.setField('measure', 'cosine');
    expect(useUiStore.getState().form.margin).toBe('0.2');
    useUiStore.getState().setField('margin', '0.3');
    useUiStore.getState().setField('measure', 'order');
    expect(useUiStore.getState().form.margin).toBe('0.3'); // the user's own value stays
  });

  it('setField clears that field’s error', () => {
    const st = useUiStore.getState();
    st.setFormErrors({ batchSize: 'Required.', seed: 'Required.' });
    st.setField('batchSize', '16');
    expect(useUiStore.getState().formErrors).toEqual({ seed: 'Required.' });
  });
});
