/**
 * WGSL kernels for the order-violation energy (Vendrov et al. 2016), run through tfjs-backend-webgpu:
 *
 *   E[i, j]      = sum_k max(0, c[j, k] - im[i, k])^2                   images [N, D], captions [M, D]
 *   dE/dim[i, k] = -2 sum_j g[i, j] max(0, c[j, k] - im[i, k])           (g = upstream gradient [N, M])
 *   dE/dc[j, k]  =  2 sum_i g[i, j] max(0, c[j, k] - im[i, k])
 *
 * The composite tfjs version (./orderViolation.ts) broadcasts to [n, M, D] chunks and reduces; here
 * each workgroup computes a 32 x 32 tile of the result, staging 32-row slabs of both operands in
 * workgroup memory one k-slab at a time, like a matrix product with (a - b)_+^2 in place of a * b.
 * Nothing larger than the result is ever written: memory is O(N M + (N + M) D).
 *
 * Top-k retrieval over a large gallery streams the gallery in blocks: each block's energies [Q, m]
 * (E or its transpose, so that rows are always queries) are merged into a running list of the k
 * lowest energies per query by a one-thread-per-query insertion kernel, so memory stays O(Q m).
 */
import * as tf from '../tf';
import { ceilDiv, checkBinding, deviceLimits, kernelBackend, runProgram, type WebGPUProgram } from './webgpu';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';

/** Rows and columns of E per workgroup (8 x 8 threads, 4 x 4 results each). */
const TILE = 32;

/** relu(d)^2 summed over a vec4, shared by the kernels below. */
const SQ_RELU = `
  fn sqRelu(d : vec4<f32>) -> f32 {
    let r = max(d, vec4<f32>(0.0));
    return dot(r, r);
  }`;

/**
 * Bounds-checked vec4 load of row `row`, columns k..k+3, from a row-major [R, D] storage array
 * (zeros outside: padded columns then add (0 - 0)_+ = 0 to every sum).
 */
const loadVec4 = (name: string) => `
  fn load_${name}(row : i32, k : i32) -> vec4<f32> {
    let R = uniforms.${name}Shape.x;
    let D = uniforms.${name}Shape.y;
    var v = vec4<f32>(0.0);
    if (row >= R) { return v; }
    let base = row * D + k;
    if (k + 3 < D) {
      return vec4<f32>(${name}[base], ${name}[base + 1], ${name}[base + 2], ${name}[base + 3]);
    }
    for (var q = 0; q < 4; q++) {
      if (k + q < D) { v[q] = ${name}[base + q]; }
    }
    return v;
  }`;

/** E [N, M] (or E^T [M, N] when `transposed`) for rows/columns starting at uniform offsets. */
class OrderViolationEnergyProgram implements WebGPUProgram {
  variableNames = ['im', 'cap'];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [1], y: [0] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [8, 8, 1];
  uniforms = 'rowOffset : i32, colOffset : i32, ';
  private readonly transposed: boolean;

  /** rows x cols: the part of E this dispatch computes. */
  constructor(N: number, M: number, rows: number, cols: number, transposed: boolean) {
    this.transposed = transposed;
    this.outputShape = transposed ? [M, N] : [N, M];
    this.dispatch = [ceilDiv(cols, TILE), ceilDiv(rows, TILE), 1];
    this.shaderKey = `orderViolationEnergy_${transposed ? 'T' : 'N'}`;
  }

