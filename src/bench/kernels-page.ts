/**
 * The page behind kernels.html: the WGSL kernels in a real browser, for the browser tests
 * (tests/e2e/kernels.e2e.test.ts) and the benchmark (scripts/bench-kernels.ts). It only exposes
 * functions on `window.kernelsPage`; the drivers call them through playwright's page.evaluate and
 * assert on (or print) what they return. Nothing here runs by itself.
 */
import * as tf from '../model/tf';
import { initBackend, type BackendName } from '../model/backend';
import {
  browserModelLoader,
  decodeImageBlob,
  ENCODER_PRESETS,
  extractFeatures,
  ImageEncoder,
} from '../model/encoders';
import { GruLayer, LayerNormGRU, type LnGruPath } from '../model/gru';
import type { GruVectorInput, GruVectorOutput } from '../model/gru-vectors';
import {
  lngruStepBackward as compositeStepBackward,
  lngruStepForward as compositeStepForward,
  makeLnGroups,
} from '../model/kernels/lngruStep';
import {
  lngruStepBackward as kernelStepBackward,
  lngruStepForward as kernelStepForward,
  packLnGruParams,
  lnInputBackward,
} from '../model/kernels/lngruStep.wgsl';
import { orderViolationTopKWebGPU, orderViolationWebGPU } from '../model/kernels/orderViolation.wgsl';
import {
  deviceLimits,
  kernelState,
  kernelsActive,
  onKernelStateChange,
  overrideLimits,
  setKernelsEnabled,
  type KernelState,
} from '../model/kernels/webgpu';
import {
  orderViolation,
  orderViolationPath,
  orderViolationTopK,
  scores,
  type OrderViolationPath,
} from '../model/scoring';
import { OrderEmbeddingModel } from '../model/model';
import { Trainer, TrainingDivergedError } from '../model/trainer';
import { TrainingDriver } from '../model/driver';
import { makeSyntheticDataset } from '../model/synthetic';
import type { StepResult } from '../model/types';
import { contrastiveLoss } from '../model/loss';
import { l2normalize, sumRows } from '../model/ops';

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

interface OrderRef {
  images: number[][];
  captions: number[][];
  E: number[][];
}

