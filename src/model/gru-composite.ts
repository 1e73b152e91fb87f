/**
 * The GRU's steps with tfjs ops (./gru.ts): 'composite' on every backend, and 'host-ln', the LN-GRU
 * on the host-memory backends (wasm, cpu) with both layer norms as host loops
 * (./kernels/lngruStep.host.ts), each step over the rows still going (./gru-rows.ts). Also the
 * input-side gradients that the WebGPU kernel path shares, and the helpers of both: masks, AddN in
 * groups, time steps as row blocks.
 */
import * as tf from './tf';
import { blockedMatMul, hasHostMemory, matMulWt, PassTensors, sumRows, type Pass } from './ops';
import {
  lnBackward,
  lnStats,
  lngruStepBackward as compositeStepBackward,
  lngruStepForward as compositeStepForward,
  type HiddenLn,
  type LnCache,
  type StepCache,
} from './kernels/lngruStep';
import {
  biasLnForward,
  hostTensor2d,
  hostValues,
  lnBackward as hostLnBackward,
  type HostLn,
  type LnGradSums,
} from './kernels/lngruStep.host';
import {
  keepSpareHostLn,
  takeHostLnCache,
  type GruCache,
  type GruForward,
  type GruGrads,
  type GruParamName,
  type GruParts,
  type LnGruPath,
} from './gru-cache';
import {
  activeRows,
  firstRows,
  inverseOrder,
  lengthOrder,
  packedRows,
  padRows,
  stepBlocks,
  unpackRows,
  withRowsBelow,
} from './gru-rows';

/**
 * Forward with tfjs ops for the products and the gates. The LN-GRU's hidden-side layer norm is tfjs
 * ops too ('composite') or a host loop ('host-ln', ./kernels/lngruStep.host.ts): then a step issues
 * the same tfjs ops as the plain GRU's, its LN being a view of W_hh h_prev, a loop, and a new tensor
 * gh' in place of the add of b_hh (the composite LN adds some 10 small ops per step); its input-side
 * LN over all steps' rows at once is one more loop (a view of W_ih x, a new tensor gi').
 */
