/**
 * The timings behind `npm run bench:kernels` (scripts/bench-kernels.ts): the WGSL kernels against the
 * composite tfjs ops they replace (scoring, top-k, the LN-GRU step and its backward, a whole training
 * step) and the image encoders, each the median of a few runs after a warm-up. Exposed through
 * ./kernels-page.ts.
 */
import * as tf from '../src/model/tf';
import {
  browserModelLoader,
  decodeImageBlob,
  ENCODER_PRESETS,
  extractFeatures,
  ImageEncoder,
} from '../src/model/encoders';
import { GruLayer, LayerNormGRU, type LnGruPath } from '../src/model/gru';
import {
  lngruStepBackward as compositeStepBackward,
  lngruStepForward as compositeStepForward,
  makeLnGroups,
} from '../src/model/kernels/lngruStep';
import {
  lngruStepBackward as kernelStepBackward,
  lngruStepForward as kernelStepForward,
  packLnGruParams,
  lnInputBackward,
} from '../src/model/kernels/lngruStep.wgsl';
import { orderViolationTopKWebGPU } from '../src/model/kernels/orderViolation.wgsl';
import { kernelsActive, setKernelsEnabled } from '../src/model/kernels/webgpu';
import { orderViolation, orderViolationTopK, scores, type OrderViolationPath } from '../src/model/scoring';
import { OrderEmbeddingModel } from '../src/model/model';
import { contrastiveLoss } from '../src/model/loss';
import { l2normalize, sumRows } from '../src/model/ops';

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
export async function benchScoring(s: {
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
export async function benchTopK(s: {
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
export async function benchStep(s: { B: number; H: number; reps: number }) {
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
export async function benchLnGru(s: { T: number; B: number; D: number; H: number; reps: number }) {
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
export async function benchBackwardTail(s: { T: number; B: number; H: number; D: number; reps: number }) {
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
 * model.lossAndGrads (../src/model/model.ts) op for op, except that the loss is read back asynchronously
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
export async function benchTrainStep(s: {
  T: number;
  B: number;
  H: number;
  reps: number;
  kernels: boolean[];
}) {
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
export async function benchEncoder(s: { preset: string; photos: number[][]; crops: 1 | 10; reps: number }) {
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
