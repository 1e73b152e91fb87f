/**
 * The checks behind the browser tests of the WGSL kernels (tests/e2e/kernels.e2e.test.ts) and of the
 * on-device training step (tests/e2e/device-step.e2e.test.ts): each runs the kernels and the composite
 * tfjs ops they replace on this page's backend and returns the differences (against the reference
 * vectors where there are some), tensor counts, or the losses of a few training steps; the tests
 * assert on what they return. Exposed through ./kernels-page.ts.
 */
import * as tf from '../src/model/tf';
import { GruLayer, LayerNormGRU, type LnGruPath } from '../src/model/gru';
import type { GruVectorInput, GruVectorOutput } from '../src/model/gru-vectors';
import { orderViolationWebGPU } from '../src/model/kernels/orderViolation.wgsl';
import {
  deviceLimits,
  kernelState,
  onKernelStateChange,
  overrideLimits,
  setKernelsEnabled,
  type KernelState,
} from '../src/model/kernels/webgpu';
import {
  orderViolation,
  orderViolationPath,
  orderViolationTopK,
  type OrderViolationPath,
} from '../src/model/scoring';
import { Trainer, TrainingDivergedError } from '../src/model/trainer';
import { TrainingDriver } from '../src/model/driver';
import { makeSyntheticDataset } from '../src/model/synthetic';
import type { StepResult } from '../src/model/types';

type Nested = number | Nested[];

/** max |a - b| over two tensors of the same shape (reads back asynchronously). */
async function maxDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const d = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))));
  const v = (await d.data())[0];
  d.dispose();
  return v;
}

/** max |a - b| over nested arrays. */
function maxDiffNested(a: Nested, b: Nested): number {
  if (typeof a === 'number' || typeof b === 'number') return Math.abs((a as number) - (b as number));
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, maxDiffNested(a[i], b[i]));
  return a.length === b.length ? m : Infinity;
}

interface OrderRef {
  images: number[][];
  captions: number[][];
  E: number[][];
}

/** Energies vs order_violation.json, kernel vs composite values and gradients, top-k both ways. */
export async function checkOrderViolation(ref: OrderRef, shape: { N: number; M: number; D: number }) {
  const out: Record<string, number | boolean | string> = { path: orderViolationPath() };
  const [refIm, refCap] = [tf.tensor2d(ref.images), tf.tensor2d(ref.captions)];
  const Eref = orderViolation(refIm, refCap);
  out.refE = maxDiffNested((await Eref.array()) as Nested, ref.E);
  tf.dispose([Eref, refIm, refCap]);
  const { N, M, D } = shape;
  const im = tf.randomUniform([N, D], 0, 1, 'float32', 1) as tf.Tensor2D;
  const cap = tf.randomUniform([M, D], 0, 1, 'float32', 2) as tf.Tensor2D;
  const w = tf.randomNormal([N, M], 0, 1, 'float32', 3);
  const run = (path: OrderViolationPath) => {
    const f = (a: tf.Tensor, b: tf.Tensor) =>
      orderViolation(a as tf.Tensor2D, b as tf.Tensor2D, { path })
        .mul(w)
        .sum();
    return [orderViolation(im, cap, { path }), ...tf.grads(f)([im, cap])];
  };
  const k = run('webgpu-kernel');
  const c = run('composite');
  out.E = await maxDiff(k[0], c[0]);
  out.dIm = await maxDiff(k[1], c[1]);
  out.dCap = await maxDiff(k[2], c[2]);
  out.Emax = (await tf.max(c[0]).data())[0];
  // Top-k, blocks smaller than the gallery so that the merge across blocks is exercised.
  for (const by of ['image', 'caption'] as const) {
    const [q, g] = by === 'image' ? [im, cap] : [cap, im];
    const a = orderViolationTopK(q, g, 5, { by, blockRows: 7, path: 'webgpu-kernel' });
    const b = orderViolationTopK(q, g, 5, { by, blockRows: 1000, path: 'composite' });
    out[`topk_${by}_energies`] = await maxDiff(a.energies, b.energies);
    const ia = Array.from(await a.indices.data());
    const ib = Array.from(await b.indices.data());
    out[`topk_${by}_indices_equal`] = ia.every((v, i) => v === ib[i]);
    tf.dispose([a.energies, a.indices, b.energies, b.indices]);
  }
  // Shapes split into several dispatches (a pretend limit of 2 workgroups per dimension).
  overrideLimits({ maxComputeWorkgroupsPerDimension: 2 });
  try {
    const Ec = orderViolationWebGPU(im, cap);
    out.chunkedE = await maxDiff(Ec, c[0]);
    const [gi, gc] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      orderViolationWebGPU(a as tf.Tensor2D, b as tf.Tensor2D)
        .mul(w)
        .sum(),
    )([im, cap]);
    out.chunkedDIm = await maxDiff(gi, c[1]);
    out.chunkedDCap = await maxDiff(gc, c[2]);
    tf.dispose([Ec, gi, gc]);
  } finally {
    overrideLimits(null);
  }
  // A result above one storage binding is refused with a message (nothing is allocated).
  const big = [Math.floor(deviceLimits().maxStorageBufferBindingSize / 4 / 5000) + 1, 5000];
  const [bigIm, bigCap] = [tf.zeros([big[0], 2]) as tf.Tensor2D, tf.zeros([big[1], 2]) as tf.Tensor2D];
  try {
    orderViolationWebGPU(bigIm, bigCap);
    out.refusal = 'not refused';
  } catch (e) {
    out.refusal = (e as Error).message;
  }
  tf.dispose([bigIm, bigCap]);
  tf.dispose([im, cap, w, ...k, ...c]);
  return out;
}

