/**
 * Trainer.stepOnDevice (the WebGPU path: clipping on the device, loss and norm read one step behind)
 * against Trainer.step (the synchronous path), on Node's cpu and wasm backends. The browser test
 * tests/e2e/device-step.e2e.test.ts runs the same path on a real WebGPU adapter.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '../../src/model/tf';
import { Trainer, TrainingDivergedError } from '../../src/model/trainer';
import { makeSyntheticDataset } from '../../src/model/synthetic';
import type { StepResult, TrainConfig } from '../../src/model/types';
import { expectClose, useBackend } from '../helpers/tf';

const ds = makeSyntheticDataset({ numImages: 120, imageDim: 24, seed: 4 });
const model = { wordDim: 8, hiddenDim: 16, layerNorm: true };

/** n device steps, then the flush: every result in step order. */
async function deviceSteps(tr: Trainer, n: number): Promise<StepResult[]> {
  const out: StepResult[] = [];
  for (let i = 0; i < n; i++) {
    const r = await tr.stepOnDevice();
    if (r) out.push(r);
  }
  const last = await tr.flushDeviceStep();
  if (last) out.push(last);
  return out;
}

/** Runs `fn` until it throws; returns the error (or fails after `max` calls). */
async function untilThrow(fn: () => unknown, max: number): Promise<unknown> {
  for (let i = 0; i < max; i++) {
    try {
      await fn();
    } catch (e) {
      return e;
    }
  }
  throw new Error(`no error in ${max} steps`);
}

describe.each(['cpu', 'wasm'] as const)('Trainer.stepOnDevice on %s', (backend) => {
  it.each<[string, Partial<TrainConfig>]>([
    ['no clipping', { clipNorm: 1e6 }],
    ['every step clipped', { clipNorm: 1e-3, learningRate: 0.01 }],
    ['averaging from step 3', { averageFromStep: 3 }],
  ])('trains to the losses, norms and weights of step() (%s)', async (_, extra) => {
    await useBackend(backend);
    const train = { batchSize: 16, seed: 7, ...extra };
    const sync = new Trainer(ds, model, train);
    const expected = Array.from({ length: 9 }, () => sync.step());
    const dev = new Trainer(ds, model, train);
    const got = await deviceSteps(dev, 9);
    expect(got.map((r) => r.step)).toEqual(expected.map((r) => r.step));
    expect(got.map((r) => r.epoch)).toEqual(expected.map((r) => r.epoch));
    // float32 rounding apart (clip / norm on the device), the same numbers: within 1e-6 of the loss's
    // size (about 16 float32 steps at a loss of 31; an absolute 1e-5 allowed only 5 there).
    expectClose(
      got.map((r) => r.loss),
      expected.map((r) => r.loss),
      1e-6 * Math.max(...expected.map((r) => Math.abs(r.loss))),
      'loss',
    );
    expectClose(
      got.map((r) => r.gradNorm),
      expected.map((r) => r.gradNorm),
      1e-5 * Math.max(...expected.map((r) => r.gradNorm)),
      'gradient norm',
    );
    if (extra.clipNorm === 1e-3) for (const r of got) expect(r.gradNorm).toBeGreaterThan(1e-3);
    const a = sync.checkpoint();
    const b = dev.checkpoint();
    expect({ ...b, tensors: [] }).toEqual({ ...a, tensors: [] });
    expect(b.tensors.map((t) => t.name)).toEqual(a.tensors.map((t) => t.name));
    b.tensors.forEach((t, k) => expectClose(Array.from(t.data), Array.from(a.tensors[k].data), 1e-5, t.name));
    if (extra.averageFromStep) expect(dev.averagedSteps).toBe(sync.averagedSteps);
    sync.dispose();
    dev.dispose();
  });

  it('clips on the device: one step moves the weights as the host-clipped step does', async () => {
    await useBackend(backend);
    // A large learning rate and a tiny clip: without clipping the two updates would differ widely.
    const train = { batchSize: 16, seed: 2, clipNorm: 1e-4, learningRate: 0.5 };
    const sync = new Trainer(ds, model, train);
    const dev = new Trainer(ds, model, train);
    const w0 = dev.model.getWeights();
    const r0 = sync.step();
    expect(r0.gradNorm).toBeGreaterThan(100 * train.clipNorm);
    expect(await dev.stepOnDevice()).toBeNull(); // its result comes one step behind
    expect(dev.deviceStepPending).toBe(true);
    expect(() => dev.checkpoint()).toThrow(/step 1 is still being read from the device/);
    const r1 = await dev.flushDeviceStep();
    expect(r1!.step).toBe(1);
    expect(r1!.gradNorm).toBeCloseTo(r0.gradNorm, 4);
    const ws = sync.model.getWeights();
    const wd = dev.model.getWeights();
    let moved = 0;
    wd.forEach((w, k) => {
      expectClose(Array.from(w.data), Array.from(ws[k].data), 1e-6, w.name);
      for (let j = 0; j < w.data.length; j++) moved = Math.max(moved, Math.abs(w.data[j] - w0[k].data[j]));
    });
    expect(moved).toBeGreaterThan(0.1); // the step did move the weights
    sync.dispose();
    dev.dispose();
  });

  it('a non-finite step is a no-op on the device; the late read stops the run at that step, last good weights', async () => {
    await useBackend(backend);
    const train = { batchSize: 16, seed: 3, learningRate: 1e30 };
    // The synchronous path: where it diverges, and the state it leaves.
    const sync = new Trainer(ds, model, train);
    const syncError = await untilThrow(() => sync.step(), 20);
    expect(syncError).toBeInstanceOf(TrainingDivergedError);
    const n = (syncError as TrainingDivergedError).step;
    expect(n).toBeGreaterThan(1); // at least one good step first: its weights must survive
    const dev = new Trainer(ds, model, train);
    const devError = await untilThrow(() => dev.stepOnDevice(), 20);
    expect(devError).toBeInstanceOf(TrainingDivergedError);
    expect((devError as Error).message).toMatch(new RegExp(`^diverged at step ${n}: `));
    // Step n + 1 was already on the device when step n's read came back: it was a no-op too, and the
    // host is put back to just after step n's batch.
    expect(dev.stepsDone).toBe(n - 1);
    expect(dev.deviceStepPending).toBe(false);
    const a = sync.checkpoint();
    const b = dev.checkpoint();
    expect({ ...b, tensors: [] }).toEqual({ ...a, tensors: [] });
    b.tensors.forEach((t, k) => {
      expect(t.data.every(Number.isFinite), `${t.name} finite`).toBe(true);
      const ref = Array.from(a.tensors[k].data);
      expectClose(Array.from(t.data), ref, 1e-6 * Math.max(1, ...ref.map(Math.abs)), t.name);
    });
    // No tensor left behind by the rollback.
    const before = tf.memory().numTensors;
    dev.dispose();
    sync.dispose();
    expect(tf.memory().numTensors).toBeLessThan(before);
  });

  it('keeps no tensors over device steps', async () => {
    await useBackend(backend);
    const tr = new Trainer(ds, model, { batchSize: 16, seed: 1 });
    const counts: number[] = [];
    for (let i = 0; i < 4; i++) {
      await tr.stepOnDevice();
      counts.push(tf.memory().numTensors);
    }
    expect(new Set(counts.slice(1)).size, `tensor counts ${counts}`).toBe(1);
    await tr.flushDeviceStep();
    tr.dispose();
  });
});
