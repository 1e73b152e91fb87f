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
 */
import * as tf from './tf';
import { Rng } from './rng';
import { splitCols, splitRows, sumRows, tanh, variableOf } from './ops';

export const LN_EPS = 1e-5;

/** torch.nn.GRU parameter names, plus the four layer-norm vectors of the LN-GRU. */
export const GRU_PARAM_NAMES = ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'] as const;
export const LN_PARAM_NAMES = ['ln_weight_ih', 'ln_bias_ih', 'ln_weight_hh', 'ln_bias_hh'] as const;
export type GruParamName = (typeof GRU_PARAM_NAMES)[number] | (typeof LN_PARAM_NAMES)[number];

/** Plain nested arrays in torch layout, as in ../shared/testvectors/*.json. */
export type TorchParams = Partial<Record<GruParamName, number[] | number[][]>>;

/** Layer-norm statistics of one [R, 3H] pre-activation, kept for the backward pass. */
interface LnCache {
  /** Normalized values before gain and shift [R, 3H]. */
  xhat: tf.Tensor2D;
  /** 1 / sqrt(var + eps) per row and group (rz, n) [R, 2]. */
  rstd: tf.Tensor2D;
}

/** What the forward pass keeps for the backward pass. Owned by the caller: `disposeCache()` it. */
export interface GruCache {
  T: number;
  B: number;
  /** Inputs as rows [T*B, D]. */
  x: tf.Tensor2D;
  /** LN statistics of gi over all steps (LN-GRU only). */
  lnIn?: LnCache;
  /** Per-step values. */
  steps: {
    mask: tf.Tensor2D; // [B, 1]
    hPrev: tf.Tensor2D; // [B, H]
    r: tf.Tensor2D; // [B, H]
    z: tf.Tensor2D; // [B, H]
    n: tf.Tensor2D; // [B, H]
    ghN: tf.Tensor2D; // gh'[2H:] [B, H]
    ln?: LnCache; // LN statistics of gh (LN-GRU only)
  }[];
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
  /** Group indicator matrices for layer norm over [:2H] and [2H:] (constants). */
  private readonly groupMean: tf.Tensor2D; // [3H, 2], 1/size of the group
  private readonly groupBcast: tf.Tensor2D; // [2, 3H], 1 inside the group

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
    const mean = new Float32Array(3 * H * 2);
    const bcast = new Float32Array(2 * 3 * H);
    for (let j = 0; j < 3 * H; j++) {
      const g = j < 2 * H ? 0 : 1;
      mean[j * 2 + g] = 1 / (g === 0 ? 2 * H : H);
      bcast[g * 3 * H + j] = 1;
    }
    this.groupMean = tf.tensor2d(mean, [3 * H, 2]);
    this.groupBcast = tf.tensor2d(bcast, [2, 3 * H]);
  }

  /** Names of this layer's parameters, in a fixed order. */
  get paramNames(): GruParamName[] {
    return this.layerNorm ? [...GRU_PARAM_NAMES, ...LN_PARAM_NAMES] : [...GRU_PARAM_NAMES];
  }

  /**
   * Run the recurrence over a padded, time-major batch.
   * @param x       [T, B, D]
   * @param lengths B lengths in 1..T; padded steps leave the state unchanged and output zeros.
   */
  forward(
    x: tf.Tensor3D,
    lengths: ArrayLike<number>,
    opts: { outputs?: boolean; cache?: boolean } = {},
  ): GruForward {
    const [T, B, D] = x.shape;
    this.checkInputs(x, lengths);
    const H = this.hiddenSize;
    const p = this.vars as Record<GruParamName, tf.Variable>;
    return tf.tidy(() => {
      const xRows = x.reshape([T * B, D]) as tf.Tensor2D; // [T*B, D]
      // Input side for all steps at once.
      const wihT = p.weight_ih.transpose() as tf.Tensor2D; // [D, 3H]
      const whhT = p.weight_hh.transpose() as tf.Tensor2D; // [H, 3H]
      let gi = tf.matMul(xRows, wihT).add(p.bias_ih) as tf.Tensor2D; // [T*B, 3H]
      let lnIn: LnCache | undefined;
      if (this.layerNorm) {
        lnIn = this.lnStats(gi);
        gi = lnIn.xhat.mul(p.ln_weight_ih).add(p.ln_bias_ih);
      }
      const giSteps = splitRows(gi, T); // T x [B, 3H]
      const masks = this.masks(lengths, T);

      let h = tf.zeros([B, H]) as tf.Tensor2D;
      const ys: tf.Tensor2D[] = [];
      const steps: GruCache['steps'] = [];
      for (let t = 0; t < T; t++) {
        let gh = tf.matMul(h, whhT).add(p.bias_hh) as tf.Tensor2D; // [B, 3H]
        let ln: LnCache | undefined;
        if (this.layerNorm) {
          ln = this.lnStats(gh);
          gh = ln.xhat.mul(p.ln_weight_hh).add(p.ln_bias_hh);
        }
        const [giRZ, giN] = splitCols(giSteps[t], 2 * H); // [B, 2H], [B, H]
        const [ghRZ, ghN] = splitCols(gh, 2 * H);
        const [r, z] = splitCols(tf.sigmoid(giRZ.add(ghRZ)) as tf.Tensor2D, H); // [B, H] each
        const n = tanh(giN.add(r.mul(ghN)) as tf.Tensor2D); // [B, H]
        const hNew = n.add(z.mul(h.sub(n))) as tf.Tensor2D; // z*h + (1-z)*n
        const m = masks[t]; // [B, 1]
        if (opts.outputs) ys.push(hNew.mul(m));
        steps.push({ mask: m, hPrev: h, r, z, n, ghN, ln });
        h = h.add(hNew.sub(h).mul(m)) as tf.Tensor2D;
      }
      const out: GruForward = { hN: h };
      if (opts.outputs) out.y = tf.stack(ys) as tf.Tensor3D; // [T, B, H]
      if (opts.cache) out.cache = { T, B, x: xRows, lnIn, steps };
      return out as unknown as tf.TensorContainer;
    }) as unknown as GruForward;
  }

  /**
   * Backpropagation through time.
   * @param cache from `forward(..., {cache: true})`; not disposed here.
   * @param dy    d loss / d y [T, B, H], or null when the loss does not read y.
   * @param dhN   d loss / d h_N [B, H].
   */
  backward(cache: GruCache, dy: tf.Tensor3D | null, dhN: tf.Tensor2D): GruGrads {
    const { T, B } = cache;
    const p = this.vars as Record<GruParamName, tf.Variable>;
    return tf.tidy(() => {
      const dySteps = dy ? tf.unstack(dy) : null; // T x [B, H]
      const dgiSteps: tf.Tensor2D[] = new Array(T);
      const dghSteps: tf.Tensor2D[] = new Array(T);
      const lnGrads: { dgain: tf.Tensor1D; dshift: tf.Tensor1D }[] = [];
      let dh: tf.Tensor2D = dhN;
      for (let t = T - 1; t >= 0; t--) {
        const { mask: m, hPrev, r, z, n, ghN, ln } = cache.steps[t];
        // h_t = h_prev + m * (h~ - h_prev); y_t = m * h~
        let dhNew = dh.mul(m) as tf.Tensor2D;
        if (dySteps) dhNew = dhNew.add(dySteps[t].mul(m));
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
        dgiSteps[t] = tf.concat([daRZ, dan], 1) as tf.Tensor2D; // d gi' [B, 3H]
        let dgh = tf.concat([daRZ, dan.mul(r)], 1) as tf.Tensor2D; // d gh' [B, 3H]
        if (ln) {
          const g = this.lnBackward(dgh, ln, p.ln_weight_hh);
          lnGrads.push(g);
          dgh = g.dx;
        }
        dghSteps[t] = dgh;
        dh = dhPrev.add(tf.matMul(dgh, p.weight_hh as tf.Tensor2D)) as tf.Tensor2D; // [B, 3H] @ [3H, H]
      }
      const grads: GruGrads['params'] = {};
      // Recurrent weights: one product over all steps, [3H, T*B] @ [T*B, H].
      const hPrevRows = tf.concat(cache.steps.map((s) => s.hPrev)) as tf.Tensor2D; // [T*B, H]
      const dGH = tf.concat(dghSteps) as tf.Tensor2D; // [T*B, 3H]
      grads.weight_hh = tf.matMul(dGH.transpose(), hPrevRows); // [3H, H]
      grads.bias_hh = sumRows(dGH);
      if (this.layerNorm) {
        grads.ln_weight_hh = tf.addN(lnGrads.map((g) => g.dgain));
        grads.ln_bias_hh = tf.addN(lnGrads.map((g) => g.dshift));
      }
      // Input side, all steps at once.
      let dGI = tf.concat(dgiSteps) as tf.Tensor2D; // [T*B, 3H]
      if (cache.lnIn) {
        const g = this.lnBackward(dGI, cache.lnIn, p.ln_weight_ih);
        grads.ln_weight_ih = g.dgain;
        grads.ln_bias_ih = g.dshift;
        dGI = g.dx;
      }
      grads.bias_ih = sumRows(dGI);
      // [D, T*B] @ [T*B, 3H], then [3H, D]: faster than [3H, T*B] @ [T*B, D] here (D is small).
      grads.weight_ih = tf.matMul(cache.x.transpose(), dGI).transpose();
      const dx = tf.matMul(dGI, p.weight_ih as tf.Tensor2D).reshape([T, B, this.inputSize]) as tf.Tensor3D; // [T*B, 3H] @ [3H, D]
      return { x: dx, params: grads } as unknown as tf.TensorContainer;
    }) as unknown as GruGrads;
  }

  /** Free the tensors that `forward` kept for `backward`. */
  static disposeCache(cache: GruCache): void {
    const ts: tf.Tensor[] = [cache.x];
    if (cache.lnIn) ts.push(cache.lnIn.xhat, cache.lnIn.rstd);
    for (const s of cache.steps) {
      ts.push(s.mask, s.hPrev, s.r, s.z, s.n, s.ghN);
      if (s.ln) ts.push(s.ln.xhat, s.ln.rstd);
    }
    tf.dispose(ts);
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
    tf.dispose([...Object.values(this.vars), this.groupMean, this.groupBcast]);
  }

  /** LN statistics of v [R, 3H] over the groups [:2H] and [2H:], via the group indicator matrices. */
  private lnStats(v: tf.Tensor2D): LnCache {
    const mean = tf.matMul(tf.matMul(v, this.groupMean), this.groupBcast); // [R, 3H]
    const d = v.sub(mean);
    const rstd = tf.rsqrt(tf.matMul(d.square() as tf.Tensor2D, this.groupMean).add(LN_EPS)) as tf.Tensor2D; // [R, 2]
    return { xhat: d.mul(tf.matMul(rstd, this.groupBcast)) as tf.Tensor2D, rstd };
  }

  /**
   * Backward of out = xhat * gain + shift with xhat = LN statistics of v, per group:
   * dv = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)).
   */
  private lnBackward(
    dout: tf.Tensor2D,
    c: LnCache,
    gain: tf.Tensor,
  ): { dx: tf.Tensor2D; dgain: tf.Tensor1D; dshift: tf.Tensor1D } {
    const dxhat = dout.mul(gain) as tf.Tensor2D;
    const groupMean = (a: tf.Tensor2D) => tf.matMul(tf.matMul(a, this.groupMean), this.groupBcast); // [R, 3H]
    const dx = dxhat
      .sub(groupMean(dxhat))
      .sub(c.xhat.mul(groupMean(dxhat.mul(c.xhat) as tf.Tensor2D)))
      .mul(tf.matMul(c.rstd, this.groupBcast)) as tf.Tensor2D;
    return { dx, dgain: sumRows(dout.mul(c.xhat) as tf.Tensor2D), dshift: sumRows(dout) };
  }

  /** mask[t] = [B, 1] with 1 where t < lengths[b]. */
  private masks(lengths: ArrayLike<number>, T: number): tf.Tensor2D[] {
    const B = lengths.length;
    const m = new Float32Array(T * B);
    for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) m[t * B + b] = t < lengths[b] ? 1 : 0;
    return Array.from({ length: T }, (_, t) => tf.tensor2d(m.subarray(t * B, (t + 1) * B), [B, 1]));
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
