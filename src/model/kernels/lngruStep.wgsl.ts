/**
 * WGSL kernels for the LN-GRU (Ba, Kiros & Hinton 2016, Sect. 6.1; torch.nn.GRU layout, gate order
 * r, z, n), run through tfjs-backend-webgpu. They compute exactly the step of ./lngruStep.ts:
 *
 *   LN(v)  = (v - mean(v)) / sqrt(var(v) + 1e-5) * gain + shift     per group [:2H] and [2H:]
 *   gi'    = LN(W_ih x + b_ih)                 gh' = LN(W_hh h_prev + b_hh)
 *   r, z   = sigmoid(gi'[:2H] + gh'[:2H]);  n = tanh(gi'[2H:] + r * gh'[2H:])
 *   h~     = z * h_prev + (1 - z) * n;      h = m ? h~ : h_prev        (m = t < length)
 *
 * The matrix products stay tfjs matMuls; everything after them is one dispatch:
 *
 * - `lnInputForward`: gi' = LN(gi + b_ih) for all T*B rows at once (the input side does not depend on
 *   the state);
 * - `lngruStepForward`: bias, both statistics, normalization, gates, candidate and masked update of one
 *   step -> h_t [B, H];
 * - `lngruStepBackward`: the same step backward; it recomputes the gates from the cached
 *   pre-activations (gi', W_hh h_prev, h_prev) instead of storing r, z, n and the LN statistics, so the
 *   forward pass writes only h_t. Each dispatch writes one result (tfjs programs have one output), so
 *   the backward has modes: 'dgh' (d (W_hh h_prev + b_hh) after the LN backward, for the recurrence and
 *   W_hh), 'dhPrev' (d h_prev = the direct part + the product d gh W_hh passed in), and, once for all
 *   rows after the loop, 'dgi' (d gi') and 'dlnh' (the terms of the hidden-side LN gain/shift
 *   gradients);
 * - `lnInputBackward`: the input-side LN backward for all rows ('dx'), and its gain term ('dgain').
 *
 * One workgroup of 64 threads handles one row (one sequence of the batch at one step): threads stride
 * over the columns, and each mean or variance is one workgroup reduction with a single barrier (every
 * thread sums the 64 partials; two scratch arrays alternate, so no second barrier is needed before
 * reuse).
 */
import * as tf from '../tf';
import { LN_EPS } from './lngruStep';
import { runProgram, kernelBackend, type WebGPUProgram } from './webgpu';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';

const WG = 64;

/** Shared WGSL: reductions over the workgroup, sigmoid, and the per-row LN statistics. */
const PRELUDE = `
  const WG = ${WG};
  const LN_EPS = ${LN_EPS.toExponential()};
  var<workgroup> redA : array<vec2<f32>, ${WG}>;
  var<workgroup> redB : array<vec2<f32>, ${WG}>;

  // Sum of v over the workgroup. Callers alternate reduceA and reduceB: the barrier of one reduction
  // also guarantees that every thread has finished reading the other array.
  fn reduceA(v : vec2<f32>) -> vec2<f32> {
    redA[localIndex] = v;
    workgroupBarrier();
    var s = vec2<f32>(0.0);
    for (var i = 0; i < WG; i++) { s = s + redA[i]; }
    return s;
  }
  fn reduceB(v : vec2<f32>) -> vec2<f32> {
    redB[localIndex] = v;
    workgroupBarrier();
    var s = vec2<f32>(0.0);
    for (var i = 0; i < WG; i++) { s = s + redB[i]; }
    return s;
  }
  fn sigmoid(x : f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }
  // tanh via sigmoid: no inf/inf for large |x| (and the same function the composite path uses).
  fn tanhS(x : f32) -> f32 { return 2.0 * sigmoid(2.0 * x) - 1.0; }
  // Select the group statistic of column c: group 0 = [0, 2H) (r and z), group 1 = [2H, 3H) (n).
  fn grp(v : vec2<f32>, c : i32, H : i32) -> f32 { return select(v.y, v.x, c < 2 * H); }
`;

/**
 * WGSL that sets mean, rstd (vec2 per group) for row values arr[base + c] + params[biasRow * H3 + c],
 * c in [0, 3H): two reductions (mean, then the biased variance around it, as the composite path).
 */
