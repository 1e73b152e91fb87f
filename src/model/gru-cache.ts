/**
 * What the GRU's forward pass keeps for its backward pass (./gru.ts): parameter names and layouts, the
 * cache of each step implementation, the results of the two passes, and the spare host arrays of the
 * 'host-ln' path that a disposed cache hands back.
 */
import * as tf from './tf';
import type { LnCache, LnGroups, StepCache } from './kernels/lngruStep';

export type LnGruPath = 'composite' | 'host-ln' | 'webgpu-kernel';

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
  /** Inputs as rows [T*B, D] (or the packed rows: see `packed`). */
  x: tf.Tensor2D;
  /** The step implementation that filled the cache; `backward` takes the same one. */
  path: LnGruPath;
  /** Composite path: LN statistics of gi over all steps (LN-GRU only). */
  lnIn?: LnCache;
  /** Composite path: per-step values. */
  steps: StepCache[];
  /** 'host-ln' path: the LN statistics of all steps as host arrays (the steps' LnCache stay empty). */
  hostLn?: HostLnCache;
  /**
   * Composite paths: the rows in the order the steps took them (longest first; given row rows[i] at
   * i), when that is not the given order. Step t computed its first steps[t].hPrev.shape[0] rows.
   */
  rows?: Int32Array;
  /**
   * Composite paths: the time-major rows (t * B + b) that `x` holds, step after step, when some steps
   * ran on fewer than B rows (`x` is then [R, D], R < T*B).
   */
  packed?: Int32Array;
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

/** LN statistics of the 'host-ln' path (both sides), rows t * B + b over all steps. */
export interface HostLnCache {
  /** Normalized W_hh h_prev + b_hh [T*B, 3H]. */
  ghHat: Float32Array;
  /** 1 / std per row and group (rz, n) [T*B, 2]. */
  ghRstd: Float32Array;
  /** Normalized W_ih x + b_ih [T*B, 3H]. */
  giHat: Float32Array;
  /** 1 / std per row and group of the input side [T*B, 2]. */
  giRstd: Float32Array;
  /** [T*B, 3H] of scratch: gi' in the forward pass, d (W_ih x + b_ih) in the backward (copied out). */
  scratch: Float32Array;
}

/**
 * One spare set of host arrays, handed back by `disposeCache`: a training step's LN statistics are
 * megabytes, and fresh large arrays cost page faults each step (seen as ~3 ms per 2.4 MB here).
 */
let spareHostLn: HostLnCache | null = null;

/** Host arrays for `rows` rows of 3H = `C`: the spare set when its size fits, else new ones. */
export function takeHostLnCache(rows: number, C: number): HostLnCache {
  const spare = spareHostLn;
  // Both sizes: [rows, C] of one layer can be [rows', C'] of another with rows x C = rows' x C'.
  if (spare && spare.ghHat.length === rows * C && spare.ghRstd.length === rows * 2) {
    spareHostLn = null;
    return spare;
  }
  return {
    ghHat: new Float32Array(rows * C),
    ghRstd: new Float32Array(rows * 2),
    giHat: new Float32Array(rows * C),
    giRstd: new Float32Array(rows * 2),
    scratch: new Float32Array(rows * C),
  };
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

/** Keeps `host` as the spare set for the next `takeHostLnCache`. */
export function keepSpareHostLn(host: HostLnCache): void {
  spareHostLn = host;
}

/** Free the tensors that `forward` kept for `backward`. */
export function disposeGruCache(cache: GruCache): void {
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

/** What the step implementations read of a layer (./gru.ts `GruLayer`). */
export interface GruParts {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly layerNorm: boolean;
  /** Trainable variables, in torch.nn.GRU layout. */
  readonly vars: Partial<Record<GruParamName, tf.Variable>>;
  /** Group indicator matrices for layer norm over [:2H] and [2H:] (constants, composite path). */
  readonly groups: LnGroups;
}
