import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../../src/model/tf';
import {
  GRU,
  GruLayer,
  LayerNormGRU,
  LN_PARAM_NAMES,
  sumInGroups,
  type LnGruPath,
} from '../../src/model/gru';
import { packBackwardWeights } from '../../src/model/gru-composite';
import { keepSpareHostLn, takeHostLnCache } from '../../src/model/gru-cache';
import { runGruVector, type GruVectorInput } from '../../src/model/gru-vectors';
import { loadTestVector, repoRoot, testVectorPath } from '../helpers/shared';
import { expectClose, useBackend } from '../helpers/tf';

type Reference = GruVectorInput & {
  y: number[][][];
  h_n: number[][];
  loss: number;
  grads: Record<string, unknown>;
};

const TOL = 1e-4; // float32 vs the float64 reference, as ../shared/README.md says

describe.each(['wasm', 'cpu'] as const)('GRU reference vectors on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it.each(['lngru', 'gru'])('%s: outputs, final state, loss and every gradient', (name) => {
    const ref = loadTestVector<Reference>(name);
    const out = runGruVector(ref);
    expectClose(out.y, ref.y, TOL, 'y');
    expectClose(out.h_n, ref.h_n, TOL, 'h_n');
    expectClose(out.loss, ref.loss, TOL, 'loss');
    expect(Object.keys(out.grads).sort()).toEqual(Object.keys(ref.grads).sort());
    for (const k of Object.keys(ref.grads)) expectClose(out.grads[k], ref.grads[k], TOL, `grad ${k}`);
  });
});

/**
 * One forward + backward of `layer` by `path`, with outputs, d loss / d y and d loss / d h_N given;
 * everything read back as arrays.
 */
function fwdBwd(
  layer: GruLayer,
  path: LnGruPath,
  x: tf.Tensor3D,
  lengths: number[],
  dy: tf.Tensor3D,
  dhN: tf.Tensor2D,
): Record<string, unknown> {
  const f = layer.forward(x, lengths, { outputs: true, cache: true, path });
  expect(f.cache!.path).toBe(path);
  const g = layer.backward(f.cache!, dy, dhN);
  GruLayer.disposeCache(f.cache!);
  const out: Record<string, unknown> = { y: f.y!.arraySync(), h_n: f.hN.arraySync(), x: g.x.arraySync() };
  for (const name of layer.paramNames) out[`grad ${name}`] = g.params[name]!.arraySync();
  tf.dispose([f.y!, f.hN, g.x, ...Object.values(g.params)]);
  return out;
}

describe.each(['wasm', 'cpu'] as const)('host-ln path against the composite ops on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('outputs, final state and every gradient agree; same digits run to run; no tensor is left', () => {
    const [T, B, D, H] = [6, 5, 7, 8];
    const layer = new LayerNormGRU(D, H, 3);
    // Gains and shifts away from 1 and 0, so that their use and their gradients are both checked.
    LN_PARAM_NAMES.forEach((name, i) => {
      const v = layer.vars[name]!;
      v.assign(tf.randomUniform(v.shape, 0.5, 1.5, 'float32', 11 + i).sub(name.includes('bias') ? 1 : 0));
    });
    const x = tf.randomNormal([T, B, D], 0, 1, 'float32', 5) as tf.Tensor3D;
    const dy = tf.randomNormal([T, B, H], 0, 1, 'float32', 6) as tf.Tensor3D;
    const dhN = tf.randomNormal([B, H], 0, 1, 'float32', 7) as tf.Tensor2D;
    const lengths = [6, 3, 1, 5, 6];
    expect(layer.path).toBe('host-ln');
    const before = tf.memory().numTensors;
    const host = fwdBwd(layer, 'host-ln', x, lengths, dy, dhN);
    expect(tf.memory().numTensors).toBe(before);
    const composite = fwdBwd(layer, 'composite', x, lengths, dy, dhN);
    expect(Object.keys(host).sort()).toEqual(Object.keys(composite).sort());
    for (const k of Object.keys(composite)) expectClose(host[k], composite[k], 2e-5, k);
    expect(fwdBwd(layer, 'host-ln', x, lengths, dy, dhN)).toEqual(host);
    tf.dispose([x, dy, dhN]);
    layer.dispose();
  });

  it("packing the backward's weights ahead (the pool's threads) changes no digit and keeps no tensor", () => {
    const [T, B, D, H] = [5, 4, 7, 12];
    for (const layer of [new LayerNormGRU(D, H, 4), new GRU(D, H, 4)]) {
      const x = tf.randomNormal([T, B, D], 0, 1, 'float32', 8) as tf.Tensor3D;
      const dhN = tf.randomNormal([B, H], 0, 1, 'float32', 9) as tf.Tensor2D;
      const run = (packFirst: boolean) => {
        const f = layer.forward(x, [5, 2, 5, 1], { cache: true });
        const before = tf.memory().numTensors;
        if (packFirst) packBackwardWeights(layer);
        expect(tf.memory().numTensors).toBe(before);
        const g = layer.backward(f.cache!, null, dhN);
        GruLayer.disposeCache(f.cache!);
        const out = [g.x, ...layer.paramNames.map((n) => g.params[n]!)].map((t) => Array.from(t.dataSync()));
        tf.dispose([f.hN, g.x, ...Object.values(g.params)]);
        return out;
      };
      // Packed ahead, and packed in the backward pass itself (the weights' first product there).
      expect(run(true)).toEqual(run(false));
      tf.dispose([x, dhN]);
      layer.dispose();
    }
  });

  it('the plain GRU takes the composite path and refuses host-ln', () => {
    const g = new GRU(3, 4);
    expect(g.path).toBe('composite');
    const x = tf.zeros([2, 1, 3]) as tf.Tensor3D;
    expect(() => g.forward(x, [2], { path: 'host-ln' })).toThrow(/'host-ln' path is for the LN-GRU only/);
    x.dispose();
    g.dispose();
  });
});

