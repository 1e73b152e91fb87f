/**
 * The WGSL kernels in a real browser: headless Chromium with its WebGPU adapter (SwiftShader here, no
 * GPU), driving kernels.html (bench/kernels-page.ts). Each kernel is compared with the composite
 * tfjs path on the same backend and with ../shared/testvectors. Without a WebGPU adapter the suite
 * fails (it does not skip): the kernels are then untested.
 *
 * Shapes are small: SwiftShader runs the shaders on the CPU and its workgroup barriers are slow.
 */
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { browserSuite, WEBGPU_FLAGS } from './harness';
import { loadTestVector } from '../helpers/shared';

const TOL = 1e-4; // float32 against the float64 reference vectors (../shared/README.md)

describe('WGSL kernels in Chromium (WebGPU)', () => {
  const suite = browserSuite({
    flags: WEBGPU_FLAGS,
    // WebGPU validation errors arrive as console warnings; a kernel that fails validation would
    // otherwise just leave zeros.
    report: (text, type) => type === 'error' || /webgpu|validation|wgsl/i.test(text),
  });
  const { problems } = suite;
  let page: Page;

  beforeAll(async () => {
    page = suite.page;
    await page.goto(`${suite.served.url}kernels.html`);
    await page.waitForFunction(() => document.body.dataset.ready === '1');
    const info = await page.evaluate(() => window.kernelsPage.init('webgpu'));
    // Loud failure when Chromium offers no WebGPU adapter.
    expect(info, 'the webgpu backend must start in Chromium (no WebGPU adapter?)').toMatchObject({
      backend: 'webgpu',
      scoring: 'webgpu-kernel',
      kernels: true,
    });
  });

  it('order violation: energies match order_violation.json; kernel = composite for E, both gradients and top-k', async () => {
    const ref = loadTestVector('order_violation');
    const r = await page.evaluate(
      ([ref]) => window.kernelsPage.checkOrderViolation(ref as never, { N: 37, M: 45, D: 70 }),
      [ref],
    );
    expect(r.path).toBe('webgpu-kernel');
    expect(r.refE).toBeLessThanOrEqual(1e-5);
    expect(r.Emax).toBeGreaterThan(1); // not trivially zero
    expect(r.E).toBeLessThanOrEqual(1e-4);
    expect(r.dIm).toBeLessThanOrEqual(1e-4);
    expect(r.dCap).toBeLessThanOrEqual(1e-4);
    for (const by of ['image', 'caption']) {
      expect(r[`topk_${by}_energies`], `top-k by ${by}`).toBeLessThanOrEqual(1e-4);
      expect(r[`topk_${by}_indices_equal`], `top-k indices by ${by}`).toBe(true);
    }
    // The same results when every op is split into several dispatches (pretend workgroup limit).
    expect(r.chunkedE).toBeLessThanOrEqual(1e-4);
    expect(r.chunkedDIm).toBeLessThanOrEqual(1e-4);
    expect(r.chunkedDCap).toBeLessThanOrEqual(1e-4);
    expect(r.refusal).toMatch(
      /energies E \[N, M\] \[\d+,5000\] needs [\d.]+ MiB, above this device.s maxStorageBufferBindingSize/,
    );
    expect(problems).toEqual([]);
  });

  it('LN-GRU: lngru.json outputs, final state, loss and every gradient through the kernels (and composite)', async () => {
    const ref = loadTestVector('lngru');
    const r = await page.evaluate(([ref]) => window.kernelsPage.checkLnGru(ref as never), [ref]);
    expect(r.path).toBe('webgpu-kernel');
    expect(Object.keys(r.kernel)).toContain('grad_ln_weight_hh');
    for (const [k, d] of Object.entries(r.kernel)) expect(d, `kernel ${k}`).toBeLessThanOrEqual(TOL);
    for (const [k, d] of Object.entries(r.composite)) expect(d, `composite ${k}`).toBeLessThanOrEqual(TOL);
    expect(problems).toEqual([]);
  });

  it('LN-GRU: kernel = composite with random gains and shifts, padding and more columns than threads', async () => {
    const r = await page.evaluate(() => window.kernelsPage.checkLnGruRandom({ T: 4, B: 3, D: 5, H: 70 }));
    expect(Object.keys(r).sort()).toEqual(
      [
        'bias_hh',
        'bias_ih',
        'dx',
        'hN',
        'ln_bias_hh',
        'ln_bias_ih',
        'ln_weight_hh',
        'ln_weight_ih',
        'weight_hh',
        'weight_ih',
        'y',
      ].sort(),
    );
    for (const [k, d] of Object.entries(r)) expect(d, k).toBeLessThanOrEqual(2e-4);
    expect(problems).toEqual([]);
  });

  it('keeps no tensors over repeated kernel calls', async () => {
    const counts = await page.evaluate(() => window.kernelsPage.checkLeaks(3));
    expect(counts).toHaveLength(3);
    expect(new Set(counts).size, `tensor counts ${counts}`).toBe(1);
  });

  it('a lost device turns the kernels off, says so, and the ops fall back to the composite path', async () => {
    const r = await page.evaluate(() => window.kernelsPage.checkDeviceLoss());
    expect(r.before).toEqual({ state: 'ready', scoring: 'webgpu-kernel' });
    expect(r.after.state.status).toBe('lost');
    expect(r.after.state.message).toMatch(
      /WebGPU device lost \(destroyed: .*\); custom kernels off, falling back to the composite/,
    );
    expect(r.after.scoring).toBe('composite');
    expect(r.after.lngru).toBe('composite');
    expect(r.seen.map((s) => s.status)).toEqual(['lost']);
    expect(r.warnings.some((w) => w.includes('WebGPU device lost'))).toBe(true);
  });
});
