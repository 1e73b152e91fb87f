/**
 * The (LN-)GRU step after the matrix products as plain loops over host memory: the path on the wasm and
 * cpu backends, whose tensor data already lives in host memory (the wasm heap, or JS arrays), as
 * ./lngruStep.wgsl.ts fuses the same step into one dispatch on webgpu. The composite tfjs version
 * (./lngruStep.ts) runs about 30 small ops per step forward and 40 backward, each with a fixed cost of
 * about 0.1 ms on wasm at the playground's size ([64, 768]): at small sizes those, not the products,
 * made the LN-GRU cost 1.3 to 1.7 times the GRU (docs/benchmarks.md). Here a step is one pass over its
 * rows: the caller (../gru.ts) reads W_hh h_prev back once, and these loops do the rest.
 *
 * Equations (as ./lngruStep.ts; torch.nn.GRU gate order r, z, n; layer norm of Ba, Kiros & Hinton 2016,
 * r and z sharing one mean and variance; the plain GRU skips LN):
 *
 *   LN(v)  = (v - mean(v)) / sqrt(var(v) + 1e-5) * gain + shift          (biased variance)
 *   gi'    = [LN(gi[:2H]), LN(gi[2H:])]     gh' = [LN(gh[:2H]), LN(gh[2H:])]
 *   r, z   = sigmoid(gi'[:2H] + gh'[:2H])
 *   n      = tanh(gi'[2H:] + r * gh'[2H:])
 *   h~     = z * h_prev + (1 - z) * n
 *   h      = m ? h~ : h_prev                y = m ? h~ : 0                 (m = t < length)
 *
 * with gi = W_ih x + b_ih, gh = W_hh h_prev + b_hh. Backward, per step (dh~ = m (dh + dy)):
 *
 *   d h_prev (not through W_hh) = (1 - m) dh + z dh~
 *   dn = (1 - z) dh~          da_n = dn (1 - n^2)          dz = (h_prev - n) dh~
 *   da_r = da_n gh'_n r (1 - r)                           da_z = dz z (1 - z)
 *   d gi' = [da_r, da_z, da_n]                            d gh' = [da_r, da_z, r da_n]
 *   LN backward, per group:  dv = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)),  dxhat = dout gain
 *
 * Layout: rows of 3H [r | z | n] (time-major row t * B + b over all steps). Sums run in float64 in a fixed
 * order, so results are the same run to run. Arrays read from tensors (`dataSync`) are never written:
 * on the cpu backend they are the tensor's own storage.
 */
import { LN_EPS } from './lngruStep';

/** Gain and shift [3H] of one layer norm, on the host. */
export interface HostLn {
  gain: Float32Array;
  shift: Float32Array;
}

/**
 * Normalizes v[o + j0 .. o + j1) + bias[j0 .. j1) (one group of one row) into out and xhat at the same
 * offsets; returns 1 / sqrt(var + eps). Two passes for mean and variance, as the composite path.
 */
function normGroup(
  v: Float32Array,
  o: number,
  bias: Float32Array,
  j0: number,
  j1: number,
  ln: HostLn,
  out: Float32Array,
  xhat: Float32Array,
): number {
  const n = j1 - j0;
  let sum = 0;
  for (let j = j0; j < j1; j++) sum += v[o + j] + bias[j];
  const mean = sum / n;
  let sq = 0;
  for (let j = j0; j < j1; j++) {
    const d = v[o + j] + bias[j] - mean;
    sq += d * d;
  }
  const rs = 1 / Math.sqrt(sq / n + LN_EPS);
  const { gain, shift } = ln;
  for (let j = j0; j < j1; j++) {
    const xh = (v[o + j] + bias[j] - mean) * rs;
    xhat[o + j] = xh;
    out[o + j] = xh * gain[j] + shift[j];
  }
  return rs;
}

/**
 * out = LN(v + bias) per row and group [:2H], [2H:] (or v + bias when `ln` is null), for v [R, 3H].
 * With `ln`, xhat [R, 3H] and rstd [R, 2] receive what the backward pass needs.
 */
