/**
 * GRU and layer-normalized GRU (Ba, Kiros & Hinton 2016, Sect. 6.1, as in the paper's own code), one
 * layer, one direction, time-major, with a hand-written backward pass (BPTT).
 *
 * Parameters use the layout of `torch.nn.GRU` (gate order r, z, n) so weights can be exchanged with
 * PyTorch: `weight_ih` [3H, D], `weight_hh` [3H, H], `bias_ih` [3H], `bias_hh` [3H], plus for the LN-GRU
 * `ln_weight_ih`, `ln_bias_ih`, `ln_weight_hh`, `ln_bias_hh` [3H]. The variables hold exactly that layout.
 * Every product is a plain matMul (no transposeA/B flags, which are 10-50x slower on the wasm backend):
 * the forward pass uses transposed copies of the two weights, the backward pass the weights themselves,
 * and the weight gradients are computed in the orientation that measured fastest (docs/benchmarks.md).
 *
 * Equations, per step t with mask m_t = (t < length):
 *
 *   gi  = W_ih x_t + b_ih                 gh  = W_hh h_{t-1} + b_hh          (each 3H)
 *   LN(v) = (v - mean(v)) / sqrt(var(v) + 1e-5) * gain + shift               (biased variance)
 *   gi' = [LN(gi[:2H]), LN(gi[2H:])]      gh' = [LN(gh[:2H]), LN(gh[2H:])]   (LN-GRU only: r and z share
 *                                                                             one mean and variance)
 *   r, z = sigmoid(gi'[:2H] + gh'[:2H])
 *   n    = tanh(gi'[2H:] + r * gh'[2H:])
 *   h~   = z * h_{t-1} + (1 - z) * n
 *   h_t  = m_t ? h~ : h_{t-1}             y_t = m_t ? h~ : 0
 *
 * Gains start at 1 and shifts at 0. gi and its normalization do not depend on the state, so they are
 * computed for all steps at once before the recurrence.
 *
 * Three implementations of the step, chosen per call (`path` names the one in use):
 * - 'composite': tfjs ops (./kernels/lngruStep.ts), on every backend (the reference; the plain GRU's
 *   path everywhere, the LN-GRU's on webgl and on webgpu without a device);
 * - 'host-ln': the LN-GRU on the host-memory backends (wasm, cpu): the products, the gates and the
 *   input-side LN (a few ops over all steps' rows at once) as in 'composite'; the hidden-side LN of each
 *   step as a loop over host memory (./kernels/lngruStep.host.ts), so that a step issues the same tfjs
 *   ops as the plain GRU's: 596 kernels per forward + backward at the playground's size against the
 *   GRU's 581 and the composite LN's 936, whose extra small ops (statistics by indicator products, gain
 *   and shift, their gradients) each have a fixed cost on wasm. The whole step after the products in
 *   host loops, gates included, was tried and measured slower than 'composite' even for the plain GRU:
 *   V8's scalar exp and tanh cost more than wasm's SIMD kernels with their dispatch (docs/benchmarks.md);
 * - 'webgpu-kernel': the LN-GRU on the webgpu backend with a live device: after the matrix products,
 *   one WGSL dispatch per step forward and two per step backward (./kernels/lngruStep.wgsl.ts). Its
 *   cache keeps the pre-activations (gi', W_hh h_prev) and states instead of gates and statistics; the
 *   backward kernels recompute those.
 */