  getUserCode(): string {
    // TK4 vec4 = 64 floats of k per slab: 2 x 32 x 64 x 4 B = 16 KiB of workgroup memory, the
    // guaranteed minimum; wider slabs mean fewer barriers, which are slow on software adapters.
    const store = this.transposed ? 'result[j * N + i] = v;' : 'result[i * M + j] = v;';
    return `
  const TK4 = 16;
  var<workgroup> sIm : array<vec4<f32>, ${TILE * 16}>;
  var<workgroup> sCap : array<vec4<f32>, ${TILE * 16}>;
  ${SQ_RELU}
  ${loadVec4('im')}
  ${loadVec4('cap')}

  fn main() {
    let lx = i32(localId.x);
    let ly = i32(localId.y);
    let li = i32(localIndex);
    let N = uniforms.imShape.x;
    let M = uniforms.capShape.x;
    let D = uniforms.imShape.y;
    let row0 = uniforms.rowOffset + i32(workgroupId.y) * ${TILE};
    let col0 = uniforms.colOffset + i32(workgroupId.x) * ${TILE};
    // acc[a][b]: image row0 + 4 ly + a against caption col0 + 4 lx + b.
    var acc : array<vec4<f32>, 4>;
    for (var k0 = 0; k0 < D; k0 = k0 + TK4 * 4) {
      for (var q = 0; q < ${(TILE * 16) / 64}; q++) {
        let idx = li + q * 64;
        let r = idx / TK4;
        let kv = idx - r * TK4;
        sIm[idx] = load_im(row0 + r, k0 + kv * 4);
        sCap[idx] = load_cap(col0 + r, k0 + kv * 4);
      }
      workgroupBarrier();
      for (var kv = 0; kv < TK4; kv++) {
        let c0 = sCap[(lx * 4) * TK4 + kv];
        let c1 = sCap[(lx * 4 + 1) * TK4 + kv];
        let c2 = sCap[(lx * 4 + 2) * TK4 + kv];
        let c3 = sCap[(lx * 4 + 3) * TK4 + kv];
        for (var a = 0; a < 4; a++) {
          let m = sIm[(ly * 4 + a) * TK4 + kv];
          acc[a] = acc[a] + vec4<f32>(sqRelu(c0 - m), sqRelu(c1 - m), sqRelu(c2 - m), sqRelu(c3 - m));
        }
      }
      workgroupBarrier();
    }
    for (var a = 0; a < 4; a++) {
      let i = row0 + ly * 4 + a;
      for (var b = 0; b < 4; b++) {
        let j = col0 + lx * 4 + b;
        if (i < N && j < M) {
          let v = acc[a][b];
          ${store}
        }
      }
    }
  }`;
  }
}

/**
 * Gradient of sum(g * E) with respect to one operand, [R, D]:
 *   'im':  out[i, k] = -2 sum_j g[i, j] (c[j, k] - im[i, k])_+      own = images, other = captions
 *   'cap': out[j, k] =  2 sum_i g[i, j] (c[j, k] - im[i, k])_+      own = captions, other = images
 * Each workgroup owns 32 rows x 32 columns of k; the summed index runs in slabs of 32 staged in
 * workgroup memory together with the matching slab of g.
 */
class OrderViolationGradProgram implements WebGPUProgram {
  variableNames = ['own', 'other', 'g'];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [1], y: [0] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [8, 8, 1];
  uniforms = 'rowOffset : i32, kOffset : i32, ';
  private readonly mode: 'im' | 'cap';

  /** rows x cols: the part of the result [R, D] this dispatch computes. */
  constructor(mode: 'im' | 'cap', R: number, D: number, rows: number, cols: number) {
    this.mode = mode;
    this.outputShape = [R, D];
    this.dispatch = [ceilDiv(cols, TILE), ceilDiv(rows, TILE), 1];
    this.shaderKey = `orderViolationGrad_${mode}`;
  }