/** Energies vs order_violation.json, kernel vs composite values and gradients, top-k both ways. */
async function checkOrderViolation(ref: OrderRef, shape: { N: number; M: number; D: number }) {
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
 * runGruVector (../model/gru-vectors.ts) with asynchronous reads: tfjs's synchronous read-back on the
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
async function checkLnGru(
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
async function checkLnGruRandom(s: { T: number; B: number; D: number; H: number }) {
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
async function checkLeaks(rounds = 3) {
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
async function checkDeviceLoss() {
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

/** Median wall time of `fn` (ms): one untimed warm-up run, then `reps` runs; `fn` awaits its result. */
async function time(fn: () => Promise<void>, reps: number, label = ''): Promise<number> {
  let t0 = performance.now();
  await fn();
  console.log(`[bench] ${label} warm-up ${(performance.now() - t0).toFixed(0)} ms`);
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    t0 = performance.now();
    await fn();
    ts.push(performance.now() - t0);
    console.log(`[bench] ${label} ${ts[i].toFixed(1)} ms`);
  }
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)];
}

async function settle(t: tf.Tensor | tf.Tensor[]): Promise<void> {
  const ts = Array.isArray(t) ? t : [t];
  await Promise.all(ts.map((x) => x.data()));
  tf.dispose(ts);
}

/**
 * Scoring N x M at D, forward energies (and forward + both gradients), per path. A path in
 * `partialRows` is timed on its first rows of images only and scaled by N / rows (the composite path
 * works one image row per chunk at these sizes, so its time is linear in N); the result names it.
 */
async function benchScoring(s: {
  N: number;
  M: number;
  D: number;
  reps: number;
  grads?: boolean;
  paths: OrderViolationPath[];
  partialRows?: Partial<Record<OrderViolationPath, number>>;
}) {
  const im = tf.randomUniform([s.N, s.D], 0, 1 / Math.sqrt(s.D), 'float32', 1) as tf.Tensor2D;
  const cap = tf.randomUniform([s.M, s.D], 0, 1 / Math.sqrt(s.D), 'float32', 2) as tf.Tensor2D;
  const out: Record<string, number> = {};
  for (const path of s.paths) {
    const rows = Math.min(s.N, s.partialRows?.[path] ?? s.N);
    const q = rows === s.N ? im : im.slice([0, 0], [rows, s.D]);
    const scale = s.N / rows;
    const tag = rows === s.N ? path : `${path}~${rows}rows`;
    out[`${tag}_fwd`] =
      scale * (await time(() => settle(orderViolation(q, cap, { path })), s.reps, `${tag}_fwd`));
    if (s.grads) {
      const f = (a: tf.Tensor, b: tf.Tensor) =>
        orderViolation(a as tf.Tensor2D, b as tf.Tensor2D, { path }).sum();
      out[`${tag}_fwdbwd`] =
        scale * (await time(() => settle(tf.grads(f)([q, cap])), s.reps, `${tag}_fwdbwd`));
    }
    if (q !== im) q.dispose();
  }
  tf.dispose([im, cap]);
  return out;
}

/**
 * Retrieval: top-10 captions for each of N images over a gallery of M, held as blocks of `blockRows`
 * rows (a 10^5 x 1024 gallery is larger than one storage binding). Paths in `partialBlocks` scan only
 * that many blocks and are scaled to the whole gallery.
 */
async function benchTopK(s: {
  N: number;
  M: number;
  D: number;
  reps: number;
  blockRows: number;
  paths: OrderViolationPath[];
  partialBlocks?: Partial<Record<OrderViolationPath, number>>;
}) {
  const im = tf.randomUniform([s.N, s.D], 0, 1 / Math.sqrt(s.D), 'float32', 1) as tf.Tensor2D;
  const blocks: tf.Tensor2D[] = [];
  for (let j = 0; j < s.M; j += s.blockRows) {
    const m = Math.min(s.blockRows, s.M - j);
    blocks.push(tf.randomUniform([m, s.D], 0, 1 / Math.sqrt(s.D), 'float32', 2 + j) as tf.Tensor2D);
  }
  const out: Record<string, number> = {};
  for (const path of s.paths) {
    const nb = Math.min(blocks.length, s.partialBlocks?.[path] ?? blocks.length);
    const part = blocks.slice(0, nb);
    const rows = part.reduce((a, b) => a + b.shape[0], 0);
    const tag = nb === blocks.length ? path : `${path}~${rows}rows`;
    const ms = await time(
      async () => {
        if (path === 'webgpu-kernel') {
          const r = orderViolationTopKWebGPU(im, part, 10, { by: 'image' });
          await settle([r.energies, r.indices]);
        } else {
          // Per block on this path, then a merge of the per-block top-10s (as orderViolationTopK does).
          const rs = part.map((g) =>
            orderViolationTopK(im, g, 10, { by: 'image', path, blockRows: s.blockRows }),
          );
          const all = tf.concat(
            rs.map((r) => r.energies),
            1,
          );
          const best = tf.topk(all.neg(), 10);
          await settle([best.values, best.indices, all, ...rs.flatMap((r) => [r.energies, r.indices])]);
        }
      },
      s.reps,
      `${tag}_topk`,
    );
    out[`${tag}_topk`] = (ms * s.M) / rows;
  }
  tf.dispose([im, ...blocks]);
  return out;
}

/**
 * One LN-GRU step after the matrix products (forward, and backward up to the recurrent product),
 * kernel vs composite, at batch B and hidden size H.
 */
async function benchStep(s: { B: number; H: number; reps: number }) {
  const { B, H } = s;
  const T = 2;
  const r = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);
  const g = new LayerNormGRU(8, H, 1);
  const v = g.vars as Record<string, tf.Variable>;
  const gi = r([T * B, 3 * H], 1) as tf.Tensor2D;
  const gh = r([B, 3 * H], 2) as tf.Tensor2D;
  const hPrev = r([B, H], 3) as tf.Tensor2D;
  const dh = r([B, H], 4) as tf.Tensor2D;
  const mm = r([B, H], 5) as tf.Tensor2D;
  const lengths = tf.tensor1d(new Int32Array(B).fill(T), 'int32');
  const mask = tf.ones([B, 1]) as tf.Tensor2D;
  const params = packLnGruParams(v as unknown as Parameters<typeof packLnGruParams>[0]);
  const groups = makeLnGroups(H);
  const ln = { gain: v.ln_weight_hh, shift: v.ln_bias_hh, groups };
  const giT = gi.slice([0, 0], [B, 3 * H]) as tf.Tensor2D;
  const out: Record<string, number> = {};
  const step = { gi, gh, hPrev, lengths, params, dh, batch: B, rowBase: 0 };
  out.kernel_fwd = await time(
    () => settle(kernelStepForward(gi, gh, hPrev, lengths, params, 0)),
    s.reps,
    'step kernel_fwd',
  );
  out.kernel_bwd = await time(
    () => settle([kernelStepBackward('dgh', step), kernelStepBackward('dhPrev', { ...step, mm })]),
    s.reps,
    'step kernel_bwd',
  );
  out.composite_fwd = await time(
    async () => {
      const f = tf.tidy(() => {
        const o = compositeStepForward(giT, gh.add(v.bias_hh) as tf.Tensor2D, hPrev, mask, ln);
        return [o.h, o.cache.r, o.cache.z, o.cache.n, o.cache.ghN, o.cache.ln!.xhat, o.cache.ln!.rstd];
      });
      await settle(f);
    },
    s.reps,
    'step composite_fwd',
  );
  const cache = compositeStepForward(giT, gh.add(v.bias_hh) as tf.Tensor2D, hPrev, mask, ln).cache;
  out.composite_bwd = await time(
    async () => {
      const b = tf.tidy(() => {
        const o = compositeStepBackward(dh, null, cache, ln);
        return [o.dgi, o.dgh, o.dhPrev.add(mm), o.lnGrads!.dgain, o.lnGrads!.dshift];
      });
      await settle(b);
    },
    s.reps,
    'step composite_bwd',
  );
  tf.dispose([gi, gh, hPrev, dh, mm, lengths, mask, params, groups.mean, groups.bcast, giT]);
  g.dispose();
  return out;
}

/** LN-GRU forward + backward over T steps (matrix products included), kernel vs composite. */
async function benchLnGru(s: { T: number; B: number; D: number; H: number; reps: number }) {
  const g = new LayerNormGRU(s.D, s.H, 1);
  const x = tf.randomNormal([s.T, s.B, s.D]) as tf.Tensor3D;
  const lengths = Array.from({ length: s.B }, (_, b) => s.T - (b % 3));
  const dhN = tf.randomNormal([s.B, s.H]) as tf.Tensor2D;
  const out: Record<string, number> = {};
  for (const path of ['webgpu-kernel', 'composite'] as LnGruPath[]) {
    if (path === 'webgpu-kernel' && !kernelsActive()) continue;
    // The forward alone (keeping the cache, as training does), to split the time into its two halves.
    out[`${path}_fwd`] = await time(
      async () => {
        const f = g.forward(x, lengths, { cache: true, path });
        await settle(f.hN);
        GruLayer.disposeCache(f.cache!);
      },
      s.reps,
      `lngru ${path} forward`,
    );
    out[`${path}_fwdbwd`] = await time(
      async () => {
        const f = g.forward(x, lengths, { cache: true, path });
        const gr = g.backward(f.cache!, null, dhN);
        GruLayer.disposeCache(f.cache!);
        await settle([f.hN, gr.x, ...(Object.values(gr.params) as tf.Tensor[])]);
      },
      s.reps,
      `lngru ${path}`,
    );
  }
  tf.dispose([x, dhN]);
  g.dispose();
  return out;
}

/**
 * Where the kernel path's LN-GRU backward spends its time after the step loop, at T x B rows: the
 * all-rows kernels ('dgi', 'dlnh', the input-side LN backward) and the column sums (sumRows) and
 * products that follow them. ms per piece, medians of `reps`.
 */
async function benchBackwardTail(s: { T: number; B: number; H: number; D: number; reps: number }) {
  const { T, B, H, D } = s;
  const R = T * B;
  const r = (shape: [number, number], seed: number) =>
    tf.randomNormal(shape, 0, 1, 'float32', seed) as tf.Tensor2D;
  const g = new LayerNormGRU(D, H, 1);
  const params = packLnGruParams(g.vars as unknown as Parameters<typeof packLnGruParams>[0]);
  const gi = r([R, 3 * H], 1);
  const gh = r([R, 3 * H], 2);
  const hPrev = r([R, H], 3);
  const dh = r([R, H], 4);
  const dgi = r([R, 3 * H], 5);
  const wide = r([R, 6 * H], 6);
  const x = r([R, D], 7);
  const lengths = tf.tensor1d(new Int32Array(B).fill(T), 'int32');
  const all = { gi, gh, hPrev, lengths, params, dh, batch: B, rowBase: 0 };
  const out: Record<string, number> = {};
  const t = async (name: string, fn: () => tf.Tensor | tf.Tensor[]) => {
    out[name] = await time(() => settle(fn()), s.reps, `tail ${name}`);
  };
  await t('dgi', () => kernelStepBackward('dgi', all));
  await t('dlnh', () => kernelStepBackward('dlnh', all));
  await t('lnInputBackward_dx', () => lnInputBackward('dx', gi, params, dgi));
  await t('lnInputBackward_dgain', () => lnInputBackward('dgain', gi, params, dgi));
  await t('sumRows_6H', () => sumRows(wide));
  await t('sumRows_3H', () => sumRows(dgi));
  await t('sum_axis0_3H', () => dgi.sum(0));
  await t('concat_T_steps_3H', () => tf.concat(tf.split(dgi, T)));
  await t('matMul_dWhh', () => tf.matMul(dgi.transpose(), hPrev));
  await t('matMul_dWih', () => tf.matMul(x.transpose(), dgi).transpose());
  await t('matMul_dx', () => tf.matMul(dgi, g.vars.weight_ih as tf.Tensor2D));
  await t('matMul_step_bwd', () => tf.matMul(dgi.slice([0, 0], [B, 3 * H]), g.vars.weight_hh as tf.Tensor2D));
  await t('matMul_step_fwd', () =>
    tf.matMul(hPrev.slice([0, 0], [B, H]), (g.vars.weight_hh as tf.Tensor2D).transpose()),
  );
  tf.dispose([params, gi, gh, hPrev, dh, dgi, wide, x, lengths]);
  g.dispose();
  return out;
}

/**
 * model.lossAndGrads (../model/model.ts) op for op, except that the loss is read back asynchronously
 * by the caller: its `dataSync()` goes through tfjs's synchronous WebGPU read-back, which loses the
 * device in this page (see runGruVectorAsync). Returns the loss and every gradient.
 */
function trainStep(
  model: OrderEmbeddingModel,
  features: tf.Tensor2D,
  ids: Int32Array,
  lengths: number[],
): tf.Tensor[] {
  const B = lengths.length;
  const T = ids.length / B;
  const { measure, margin, maxViolation, wordDim: W, vocabSize: V } = model.config;
  const x = tf.tidy(() =>
    tf.gather(model.wordEmbedding, tf.tensor1d(ids, 'int32')).reshape([T, B, W]),
  ) as tf.Tensor3D; // [T, B, W]
  const fwd = model.rnn.forward(x, lengths, { cache: true });
  x.dispose();
  const pre = tf.tidy(() =>
    tf.matMul(features, model.imageWeight as tf.Tensor2D).add(model.imageBias),
  ) as tf.Tensor2D; // [B, H]
  const embed = (v: tf.Tensor) => tf.abs(l2normalize(v as tf.Tensor2D)) as tf.Tensor2D; // order embeddings
  const head = (hN: tf.Tensor, imPre: tf.Tensor) =>
    contrastiveLoss(scores(embed(imPre), embed(hN), measure), margin, maxViolation);
  const { value, grads } = tf.valueAndGrads(head)([fwd.hN, pre]);
  const [dhN, dPre] = grads as tf.Tensor2D[];
  const dW = tf.tidy(() => tf.matMul(features.transpose(), dPre)); // [F, B] @ [B, H]
  const db = sumRows(dPre);
  const g = model.rnn.backward(fwd.cache!, null, dhN);
  GruLayer.disposeCache(fwd.cache!);
  const dEmb = tf.tidy(() =>
    tf.scatterND(tf.tensor2d(ids, [T * B, 1], 'int32'), g.x.reshape([T * B, W]), [V, W]),
  );
  tf.dispose([dhN, dPre, pre, fwd.hN, g.x]);
  return [value, dEmb, dW, db, ...(Object.values(g.params) as tf.Tensor[])];
}

/** One training step (LN-GRU forward/backward, scoring, loss, all gradients), kernels on/off. */
async function benchTrainStep(s: { T: number; B: number; H: number; reps: number; kernels: boolean[] }) {
  const V = 2000;
  const model = new OrderEmbeddingModel(
    {
      vocabSize: V,
      wordDim: 300,
      hiddenDim: s.H,
      imageDim: 1024,
      layerNorm: true,
      measure: 'order',
      margin: 0.05,
      maxViolation: false,
    },
    1,
  );
  const features = tf.randomNormal([s.B, 1024]) as tf.Tensor2D;
  const ids = Int32Array.from({ length: s.T * s.B }, (_, i) => (i * 7919) % V);
  const lengths = Array.from({ length: s.B }, (_, b) => s.T - (b % 4));
  const out: Record<string, number> = {};
  for (const on of s.kernels) {
    setKernelsEnabled(on);
    try {
      out[on ? 'kernel' : 'composite'] = await time(
        async () => {
          await settle(trainStep(model, features, ids, lengths));
        },
        s.reps,
        `train ${on ? 'kernel' : 'composite'}`,
      );
    } finally {
      setKernelsEnabled(true);
    }
  }
  features.dispose();
  model.dispose();
  return out;
}

/**
 * Photos per second of an image-encoder preset on this page's backend (the browser's side of
 * `npm run bench:encoders -- --browser`): JPEG bytes in, decoded with createImageBitmap, features out.
 */
async function benchEncoder(s: { preset: string; photos: number[][]; crops: 1 | 10; reps: number }) {
  const preset = ENCODER_PRESETS[s.preset];
  if (!preset) throw new Error(`unknown encoder '${s.preset}'`);
  const base = new URL('./', location.href).href;
  const enc = await ImageEncoder.load(
    preset,
    browserModelLoader({ baseUrl: base, sharedModelsUrl: `${base}shared-models` }),
  );
  try {
    const blobs = s.photos.map((b) => new Blob([new Uint8Array(b)], { type: 'image/jpeg' }));
    const decoded = await Promise.all(blobs.map((b, i) => decodeImageBlob(b, `photo ${i}`)));
    const run = (n: number) =>
      extractFeatures(enc, n, (i) => Promise.resolve(decoded[i]), { crops: s.crops });
    await run(Math.min(2, decoded.length)); // warm-up: compiles shaders / allocates
    const times: number[] = [];
    for (let r = 0; r < s.reps; r++) {
      const t0 = performance.now();
      await run(decoded.length);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const ms = times[Math.floor(times.length / 2)];
    return {
      photosPerSec: decoded.length / (ms / 1000),
      featureDim: enc.featureDim,
      inputSize: enc.preset.inputSize,
    };
  } finally {
    enc.dispose();
  }
}

/**
 * A few training steps of a small LN-GRU model on the synthetic data, on this page's backend, by the
 * training driver the worker runs (../model/driver.ts): Trainer.step on wasm (the synchronous path),
 * Trainer.stepOnDevice on webgpu (clipping on the device, the loss read one step behind, results flushed
 * at the chunk's end). Then, with a huge learning rate, the step at which the run stops as diverged, and
 * whether the weights it keeps are finite. tests/e2e/device-step.e2e.test.ts.
 */
async function trainSteps(s: { steps: number; clipNorm: number }) {
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