import * as tf from './tf';
import { Rng } from './rng';
import {
  blockedMatMul,
  hasHostMemory,
  PassTensors,
  runToEnd,
  splitRows,
  sumRows,
  variableOf,
  type Pass,
} from './ops';
import {
  LN_EPS,
  lnBackward,
  lnStats,
  lngruStepBackward as compositeStepBackward,
  lngruStepForward as compositeStepForward,
  makeLnGroups,
  type HiddenLn,
  type LnCache,
  type LnGroups,
  type StepCache,
} from './kernels/lngruStep';
import {
  lnInputBackward,
  lnInputForward,
  lngruStepBackward as kernelStepBackward,
  lngruStepForward as kernelStepForward,
  packLnGruParams,
} from './kernels/lngruStep.wgsl';
import { kernelsActive } from './kernels/webgpu';
import {
  biasLnForward,
  hostTensor2d,
  hostValues,
  lnBackward as hostLnBackward,
  type HostLn,
  type LnGradSums,
} from './kernels/lngruStep.host';

export { LN_EPS };

export type LnGruPath = 'composite' | 'host-ln' | 'webgpu-kernel';

/** The LN-GRU's step implementation on the host-memory backends (wasm, cpu). */
let hostBackendPath: 'host-ln' | 'composite' = 'host-ln';

/**
 * Sets the LN-GRU's step implementation on wasm and cpu (default 'host-ln'), for benchmarks that
 * compare it with the composite ops in one run.
 */
export function setHostLnPath(path: 'host-ln' | 'composite'): void {
  hostBackendPath = path;
}

/** torch.nn.GRU parameter names, plus the four layer-norm vectors of the LN-GRU. */
export const GRU_PARAM_NAMES = ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'] as const;
export const LN_PARAM_NAMES = ['ln_weight_ih', 'ln_bias_ih', 'ln_weight_hh', 'ln_bias_hh'] as const;
export type GruParamName = (typeof GRU_PARAM_NAMES)[number] | (typeof LN_PARAM_NAMES)[number];

/** Plain nested arrays in torch layout, as in ../shared/testvectors/*.json. */
export type TorchParams = Partial<Record<GruParamName, number[] | number[][]>>;

/** What the forward pass keeps for the backward pass. Owned by the caller: `disposeCache()` it. */
export interface GruCache {
  T: number;
  B: number;
  /** Inputs as rows [T*B, D]. */
  x: tf.Tensor2D;
  /** The step implementation that filled the cache; `backward` takes the same one. */
  path: LnGruPath;
  /** Composite path: LN statistics of gi over all steps (LN-GRU only). */
  lnIn?: LnCache;
  /** Composite path: per-step values. */
  steps: StepCache[];
  /** 'host-ln' path: the LN statistics of all steps as host arrays (the steps' LnCache stay empty). */
  hostLn?: HostLnCache;
  /** Kernel path: pre-activations and states (the kernels recompute gates and statistics). */
  kernel?: {
    giRaw: tf.Tensor2D; // x W_ih^T [T*B, 3H]
    gi: tf.Tensor2D; // gi' = LN(giRaw + b_ih) [T*B, 3H]
    lengths: tf.Tensor1D; // [B] int32
    hostLengths: Int32Array; // the same, on the host (masks of dy)
    params: tf.Tensor2D; // b_ih, gain_ih, shift_ih, b_hh, gain_hh, shift_hh [6, 3H]
    hPrev: tf.Tensor2D[]; // T x [B, H]
    gh: tf.Tensor2D[]; // T x h_prev W_hh^T [B, 3H]
  };
}

/** Hidden-side LN statistics of the 'host-ln' path, rows t * B + b over all steps. */
export interface HostLnCache {
  /** Normalized W_hh h_prev + b_hh [T*B, 3H]. */
  ghHat: Float32Array;
  /** 1 / std per row and group (rz, n) [T*B, 2]. */
  ghRstd: Float32Array;
}

/**
 * One spare set of host arrays, handed back by `disposeCache`: a training step's LN statistics are
 * megabytes, and fresh large arrays cost page faults each step (seen as ~3 ms per 2.4 MB here).
 */
let spareHostLn: HostLnCache | null = null;

/** Host arrays for `rows` rows of 3H = `C`: the spare set when its size fits, else new ones. */
function takeHostLnCache(rows: number, C: number): HostLnCache {
  const spare = spareHostLn;
  if (spare && spare.ghHat.length === rows * C) {
    spareHostLn = null;
    return spare;
  }
  return { ghHat: new Float32Array(rows * C), ghRstd: new Float32Array(rows * 2) };
}

