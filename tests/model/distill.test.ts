/**
 * Distillation: the loss against a float64 computation and its gradient in closed form, the ensemble
 * teacher against the members' own scores, and the trainer with a teacher (the student moves towards
 * the teacher's ranking; no tensors leak; clear errors).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../../src/model/tf';
import { distillationLoss } from '../../src/model/loss';
import { EnsembleTeacher } from '../../src/model/distill';
import { scores } from '../../src/model/scoring';
import { Trainer } from '../../src/model/trainer';
import { makeSyntheticDataset } from '../../src/model/synthetic';
import { Rng } from '../../src/model/rng';
import { useBackend } from '../helpers/tf';

beforeAll(() => useBackend('wasm'));

const small = { wordDim: 16, hiddenDim: 32 };

/** Row-wise softmax of a float64 matrix at temperature tau. */
function softmaxRows(m: number[][], tau: number): number[][] {
  return m.map((r) => {
    const mx = Math.max(...r);
    const e = r.map((x) => Math.exp((x - mx) / tau));
    const z = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / z);
  });
}
const transpose = (m: number[][]) => m[0].map((_, j) => m.map((r) => r[j]));

describe('distillationLoss', () => {
  const rng = new Rng(11);
  const S = Array.from({ length: 4 }, () => Array.from({ length: 4 }, () => -Math.abs(rng.normal()) * 0.1));
  const T = Array.from({ length: 4 }, () => Array.from({ length: 4 }, () => -Math.abs(rng.normal()) * 0.1));
  const tau = 0.03;

  it('is the sum of the row and column KL divergences, with gradient ((q - p)_rows + (q - p)_cols) / tau', () => {
    const kl = (s: number[][], t: number[][]) => {
      const p = softmaxRows(t, tau);
      const q = softmaxRows(s, tau);
      return p.reduce((a, row, i) => a + row.reduce((b, x, j) => b + x * Math.log(x / q[i][j]), 0), 0);
    };
    const expected = kl(S, T) + kl(transpose(S), transpose(T));
    const St = tf.tensor2d(S);
    const Tt = tf.tensor2d(T);
    const { value, grad } = tf.valueAndGrad((s: tf.Tensor) => distillationLoss(s as tf.Tensor2D, Tt, tau))(
      St,
    );
    expect(value.dataSync()[0]).toBeCloseTo(expected, 4);
    const [pr, qr] = [softmaxRows(T, tau), softmaxRows(S, tau)];
    const [pc, qc] = [transpose(softmaxRows(transpose(T), tau)), transpose(softmaxRows(transpose(S), tau))];
    const g = grad.arraySync() as number[][];
    g.forEach((row, i) =>
      row.forEach((x, j) => expect(x).toBeCloseTo((qr[i][j] - pr[i][j] + qc[i][j] - pc[i][j]) / tau, 3)),
    );
    expect(expected).toBeGreaterThan(0);
    // No distance to itself.
    const self = distillationLoss(Tt, Tt, tau);
    expect(self.dataSync()[0]).toBeCloseTo(0, 5);
    tf.dispose([St, Tt, value, grad, self]);
  });

  it('names a shape mismatch and a bad temperature', () => {
    const a = tf.zeros([3, 3]) as tf.Tensor2D;
    const b = tf.zeros([3, 2]) as tf.Tensor2D;
    expect(() => distillationLoss(a, b, 0.05)).toThrow(
      'distillationLoss: student [3,3] and teacher [3,2] scores differ in shape',
    );
    expect(() => distillationLoss(a, a, 0)).toThrow('distillationLoss: temperature must be > 0, got 0');
    tf.dispose([a, b]);
  });
});