const rowStats = (arr: string, base: string, biasRow: number) => `
    var s1 = vec2<f32>(0.0);
    for (var c = li; c < H3; c = c + WG) {
      let v = ${arr}[${base} + c] + params[${biasRow} * H3 + c];
      if (c < 2 * H) { s1.x = s1.x + v; } else { s1.y = s1.y + v; }
    }
    let cnt = vec2<f32>(f32(2 * H), f32(H));
    let mean = reduceA(s1) / cnt;
    var s2 = vec2<f32>(0.0);
    for (var c = li; c < H3; c = c + WG) {
      let d = ${arr}[${base} + c] + params[${biasRow} * H3 + c] - grp(mean, c, H);
      if (c < 2 * H) { s2.x = s2.x + d * d; } else { s2.y = s2.y + d * d; }
    }
    let rstd = inverseSqrt(reduceB(s2) / cnt + vec2<f32>(LN_EPS));
`;

/**
 * main() of the input-side programs: row `row` of giRaw [R, 3H] (one workgroup), its LN statistics
 * (mean, rstd of giRaw + b_ih), then `body`.
 */
const inputRowMain = (body: string): string => `${PRELUDE}
  fn main() {
    let li = i32(localIndex);
    let row = i32(workgroupId.x);
    let H3 = uniforms.giRawShape.y;
    let H = H3 / 3;
    let base = row * H3;
    ${rowStats('giRaw', 'base', 0)}
    ${body}
  }`;

/** WGSL for xhat of column c of an input-side row, in `inputRowMain`'s body. */
const INPUT_XHAT = '(giRaw[base + c] + params[c] - grp(mean, c, H)) * grp(rstd, c, H)';

/** Base of the programs here: one workgroup per row, `rows` rows. */
abstract class RowProgram implements WebGPUProgram {
  abstract variableNames: string[];
  outputShape: number[];
  abstract shaderKey: string;
  dispatchLayout = { x: [0], y: [1] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [WG, 1, 1];
  uniforms?: string;

  constructor(outputShape: number[], rows: number) {
    this.outputShape = outputShape;
    this.dispatch = [rows, 1, 1];
  }
  abstract getUserCode(): string;
}

/** gi' = LN(giRaw + b_ih) * gain_ih + shift_ih, [R, 3H]. params [6, 3H]: b, gain, shift (ih; then hh). */
class LnInputForwardProgram extends RowProgram {
  variableNames = ['giRaw', 'params'];
  shaderKey = 'lngruLnInputForward';

  getUserCode(): string {
    return inputRowMain(`
    for (var c = li; c < H3; c = c + WG) {
      let xhat = ${INPUT_XHAT};
      result[base + c] = xhat * params[H3 + c] + params[2 * H3 + c];
    }`);
  }
}

/** One step forward after the products: h_t [B, H] from gi' (all steps), W_hh h_prev, h_prev, lengths. */
class StepForwardProgram extends RowProgram {
  variableNames = ['gi', 'gh', 'hPrev', 'lengths', 'params'];
  shaderKey = 'lngruStepForward';
  override uniforms = 't : i32, ';

  getUserCode(): string {
    return `${PRELUDE}
  fn main() {
    let li = i32(localIndex);
    let b = i32(workgroupId.x);
    let B = uniforms.ghShape.x;
    let H3 = uniforms.ghShape.y;
    let H = H3 / 3;
    let hb = b * H3;                      // row of gh (this step)
    let ib = (uniforms.t * B + b) * H3;   // row of gi' (all steps)
    ${rowStats('gh', 'hb', 3)}
    let real = uniforms.t < lengths[b];
    for (var c = li; c < H; c = c + WG) {
      // gh' for r, z (group 0) and n (group 1)
      let ghr = (gh[hb + c] + params[3 * H3 + c] - mean.x) * rstd.x * params[4 * H3 + c] + params[5 * H3 + c];
      let cz = H + c;
      let ghz = (gh[hb + cz] + params[3 * H3 + cz] - mean.x) * rstd.x * params[4 * H3 + cz] + params[5 * H3 + cz];
      let cn = 2 * H + c;
      let ghn = (gh[hb + cn] + params[3 * H3 + cn] - mean.y) * rstd.y * params[4 * H3 + cn] + params[5 * H3 + cn];
      let r = sigmoid(gi[ib + c] + ghr);
      let z = sigmoid(gi[ib + cz] + ghz);
      let n = tanhS(gi[ib + cn] + r * ghn);
      let hp = hPrev[b * H + c];
      let hNew = n + z * (hp - n);
      result[b * H + c] = select(hp, hNew, real);
    }
  }`;
  }
}

export type StepBackwardMode = 'dgh' | 'dhPrev' | 'dgi' | 'dlnh';

/**
 * The step backward (see the file comment for the modes). Row r of this dispatch is global row
 * g = rowBase + r (time t = g / B, sequence b = g % B) of gi', and row r of gh, hPrev, dh, mm:
 * one step (rowBase = t B, those [B, .]) or all steps at once (rowBase = 0, those [T B, .]).
 */
class StepBackwardProgram extends RowProgram {
  variableNames = ['gi', 'gh', 'hPrev', 'lengths', 'params', 'dh', 'mm'];
  shaderKey: string;
  override uniforms = 'rowBase : i32, batch : i32, ';
  private readonly mode: StepBackwardMode;