export interface GruForward {
  /** Outputs [T, B, H] (zeros at padded steps); only when asked for. */
  y?: tf.Tensor3D;
  /** State after each sequence's last real step [B, H]. */
  hN: tf.Tensor2D;
  cache?: GruCache;
}

export interface GruGrads {
  /** d loss / d x [T, B, D]. */
  x: tf.Tensor3D;
  /** d loss / d parameter, in torch layout like `vars`. */
  params: Partial<Record<GruParamName, tf.Tensor>>;
}

/**
 * One implementation serves both models; `GRU` and `LayerNormGRU` below only fix `layerNorm`.
 */
export class GruLayer {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly layerNorm: boolean;
  /** Trainable variables, in torch.nn.GRU layout. */
  readonly vars: Partial<Record<GruParamName, tf.Variable>>;
  /** Group indicator matrices for layer norm over [:2H] and [2H:] (constants, composite path). */
  private readonly groups: LnGroups;

  constructor(inputSize: number, hiddenSize: number, layerNorm: boolean, seed = 1) {
    if (!(inputSize > 0 && hiddenSize > 0)) {
      throw new Error(`GRU sizes must be positive, got inputSize=${inputSize}, hiddenSize=${hiddenSize}`);
    }
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.layerNorm = layerNorm;
    const H = hiddenSize;
    const rng = new Rng(seed);
    // torch.nn.GRU's initialisation: U(-1/sqrt(H), 1/sqrt(H)) for all weights and biases.
    const k = 1 / Math.sqrt(H);
    const u = (shape: number[]) => tf.randomUniform(shape, -k, k, 'float32', rng.seed());
    const v = variableOf;
    this.vars = {
      weight_ih: v(u([3 * H, inputSize])),
      weight_hh: v(u([3 * H, H])),
      bias_ih: v(u([3 * H])),
      bias_hh: v(u([3 * H])),
    };
    if (layerNorm) {
      this.vars.ln_weight_ih = v(tf.ones([3 * H]));
      this.vars.ln_bias_ih = v(tf.zeros([3 * H]));
      this.vars.ln_weight_hh = v(tf.ones([3 * H]));
      this.vars.ln_bias_hh = v(tf.zeros([3 * H]));
    }
    this.groups = makeLnGroups(H);
  }

  /**
   * The step implementation `forward` uses now: the WGSL kernels for the LN-GRU while webgpu is the
   * active backend with a live device (the plain GRU has no kernel), its layer norms as host loops on
   * wasm and cpu, tfjs ops otherwise.
   */
  get path(): LnGruPath {
    if (!this.layerNorm) return 'composite';
    if (kernelsActive()) return 'webgpu-kernel';
    return hasHostMemory() ? hostBackendPath : 'composite';
  }

  /** Names of this layer's parameters, in a fixed order. */
  get paramNames(): GruParamName[] {
    return this.layerNorm ? [...GRU_PARAM_NAMES, ...LN_PARAM_NAMES] : [...GRU_PARAM_NAMES];
  }

  /**
   * Run the recurrence over a padded, time-major batch.
   * @param x       [T, B, D]
   * @param lengths B lengths in 1..T; padded steps leave the state unchanged and output zeros.
   * @param opts.path force a step implementation (tests and benchmarks compare them)
   */
  forward(
    x: tf.Tensor3D,
    lengths: ArrayLike<number>,
    opts: { outputs?: boolean; cache?: boolean; path?: LnGruPath } = {},
  ): GruForward {
    return runToEnd(this.forwardPass(x, lengths, opts));
  }

