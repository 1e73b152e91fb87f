/**
 * The WebGPU training step that never waits (Trainer.stepOnDevice: clipping on the device, the loss and
 * gradient norm read asynchronously one step behind), taken by the training driver the worker runs, on
 * Chromium's software WebGPU adapter (SwiftShader), against the synchronous step on wasm in the same page: the same losses within float32 tolerance, and
 * divergence still stops the run at its step with finite weights. Small sizes: SwiftShader is slow.
 * Without a WebGPU adapter the test fails (it does not skip). The unit tests on cpu/wasm:
 * tests/model/device-step.test.ts.
 */
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { browserSuite, WEBGPU_FLAGS } from './harness';

describe('Trainer.stepOnDevice on WebGPU (Chromium, SwiftShader) = Trainer.step on wasm', () => {
  const suite = browserSuite({
    flags: WEBGPU_FLAGS,
    report: (text, type) => type === 'error' || /validation|wgsl/i.test(text),
  });
  const { problems } = suite;
  let page: Page;

  beforeAll(async () => {
    page = suite.page;
    await page.goto(`${suite.served.url}kernels.html`);
    await page.waitForFunction(() => document.body.dataset.ready === '1');
  });

  it('trains to the same losses and gradient norms within float32 tolerance, and stops at the same divergent step', async () => {
    const opts = { steps: 6, clipNorm: 1 };
    expect(await page.evaluate(() => window.kernelsPage.init('wasm'))).toMatchObject({ backend: 'wasm' });
    const wasm = await page.evaluate((o) => window.kernelsPage.trainSteps(o), opts);
    const info = await page.evaluate(() => window.kernelsPage.init('webgpu'));
    expect(info, 'the webgpu backend must start in Chromium (no WebGPU adapter?)').toMatchObject({
      backend: 'webgpu',
      kernels: true,
    });
    const gpu = await page.evaluate((o) => window.kernelsPage.trainSteps(o), opts);
    expect(gpu).toMatchObject({ backend: 'webgpu', onDevice: true });
    expect(wasm).toMatchObject({ backend: 'wasm', onDevice: false });
    // Every step's result arrives (one step late, the last by the flush), in order.
    expect(gpu.steps).toEqual([1, 2, 3, 4, 5, 6]);
    expect(wasm.steps).toEqual(gpu.steps);
    // Clipping was in play (some norm above the clip), so the device clip is what is compared.
    expect(Math.max(...wasm.gradNorms)).toBeGreaterThan(opts.clipNorm);
    wasm.losses.forEach((l, k) => {
      expect(Number.isFinite(l)).toBe(true);
      expect(
        Math.abs(gpu.losses[k] - l),
        `loss at step ${k + 1}: ${gpu.losses[k]} vs ${l}`,
      ).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(l)));
      const n = wasm.gradNorms[k];
      expect(Math.abs(gpu.gradNorms[k] - n), `norm at step ${k + 1}`).toBeLessThanOrEqual(
        1e-4 * Math.max(1, n),
      );
    });
    // Divergence: the late read stops the run at the step that diverged, with the last good weights.
    expect(wasm.diverged).not.toBeNull();
    expect(gpu.diverged).toMatchObject({
      step: wasm.diverged!.step,
      stepsDone: wasm.diverged!.step - 1,
      weightsFinite: true,
    });
    expect(gpu.diverged!.message).toMatch(new RegExp(`^diverged at step ${wasm.diverged!.step}: `));
    expect(problems).toEqual([]);
  });
});