describe('GRU behaviour', () => {
  beforeAll(() => useBackend('wasm'));

  it('padded steps leave the state unchanged, output zeros and get no gradient', () => {
    const ref = loadTestVector<Reference>('lngru');
    const T = ref.x.length;
    // Garbage in every padded position must change nothing.
    const noisy = structuredClone(ref);
    noisy.x.forEach((row, t) =>
      row.forEach((v, b) => {
        if (t >= ref.lengths[b]) noisy.x[t][b] = v.map(() => 1e3 * (Math.random() - 0.5));
      }),
    );
    const a = runGruVector(ref);
    const b = runGruVector(noisy);
    expectClose(b.h_n, a.h_n, 1e-6, 'h_n');
    expectClose(b.y, a.y, 1e-6, 'y');
    for (const k of Object.keys(a.grads)) expectClose(b.grads[k], a.grads[k], 1e-5, `grad ${k}`);
    const gx = b.grads.x as number[][][];
    for (let t = 0; t < T; t++)
      for (let bb = 0; bb < ref.lengths.length; bb++)
        if (t >= ref.lengths[bb]) {
          expect(b.y[t][bb].every((v) => v === 0)).toBe(true);
          expect(gx[t][bb].every((v) => v === 0)).toBe(true);
        }
  });

  it.each([
    ['LN-GRU', 'host-ln', true],
    ['LN-GRU', 'composite', true],
    ['GRU', 'composite', false],
  ] as const)(
    '%s (%s): a step computes only the rows still going, each row as if alone, in the given order',
    (_, path, layerNorm) => {
      const [T, B, D, H] = [9, 7, 5, 6];
      const layer = new GruLayer(D, H, layerNorm, 4);
      const lengths = [3, 9, 1, 9, 5, 2, 7]; // in no order; two of the longest
      const x = tf.randomNormal([T, B, D], 0, 1, 'float32', 8) as tf.Tensor3D;
      const before = tf.memory().numTensors;
      const all = layer.forward(x, lengths, { outputs: true, cache: true, path });
      // Longest first, and step t ran on the rows still going only.
      expect(Array.from(all.cache!.rows!)).toEqual([1, 3, 6, 4, 0, 5, 2]);
      expect(all.cache!.steps.map((st) => st.hPrev.shape[0])).toEqual([7, 6, 5, 4, 4, 3, 3, 2, 2]);
      const dy = tf.randomNormal([T, B, H], 0, 1, 'float32', 9) as tf.Tensor3D;
      const dhN = tf.randomNormal([B, H], 0, 1, 'float32', 10) as tf.Tensor2D;
      const g = layer.backward(all.cache!, dy, dhN);
      const [hN, y, dx] = [all.hN.arraySync(), all.y!.arraySync(), g.x.arraySync()];
      // Each row: the digits of that row run alone (no padding), in its place in the batch.
      lengths.forEach((len, b) => {
        const xb = x.slice([0, b, 0], [len, 1, D]);
        const one = layer.forward(xb, [len], { outputs: true, cache: true, path });
        const dyb = dy.slice([0, b, 0], [len, 1, H]);
        const dhb = dhN.slice([b, 0], [1, H]);
        const gb = layer.backward(one.cache!, dyb, dhb);
        expect(hN[b]).toEqual(one.hN.arraySync()[0]);
        const [yb, dxb] = [one.y!.arraySync(), gb.x.arraySync()];
        for (let t = 0; t < T; t++) {
          expect(y[t][b]).toEqual(t < len ? yb[t][0] : new Array(H).fill(0));
          expect(dx[t][b]).toEqual(t < len ? dxb[t][0] : new Array(D).fill(0));
        }
        GruLayer.disposeCache(one.cache!);
        tf.dispose([xb, dyb, dhb, one.hN, one.y!, gb.x, ...Object.values(gb.params)]);
      });
      GruLayer.disposeCache(all.cache!);
      tf.dispose([all.hN, all.y!, dy, dhN, g.x, ...Object.values(g.params)]);
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
      layer.dispose();
    },
  );

  it('exports and imports torch layout round trip, and starts with LN gains 1 and shifts 0', () => {
    const a = new LayerNormGRU(5, 3, 7);
    const p = a.exportTorch();
    expect((p.weight_ih as number[][]).length).toBe(9);
    expect((p.weight_ih as number[][])[0].length).toBe(5);
    expect(p.ln_weight_hh).toEqual(new Array(9).fill(1));
    expect(p.ln_bias_ih).toEqual(new Array(9).fill(0));
    const b = new LayerNormGRU(5, 3, 99);
    b.importTorch(p);
    expect(b.exportTorch()).toEqual(p);
    a.dispose();
    b.dispose();
  });

  it('rejects wrong shapes, lengths and missing parameters with messages naming them', () => {
    const g = new GRU(4, 3);
    const x = tf.zeros([2, 3, 4]) as tf.Tensor3D;
    expect(() => g.forward(tf.zeros([2, 3, 5]) as tf.Tensor3D, [1, 1, 1])).toThrow(
      /expected D=4, got \[2,3,5\]/,
    );
    expect(() => g.forward(x, [1, 1])).toThrow(/expected 3 lengths/);
    expect(() => g.forward(x, [1, 0, 2])).toThrow(/lengths\[1\] = 0.*empty sequences/);
    expect(() => g.forward(x, [1, 3, 2])).toThrow(/lengths\[1\] = 3: expected an integer in 1..2/);
    expect(() => g.importTorch({ weight_ih: [[1]] })).toThrow(
      /'weight_ih': expected shape \[9,4\], got \[1,1\]/,
    );
    const ref = loadTestVector<Reference>('gru');
    expect(() => runGruVector({ ...ref, w_h: [[1]] })).toThrow(
      /field 'w_h': expected shape \[3,4\], got \[1,1\]/,
    );
    x.dispose();
    g.dispose();
  });

  it('reuses the spare host-LN arrays only for the same rows and width, not the same product', () => {
    const spare = takeHostLnCache(30, 24); // 720 values, as [20, 36] has
    keepSpareHostLn(spare);
    const other = takeHostLnCache(20, 36);
    expect(other).not.toBe(spare);
    expect([other.ghHat.length, other.ghRstd.length, other.giRstd.length]).toEqual([720, 40, 40]);
    keepSpareHostLn(spare);
    expect(takeHostLnCache(30, 24)).toBe(spare);
  });

  it('keeps no tensors after construction and disposal, or after forward/backward', () => {
    const start = tf.memory().numTensors;
    new LayerNormGRU(6, 4).dispose();
    new GRU(6, 4).dispose();
    expect(tf.memory().numTensors).toBe(start);
    const g = new LayerNormGRU(6, 4);
    const x = tf.randomNormal([5, 3, 6]) as tf.Tensor3D;
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const f = g.forward(x, [5, 2, 1], { cache: true });
      const dhN = tf.onesLike(f.hN);
      const gr = g.backward(f.cache!, null, dhN);
      GruLayer.disposeCache(f.cache!);
      tf.dispose([dhN, f.hN, gr.x, ...Object.values(gr.params)]);
    }
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    g.dispose();
  });
});