  /**
   * {@link forward} as a pass (./ops.ts) that yields after every time step and, given `blockMacs`, after
   * every block of that many multiply-adds of the input-side product: a caller may wait between yields
   * (a worker reads its messages) or abandon the pass there (`return()`: its tensors are freed). The
   * WebGPU kernel path runs whole (its ops are queued on the device, not run here).
   */
  *forwardPass(
    x: tf.Tensor3D,
    lengths: ArrayLike<number>,
    opts: { outputs?: boolean; cache?: boolean; path?: LnGruPath; blockMacs?: number } = {},
  ): Pass<GruForward> {
    this.checkInputs(x, lengths);
    const path = opts.path ?? this.path;
    if (path === 'webgpu-kernel' && !this.layerNorm)
      throw new Error('GRU: the WebGPU kernels are for the LN-GRU only');
    if (path === 'host-ln' && !this.layerNorm)
      throw new Error("GRU: the 'host-ln' path is for the LN-GRU only");
    if (path === 'webgpu-kernel') return this.forwardKernel(x, lengths, opts);
    return yield* this.forwardComposite(x, lengths, opts, path === 'host-ln');
  }

  /**
   * Backpropagation through time, by the implementation that filled the cache.
   * @param cache from `forward(..., {cache: true})`; not disposed here.
   * @param dy    d loss / d y [T, B, H], or null when the loss does not read y.
   * @param dhN   d loss / d h_N [B, H].
   */
  backward(cache: GruCache, dy: tf.Tensor3D | null, dhN: tf.Tensor2D): GruGrads {
    return runToEnd(this.backwardPass(cache, dy, dhN));
  }

  /** {@link backward} as a pass that yields like {@link forwardPass}, after every time step and block. */
  *backwardPass(
    cache: GruCache,
    dy: tf.Tensor3D | null,
    dhN: tf.Tensor2D,
    blockMacs?: number,
  ): Pass<GruGrads> {
    if (cache.path === 'webgpu-kernel') return this.backwardKernel(cache, dy, dhN);
    return yield* this.backwardComposite(cache, dy, dhN, blockMacs);
  }

