/**
 * The page behind kernels.html: the WGSL kernels in a real browser, for the browser tests
 * (tests/e2e/kernels.e2e.test.ts) and the benchmark (scripts/bench-kernels.ts). It only exposes
 * functions on `window.kernelsPage`; the drivers call them through playwright's page.evaluate and
 * assert on (or print) what they return. Nothing here runs by itself.
 */
import * as tf from '../src/model/tf';
import { initBackend, type BackendName } from '../src/model/backend';
import { kernelState, kernelsActive } from '../src/model/kernels/webgpu';
import { orderViolationPath } from '../src/model/scoring';
import {
  checkDeviceLoss,
  checkLeaks,
  checkLnGru,
  checkLnGruRandom,
  checkOrderViolation,
  trainSteps,
} from './kernel-checks';
import {
  benchBackwardTail,
  benchEncoder,
  benchLnGru,
  benchScoring,
  benchStep,
  benchTopK,
  benchTrainStep,
} from './kernel-timings';

async function init(backend: BackendName, opts: { compat?: boolean } = {}) {
  if (opts.compat && navigator.gpu) {
    // Mesa's llvmpipe through ANGLE/GLES is only offered as a 'compatibility' adapter; tfjs asks for a
    // core one, so ask on its behalf.
    const gpu = navigator.gpu;
    const request = gpu.requestAdapter.bind(gpu);
    gpu.requestAdapter = (o?: GPURequestAdapterOptions) =>
      request({ ...o, featureLevel: 'compatibility' } as GPURequestAdapterOptions);
  }
  const name = await initBackend(backend, { wasmPath: new URL('tfjs-wasm/', location.href).href });
  let adapter = '';
  if (name === 'webgpu') {
    const b = tf.backend() as unknown as { adapterInfo?: { vendor?: string; architecture?: string } };
    adapter = [b.adapterInfo?.vendor, b.adapterInfo?.architecture].filter(Boolean).join(' ') || 'unknown';
  }
  return { backend: name, adapter, scoring: orderViolationPath(), kernels: kernelsActive() };
}

const api = {
  init,
  trainSteps,
  benchEncoder,
  checkOrderViolation,
  checkLnGru,
  checkLnGruRandom,
  checkLeaks,
  checkDeviceLoss,
  benchScoring,
  benchTopK,
  benchStep,
  benchLnGru,
  benchBackwardTail,
  benchTrainStep,
  kernelState,
  numTensors: () => tf.memory().numTensors,
};

export type KernelsPageApi = typeof api;

declare global {
  interface Window {
    kernelsPage: KernelsPageApi;
  }
}

window.kernelsPage = api;
document.body.dataset.ready = '1';