  getUserCode(): string {
    const im = this.mode === 'im';
    // g is [N, M]: row-major in (own, other) for 'im', in (other, own) for 'cap'.
    const gAt = im ? 'g[(row0 + r) * Mg + (o0 + oo)]' : 'g[(o0 + oo) * Mg + (row0 + r)]';
    const term = im ? 'max(ov - own4[a], vec4<f32>(0.0))' : 'max(own4[a] - ov, vec4<f32>(0.0))';
    return `
  var<workgroup> sG : array<f32, ${TILE * TILE}>;
  var<workgroup> sO : array<vec4<f32>, ${TILE * 8}>;
  ${loadVec4('own')}
  ${loadVec4('other')}

  fn main() {
    let lx = i32(localId.x);
    let ly = i32(localId.y);
    let li = i32(localIndex);
    let R = uniforms.ownShape.x;
    let D = uniforms.ownShape.y;
    let O = uniforms.otherShape.x;
    let Mg = uniforms.gShape.y;
    let row0 = uniforms.rowOffset + i32(workgroupId.y) * ${TILE};
    let k0 = uniforms.kOffset + i32(workgroupId.x) * ${TILE};
    let k = k0 + lx * 4;
    var own4 : array<vec4<f32>, 4>;
    for (var a = 0; a < 4; a++) { own4[a] = load_own(row0 + ly * 4 + a, k); }
    var acc : array<vec4<f32>, 4>;
    for (var o0 = 0; o0 < O; o0 = o0 + ${TILE}) {
      for (var q = 0; q < ${(TILE * TILE) / 64}; q++) {
        let idx = li + q * 64;
        let r = idx / ${TILE};
        let oo = idx - r * ${TILE};
        var gv = 0.0;
        if (row0 + r < R && o0 + oo < O) { gv = ${gAt}; }
        sG[idx] = gv;
      }
      for (var q = 0; q < ${(TILE * 8) / 64}; q++) {
        let idx = li + q * 64;
        let oo = idx / 8;
        let kv = idx - oo * 8;
        sO[idx] = load_other(o0 + oo, k0 + kv * 4);
      }
      workgroupBarrier();
      for (var oo = 0; oo < ${TILE}; oo++) {
        let ov = sO[oo * 8 + lx];
        for (var a = 0; a < 4; a++) {
          acc[a] = acc[a] + sG[(ly * 4 + a) * ${TILE} + oo] * ${term};
        }
      }
      workgroupBarrier();
    }
    for (var a = 0; a < 4; a++) {
      let row = row0 + ly * 4 + a;
      if (row < R) {
        for (var q = 0; q < 4; q++) {
          if (k + q < D) { result[row * D + k + q] = ${im ? '-2.0' : '2.0'} * acc[a][q]; }
        }
      }
    }
  }`;
  }
}

/**
 * Merge one block of energies [Q, m] (rows = queries) into the running k lowest per query.
 * prev and the output are [Q, 2k]: k energies ascending, then their gallery indices (as f32, exact
 * below 2^24). One thread per query keeps its list in registers and inserts only what beats the
 * current k-th value, so a block costs one read of its energies.
 */
class TopKMergeProgram implements WebGPUProgram {
  variableNames = ['e', 'prev'];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0], y: [1] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [64, 1, 1];
  uniforms = 'colOffset : i32, ';
  private readonly k: number;

  constructor(Q: number, k: number) {
    this.k = k;
    this.outputShape = [Q, 2 * k];
    this.dispatch = [ceilDiv(Q, 64), 1, 1];
    this.shaderKey = `orderViolationTopK_${k}`;
  }

  getUserCode(): string {
    const K = this.k;
    return `
  fn main() {
    let q = i32(globalId.x);
    let Q = uniforms.eShape.x;
    let m = uniforms.eShape.y;
    if (q >= Q) { return; }
    var bv : array<f32, ${K}>;
    var bi : array<f32, ${K}>;
    for (var s = 0; s < ${K}; s++) {
      bv[s] = prev[q * ${2 * K} + s];
      bi[s] = prev[q * ${2 * K} + ${K} + s];
    }
    for (var j = 0; j < m; j++) {
      let v = e[q * m + j];
      if (v < bv[${K - 1}]) {
        // Insertion into the ascending list; strict < keeps the earlier index first on ties.
        var s = ${K - 1};
        loop {
          if (s == 0) { break; }
          if (!(v < bv[s - 1])) { break; }
          bv[s] = bv[s - 1];
          bi[s] = bi[s - 1];
          s = s - 1;
        }
        bv[s] = v;
        bi[s] = f32(uniforms.colOffset + j);
      }
    }
    for (var s = 0; s < ${K}; s++) {
      result[q * ${2 * K} + s] = bv[s];
      result[q * ${2 * K} + ${K} + s] = bi[s];
    }
  }`;
  }
}