  /**
   * Forward with tfjs ops for the products and the gates. The LN-GRU's hidden-side layer norm is tfjs
   * ops too ('composite') or a host loop ('host-ln', ./kernels/lngruStep.host.ts): then a step issues
   * the same tfjs ops as the plain GRU's, its LN being a view of W_hh h_prev, a loop, and a new tensor
   * gh' in place of the add of b_hh (the composite LN adds some 10 small ops per step). The input-side
   * LN is composite on both: a few ops over all steps' rows at once, where wasm's kernels beat a loop.
   */
  private *forwardComposite(
    x: tf.Tensor3D,
    lengths: ArrayLike<number>,
    opts: { outputs?: boolean; cache?: boolean; blockMacs?: number },
    hostLn: boolean,
  ): Pass<GruForward> {
    const [T, B, D] = x.shape;
    const H = this.hiddenSize;
    const C = 3 * H;
    const p = this.vars as Record<GruParamName, tf.Variable>;
    const own = new PassTensors();
    let out: GruForward | undefined;
    try {
      const xRows = own.keep(x.reshape([T * B, D]) as tf.Tensor2D); // [T*B, D]
      // Input side for all steps at once.
      const wihT = own.keep(p.weight_ih.transpose() as tf.Tensor2D); // [D, 3H]
      const whhT = own.keep(p.weight_hh.transpose() as tf.Tensor2D); // [H, 3H]
      const giRaw = own.keep(yield* blockedMatMul(xRows, wihT, opts.blockMacs)); // [T*B, 3H]
      const input = own.tidy(() => {
        let gi = giRaw.add(p.bias_ih) as tf.Tensor2D;
        let lnIn: LnCache | undefined;
        if (this.layerNorm) {
          lnIn = lnStats(gi, this.groups);
          gi = lnIn.xhat.mul(p.ln_weight_ih).add(p.ln_bias_ih);
        }
        return { gi, lnIn };
      });
      const giSteps = own.keep(splitSteps(input.gi, T)); // T x [B, 3H]
      const masks = own.keep(this.masks(lengths, T));
      const host = hostLn ? takeHostLnCache(T * B, C) : undefined;
      const ln = host ? null : this.hiddenLn();
      const lnHh = host ? this.hostLnParams() : null;
      const bhh = host ? (p.bias_hh.dataSync() as Float32Array) : null;
      const ghn = new Float32Array(B * C); // gh' of one step (scratch: hostTensor2d copies it)

      let h = own.keep(tf.zeros([B, H]) as tf.Tensor2D);
      const ys: tf.Tensor2D[] = [];
      const steps: StepCache[] = [];
      for (let t = 0; t < T; t++) {
        const hPrev = h;
        const step = own.tidy(() => {
          let gh: tf.Tensor2D; // [B, 3H]
          if (host && lnHh && bhh) {
            // gh' = LN(W_hh h_prev + b_hh) on the host; xhat and 1 / std kept for the backward pass.
            const raw = hostValues(tf.matMul(hPrev, whhT)); // [B, 3H]
            const ghHat = rowBlock(host.ghHat, t, B * C);
            biasLnForward(raw, bhh, lnHh, H, ghn, ghHat, rowBlock(host.ghRstd, t, B * 2));
            gh = hostTensor2d(ghn, [B, C]);
          } else {
            gh = tf.matMul(hPrev, whhT).add(p.bias_hh) as tf.Tensor2D;
          }
          const s = compositeStepForward(giSteps[t], gh, hPrev, masks[t], ln);
          return { h: s.h, cache: s.cache, y: opts.outputs ? (s.hNew.mul(masks[t]) as tf.Tensor2D) : null };
        });
        if (step.y) ys.push(step.y);
        steps.push(step.cache);
        h = step.h;
        yield;
      }
      const result: GruForward = { hN: h };
      if (opts.outputs) result.y = own.keep(tf.stack(ys) as tf.Tensor3D); // [T, B, H]
      if (host && !opts.cache) spareHostLn = host;
      if (opts.cache) {
        const path: LnGruPath = host ? 'host-ln' : 'composite';
        result.cache = { T, B, x: xRows, path, lnIn: input.lnIn, steps, hostLn: host };
      }
      out = result;
      return result;
    } finally {
      own.release(out);
    }
  }