describe('EnsembleTeacher and Trainer distillation', () => {
  const ds = makeSyntheticDataset({ numImages: 120, imageDim: 32, seed: 4 });
  const member = (seed: number, steps: number) => {
    const t = new Trainer(ds, small, { batchSize: 16, seed });
    for (let s = 0; s < steps; s++) t.step();
    return t;
  };

  it('scores a batch by the mean of its members’ scores', () => {
    const a = member(1, 3);
    const b = member(2, 3);
    const { images, captions } = a.trainingSet;
    const members = [a, b].map((t, i) => ({ model: t.model, codec: t.codec, label: `m${i}` }));
    const teacher = new EnsembleTeacher(members, ds, images, captions);
    expect(teacher.labels).toEqual(['m0', 'm1']);
    const imgs = images.slice(0, 5);
    const caps = captions.slice(3, 9);
    const got = teacher.scores(imgs, caps);
    expect(got.shape).toEqual([5, 6]);
    const direct = [a, b].map((t) => {
      const im = t.embedImages(imgs);
      const cap = t.embedCaptions(caps);
      const s = scores(im, cap, 'order');
      const out = s.arraySync() as number[][];
      tf.dispose([im, cap, s]);
      return out;
    });
    (got.arraySync() as number[][]).forEach((row, i) =>
      row.forEach((x, j) => expect(x).toBeCloseTo((direct[0][i][j] + direct[1][i][j]) / 2, 5)),
    );
    got.dispose();
    const dev = ds.splits.dev![0];
    expect(() => teacher.scores([dev], caps)).toThrow(
      `teacher: image ${dev} was not embedded (not a training image?)`,
    );
    const other = makeSyntheticDataset({ numImages: 120, imageDim: 16, seed: 4 });
    expect(() => new EnsembleTeacher(members, other, [0], [0])).toThrow(
      /teacher m0: expects 32-d image features, dataset '.*' has 16-d/,
    );
    [a, b].forEach((t) => t.dispose());
  });

  it('pulls the student’s ranking towards the teacher’s, and leaks no tensors', () => {
    const t = member(7, 60);
    const { images, captions } = t.trainingSet;
    const teacher = new EnsembleTeacher(
      [{ model: t.model, codec: t.codec, label: 'teacher' }],
      ds,
      images,
      captions,
    );
    // A fixed probe batch: one caption of each of 24 training images.
    const probeImages = images.slice(0, 24);
    const probeCaptions = probeImages.map((img) => captions.find((k) => ds.captions[k].image === img)!);
    const T = teacher.scores(probeImages, probeCaptions);
    const distanceToTeacher = (s: Trainer) => {
      const im = s.embedImages(probeImages);
      const cap = s.embedCaptions(probeCaptions);
      const S = scores(im, cap, 'order');
      const d = distillationLoss(S, T, 0.02);
      const v = d.dataSync()[0];
      tf.dispose([im, cap, S, d]);
      return v;
    };
    const plain = new Trainer(ds, small, { batchSize: 16, seed: 3 });
    const student = new Trainer(ds, small, { batchSize: 16, seed: 3 });
    student.setTeacher(teacher, { weight: 5, temperature: 0.02 });
    expect(student.config.train.distill).toEqual({ teachers: ['teacher'], weight: 5, temperature: 0.02 });
    student.step();
    plain.step();
    const n = tf.memory().numTensors;
    for (let s = 0; s < 25; s++) {
      student.step();
      plain.step();
    }
    expect(tf.memory().numTensors).toBe(n);
    expect(distanceToTeacher(student)).toBeLessThan(0.8 * distanceToTeacher(plain));
    expect(() => student.setTeacher(teacher, { weight: 0, temperature: 0.02 })).toThrow(
      'distillation: weight must be > 0, got 0',
    );
    // A config that asks for distillation without a teacher fails at the first step, naming the teachers.
    const orphan = new Trainer(ds, small, {
      distill: { teachers: ['runs/a'], weight: 1, temperature: 0.05 },
    });
    expect(() => orphan.step()).toThrow('distillation: no teacher loaded (call distillFrom with runs/a)');
    T.dispose();
    [t, plain, student, orphan].forEach((x) => x.dispose());
  });
});