/**
 * runGruVector (../src/model/gru-vectors.ts) with asynchronous reads: tfjs's synchronous read-back on the
 * webgpu backend goes through canvases and is not dependable in a page (it can take the device down).
 */
async function runGruVectorAsync(input: GruVectorInput): Promise<GruVectorOutput> {
  const [T, B, D] = [input.x.length, input.x[0].length, input.x[0][0].length];
  const H = input.w_h[0].length;
  const layer = new LayerNormGRU(D, H);
  try {
    layer.importTorch(input.params);
    const x = tf.tensor3d(input.x, [T, B, D]);
    const wOut = tf.tensor3d(input.w_out, [T, B, H]);
    const wH = tf.tensor2d(input.w_h, [B, H]);
    const fwd = layer.forward(x, input.lengths, { outputs: true, cache: true });
    const loss = tf.tidy(() => fwd.y!.mul(wOut).sum().add(fwd.hN.mul(wH).sum()));
    const g = layer.backward(fwd.cache!, wOut, wH);
    GruLayer.disposeCache(fwd.cache!);
    const grads: Record<string, unknown> = { x: await g.x.array() };
    for (const name of layer.paramNames) grads[name] = await g.params[name]!.array();
    const out = { y: await fwd.y!.array(), h_n: await fwd.hN.array(), loss: (await loss.data())[0], grads };
    tf.dispose([x, wOut, wH, fwd.y!, fwd.hN, loss, g.x, ...Object.values(g.params)] as tf.Tensor[]);
    return out as GruVectorOutput;
  } finally {
    layer.dispose();
  }
}

/** lngru.json through the kernel path and the composite path on the same backend. */
export async function checkLnGru(
  ref: GruVectorInput & { y: Nested; h_n: Nested; loss: number; grads: Record<string, Nested> },
) {
  const compare = (o: GruVectorOutput) => {
    const d: Record<string, number> = {
      y: maxDiffNested(o.y, ref.y),
      h_n: maxDiffNested(o.h_n, ref.h_n),
      loss: Math.abs(o.loss - ref.loss),
    };
    for (const k of Object.keys(ref.grads))
      d[`grad_${k}`] = maxDiffNested(o.grads[k] as Nested, ref.grads[k]);
    return d;
  };
  const probe = new LayerNormGRU(2, 2);
  const path: LnGruPath = probe.path;
  probe.dispose();
  const kernel = compare(await runGruVectorAsync(ref));
  setKernelsEnabled(false);
  let composite: Record<string, number>;
  try {
    composite = compare(await runGruVectorAsync(ref));
  } finally {
    setKernelsEnabled(true);
  }
  return { path, kernel, composite };
}

/** Random LN-GRU with random gains/shifts, kernel vs composite: outputs and every gradient. */
export async function checkLnGruRandom(s: { T: number; B: number; D: number; H: number }) {
  const g = new LayerNormGRU(s.D, s.H, 3);
  for (const n of ['ln_weight_ih', 'ln_bias_ih', 'ln_weight_hh', 'ln_bias_hh'] as const) {
    g.vars[n]!.assign(tf.randomNormal([3 * s.H], 1, 0.3, 'float32', 7));
  }
  const x = tf.randomNormal([s.T, s.B, s.D], 0, 1, 'float32', 5) as tf.Tensor3D;
  const lengths = Array.from({ length: s.B }, (_, b) => 1 + ((b * 7) % s.T));
  const wOut = tf.randomNormal([s.T, s.B, s.H], 0, 1, 'float32', 9) as tf.Tensor3D;
  const wH = tf.randomNormal([s.B, s.H], 0, 1, 'float32', 10) as tf.Tensor2D;
  const run = (path: LnGruPath) => {
    const f = g.forward(x, lengths, { outputs: true, cache: true, path });
    const gr = g.backward(f.cache!, wOut, wH);
    GruLayer.disposeCache(f.cache!);
    return { y: f.y!, hN: f.hN, dx: gr.x, ...gr.params } as Record<string, tf.Tensor>;
  };
  const k = run('webgpu-kernel');
  const c = run('composite');
  const out: Record<string, number> = {};
  for (const name of Object.keys(c)) out[name] = await maxDiff(k[name], c[name]);
  tf.dispose([...Object.values(k), ...Object.values(c), x, wOut, wH]);
  g.dispose();
  return out;
}

