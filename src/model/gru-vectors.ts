/**
 * Runs one GRU / LN-GRU reference case in the format of ../shared/testvectors/{lngru,gru}.json:
 * `params` (torch layout; LN-GRU when ln_* are present), `x` [T, B, D] time-major, `lengths` [B],
 * `w_out` [T, B, H], `w_h` [B, H]. Returns y, h_n, loss = sum(y * w_out) + sum(h_n * w_h) and the
 * gradients of loss for x and every parameter, keyed by the same names (torch layout).
 * Shared by `npm run forward` and the tests, so both check the same code path.
 */
import * as tf from './tf';
import { GRU, GruLayer, LayerNormGRU, LN_PARAM_NAMES, type TorchParams } from './gru';

export interface GruVectorInput {
  params: TorchParams;
  x: number[][][];
  lengths: number[];
  w_out: number[][][];
  w_h: number[][];
}

export interface GruVectorOutput {
  y: number[][][];
  h_n: number[][];
  loss: number;
  grads: Record<string, unknown>;
}

function shapeOf(v: unknown): number[] {
  const s: number[] = [];
  for (let a = v; Array.isArray(a); a = a[0]) s.push(a.length);
  return s;
}

function expectShape(field: string, v: unknown, expected: number[]): void {
  const got = shapeOf(v);
  if (got.join() !== expected.join()) {
    throw new Error(`field '${field}': expected shape [${expected}], got [${got}]`);
  }
}

export function runGruVector(input: GruVectorInput): GruVectorOutput {
  for (const f of ['params', 'x', 'lengths', 'w_out', 'w_h'] as const) {
    if (input[f] === undefined)
      throw new Error(`missing field '${f}' (expected params, x, lengths, w_out, w_h)`);
  }
  const wih = input.params.weight_ih;
  if (!wih) throw new Error(`missing parameter 'params.weight_ih' [3H, D]`);
  const [threeH, D] = shapeOf(wih);
  if (threeH % 3 !== 0) throw new Error(`params.weight_ih: first dimension must be 3H, got ${threeH}`);
  const H = threeH / 3;
  const [T, B] = shapeOf(input.x);
  expectShape('x', input.x, [T, B, D]);
  expectShape('lengths', input.lengths, [B]);
  expectShape('w_out', input.w_out, [T, B, H]);
  expectShape('w_h', input.w_h, [B, H]);

  const hasLn = LN_PARAM_NAMES.some((n) => input.params[n] !== undefined);
  const layer: GruLayer = hasLn ? new LayerNormGRU(D, H) : new GRU(D, H);
  try {
    layer.importTorch(input.params);
    return tf.tidy(() => {
      const x = tf.tensor3d(input.x, [T, B, D]);
      const wOut = tf.tensor3d(input.w_out, [T, B, H]);
      const wH = tf.tensor2d(input.w_h, [B, H]);
      const fwd = layer.forward(x, input.lengths, { outputs: true, cache: true });
      const loss = fwd.y!.mul(wOut).sum().add(fwd.hN.mul(wH).sum());
      // d loss / d y = w_out, d loss / d h_n = w_h.
      const g = layer.backward(fwd.cache!, wOut, wH);
      GruLayer.disposeCache(fwd.cache!);
      const grads: Record<string, unknown> = { x: g.x.arraySync() };
      for (const name of layer.paramNames) grads[name] = g.params[name]!.arraySync();
      return {
        y: fwd.y!.arraySync(),
        h_n: fwd.hN.arraySync(),
        loss: loss.arraySync() as number,
        grads,
      } as unknown as tf.TensorContainer;
    }) as unknown as GruVectorOutput;
  } finally {
    layer.dispose();
  }
}