  private *backwardComposite(
    cache: GruCache,
    dy: tf.Tensor3D | null,
    dhN: tf.Tensor2D,
    blockMacs?: number,
  ): Pass<GruGrads> {
    const { T, B } = cache;
    const H = this.hiddenSize;
    const C = 3 * H;
    const p = this.vars as Record<GruParamName, tf.Variable>;
    const host = cache.hostLn;
    const own = new PassTensors();
    let out: GruGrads | undefined;
    try {
      const dySteps = dy ? own.keep(tf.unstack(dy) as tf.Tensor2D[]) : null; // T x [B, H]
      const dgiSteps: tf.Tensor2D[] = new Array(T);
      const dghSteps: tf.Tensor2D[] = new Array(T);
      const lnGrads: { dgain: tf.Tensor1D; dshift: tf.Tensor1D }[] = [];
      const ln = host ? null : this.hiddenLn();
      const sumsHh: LnGradSums = { gain: new Float64Array(C), shift: new Float64Array(C) };
      const gainHh = host ? (p.ln_weight_hh.dataSync() as Float32Array) : null;
      const dghScratch = new Float32Array(B * C); // d gh of one step (hostTensor2d copies it)
      let dh: tf.Tensor2D = dhN;
      for (let t = T - 1; t >= 0; t--) {
        const dhT = dh;
        const s = own.tidy(() => {
          const s = compositeStepBackward(dhT, dySteps ? dySteps[t] : null, cache.steps[t], ln);
          let dgh = s.dgh; // d (W_hh h_prev + b_hh) [B, 3H]
          if (host && gainHh) {
            // s.dgh is d gh' here: back through the hidden-side LN on the host.
            const ghHat = rowBlock(host.ghHat, t, B * C);
            const ghRstd = rowBlock(host.ghRstd, t, B * 2);
            hostLnBackward(hostValues(s.dgh), ghHat, ghRstd, gainHh, H, dghScratch, sumsHh);
            dgh = hostTensor2d(dghScratch, [B, C]);
          }
          // d h_prev: [B, 3H] @ [3H, H] (d h_0 is not needed).
          const dhPrev =
            t > 0 ? (s.dhPrev.add(tf.matMul(dgh, p.weight_hh as tf.Tensor2D)) as tf.Tensor2D) : s.dhPrev;
          return { dgi: s.dgi, dgh, lnGrads: s.lnGrads, dhPrev };
        });
        if (s.lnGrads) lnGrads.push(s.lnGrads);
        dgiSteps[t] = s.dgi;
        dghSteps[t] = s.dgh;
        dh = s.dhPrev;
        yield;
      }
      const grads: GruGrads['params'] = {};
      // Recurrent weights: one product over all steps, [3H, T*B] @ [T*B, H].
      const hPrevRows = own.keep(tf.concat(cache.steps.map((s) => s.hPrev)) as tf.Tensor2D); // [T*B, H]
      const dGH = own.keep(tf.concat(dghSteps) as tf.Tensor2D); // [T*B, 3H]
      const dGHt = own.keep(dGH.transpose() as tf.Tensor2D); // [3H, T*B]
      grads.weight_hh = own.keep(yield* blockedMatMul(dGHt, hPrevRows, blockMacs)); // [3H, H]
      grads.bias_hh = own.keep(sumRows(dGH));
      if (host) {
        grads.ln_weight_hh = own.keep(tf.tensor1d(Float32Array.from(sumsHh.gain)));
        grads.ln_bias_hh = own.keep(tf.tensor1d(Float32Array.from(sumsHh.shift)));
      } else if (this.layerNorm) {
        grads.ln_weight_hh = own.keep(sumInGroups(lnGrads.map((g) => g.dgain)));
        grads.ln_bias_hh = own.keep(sumInGroups(lnGrads.map((g) => g.dshift)));
      }
      // Input side, all steps at once.
      let dGI = own.keep(tf.concat(dgiSteps) as tf.Tensor2D); // [T*B, 3H]
      const lnIn = cache.lnIn;
      if (lnIn) {
        const dGIn = dGI;
        const g = own.tidy(() => lnBackward(dGIn, lnIn, p.ln_weight_ih, this.groups));
        grads.ln_weight_ih = g.dgain;
        grads.ln_bias_ih = g.dshift;
        dGI = g.dx;
      }
      out = yield* this.inputGrads(cache, dGI, grads, own, blockMacs);
      return out;
    } finally {
      own.release(out);
    }
  }