describe('the wasm heap growing inside a pass', () => {
  beforeAll(() => useBackend('wasm'));

  // Host-memory paths read tensors through views of the wasm heap; a tensor made while the heap grows
  // detaches such views (splitSteps once copied from one and failed at hidden 1024, batch 128). A fresh
  // layer of that size allocates more than the heap held, so the heap grows during its passes.
  // The GRU takes splitSteps on wasm; the LN-GRU ('host-ln') its host LN loops.
  it.each([
    ['LN-GRU', true],
    ['GRU', false],
  ])(
    'a %s forward + backward at hidden 1024, batch 128 runs, finite, and frees its tensors',
    (_, ln) => {
      const before = tf.memory().numTensors;
      const [T, B, D, H] = [12, 128, 300, 1024];
      const layer = new GruLayer(D, H, ln, 3);
      const x = tf.randomNormal([T, B, D], 0, 1, 'float32', 4) as tf.Tensor3D;
      const dhN = tf.randomNormal([B, H], 0, 1, 'float32', 5) as tf.Tensor2D;
      const f = layer.forward(x, new Array<number>(B).fill(T), { cache: true });
      const g = layer.backward(f.cache!, null, dhN);
      const sums = tf.tidy(() => [tf.sum(f.hN), tf.sum(g.params.weight_ih!)].map((t) => t.dataSync()[0]));
      expect(sums.every(Number.isFinite)).toBe(true);
      GruLayer.disposeCache(f.cache!);
      tf.dispose([x, dhN, f.hN, g.x, ...Object.values(g.params)]);
      layer.dispose();
      expect(tf.memory().numTensors).toBe(before);
    },
    60_000,
  );
});