/** Tensor counts around repeated kernel calls (forward, gradients, top-k, LN-GRU forward/backward). */
export async function checkLeaks(rounds = 3) {
  const im = tf.randomUniform([20, 12], 0, 1, 'float32', 1) as tf.Tensor2D;
  const cap = tf.randomUniform([30, 12], 0, 1, 'float32', 2) as tf.Tensor2D;
  const g = new LayerNormGRU(6, 5, 1);
  const x = tf.randomNormal([4, 3, 6]) as tf.Tensor3D;
  const once = async () => {
    const E = orderViolation(im, cap, { path: 'webgpu-kernel' });
    const [a, b] = tf.grads((p: tf.Tensor, q: tf.Tensor) =>
      orderViolation(p as tf.Tensor2D, q as tf.Tensor2D, { path: 'webgpu-kernel' }).sum(),
    )([im, cap]);
    const top = orderViolationTopK(im, cap, 3, { by: 'image', blockRows: 8, path: 'webgpu-kernel' });
    const f = g.forward(x, [4, 2, 1], { cache: true, outputs: true, path: 'webgpu-kernel' });
    const dhN = tf.onesLike(f.hN);
    const gr = g.backward(f.cache!, f.y!, dhN);
    GruLayer.disposeCache(f.cache!);
    await gr.x.data();
    tf.dispose([E, a, b, top.energies, top.indices, f.y!, f.hN, dhN, gr.x, ...Object.values(gr.params)]);
  };
  await once(); // first call compiles and may create cached constants
  const counts: number[] = [];
  for (let i = 0; i < rounds; i++) {
    await once();
    counts.push(tf.memory().numTensors);
  }
  tf.dispose([im, cap, x]);
  g.dispose();
  return counts;
}

/**
 * Destroys tfjs's device (as a lost GPU would) and reports what the app sees: the kernel state, the
 * paths the ops now take, and the warning logged. Leaves the backend unusable: call it last.
 */
export async function checkDeviceLoss() {
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...a: unknown[]) => {
    warnings.push(a.map(String).join(' '));
    warn(...a);
  };
  const seen: KernelState[] = [];
  const off = onKernelStateChange((s) => seen.push(s));
  const before = { state: kernelState().status, scoring: orderViolationPath() };
  const device = (tf.backend() as unknown as { device: GPUDevice }).device;
  device.destroy();
  await device.lost;
  await new Promise((r) => setTimeout(r, 0));
  off();
  console.warn = warn;
  const probe = new LayerNormGRU(2, 2);
  const after = { state: kernelState(), scoring: orderViolationPath(), lngru: probe.path };
  probe.dispose();
  return { before, after, seen, warnings };
}

// ---------------------------------------------------------------------------------------------------
// Benchmarks

/**
 * A few training steps of a small LN-GRU model on the synthetic data, on this page's backend, by the
 * training driver the worker runs (../src/model/driver.ts): Trainer.step on wasm (the synchronous path),
 * Trainer.stepOnDevice on webgpu (clipping on the device, the loss read one step behind, results flushed
 * at the chunk's end). Then, with a huge learning rate, the step at which the run stops as diverged, and
 * whether the weights it keeps are finite. tests/e2e/device-step.e2e.test.ts.
 */
export async function trainSteps(s: { steps: number; clipNorm: number }) {
  const ds = makeSyntheticDataset({ numImages: 60, imageDim: 16, seed: 4 });
  const model = { wordDim: 8, hiddenDim: 16, layerNorm: true };
  const run = async (tr: Trainer, n: number) => {
    const out: StepResult[] = [];
    let error: unknown;
    // One chunk for all the steps: on webgpu only the last result waits for the flush.
    const driver = new TrainingDriver([tr], { steps: n, evalEvery: n, chunkMs: 600_000 });
    await driver.run({
      onStep: (_, r) => out.push(r),
      onStepError: (_, e) => {
        error = e;
      },
    });
    if (error) throw error;
    return out;
  };
  const tr = new Trainer(ds, model, { batchSize: 8, seed: 7, clipNorm: s.clipNorm });
  const onDevice = tr.stepsOnDevice;
  const results = await run(tr, s.steps);
  tr.dispose();
  const wild = new Trainer(ds, model, { batchSize: 8, seed: 3, learningRate: 1e30 });
  let diverged: { step: number; message: string; stepsDone: number; weightsFinite: boolean } | null = null;
  try {
    await run(wild, 10);
  } catch (e) {
    if (!(e instanceof TrainingDivergedError)) throw e;
    let finite = true;
    for (const v of wild.model.variables) finite &&= (await v.data()).every(Number.isFinite);
    diverged = { step: e.step, message: e.message, stepsDone: wild.stepsDone, weightsFinite: finite };
  }
  wild.dispose();
  return {
    backend: tf.getBackend(),
    onDevice,
    steps: results.map((r) => r.step),
    losses: results.map((r) => r.loss),
    gradNorms: results.map((r) => r.gradNorm),
    diverged,
  };
}