  constructor(mode: StepBackwardMode, rows: number, H: number) {
    const width = { dgh: 3 * H, dhPrev: H, dgi: 3 * H, dlnh: 6 * H }[mode];
    super([rows, width], rows);
    this.mode = mode;
    this.shaderKey = `lngruStepBackward_${mode}`;
  }

  getUserCode(): string {
    // Per column c in [0, H): recompute the forward values of columns c, H + c, 2H + c, then the
    // gradients d gi' = (daR, daZ, dan) and d gh' = (daR, daZ, dan * r).
    const perColumn = `
      let cz = H + c;
      let cn = 2 * H + c;
      let xr = (gh[hb + c] + params[3 * H3 + c] - mean.x) * rstd.x;
      let xz = (gh[hb + cz] + params[3 * H3 + cz] - mean.x) * rstd.x;
      let xn = (gh[hb + cn] + params[3 * H3 + cn] - mean.y) * rstd.y;
      let ghn = xn * params[4 * H3 + cn] + params[5 * H3 + cn];
      let r = sigmoid(gi[ib + c] + xr * params[4 * H3 + c] + params[5 * H3 + c]);
      let z = sigmoid(gi[ib + cz] + xz * params[4 * H3 + cz] + params[5 * H3 + cz]);
      let n = tanhS(gi[ib + cn] + r * ghn);
      let hp = hPrev[row * H + c];
      let dhv = dh[row * H + c];                   // includes m dy (see StepBackwardInputs.dh)
      let dhNew = select(0.0, dhv, real);          // h = h_prev + m (h~ - h_prev), y = m h~
      let dn = dhNew * (1.0 - z);                  // h~ = n + z (h_prev - n)
      let dz = dhNew * (hp - n);
      let dan = dn * (1.0 - n * n);                // n = tanh(a_n)
      let dr = dan * ghn;
      let daR = dr * r * (1.0 - r);                // r, z = sigmoid(.)
      let daZ = dz * z * (1.0 - z);
      let dgN = dan * r;                           // d gh'_n
`;
    const bodies: Record<StepBackwardMode, string> = {
      dgi: `
    for (var c = li; c < H; c = c + WG) {
      ${perColumn}
      result[row * H3 + c] = daR;
      result[row * H3 + cz] = daZ;
      result[row * H3 + cn] = dan;
    }`,
      dlnh: `
    // Terms of d gain_hh = sum d gh' * xhat and d shift_hh = sum d gh', summed over rows later.
    for (var c = li; c < H; c = c + WG) {
      ${perColumn}
      let o = row * 2 * H3;
      result[o + c] = daR * xr;
      result[o + cz] = daZ * xz;
      result[o + cn] = dgN * xn;
      result[o + H3 + c] = daR;
      result[o + H3 + cz] = daZ;
      result[o + H3 + cn] = dgN;
    }`,
      dhPrev: `
    // d h_prev = (1 - m) dh + m dh~ z, plus the recurrent product d gh W_hh given in mm.
    for (var c = li; c < H; c = c + WG) {
      ${perColumn}
      result[row * H + c] = select(dhv, dhNew * z, real) + mm[row * H + c];
    }`,
      dgh: `
    // LN backward per group: dv = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)), dxhat = d gh' gain.
    var s3 = vec2<f32>(0.0);
    var s4 = vec2<f32>(0.0);
    for (var c = li; c < H; c = c + WG) {
      ${perColumn}
      let er = daR * params[4 * H3 + c];
      let ez = daZ * params[4 * H3 + cz];
      let en = dgN * params[4 * H3 + cn];
      s3 = s3 + vec2<f32>(er + ez, en);
      s4 = s4 + vec2<f32>(er * xr + ez * xz, en * xn);
    }
    // Both sums in one reduction would need a vec4; two reductions keep the helpers simple.
    let m1 = reduceA(s3) / cnt;
    let m2 = reduceB(s4) / cnt;
    for (var c = li; c < H; c = c + WG) {
      ${perColumn}
      result[row * H3 + c] = rstd.x * (daR * params[4 * H3 + c] - m1.x - xr * m2.x);
      result[row * H3 + cz] = rstd.x * (daZ * params[4 * H3 + cz] - m1.x - xz * m2.x);
      result[row * H3 + cn] = rstd.y * (dgN * params[4 * H3 + cn] - m1.y - xn * m2.y);
    }`,
    };
    return `${PRELUDE}
  fn main() {
    let li = i32(localIndex);
    let row = i32(workgroupId.x);
    let H3 = uniforms.ghShape.y;
    let H = H3 / 3;
    let g = uniforms.rowBase + row;
    let t = g / uniforms.batch;
    let b = g - t * uniforms.batch;
    let hb = row * H3;   // row of gh
    let ib = g * H3;     // row of gi'
    ${rowStats('gh', 'hb', 3)}
    let real = t < lengths[b];
    // Every input must be statically used, or the 'auto' layout drops its binding ('mm' is read by
    // the 'dhPrev' mode only).
    _ = mm[0];
    ${bodies[this.mode]}
  }`;
  }
}

/** Input-side LN backward for all rows: 'dx' = d (W_ih x + b_ih) [R, 3H], 'dgain' = d gi' * xhat. */
class LnInputBackwardProgram extends RowProgram {
  variableNames = ['giRaw', 'params', 'dgi'];
  shaderKey: string;
  private readonly mode: 'dx' | 'dgain';

