/**
 * LN-GRU timings behind `npm run bench:kernels`: one step after the matrix products (forward and
 * backward), the whole forward + backward over T steps, and where the kernel path's backward spends its
 * time after the step loop, each kernel vs composite. Exposed through ./kernel-timings.ts.
 */
import * as tf from '../src/model/tf';
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
import { kernelsActive } from '../src/model/kernels/webgpu';
import { sumRows } from '../src/model/ops';
import { settle, time } from './timing';

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