  /** LN-GRU forward with the WGSL step kernels (webgpu); same results as `forwardComposite`. */
  private forwardKernel(
    x: tf.Tensor3D,
    lengths: ArrayLike<number>,
    opts: { outputs?: boolean; cache?: boolean },
  ): GruForward {
    const [T, B, D] = x.shape;
    const H = this.hiddenSize;
    const p = this.vars as Record<GruParamName, tf.Variable>;
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
        const m = tf.tensor3d(this.maskData(lengths, T), [T, B, 1]);
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
  private backwardKernel(cache: GruCache, dy: tf.Tensor3D | null, dhN: tf.Tensor2D): GruGrads {
    const { T, B } = cache;
    const H = this.hiddenSize;
    const k = cache.kernel;
    if (!k) throw new Error('GRU backward: the cache says webgpu-kernel but holds no kernel values');
    const p = this.vars as Record<GruParamName, tf.Variable>;
    return tf.tidy(() => {
      // m_t dy_t per step [B, H]: the kernels take d h_t + m_t dy_t as one input.
      const dyMasked = dy
        ? tf.unstack(dy.mul(tf.tensor3d(this.maskData(k.hostLengths, T), [T, B, 1])))
        : null;
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
      return runToEnd(this.inputGrads(cache, dGI, grads, new PassTensors())) as unknown as tf.TensorContainer;
    }) as unknown as GruGrads;
  }

  /**
   * Input-side gradients from d (W_ih x + b_ih) [T*B, 3H]: b_ih, W_ih and x; the tensors it makes are
   * kept in `own` (the caller releases them, less its result); its two large products in blocks.
   */
  private *inputGrads(
    cache: GruCache,
    dGI: tf.Tensor2D,
    grads: GruGrads['params'],
    own: PassTensors,
    blockMacs?: number,
  ): Pass<GruGrads> {
    const p = this.vars as Record<GruParamName, tf.Variable>;
    grads.bias_ih = own.keep(sumRows(dGI));
    // [D, T*B] @ [T*B, 3H], then [3H, D]: faster than [3H, T*B] @ [T*B, D] here (D is small).
    const xT = own.keep(cache.x.transpose() as tf.Tensor2D); // [D, T*B]
    const dWihT = own.keep(yield* blockedMatMul(xT, dGI, blockMacs)); // [D, 3H]
    grads.weight_ih = own.keep(dWihT.transpose());
    const dxRows = own.keep(yield* blockedMatMul(dGI, p.weight_ih as tf.Tensor2D, blockMacs)); // [T*B, D]
    const dx = own.keep(dxRows.reshape([cache.T, cache.B, this.inputSize]) as tf.Tensor3D); // [T, B, D]
    return { x: dx, params: grads };
  }

  /** Gain and shift of the hidden-side layer norm, read to the host ('host-ln' path). */
  private hostLnParams(): HostLn {
    const { ln_weight_hh: gain, ln_bias_hh: shift } = this.vars;
    if (!gain || !shift) throw new Error("GRU: the 'host-ln' path is for the LN-GRU only");
    return { gain: gain.dataSync() as Float32Array, shift: shift.dataSync() as Float32Array };
  }

  /** Hidden-side layer norm of the composite step (null for the plain GRU). */
  private hiddenLn(): HiddenLn | null {
    const p = this.vars;
    return this.layerNorm ? { gain: p.ln_weight_hh!, shift: p.ln_bias_hh!, groups: this.groups } : null;
  }

  /** Free the tensors that `forward` kept for `backward`. */
  static disposeCache(cache: GruCache): void {
    const ts: tf.Tensor[] = [cache.x];
    if (cache.lnIn) ts.push(cache.lnIn.xhat, cache.lnIn.rstd);
    for (const s of cache.steps) {
      ts.push(s.mask, s.hPrev, s.r, s.z, s.n, s.ghN);
      if (s.ln) ts.push(s.ln.xhat, s.ln.rstd);
    }
    const k = cache.kernel;
    if (k) ts.push(k.giRaw, k.gi, k.lengths, k.params, ...k.hPrev, ...k.gh);
    tf.dispose(ts);
    if (cache.hostLn) spareHostLn = cache.hostLn;
    cache.hostLn = undefined; // disposing twice hands nothing back twice
  }

  /** Parameters as nested arrays in torch.nn.GRU layout. */
  exportTorch(): Record<string, number[] | number[][]> {
    const out: Record<string, number[] | number[][]> = {};
    for (const name of this.paramNames) out[name] = this.vars[name]!.arraySync() as number[] | number[][];
    return out;
  }

  /** Load parameters given in torch.nn.GRU layout; checks every shape. */
  importTorch(params: TorchParams): void {
    const H = this.hiddenSize;
    const expected: Record<GruParamName, number[]> = {
      weight_ih: [3 * H, this.inputSize],
      weight_hh: [3 * H, H],
      bias_ih: [3 * H],
      bias_hh: [3 * H],
      ln_weight_ih: [3 * H],
      ln_bias_ih: [3 * H],
      ln_weight_hh: [3 * H],
      ln_bias_hh: [3 * H],
    };
    for (const name of this.paramNames) {
      const value = params[name];
      if (value === undefined)
        throw new Error(`missing GRU parameter '${name}' (expected shape [${expected[name]}])`);
      tf.tidy(() => {
        const t = tf.tensor(value as number[], undefined, 'float32');
        if (t.shape.join() !== expected[name].join()) {
          throw new Error(`GRU parameter '${name}': expected shape [${expected[name]}], got [${t.shape}]`);
        }
        this.vars[name]!.assign(t);
      });
    }
  }

  dispose(): void {
    tf.dispose([...Object.values(this.vars), this.groups.mean, this.groups.bcast]);
  }

  /** mask[t] = [B, 1] with 1 where t < lengths[b]. */
  private masks(lengths: ArrayLike<number>, T: number): tf.Tensor2D[] {
    const B = lengths.length;
    const m = this.maskData(lengths, T);
    return Array.from({ length: T }, (_, t) => tf.tensor2d(m.subarray(t * B, (t + 1) * B), [B, 1]));
  }

  /** Time-major mask values [T * B]: 1 where t < lengths[b]. */
  private maskData(lengths: ArrayLike<number>, T: number): Float32Array {
    const B = lengths.length;
    const m = new Float32Array(T * B);
    for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) m[t * B + b] = t < lengths[b] ? 1 : 0;
    return m;
  }

