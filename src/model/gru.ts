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
 *
 * Files: this one holds the layer (parameters, path choice, torch exchange); ./gru-composite.ts the
 * 'composite' and 'host-ln' passes (each step over the rows still going: ./gru-rows.ts),
 * ./gru-kernel.ts the 'webgpu-kernel' passes, ./gru-cache.ts what a forward pass keeps for the backward
 * pass.
 */
import * as tf from './tf';
import { Rng } from './rng';
import { hasHostMemory, runToEnd, variableOf, type Pass } from './ops';
import { LN_EPS, makeLnGroups, type LnGroups } from './kernels/lngruStep';
import { kernelsActive } from './kernels/webgpu';
import { disposeGruCache, GRU_PARAM_NAMES, LN_PARAM_NAMES, type GruParts } from './gru-cache';
import type { GruCache, GruForward, GruGrads, GruParamName, LnGruPath, TorchParams } from './gru-cache';
import { backwardComposite, forwardComposite } from './gru-composite';
import { backwardKernel, forwardKernel } from './gru-kernel';

export { LN_EPS, GRU_PARAM_NAMES, LN_PARAM_NAMES };
export type { GruCache, GruForward, GruGrads, GruParamName, LnGruPath, TorchParams };
export type { HostLnCache } from './gru-cache';
export { sumInGroups } from './gru-composite';

/** The LN-GRU's step implementation on the host-memory backends (wasm, cpu). */
let hostBackendPath: 'host-ln' | 'composite' = 'host-ln';

/**
 * Sets the LN-GRU's step implementation on wasm and cpu (default 'host-ln'), for benchmarks that
 * compare it with the composite ops in one run.
 */
export function setHostLnPath(path: 'host-ln' | 'composite'): void {
  hostBackendPath = path;
}
/**
 * One implementation serves both models; `GRU` and `LayerNormGRU` below only fix `layerNorm`.
 */
export class GruLayer implements GruParts {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly layerNorm: boolean;
  /** Trainable variables, in torch.nn.GRU layout. */
  readonly vars: Partial<Record<GruParamName, tf.Variable>>;
  /** Group indicator matrices for layer norm over [:2H] and [2H:] (constants, composite path). */
  readonly groups: LnGroups;

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
    if (path === 'webgpu-kernel') return forwardKernel(this, x, lengths, opts);
    return yield* forwardComposite(this, x, lengths, opts, path === 'host-ln');
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
    if (cache.path === 'webgpu-kernel') return backwardKernel(this, cache, dy, dhN);
    return yield* backwardComposite(this, cache, dy, dhN, blockMacs);
  }

  /** Free the tensors that `forward` kept for `backward`. */
  static disposeCache(cache: GruCache): void {
    disposeGruCache(cache);
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