/** Largest rows per dispatch so that the grid stays within maxComputeWorkgroupsPerDimension. */
function rowsPerDispatch(backend: WebGPUBackend): number {
  return deviceLimits(backend).maxComputeWorkgroupsPerDimension * TILE;
}

/**
 * E for images [N, D] x captions [M, D] -> [N, M] (or [M, N] with `transposed`), split into several
 * dispatches when the grid would exceed the device's workgroup limit.
 */
function energy(
  backend: WebGPUBackend,
  images: tf.Tensor2D,
  captions: tf.Tensor2D,
  transposed = false,
): tf.Tensor2D {
  const [N] = images.shape;
  const M = captions.shape[0];
  const step = rowsPerDispatch(backend);
  let out: tf.Tensor | undefined;
  for (let r0 = 0; r0 < N; r0 += step) {
    for (let c0 = 0; c0 < M; c0 += step) {
      const rows = Math.min(step, N - r0);
      const cols = Math.min(step, M - c0);
      const program = new OrderViolationEnergyProgram(N, M, rows, cols, transposed);
      const uniforms = [
        { type: 'int32' as const, data: [r0] },
        { type: 'int32' as const, data: [c0] },
      ];
      out = runProgram(backend, program, [images, captions], uniforms, out);
    }
  }
  return out as tf.Tensor2D;
}

function grad(
  backend: WebGPUBackend,
  mode: 'im' | 'cap',
  own: tf.Tensor2D,
  other: tf.Tensor2D,
  g: tf.Tensor2D,
): tf.Tensor2D {
  const [R, D] = own.shape;
  const step = rowsPerDispatch(backend);
  let out: tf.Tensor | undefined;
  for (let r0 = 0; r0 < R; r0 += step) {
    for (let k0 = 0; k0 < D; k0 += step) {
      const program = new OrderViolationGradProgram(
        mode,
        R,
        D,
        Math.min(step, R - r0),
        Math.min(step, D - k0),
      );
      const uniforms = [
        { type: 'int32' as const, data: [r0] },
        { type: 'int32' as const, data: [k0] },
      ];
      out = runProgram(backend, program, [own, other, g], uniforms, out);
    }
  }
  return out as tf.Tensor2D;
}

function requireBackend(op: string): WebGPUBackend {
  const b = kernelBackend();
  if (!b) throw new Error(`${op}: the WebGPU kernels need the webgpu backend with a live device`);
  return b;
}

