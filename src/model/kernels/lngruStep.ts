/**
 * The (LN-)GRU recurrent step as composite tfjs ops: the reference path, used on every backend but
 * webgpu (where ./lngruStep.wgsl.ts fuses the same step into one kernel). Equations (torch.nn.GRU gate
 * order r, z, n; layer norm of Ba, Kiros & Hinton 2016 with r and z sharing one mean and variance):
 *
 *   LN(v)  = (v - mean(v)) / sqrt(var(v) + 1e-5) * gain + shift          (biased variance)
 *   gi'    = [LN(gi[:2H]), LN(gi[2H:])]     gh' = [LN(gh[:2H]), LN(gh[2H:])]     (plain GRU: gi, gh)
 *   r, z   = sigmoid(gi'[:2H] + gh'[:2H])
 *   n      = tanh(gi'[2H:] + r * gh'[2H:])
 *   h~     = z * h_prev + (1 - z) * n
 *   h      = m ? h~ : h_prev                y = m ? h~ : 0                 (m = t < length)
 *
 * with gi = W_ih x + b_ih and gh = W_hh h_prev + b_hh. The matrix products stay in the caller
 * (../gru.ts), which also owns the loop over time.
 */
import * as tf from '../tf';
import { splitCols, sumRows, tanh } from '../ops';

/** The epsilon inside the layer norm's square root. */
export const LN_EPS = 1e-5;

/** Layer-norm statistics of one [R, 3H] pre-activation, kept for the backward pass. */
export interface LnCache {
  /** Normalized values before gain and shift [R, 3H]. */
  xhat: tf.Tensor2D;
  /** 1 / sqrt(var + eps) per row and group (rz, n) [R, 2]. */
  rstd: tf.Tensor2D;
}

/**
 * Group indicator matrices for a layer norm over the groups [:2H] and [2H:] of a [R, 3H] row:
 * statistics per group are then two small matrix products (fast on every backend).
 */
export interface LnGroups {
  /** [3H, 2]: 1 / group size inside the group. */
  mean: tf.Tensor2D;
  /** [2, 3H]: 1 inside the group. */
  bcast: tf.Tensor2D;
}

export function makeLnGroups(H: number): LnGroups {
  const mean = new Float32Array(3 * H * 2);
  const bcast = new Float32Array(2 * 3 * H);
  for (let j = 0; j < 3 * H; j++) {
    const g = j < 2 * H ? 0 : 1;
    mean[j * 2 + g] = 1 / (g === 0 ? 2 * H : H);
    bcast[g * 3 * H + j] = 1;
  }
  return { mean: tf.tensor2d(mean, [3 * H, 2]), bcast: tf.tensor2d(bcast, [2, 3 * H]) };
}

/** LN statistics of v [R, 3H] over the groups [:2H] and [2H:]. */
export function lnStats(v: tf.Tensor2D, groups: LnGroups): LnCache {
  return tf.tidy(() => {
    const mean = tf.matMul(tf.matMul(v, groups.mean), groups.bcast); // [R, 2] -> [R, 3H]
    const d = v.sub(mean);
    const rstd = tf.rsqrt(tf.matMul(d.square() as tf.Tensor2D, groups.mean).add(LN_EPS)) as tf.Tensor2D; // [R, 2]
    return { xhat: d.mul(tf.matMul(rstd, groups.bcast)) as tf.Tensor2D, rstd };
  });
}

/**
 * Backward of out = xhat * gain + shift with xhat = LN statistics of v, per group:
 * dv = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = dout * gain.
 */
export function lnBackward(
  dout: tf.Tensor2D,
  c: LnCache,
  gain: tf.Tensor,
  groups: LnGroups,
): { dx: tf.Tensor2D; dgain: tf.Tensor1D; dshift: tf.Tensor1D } {
  return tf.tidy(() => {
    const dxhat = dout.mul(gain) as tf.Tensor2D;
    const groupMean = (a: tf.Tensor2D) => tf.matMul(tf.matMul(a, groups.mean), groups.bcast); // [R, 3H]
    const dx = dxhat
      .sub(groupMean(dxhat))
      .sub(c.xhat.mul(groupMean(dxhat.mul(c.xhat) as tf.Tensor2D)))
      .mul(tf.matMul(c.rstd, groups.bcast)) as tf.Tensor2D;
    return { dx, dgain: sumRows(dout.mul(c.xhat) as tf.Tensor2D), dshift: sumRows(dout) };
  });
}

/** Hidden-side layer norm of the LN-GRU: gain and shift [3H] and the group matrices. */
export interface HiddenLn {
  gain: tf.Tensor;
  shift: tf.Tensor;
  groups: LnGroups;
}

/** What one composite step keeps for its backward pass. */
export interface StepCache {
  mask: tf.Tensor2D; // [B, 1]
  hPrev: tf.Tensor2D; // [B, H]
  r: tf.Tensor2D; // [B, H]
  z: tf.Tensor2D; // [B, H]
  n: tf.Tensor2D; // [B, H]
  ghN: tf.Tensor2D; // gh'[2H:] [B, H]
  ln?: LnCache; // LN statistics of gh (LN-GRU only)
}

