/**
 * The LN-GRU's steps with the WGSL kernels on the webgpu backend with a live device (./gru.ts,
 * 'webgpu-kernel'): after the matrix products, one dispatch per step forward and two per step backward
 * (./kernels/lngruStep.wgsl.ts). The cache keeps pre-activations and states; the backward kernels
 * recompute gates and statistics from them.
 */
import * as tf from './tf';
import { PassTensors, runToEnd, sumRows } from './ops';
import {
  lnInputBackward,
  lnInputForward,
  lngruStepBackward as kernelStepBackward,
  lngruStepForward as kernelStepForward,
  packLnGruParams,
} from './kernels/lngruStep.wgsl';
import type { GruForward, GruGrads, GruParamName, GruParts, GruCache } from './gru-cache';
import { inputGrads, maskData } from './gru-composite';

/** LN-GRU forward with the WGSL step kernels (webgpu); same results as `forwardComposite`. */
export function forwardKernel(
  layer: GruParts,
  x: tf.Tensor3D,
  lengths: ArrayLike<number>,
  opts: { outputs?: boolean; cache?: boolean },
): GruForward {
  const [T, B, D] = x.shape;
  const H = layer.hiddenSize;
  const p = layer.vars as Record<GruParamName, tf.Variable>;
  return tf.tidy(() => {
    const xRows = x.reshape([T * B, D]) as tf.Tensor2D; // [T*B, D]
    const wihT = p.weight_ih.transpose() as tf.Tensor2D; // [D, 3H]
    const whhT = p.weight_hh.transpose() as tf.Tensor2D; // [H, 3H]
    const params = packLnGruParams(p); // [6, 3H]
    const len = tf.tensor1d(Int32Array.from(lengths), 'int32'); // [B]
    // Input side for all steps: the product, then bias + LN in one dispatch.
    const giRaw = tf.matMul(xRows, wihT) as tf.Tensor2D; // [T*B, 3H]
    const gi = lnInputForward(giRaw, params); // [T*B, 3H]
    let h = tf.zeros([B, H]) as tf.Tensor2D;
    const hs: tf.Tensor2D[] = [];
    const hPrev: tf.Tensor2D[] = [];
    const ghs: tf.Tensor2D[] = [];
    for (let t = 0; t < T; t++) {
      const gh = tf.matMul(h, whhT) as tf.Tensor2D; // [B, 3H]; b_hh is added in the kernel
      const next = kernelStepForward(gi, gh, h, len, params, t); // [B, H]
      hPrev.push(h);
      ghs.push(gh);
      hs.push(next);
      h = next;
    }
    const out: GruForward = { hN: h };
    if (opts.outputs) {
      // y_t = m_t h~_t = m_t h_t (a real step's state is its candidate).
      const m = tf.tensor3d(maskData(lengths, T), [T, B, 1]);
      out.y = tf.stack(hs).mul(m) as tf.Tensor3D; // [T, B, H]
    }
    if (opts.cache) {
      out.cache = {
        T,
        B,
        x: xRows,
        path: 'webgpu-kernel',
        steps: [],
        kernel: { giRaw, gi, lengths: len, hostLengths: Int32Array.from(lengths), params, hPrev, gh: ghs },
      };
    }
    return out as unknown as tf.TensorContainer;
  }) as unknown as GruForward;
}

/** LN-GRU BPTT with the WGSL step kernels: two dispatches and one product per step. */
export function backwardKernel(
  layer: GruParts,
  cache: GruCache,
  dy: tf.Tensor3D | null,
  dhN: tf.Tensor2D,
): GruGrads {
  const { T, B } = cache;
  const H = layer.hiddenSize;
  const k = cache.kernel;
  if (!k) throw new Error('GRU backward: the cache says webgpu-kernel but holds no kernel values');
  const p = layer.vars as Record<GruParamName, tf.Variable>;
  return tf.tidy(() => {
    // m_t dy_t per step [B, H]: the kernels take d h_t + m_t dy_t as one input.
    const dyMasked = dy ? tf.unstack(dy.mul(tf.tensor3d(maskData(k.hostLengths, T), [T, B, 1]))) : null;
    const common = { gi: k.gi, lengths: k.lengths, params: k.params, batch: B };
    const dhs: tf.Tensor2D[] = new Array(T);
    const dghs: tf.Tensor2D[] = new Array(T);
    let dh: tf.Tensor2D = dhN;
    for (let t = T - 1; t >= 0; t--) {
      dhs[t] = dyMasked ? (dh.add(dyMasked[t]) as tf.Tensor2D) : dh;
      const step = { ...common, gh: k.gh[t], hPrev: k.hPrev[t], dh: dhs[t], rowBase: t * B };
      dghs[t] = kernelStepBackward('dgh', step); // [B, 3H]
      if (t > 0) {
        const mm = tf.matMul(dghs[t], p.weight_hh as tf.Tensor2D) as tf.Tensor2D; // [B, 3H] @ [3H, H]
        dh = kernelStepBackward('dhPrev', { ...step, mm }); // [B, H]
      }
    }
    // All steps at once from here: rows t*B + b.
    const hPrevRows = tf.concat(k.hPrev) as tf.Tensor2D; // [T*B, H]
    const all = {
      ...common,
      gh: tf.concat(k.gh) as tf.Tensor2D,
      hPrev: hPrevRows,
      dh: tf.concat(dhs) as tf.Tensor2D,
      rowBase: 0,
    };
    const dGIn = kernelStepBackward('dgi', all); // d gi' [T*B, 3H]
    const lnh = sumRows(kernelStepBackward('dlnh', all)); // [6H]: d gain_hh, d shift_hh
    const dGH = tf.concat(dghs) as tf.Tensor2D; // [T*B, 3H]
    const grads: GruGrads['params'] = {};
    grads.weight_hh = tf.matMul(dGH.transpose(), hPrevRows); // [3H, T*B] @ [T*B, H]
    grads.bias_hh = sumRows(dGH);
    grads.ln_weight_hh = lnh.slice(0, 3 * H);
    grads.ln_bias_hh = lnh.slice(3 * H, 3 * H);
    grads.ln_weight_ih = sumRows(lnInputBackward('dgain', k.giRaw, k.params, dGIn));
    grads.ln_bias_ih = sumRows(dGIn);
    const dGI = lnInputBackward('dx', k.giRaw, k.params, dGIn); // [T*B, 3H]
    return runToEnd(inputGrads(layer, cache, dGI, grads, new PassTensors())) as unknown as tf.TensorContainer;
  }) as unknown as GruGrads;
}