const kernelOp = tf.customGrad(((images: tf.Tensor, captions: tf.Tensor, save: tf.GradSaveFunc) => {
  save([images, captions]);
  const backend = requireBackend('orderViolationWebGPU');
  return {
    value: energy(backend, images as tf.Tensor2D, captions as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [im, c] = saved as tf.Tensor2D[];
      const b = requireBackend('orderViolationWebGPU (gradient)');
      return [grad(b, 'im', im, c, dy as tf.Tensor2D), grad(b, 'cap', c, im, dy as tf.Tensor2D)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]);

/**
 * E[i, j] = sum_k max(0, captions[j, k] - images[i, k])^2 by the tiled WGSL kernel, differentiable
 * (both gradients are kernels too). Needs the webgpu backend; refuses operands or a result larger
 * than one storage binding with a message naming it.
 */
export function orderViolationWebGPU(images: tf.Tensor2D, captions: tf.Tensor2D): tf.Tensor2D {
  const limits = deviceLimits(requireBackend('orderViolationWebGPU'));
  checkBinding('orderViolationWebGPU', 'energies E [N, M]', [images.shape[0], captions.shape[0]], limits);
  return kernelOp(images, captions) as tf.Tensor2D;
}

/** The k lowest energies per query, ascending, and the gallery indices they belong to. */
export interface TopK {
  /** Gallery indices [Q, k] (int32). */
  indices: tf.Tensor2D;
  /** Their energies [Q, k]. */
  energies: tf.Tensor2D;
}

/**
 * Gallery blocks for a top-k scan: given queries [Q, D], the largest block of gallery rows whose
 * energy block [Q, m] and slice [m, D] each fit one storage binding (and at most `maxBlock`).
 */
export function topKBlockRows(Q: number, D: number, maxBindingBytes: number, maxBlock = 8192): number {
  return Math.max(1, Math.min(maxBlock, Math.floor(maxBindingBytes / (4 * Math.max(Q, D)))));
}

/**
 * The k lowest order-violation energies per query over a gallery that may be larger than one binding:
 * `by: 'image'` ranks captions (gallery) for each image (query), E[i, :]; `by: 'caption'` ranks images
 * for each caption, E[:, j]. `gallery` may be one tensor or a list of row blocks (for galleries that do
 * not fit one buffer); each is scanned in blocks of at most `blockRows` rows.
 */
export function orderViolationTopKWebGPU(
  queries: tf.Tensor2D,
  gallery: tf.Tensor2D | tf.Tensor2D[],
  k: number,
  opts: { by: 'image' | 'caption'; blockRows?: number },
): TopK {
  const op = 'orderViolationTopKWebGPU';
  const backend = requireBackend(op);
  const limits = deviceLimits(backend);
  const parts = Array.isArray(gallery) ? gallery : [gallery];
  const [Q, D] = queries.shape;
  const total = parts.reduce((s, p) => s + p.shape[0], 0);
  if (!(Number.isInteger(k) && k >= 1 && k <= 256))
    throw new Error(`${op}: k must be an integer in 1..256, got ${k}`);
  if (k > total) throw new Error(`${op}: k = ${k} is larger than the gallery (${total} rows)`);
  if (total > 1 << 24) throw new Error(`${op}: galleries above 2^24 rows are not supported (got ${total})`);
  for (const p of parts) {
    if (p.rank !== 2 || p.shape[1] !== D) {
      throw new Error(
        `${op}: gallery blocks must be [m, ${D}] like the queries [${queries.shape}], got [${p.shape}]`,
      );
    }
    checkBinding(op, 'gallery block', p.shape, limits);
  }
  const block = opts.blockRows ?? topKBlockRows(Q, D, limits.maxStorageBufferBindingSize);
  return tf.tidy(() => {
    // Running list [Q, 2k]: +inf energies and index -1 until real ones arrive.
    let best: tf.Tensor = tf.concat([tf.fill([Q, k], Infinity), tf.fill([Q, k], -1)], 1);
    let offset = 0;
    for (const p of parts) {
      const m = p.shape[0];
      for (let j0 = 0; j0 < m; j0 += block) {
        const count = Math.min(block, m - j0);
        const g = count === m ? p : p.slice([j0, 0], [count, D]);
        // Rows must be the queries: E [Q, m] for image queries, E^T [m, Q] transposed for captions.
        const e = opts.by === 'image' ? energy(backend, queries, g) : energy(backend, g, queries, true); // [Q, count]
        const next = runProgram(
          backend,
          new TopKMergeProgram(Q, k),
          [e, best],
          [{ type: 'int32', data: [offset + j0] }],
        );
        tf.dispose([e, best]);
        if (g !== p) g.dispose();
        best = next;
      }
      offset += m;
    }
    const [energies, idx] = tf.split(best, 2, 1) as tf.Tensor2D[];
    return { energies, indices: idx.toInt() } as unknown as tf.TensorContainer;
  }) as unknown as TopK;
}