/**
 * One step forward after the matrix products.
 * @param gi    gi' of this step [B, 3H] (input side, already normalized for the LN-GRU)
 * @param gh    W_hh h_prev + b_hh [B, 3H]
 * @param hPrev [B, H]
 * @param mask  [B, 1], 1 where the step is real
 * @param ln    hidden-side layer norm, or null for the plain GRU
 * @returns the new state h [B, H], the unmasked candidate output h~ [B, H], and the step cache
 */
export function lngruStepForward(
  gi: tf.Tensor2D,
  gh: tf.Tensor2D,
  hPrev: tf.Tensor2D,
  mask: tf.Tensor2D,
  ln: HiddenLn | null,
): { h: tf.Tensor2D; hNew: tf.Tensor2D; cache: StepCache } {
  const H = hPrev.shape[1];
  return tf.tidy(() => {
    let ghn = gh;
    let lnc: LnCache | undefined;
    if (ln) {
      lnc = lnStats(gh, ln.groups);
      ghn = lnc.xhat.mul(ln.gain).add(ln.shift);
    }
    const [giRZ, giN] = splitCols(gi, 2 * H); // [B, 2H], [B, H]
    const [ghRZ, ghN] = splitCols(ghn, 2 * H);
    const [r, z] = splitCols(tf.sigmoid(giRZ.add(ghRZ)) as tf.Tensor2D, H); // [B, H] each
    const n = tanh(giN.add(r.mul(ghN)) as tf.Tensor2D); // [B, H]
    const hNew = n.add(z.mul(hPrev.sub(n))) as tf.Tensor2D; // z*h + (1-z)*n
    const h = hPrev.add(hNew.sub(hPrev).mul(mask)) as tf.Tensor2D;
    const cache: StepCache = { mask, hPrev, r, z, n, ghN, ln: lnc };
    return { h, hNew, cache } as unknown as tf.TensorContainer;
  }) as unknown as { h: tf.Tensor2D; hNew: tf.Tensor2D; cache: StepCache };
}

/**
 * One step backward, up to (not including) the recurrent product: given dh = d loss / d h_t and
 * dy = d loss / d y_t, returns d gi' [B, 3H], d gh [B, 3H] (before the hidden-side LN, i.e. for
 * W_hh h + b_hh), the part of d h_prev that does not go through W_hh [B, H], and the hidden-side LN
 * gain/shift gradients of this step. The caller adds d gh @ W_hh to dhPrev.
 */
export function lngruStepBackward(
  dh: tf.Tensor2D,
  dy: tf.Tensor2D | null,
  c: StepCache,
  ln: HiddenLn | null,
): {
  dgi: tf.Tensor2D;
  dgh: tf.Tensor2D;
  dhPrev: tf.Tensor2D;
  lnGrads?: { dgain: tf.Tensor1D; dshift: tf.Tensor1D };
} {
  const { mask: m, hPrev, r, z, n, ghN } = c;
  return tf.tidy(() => {
    // h_t = h_prev + m * (h~ - h_prev); y_t = m * h~
    let dhNew = dh.mul(m) as tf.Tensor2D;
    if (dy) dhNew = dhNew.add(dy.mul(m));
    let dhPrev = dh.sub(dh.mul(m)) as tf.Tensor2D; // (1 - m) * dh
    // h~ = n + z * (h_prev - n)
    dhPrev = dhPrev.add(dhNew.mul(z));
    const dn = dhNew.sub(dhNew.mul(z)); // dh~ * (1 - z)
    const dz = dhNew.mul(hPrev.sub(n));
    // n = tanh(gi'_n + r * gh'_n)
    const dan = dn.mul(tf.scalar(1).sub(n.square())); // [B, H]
    const dr = dan.mul(ghN);
    // r, z = sigmoid(.)
    const daRZ = tf.concat([dr.mul(r.mul(tf.scalar(1).sub(r))), dz.mul(z.mul(tf.scalar(1).sub(z)))], 1); // [B, 2H]
    const dgi = tf.concat([daRZ, dan], 1) as tf.Tensor2D; // d gi' [B, 3H]
    let dgh = tf.concat([daRZ, dan.mul(r)], 1) as tf.Tensor2D; // d gh' [B, 3H]
    let lnGrads: { dgain: tf.Tensor1D; dshift: tf.Tensor1D } | undefined;
    if (ln && c.ln) {
      const g = lnBackward(dgh, c.ln, ln.gain, ln.groups);
      lnGrads = { dgain: g.dgain, dshift: g.dshift };
      dgh = g.dx;
    }
    return { dgi, dgh, dhPrev, lnGrads } as unknown as tf.TensorContainer;
  }) as unknown as {
    dgi: tf.Tensor2D;
    dgh: tf.Tensor2D;
    dhPrev: tf.Tensor2D;
    lnGrads?: { dgain: tf.Tensor1D; dshift: tf.Tensor1D };
  };
}