export function biasLnForward(
  v: Float32Array,
  bias: Float32Array,
  ln: HostLn | null,
  H: number,
  out: Float32Array,
  xhat: Float32Array | null,
  rstd: Float32Array | null,
): void {
  const C = 3 * H;
  const R = v.length / C;
  for (let r = 0; r < R; r++) {
    const o = r * C;
    if (ln && xhat && rstd) {
      rstd[2 * r] = normGroup(v, o, bias, 0, 2 * H, ln, out, xhat);
      rstd[2 * r + 1] = normGroup(v, o, bias, 2 * H, C, ln, out, xhat);
    } else {
      for (let j = 0; j < C; j++) out[o + j] = v[o + j] + bias[j];
    }
  }
}

/** Accumulators of column sums over rows and steps (float64, summed in row order). */
export interface LnGradSums {
  /** d gain: sum of dout * xhat [3H]. */
  gain: Float64Array;
  /** d shift: sum of dout [3H]. */
  shift: Float64Array;
}

/** LN backward of one group of row `o` (see the header), dv into dx; adds to the gain/shift sums. */
function normGroupBackward(
  dout: Float32Array | Float64Array,
  d0: number,
  xhat: Float32Array,
  o: number,
  rs: number,
  gain: Float32Array,
  j0: number,
  j1: number,
  dx: Float32Array,
  sums: LnGradSums,
): void {
  const n = j1 - j0;
  let s1 = 0;
  let s2 = 0;
  for (let j = j0; j < j1; j++) {
    const g = dout[d0 + j];
    const xh = xhat[o + j];
    sums.gain[j] += g * xh;
    sums.shift[j] += g;
    const dxh = g * gain[j];
    s1 += dxh;
    s2 += dxh * xh;
  }
  const m1 = s1 / n;
  const m2 = s2 / n;
  for (let j = j0; j < j1; j++) dx[o + j] = rs * (dout[d0 + j] * gain[j] - m1 - xhat[o + j] * m2);
}

/**
 * Backward of out = LN(v + bias) over all rows of dout [R, 3H]: dx = d v [R, 3H]; adds d gain and
 * d shift to `sums`, and, when given, the column sums of dx (d bias) to `dbias`.
 */
export function lnBackward(
  dout: Float32Array,
  xhat: Float32Array,
  rstd: Float32Array,
  gain: Float32Array,
  H: number,
  dx: Float32Array,
  sums: LnGradSums,
  dbias?: Float64Array,
): void {
  const C = 3 * H;
  const R = dout.length / C;
  for (let r = 0; r < R; r++) {
    const o = r * C;
    normGroupBackward(dout, o, xhat, o, rstd[2 * r], gain, 0, 2 * H, dx, sums);
    normGroupBackward(dout, o, xhat, o, rstd[2 * r + 1], gain, 2 * H, C, dx, sums);
    if (dbias) for (let j = 0; j < C; j++) dbias[j] += dx[o + j];
  }
}

function sigmoid(a: number): number {
  return 1 / (1 + Math.exp(-a));
}

/** One step's inputs and outputs for {@link hostStepForward}; the per-step arrays are [B, .] views. */
export interface HostStepForward {
  H: number;
  /** This step is real for row b when t < lengths[b]. */
  t: number;
  lengths: Int32Array;
  /** gi' of this step [B, 3H]. */
  gi: Float32Array;
  /** W_hh h_prev [B, 3H] (read back from the product; b_hh is added here). */
  ghRaw: Float32Array;
  bhh: Float32Array;
  /** Hidden-side LN, null for the plain GRU; then ghHat and ghRstd are null too. */
  ln: HostLn | null;
  /** Out: normalized W_hh h_prev + b_hh [B, 3H] and 1 / std per row and group [B, 2]. */
  ghHat: Float32Array | null;
  ghRstd: Float32Array | null;
  /** Scratch [B, 3H]: gh'. */
  gh: Float32Array;
  hPrev: Float32Array; // [B, H]
  /** Out: h [B, H]. */
  h: Float32Array;
  /** Out: r, z, n, gh'[2H:] per row [B, 4H] (what the backward pass needs). */
  gates: Float32Array;
  /** Out, when given: y = m h~ [B, H]. */
  y: Float32Array | null;
}