  constructor(mode: 'dx' | 'dgain', rows: number, H: number) {
    super([rows, 3 * H], rows);
    this.mode = mode;
    this.shaderKey = `lngruLnInputBackward_${mode}`;
  }

  getUserCode(): string {
    const body =
      this.mode === 'dgain'
        ? `
    for (var c = li; c < H3; c = c + WG) { result[base + c] = dgi[base + c] * ${INPUT_XHAT}; }`
        : `
    var s3 = vec2<f32>(0.0);
    var s4 = vec2<f32>(0.0);
    for (var c = li; c < H3; c = c + WG) {
      let e = dgi[base + c] * params[H3 + c];
      let xh = ${INPUT_XHAT};
      if (c < 2 * H) { s3.x = s3.x + e; s4.x = s4.x + e * xh; } else { s3.y = s3.y + e; s4.y = s4.y + e * xh; }
    }
    let m1 = reduceA(s3) / cnt;
    let m2 = reduceB(s4) / cnt;
    for (var c = li; c < H3; c = c + WG) {
      let xh = ${INPUT_XHAT};
      result[base + c] = grp(rstd, c, H) * (dgi[base + c] * params[H3 + c] - grp(m1, c, H) - xh * grp(m2, c, H));
    }`;
    return inputRowMain(body);
  }
}

function backendOrThrow(op: string): WebGPUBackend {
  const b = kernelBackend();
  if (!b) throw new Error(`${op}: the LN-GRU kernels need the webgpu backend with a live device`);
  return b;
}

/** The six LN-GRU vectors as one [6, 3H] tensor: b_ih, gain_ih, shift_ih, b_hh, gain_hh, shift_hh. */
export function packLnGruParams(p: {
  bias_ih: tf.Tensor;
  ln_weight_ih: tf.Tensor;
  ln_bias_ih: tf.Tensor;
  bias_hh: tf.Tensor;
  ln_weight_hh: tf.Tensor;
  ln_bias_hh: tf.Tensor;
}): tf.Tensor2D {
  return tf.stack([
    p.bias_ih,
    p.ln_weight_ih,
    p.ln_bias_ih,
    p.bias_hh,
    p.ln_weight_hh,
    p.ln_bias_hh,
  ]) as tf.Tensor2D;
}

/** gi' = LN(giRaw + b_ih) for all rows. giRaw = x W_ih^T [R, 3H] -> [R, 3H]. */
export function lnInputForward(giRaw: tf.Tensor2D, params: tf.Tensor2D): tf.Tensor2D {
  const b = backendOrThrow('lnInputForward');
  const [R, H3] = giRaw.shape;
  return runProgram(b, new LnInputForwardProgram([R, H3], R), [giRaw, params]) as tf.Tensor2D;
}

/**
 * h_t [B, H] for step t from gi' of all steps [T B, 3H], gh = h_prev W_hh^T [B, 3H] (no bias),
 * h_prev [B, H], lengths [B] (int32) and the packed parameters [6, 3H].
 */
export function lngruStepForward(
  gi: tf.Tensor2D,
  gh: tf.Tensor2D,
  hPrev: tf.Tensor2D,
  lengths: tf.Tensor1D,
  params: tf.Tensor2D,
  t: number,
): tf.Tensor2D {
  const b = backendOrThrow('lngruStepForward');
  const [B, H] = hPrev.shape;
  const program = new StepForwardProgram([B, H], B);
  return runProgram(
    b,
    program,
    [gi, gh, hPrev, lengths, params],
    [{ type: 'int32', data: [t] }],
  ) as tf.Tensor2D;
}

/** Inputs of the step backward; see StepBackwardProgram for the row convention. */
export interface StepBackwardInputs {
  gi: tf.Tensor2D; // gi' [T B, 3H]
  gh: tf.Tensor2D; // h_prev W_hh^T, [B, 3H] (one step) or [T B, 3H] (all)
  hPrev: tf.Tensor2D; // [B, H] or [T B, H]
  lengths: tf.Tensor1D; // [B] int32
  params: tf.Tensor2D; // [6, 3H]
  /**
   * d loss / d h_t + m_t d loss / d y_t, [B, H] or [T B, H]. Folding the masked dy into dh is exact
   * (m is 0 or 1: (1 - m)(dh + m dy) = (1 - m) dh) and keeps the kernel within 8 storage buffers.
   */
  dh: tf.Tensor2D;
  /** d gh W_hh [B, H] ('dhPrev' only). */
  mm?: tf.Tensor2D;
  batch: number;
  /** First global row (t B for one step, 0 for all). */
  rowBase: number;
}

export function lngruStepBackward(mode: StepBackwardMode, a: StepBackwardInputs): tf.Tensor2D {
  const b = backendOrThrow(`lngruStepBackward(${mode})`);
  const rows = a.gh.shape[0];
  const H = a.hPrev.shape[1];
  if (mode === 'dhPrev' && !a.mm) throw new Error(`lngruStepBackward('dhPrev') needs mm = d gh W_hh`);
  return tf.tidy(() => {
    // Unused inputs still need a binding: a one-element placeholder.
    const dummy = tf.zeros([1, 1]);
    const program = new StepBackwardProgram(mode, rows, H);
    const inputs = [a.gi, a.gh, a.hPrev, a.lengths, a.params, a.dh, a.mm ?? dummy];
    return runProgram(b, program, inputs, [
      { type: 'int32', data: [a.rowBase] },
      { type: 'int32', data: [a.batch] },
    ]) as tf.Tensor2D;
  });
}

/** Input-side LN backward for all rows: 'dx' -> d giRaw [R, 3H]; 'dgain' -> d gi' * xhat [R, 3H]. */
export function lnInputBackward(
  mode: 'dx' | 'dgain',
  giRaw: tf.Tensor2D,
  params: tf.Tensor2D,
  dgi: tf.Tensor2D,
): tf.Tensor2D {
  const b = backendOrThrow(`lnInputBackward(${mode})`);
  const [R, H3] = giRaw.shape;
  return runProgram(b, new LnInputBackwardProgram(mode, R, H3 / 3), [giRaw, params, dgi]) as tf.Tensor2D;
}