export function* forwardComposite(
  layer: GruParts,
  x: tf.Tensor3D,
  lengths: ArrayLike<number>,
  opts: { outputs?: boolean; cache?: boolean; blockMacs?: number },
  hostLn: boolean,
): Pass<GruForward> {
  const [T, B, D] = x.shape;
  const H = layer.hiddenSize;
  const C = 3 * H;
  const p = layer.vars as Record<GruParamName, tf.Variable>;
  const own = new PassTensors();
  let out: GruForward | undefined;
  try {
    // The rows longest first (see lengthOrder): step t computes only its first active[t] rows.
    const order = lengthOrder(lengths);
    if (order) {
      x = own.tidy(() => tf.gather(x, tf.tensor1d(order.rows, 'int32'), 1)); // [T, B, D], rows in order
      lengths = order.lengths;
    }
    const active = activeRows(lengths, T);
    // The input side too takes only the rows the steps compute: step t's active[t] rows, one step after
    // another, R rows in all (T*B when no caption ends early).
    const packed = packedRows(active, B);
    const xRows = own.tidy(() => {
      const all = x.reshape([T * B, D]) as tf.Tensor2D; // [T*B, D]
      return packed ? (tf.gather(all, tf.tensor1d(packed, 'int32')) as tf.Tensor2D) : all; // [R, D]
    });
    // Input side for all steps at once.
    const wihT = own.keep(p.weight_ih.transpose() as tf.Tensor2D); // [D, 3H]
    // The recurrent product h_prev W_hh^T [B, 3H]: on the host backends as (W_hh h_prev^T)^T, so that
    // the new weight of each step is not packed (./ops.ts matMulWt); elsewhere with W_hh^T made once.
    const whhT = hasHostMemory() ? null : own.keep(p.weight_hh.transpose() as tf.Tensor2D); // [H, 3H]
    const recurrent = (h: tf.Tensor2D) =>
      whhT ? (tf.matMul(h, whhT) as tf.Tensor2D) : matMulWt(h, p.weight_hh as tf.Tensor2D); // [B, 3H]
    const giRaw = own.keep(yield* blockedMatMul(xRows, wihT, opts.blockMacs)); // [R, 3H]
    const host = hostLn ? takeHostLnCache(T * B, C) : undefined;
    const input = own.tidy(() => {
      if (host) {
        // gi' = LN(W_ih x + b_ih) of all steps' rows on the host, like the hidden side below: one loop
        // in place of the composite LN's ~12 ops over [R, 3H] forward and ~18 backward.
        const bih = p.bias_ih.dataSync() as Float32Array;
        const lnIh = { gain: p.ln_weight_ih.dataSync(), shift: p.ln_bias_ih.dataSync() } as HostLn;
        biasLnForward(hostValues(giRaw), bih, lnIh, H, host.scratch, host.giHat, host.giRstd); // R rows
        // The steps' blocks straight from the host array: no [R, 3H] tensor made only to be split.
        const steps = stepBlocks(active).map(([start, n]) =>
          hostTensor2d(host.scratch.subarray(start * C, (start + n) * C), [n, C]),
        );
        return { giSteps: steps, lnIn: undefined };
      }
      let gi = giRaw.add(p.bias_ih) as tf.Tensor2D;
      let lnIn: LnCache | undefined;
      if (layer.layerNorm) {
        lnIn = lnStats(gi, layer.groups);
        gi = lnIn.xhat.mul(p.ln_weight_ih).add(p.ln_bias_ih);
      }
      return { giSteps: splitSteps(gi, active), lnIn }; // gi itself is freed here
    });
    const giSteps = input.giSteps; // T x [active[t], 3H], kept by own.tidy
    const masks = own.keep(stepMasks(lengths, T));
    const ln = host ? null : hiddenLn(layer);
    const lnHh = host ? hostLnParams(layer) : null;
    const bhh = host ? (p.bias_hh.dataSync() as Float32Array) : null;
    const ghn = new Float32Array(B * C); // gh' of one step (scratch: hostTensor2d copies it)

    let h = own.keep(tf.zeros([B, H]) as tf.Tensor2D);
    const ys: tf.Tensor2D[] = [];
    const steps: StepCache[] = [];
    for (let t = 0; t < T; t++) {
      const hPrev = h;
      const n = active[t];
      const step = own.tidy(() => {
        // The rows still going: all of them, or the first n (the others keep their state as it is).
        const hp = firstRows(hPrev, n); // [n, H]
        let gh: tf.Tensor2D; // [n, 3H]
        if (host && lnHh && bhh) {
          // gh' = LN(W_hh h_prev + b_hh) on the host; xhat and 1 / std kept for the backward pass.
          const raw = hostValues(recurrent(hp)); // [n, 3H]
          const ghHat = rowBlock(host.ghHat, t, B * C).subarray(0, n * C);
          const rstd = rowBlock(host.ghRstd, t, B * 2).subarray(0, n * 2);
          biasLnForward(raw, bhh, lnHh, H, ghn.subarray(0, n * C), ghHat, rstd);
          gh = hostTensor2d(ghn.subarray(0, n * C), [n, C]);
        } else {
          gh = recurrent(hp).add(p.bias_hh) as tf.Tensor2D;
        }
        // With the mask (all ones over these rows): the very ops, so the digits, of a step over all rows.
        const mask = firstRows(masks[t], n); // [n, 1]
        const s = compositeStepForward(giSteps[t], gh, hp, mask, ln);
        const y = opts.outputs ? padRows(s.hNew.mul(mask) as tf.Tensor2D, B) : null; // [B, H]
        const hNext = withRowsBelow(s.h, hPrev); // [B, H]: the finished rows' state as it was
        return { h: hNext, cache: s.cache, y };
      });
      if (step.y) ys.push(step.y);
      steps.push(step.cache);
      h = step.h;
      yield;
    }
    // Back in the given row order.
    const back = order ? own.keep(tf.tensor1d(order.back, 'int32')) : null;
    const result: GruForward = { hN: back ? own.keep(tf.gather(h, back) as tf.Tensor2D) : h }; // [B, H]
    if (opts.outputs) {
      const y = own.keep(tf.stack(ys) as tf.Tensor3D); // [T, B, H]
      result.y = back ? own.keep(tf.gather(y, back, 1) as tf.Tensor3D) : y;
    }
    if (host && !opts.cache) keepSpareHostLn(host);
    if (opts.cache) {
      const path: LnGruPath = host ? 'host-ln' : 'composite';
      const rows = order?.rows;
      result.cache = { T, B, x: xRows, path, lnIn: input.lnIn, steps, hostLn: host, rows, packed };
    }
    out = result;
    return result;
  } finally {
    own.release(out);
  }
}