  private checkInputs(x: tf.Tensor, lengths: ArrayLike<number>): void {
    if (x.rank !== 3) throw new Error(`GRU input must be [T, B, D], got shape [${x.shape}]`);
    const [T, B, D] = x.shape;
    if (D !== this.inputSize)
      throw new Error(`GRU input size: expected D=${this.inputSize}, got [${x.shape}]`);
    if (lengths.length !== B)
      throw new Error(`GRU lengths: expected ${B} lengths (batch size), got ${lengths.length}`);
    for (let b = 0; b < B; b++) {
      const l = lengths[b];
      if (!Number.isInteger(l) || l < 1 || l > T) {
        throw new Error(
          `GRU lengths[${b}] = ${l}: expected an integer in 1..${T} (T = ${T}); empty sequences are not allowed`,
        );
      }
    }
  }
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
 * m [T * R, C] as T row blocks [R, C]. On the host-memory backends each block is copied out of a view
 * of m's data (./ops.ts `splitRows` reads it with dataSync, a copy into a fresh array that costs as
 * much as the rest of the input side at the playground's size on wasm: docs/benchmarks.md).
 */
function splitSteps(m: tf.Tensor2D, T: number): tf.Tensor2D[] {
  if (!hasHostMemory()) return splitRows(m, T);
  const [rows, C] = m.shape;
  const R = rows / T;
  // The view is taken again for each block: making a tensor may grow the wasm heap and detach it.
  return Array.from({ length: T }, (_, t) => hostTensor2d(rowBlock(hostValues(m), t, R * C), [R, C]));
}

/** Row block `i` of `size` elements of a (time-major) host array, as a view. */
function rowBlock(a: Float32Array, i: number, size: number): Float32Array {
  return a.subarray(i * size, (i + 1) * size);
}

/** Plain GRU, torch.nn.GRU equations. */
export class GRU extends GruLayer {
  constructor(inputSize: number, hiddenSize: number, seed = 1) {
    super(inputSize, hiddenSize, false, seed);
  }
}

/** Layer-normalized GRU, the four normalizations of the layer norm paper's code. */
export class LayerNormGRU extends GruLayer {
  constructor(inputSize: number, hiddenSize: number, seed = 1) {
    super(inputSize, hiddenSize, true, seed);
  }
}
