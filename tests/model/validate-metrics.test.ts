import { describe, expect, it } from 'vitest';
import {
  validateEvalMetrics,
  validateLogEntry,
  validateLogLines,
  validateRunMetrics,
} from '../../src/model/validate-metrics';

const recall = { r1: 10, r5: 30, r10: 45, medr: 12, meanr: 40.5 };
const metrics = { i2t: recall, t2i: { ...recall, r1: 8 }, rsum: 168 };

describe('validateEvalMetrics', () => {
  it('returns both directions and R-sum, and refuses a recall above 100 or an R-sum above 600', () => {
    expect(validateEvalMetrics('m', metrics)).toEqual(metrics);
    expect(() => validateEvalMetrics('m', { ...metrics, i2t: { ...recall, r5: 101 } })).toThrow(
      /^m\.i2t\.r5: expected a number from 0 to 100, got 101$/,
    );
    expect(() => validateEvalMetrics('m', { ...metrics, rsum: 601 })).toThrow(
      /^m\.rsum: expected a number from 0 to 600/,
    );
    expect(() => validateEvalMetrics('m', { ...metrics, t2i: undefined })).toThrow(
      /^m\.t2i: expected an object, got nothing$/,
    );
  });
});

describe('validateLogEntry', () => {
  it('fills epoch and seconds, reads a null loss as NaN, and keeps dev metrics', () => {
    const e = validateLogEntry('e', { step: 5, loss: null, dev: metrics });
    expect(e).toEqual({ step: 5, epoch: 0, seconds: 0, loss: Number.NaN, dev: metrics });
    expect(validateLogEntry('e', { step: 1, epoch: 2, seconds: 0.5, loss: 1.25 })).toEqual({
      step: 1,
      epoch: 2,
      seconds: 0.5,
      loss: 1.25,
    });
    expect(() => validateLogEntry('e', { step: -1, loss: 1 })).toThrow(
      /^e\.step: expected a whole number from 0/,
    );
    expect(() => validateLogEntry('e', { step: 1, loss: 'x' })).toThrow(
      /^e\.loss: expected a finite number, got "x"$/,
    );
  });
});

describe('validateRunMetrics', () => {
  it('reads the history and the final metrics of each split, naming a bad entry', () => {
    const m = validateRunMetrics({ history: [{ step: 1, loss: 2 }], final: { test: metrics } });
    expect(m.history.map((h) => h.step)).toEqual([1]);
    expect(m.final).toEqual({ test: metrics });
    expect(validateRunMetrics({ history: [], final: null }).final).toBeUndefined();
    expect(() => validateRunMetrics({ history: [{ step: 1 }, { step: 'two' }] })).toThrow(
      /^metrics\.json: history\[1\]\.step: expected a whole number/,
    );
    expect(() => validateRunMetrics({ history: [], final: { dev: { rsum: 1 } } })).toThrow(
      /^metrics\.json: final\.dev\.i2t: expected an object/,
    );
  });
});

describe('validateLogLines', () => {
  it('reads one entry per line, skipping blank lines, and names a line that is not JSON', () => {
    const text = '{"step":1,"loss":3}\n\n{"step":2,"loss":null}\n';
    expect(validateLogLines(text).map((e) => [e.step, e.loss])).toEqual([
      [1, 3],
      [2, Number.NaN],
    ]);
    expect(() => validateLogLines('{"step":1,"loss":3}\nnot json', 'run/log.jsonl')).toThrow(
      /^run\/log\.jsonl: line 2 is not valid JSON: "not json"$/,
    );
    expect(() => validateLogLines('{"step":1.5}')).toThrow(
      /^log\.jsonl: line 1\.step: expected a whole number/,
    );
  });
});