export function* backwardComposite(
  layer: GruParts,
  cache: GruCache,
  dy: tf.Tensor3D | null,
  dhN: tf.Tensor2D,
  blockMacs?: number,
): Pass<GruGrads> {
  const { T, B } = cache;
  const H = layer.hiddenSize;
  const C = 3 * H;
  const p = layer.vars as Record<GruParamName, tf.Variable>;
  const host = cache.hostLn;
  const own = new PassTensors();
  let out: GruGrads | undefined;
  try {
    // The forward pass's row order (longest first), and back at the end (d x).
    const rows = cache.rows ? own.keep(tf.tensor1d(cache.rows, 'int32')) : null;
    if (rows) {
      dhN = own.keep(tf.gather(dhN, rows) as tf.Tensor2D); // [B, H]
      if (dy) dy = own.keep(tf.gather(dy, rows, 1) as tf.Tensor3D); // [T, B, H]
    }
    const dySteps = dy ? own.keep(tf.unstack(dy) as tf.Tensor2D[]) : null; // T x [B, H]
    const dgiSteps: tf.Tensor2D[] = new Array(T);
    const dghSteps: tf.Tensor2D[] = new Array(T);
    const lnGrads: { dgain: tf.Tensor1D; dshift: tf.Tensor1D }[] = [];
    const ln = host ? null : hiddenLn(layer);
    const sumsHh = newLnSums(C);
    const gainHh = host ? (p.ln_weight_hh.dataSync() as Float32Array) : null;
    const dghScratch = new Float32Array(B * C); // d gh of one step (hostTensor2d copies it)
    let dh: tf.Tensor2D = dhN;
    for (let t = T - 1; t >= 0; t--) {
      const dhT = dh;
      // The rows step t computed (see forwardComposite); the others pass d h on unchanged.
      const n = cache.steps[t].hPrev.shape[0];
      const s = own.tidy(() => {
        const dyT = dySteps ? firstRows(dySteps[t], n) : null;
        const s = compositeStepBackward(firstRows(dhT, n), dyT, cache.steps[t], ln);
        let dgh = s.dgh; // d (W_hh h_prev + b_hh) [n, 3H]
        if (host && gainHh) {
          // s.dgh is d gh' here: back through the hidden-side LN on the host.
          const ghHat = rowBlock(host.ghHat, t, B * C).subarray(0, n * C);
          const ghRstd = rowBlock(host.ghRstd, t, B * 2).subarray(0, n * 2);
          const dghOut = dghScratch.subarray(0, n * C);
          hostLnBackward(hostValues(s.dgh), ghHat, ghRstd, gainHh, H, dghOut, sumsHh);
          dgh = hostTensor2d(dghOut, [n, C]);
        }
        // d h_prev: [n, 3H] @ [3H, H] (d h_0 is not needed). A plain product, W_hh packed once a pass:
        // as the first operand (./ops.ts matMulWt) it would need W_hh^T and two transposes a step,
        // slower here (swapped recurrent products: docs/benchmarks.md).
        const dhPrevN =
          t > 0 ? (s.dhPrev.add(tf.matMul(dgh, p.weight_hh as tf.Tensor2D)) as tf.Tensor2D) : s.dhPrev;
        const dhPrev = withRowsBelow(dhPrevN, dhT); // [B, H]: the finished rows' d h passed on
        return { dgi: s.dgi, dgh, lnGrads: s.lnGrads, dhPrev };
      });
      if (s.lnGrads) lnGrads.push(s.lnGrads);
      dgiSteps[t] = s.dgi;
      dghSteps[t] = s.dgh;
      dh = s.dhPrev;
      yield;
    }
    const grads: GruGrads['params'] = {};
    // Recurrent weights: one product over the rows the steps computed (R <= T*B), [3H, R] @ [R, H].
    const hPrevRows = own.keep(tf.concat(cache.steps.map((s) => s.hPrev)) as tf.Tensor2D); // [R, H]
    const dGH = own.keep(tf.concat(dghSteps) as tf.Tensor2D); // [R, 3H]
    const dGHt = own.keep(dGH.transpose() as tf.Tensor2D); // [3H, R]
    grads.weight_hh = own.keep(yield* blockedMatMul(dGHt, hPrevRows, blockMacs)); // [3H, H]
    if (host) {
      // d b_hh: the host LN summed d (W_hh h_prev + b_hh) over the rows as it wrote them.
      grads.bias_hh = own.keep(tf.tensor1d(Float32Array.from(sumsHh.bias)));
      grads.ln_weight_hh = own.keep(tf.tensor1d(Float32Array.from(sumsHh.gain)));
      grads.ln_bias_hh = own.keep(tf.tensor1d(Float32Array.from(sumsHh.shift)));
    } else {
      grads.bias_hh = own.keep(sumRows(dGH));
      if (layer.layerNorm) {
        grads.ln_weight_hh = own.keep(sumInGroups(lnGrads.map((g) => g.dgain)));
        grads.ln_bias_hh = own.keep(sumInGroups(lnGrads.map((g) => g.dshift)));
      }
    }
    // Input side, all steps at once.
    let dGI = own.keep(tf.concat(dgiSteps) as tf.Tensor2D); // [R, 3H], the forward's input rows
    const lnIn = cache.lnIn;
    if (host) {
      // Back through the input-side LN on the host (its forward: forwardComposite).
      const gainIh = p.ln_weight_ih.dataSync() as Float32Array;
      const sumsIh = newLnSums(C);
      const R = dGI.shape[0]; // the forward's input rows: the first R of the host arrays
      const [giHat, giRstd] = [host.giHat.subarray(0, R * C), host.giRstd.subarray(0, 2 * R)];
      const dgiOut = host.scratch.subarray(0, R * C);
      hostLnBackward(hostValues(dGI), giHat, giRstd, gainIh, H, dgiOut, sumsIh);
      dGI = own.keep(hostTensor2d(dgiOut, [R, C]));
      grads.ln_weight_ih = own.keep(tf.tensor1d(Float32Array.from(sumsIh.gain)));
      grads.ln_bias_ih = own.keep(tf.tensor1d(Float32Array.from(sumsIh.shift)));
      grads.bias_ih = own.keep(tf.tensor1d(Float32Array.from(sumsIh.bias))); // as b_hh's above
    } else if (lnIn) {
      const dGIn = dGI;
      const g = own.tidy(() => lnBackward(dGIn, lnIn, p.ln_weight_ih, layer.groups));
      grads.ln_weight_ih = g.dgain;
      grads.ln_bias_ih = g.dshift;
      dGI = g.dx;
    }
    const g = yield* inputGrads(layer, cache, dGI, grads, own, blockMacs);
    // d x back in the given row order.
    const back = cache.rows ? own.keep(tf.tensor1d(inverseOrder(cache.rows), 'int32')) : null;
    out = back ? { ...g, x: own.keep(tf.gather(g.x, back, 1) as tf.Tensor3D) } : g;
    return out;
  } finally {
    own.release(out);
  }
}