describe('npm run forward', () => {
  it('prints {y, h_n, loss, grads} for a reference file', () => {
    const out = execFileSync('npx', ['tsx', 'scripts/forward.ts', testVectorPath('lngru')], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    const res = JSON.parse(out) as { loss: number; grads: Record<string, unknown> };
    const ref = loadTestVector<Reference>('lngru');
    expectClose(res.loss, ref.loss, TOL, 'loss');
    expectClose(res.grads.ln_weight_hh, ref.grads.ln_weight_hh, TOL, 'grad ln_weight_hh');
  });

  it('names the file and field on bad input', () => {
    let msg = '';
    try {
      execFileSync('npx', ['tsx', 'scripts/forward.ts', '/nonexistent.json'], {
        cwd: repoRoot,
        encoding: 'utf8',
        stdio: 'pipe',
      });
    } catch (e) {
      msg = String((e as { stderr: string }).stderr);
    }
    expect(msg).toMatch(/\/nonexistent\.json: ENOENT/);
  });
});

describe('WebGPU binding limit on the composite path', () => {
  beforeAll(() => useBackend('wasm'));

  it('sumInGroups adds 1 to 20 tensors exactly like one AddN', () => {
    for (const n of [1, 2, 7, 8, 13, 14, 20]) {
      const ts = Array.from({ length: n }, () => tf.randomNormal([3, 5]));
      const a = sumInGroups(ts);
      const b = tf.addN(ts);
      expectClose(a.arraySync(), b.arraySync(), 1e-5, `sum of ${n}`);
      tf.dispose([...ts, a, b]);
    }
    expect(() => sumInGroups([])).toThrow(/no tensors/);
  });

  it('LN-GRU forward + backward over 12 words issues no AddN with more than 7 inputs', async () => {
    const g = new LayerNormGRU(4, 3);
    const x = tf.randomNormal([12, 2, 4]) as tf.Tensor3D;
    let ok = false;
    const prof = await tf.profile(() => {
      // The composite path: 'host-ln' (the default on wasm) sums those gradients on the host.
      const f = g.forward(x, [12, 9], { cache: true, path: 'composite' });
      const dhN = tf.onesLike(f.hN);
      const gr = g.backward(f.cache!, null, dhN);
      ok = gr.params.ln_weight_hh !== undefined;
      GruLayer.disposeCache(f.cache!);
      tf.dispose([dhN, f.hN, gr.x, ...Object.values(gr.params)]);
    });
    expect(ok).toBe(true);
    const addNs = prof.kernels.filter((k) => k.name === 'AddN');
    // The hidden-side LN gain and shift gradients are sums over the 12 steps: they must be there.
    expect(addNs.length).toBeGreaterThan(0);
    for (const k of addNs) expect(k.inputShapes.length).toBeLessThanOrEqual(7);
    x.dispose();
    g.dispose();
  });
});