/** One step forward after the products (equations in the header). */
export function hostStepForward(s: HostStepForward): void {
  const { H, t, lengths, gi, gh, hPrev, h, gates, y } = s;
  biasLnForward(s.ghRaw, s.bhh, s.ln, H, gh, s.ghHat, s.ghRstd);
  const B = lengths.length;
  const C = 3 * H;
  for (let b = 0; b < B; b++) {
    const o = b * C; // row of gi, gh
    const g = b * 4 * H; // row of gates
    const k = b * H; // row of h
    const real = t < lengths[b];
    for (let j = 0; j < H; j++) {
      const r = sigmoid(gi[o + j] + gh[o + j]);
      const z = sigmoid(gi[o + H + j] + gh[o + H + j]);
      const ghN = gh[o + 2 * H + j];
      const n = Math.tanh(gi[o + 2 * H + j] + r * ghN);
      const hp = hPrev[k + j];
      const hNew = n + z * (hp - n);
      h[k + j] = real ? hNew : hp;
      if (y) y[k + j] = real ? hNew : 0;
      gates[g + j] = r;
      gates[g + H + j] = z;
      gates[g + 2 * H + j] = n;
      gates[g + 3 * H + j] = ghN;
    }
  }
}

/** One step's inputs and outputs for {@link hostStepBackward}. */
export interface HostStepBackward {
  H: number;
  t: number;
  lengths: Int32Array;
  /** d loss / d h_t [B, H]. */
  dh: Float32Array;
  /** d loss / d y_t [B, H], or null. */
  dy: Float32Array | null;
  hPrev: Float32Array; // [B, H]
  gates: Float32Array; // [B, 4H] from the forward step
  /** Hidden-side LN gain [3H] and the forward step's statistics; null for the plain GRU. */
  gain: Float32Array | null;
  ghHat: Float32Array | null;
  ghRstd: Float32Array | null;
  /** Scratch [3H]: d gh' of one row. */
  dghRow: Float64Array;
  /** Out: d gi' [B, 3H]. */
  dgi: Float32Array;
  /** Out: d (W_hh h_prev + b_hh) [B, 3H] (after the hidden-side LN backward). */
  dgh: Float32Array;
  /** Out: the part of d h_prev that does not go through W_hh [B, H]. */
  dhPrev: Float32Array;
  /** Adds d b_hh [3H], and d gain_hh / d shift_hh when `gain` is given. */
  dbhh: Float64Array;
  lnSums: LnGradSums | null;
}

/** One step backward, up to (not including) the recurrent product d gh @ W_hh (header equations). */
export function hostStepBackward(s: HostStepBackward): void {
  const { H, t, lengths, dh, dy, hPrev, gates, gain, ghHat, ghRstd, dghRow, dgi, dgh, dhPrev, dbhh } = s;
  const B = lengths.length;
  const C = 3 * H;
  for (let b = 0; b < B; b++) {
    const o = b * C;
    const g = b * 4 * H;
    const k = b * H;
    if (!(t < lengths[b])) {
      // A padded step: h_t = h_prev, y_t = 0, so everything but d h_prev is zero.
      for (let j = 0; j < H; j++) dhPrev[k + j] = dh[k + j];
      dgi.fill(0, o, o + C);
      dgh.fill(0, o, o + C);
      continue;
    }
    for (let j = 0; j < H; j++) {
      const r = gates[g + j];
      const z = gates[g + H + j];
      const n = gates[g + 2 * H + j];
      const ghN = gates[g + 3 * H + j];
      const dhNew = dy ? dh[k + j] + dy[k + j] : dh[k + j];
      dhPrev[k + j] = z * dhNew;
      const dan = (1 - z) * dhNew * (1 - n * n);
      const dar = dan * ghN * r * (1 - r);
      const daz = (hPrev[k + j] - n) * dhNew * z * (1 - z);
      dgi[o + j] = dar;
      dgi[o + H + j] = daz;
      dgi[o + 2 * H + j] = dan;
      dghRow[j] = dar;
      dghRow[H + j] = daz;
      dghRow[2 * H + j] = r * dan;
    }
    if (gain && ghHat && ghRstd && s.lnSums) {
      normGroupBackward(dghRow, 0, ghHat, o, ghRstd[2 * b], gain, 0, 2 * H, dgh, s.lnSums);
      normGroupBackward(dghRow, 0, ghHat, o, ghRstd[2 * b + 1], gain, 2 * H, C, dgh, s.lnSums);
    } else {
      for (let j = 0; j < C; j++) dgh[o + j] = dghRow[j];
    }
    for (let j = 0; j < C; j++) dbhh[j] += dgh[o + j];
  }
}