/**
 * Input-side gradients from d (W_ih x + b_ih) [T*B, 3H]: b_ih, W_ih and x; the tensors it makes are
 * kept in `own` (the caller releases them, less its result); its two large products in blocks.
 */
export function* inputGrads(
  layer: GruParts,
  cache: GruCache,
  dGI: tf.Tensor2D,
  grads: GruGrads['params'],
  own: PassTensors,
  blockMacs?: number,
): Pass<GruGrads> {
  const p = layer.vars as Record<GruParamName, tf.Variable>;
  grads.bias_ih ??= own.keep(sumRows(dGI)); // unless the host LN summed it already
  // [D, T*B] @ [T*B, 3H], then [3H, D]: faster than [3H, T*B] @ [T*B, D] here (D is small).
  const xT = own.keep(cache.x.transpose() as tf.Tensor2D); // [D, T*B]
  const dWihT = own.keep(yield* blockedMatMul(xT, dGI, blockMacs)); // [D, 3H]
  grads.weight_ih = own.keep(dWihT.transpose());
  const dxRows = own.keep(yield* blockedMatMul(dGI, p.weight_ih as tf.Tensor2D, blockMacs)); // [R, D]
  const { T, B, packed } = cache;
  const dx = own.tidy(() => {
    // The rows that did not run get zeros (their index in `from` points past dxRows, at a zero row).
    const all = packed ? unpackRows(dxRows, packed, T * B) : dxRows; // [T*B, D]
    return all.reshape([T, B, layer.inputSize]) as tf.Tensor3D; // [T, B, D]
  });
  return { x: dx, params: grads };
}

/**
 * Has the wasm backend pack now the two weights that {@link backwardComposite} multiplies by as second
 * operands (W_hh [3H, H] for d h_prev, W_ih [3H, D] for d x), with 1-row products: XNNPACK packs a
 * product's second operand once per tensor and reuses it for every later product with that tensor, of
 * any row count, until the tensor is freed; our kernel on the single-threaded build
 * (./kernels/matmul-host.ts) keeps its last three packings the same way. For a thread that would
 * otherwise wait between its forward
 * and backward passes (the Node pool's threads while the main thread computes the loss): W_hh's packing
 * is ~30 ms at hidden 1024 (docs/benchmarks.md). Nothing on other backends (they do not pack).
 */
export function packBackwardWeights(layer: GruParts): void {
  if (tf.getBackend() !== 'wasm') return;
  const { weight_hh: whh, weight_ih: wih } = layer.vars;
  tf.tidy(() => {
    for (const w of [whh, wih]) if (w) tf.matMul(tf.zeros([1, w.shape[0]]) as tf.Tensor2D, w as tf.Tensor2D); // [1, 3H] @ [3H, *]
  });
}

/** Zeroed float64 column sums of a host LN backward over [rows, C] ('host-ln' path). */
function newLnSums(C: number): LnGradSums {
  return { gain: new Float64Array(C), shift: new Float64Array(C), bias: new Float64Array(C) };
}

/** Gain and shift of the hidden-side layer norm, read to the host ('host-ln' path). */
function hostLnParams(layer: GruParts): HostLn {
  const { ln_weight_hh: gain, ln_bias_hh: shift } = layer.vars;
  if (!gain || !shift) throw new Error("GRU: the 'host-ln' path is for the LN-GRU only");
  return { gain: gain.dataSync() as Float32Array, shift: shift.dataSync() as Float32Array };
}

/** Hidden-side layer norm of the composite step (null for the plain GRU). */
function hiddenLn(layer: GruParts): HiddenLn | null {
  const p = layer.vars;
  return layer.layerNorm ? { gain: p.ln_weight_hh!, shift: p.ln_bias_hh!, groups: layer.groups } : null;
}

/** mask[t] = [B, 1] with 1 where t < lengths[b]. */
function stepMasks(lengths: ArrayLike<number>, T: number): tf.Tensor2D[] {
  const B = lengths.length;
  const m = maskData(lengths, T);
  return Array.from({ length: T }, (_, t) => tf.tensor2d(m.subarray(t * B, (t + 1) * B), [B, 1]));
}

/** Time-major mask values [T * B]: 1 where t < lengths[b]. */
export function maskData(lengths: ArrayLike<number>, T: number): Float32Array {
  const B = lengths.length;
  const m = new Float32Array(T * B);
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) m[t * B + b] = t < lengths[b] ? 1 : 0;
  return m;
}

/**
 * The sum of `ts` (at least one tensor, all of one shape) by AddN ops of at most 7 inputs: WebGPU binds
 * at most 8 storage buffers per shader stage (7 inputs and the output), and tfjs's webgpu AddN does not
 * split larger sums itself, so one AddN over the 8+ time steps of a caption fails there. Left to right:
 * the first 7, then the running total and the next 6, and so on. The caller owns the result.
 */
export function sumInGroups<R extends tf.Rank>(ts: tf.Tensor<R>[]): tf.Tensor<R> {
  if (ts.length === 0) throw new Error('sumInGroups: no tensors to sum');
  return tf.tidy(() => {
    let total = ts.length === 1 ? ts[0].clone() : tf.addN(ts.slice(0, 7));
    for (let k = 7; k < ts.length; k += 6) total = tf.addN([total, ...ts.slice(k, k + 6)]);
    return total;
  });
}

/**
 * m [R, C], the packed rows of all steps, as the steps' row blocks [active[t], C]. On the host-memory
 * backends each block is copied out of a view of m's data: tf.split on wasm costs time in proportion to
 * the whole input, per block (113 ms to cut [1536, 3072] into 12 steps), and a read with dataSync is a
 * copy into a fresh array that costs as much as the rest of the input side at the playground's size on
 * wasm (docs/benchmarks.md).
 */
function splitSteps(m: tf.Tensor2D, active: number[]): tf.Tensor2D[] {
  if (!hasHostMemory()) return tf.split(m, active, 0) as tf.Tensor2D[];
  const [rows, C] = m.shape;
  // Copied once into a kept host array, and the blocks made from that: making a tensor allocates on the
  // wasm heap before it copies the values in, and a heap that grows detaches every view of it, the one
  // being copied from included (seen at hidden 1024, batch 128). A copy into an array that already
  // exists is cheap (no fresh pages).
  if (splitScratch.length < rows * C) splitScratch = new Float32Array(rows * C);
  const all = splitScratch.subarray(0, rows * C);
  all.set(hostValues(m));
  return stepBlocks(active).map(([start, n]) =>
    hostTensor2d(all.subarray(start * C, (start + n) * C), [n, C]),
  );
}

/** {@link splitSteps}'s host copy of its input, kept from call to call. */
let splitScratch = new Float32Array(0);

/** Row block `i` of `size` elements of a (time-major) host array, as a view. */
function rowBlock(a: Float32Array, i: number, size: number): Float32Array {
  return a.subarray(i * size, (i + 1) * size);
}
