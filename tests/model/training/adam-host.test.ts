import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../../../src/model/tf';
import { assembleWasm, HOST_WASM, sharedVariant } from '../../../scripts/lib/host-wasm';
import { adamKernel, adamOnHost } from '../../../src/model/training/adam-host';
import { ADAM_HOST_WASM, ADAM_HOST_WASM_SHARED } from '../../../src/model/training/adamHost.wasm-bytes';
import { adamInternals } from '../../../src/model/training/update';
import { Rng } from '../../../src/model/rng';
import { useBackend } from '../../helpers/tf';

/** Shapes with a tail that is not a multiple of 4, and one below 4 elements. */
const SHAPES = [[3, 7], [64], [2], [5, 33]];

function randomTensors(rng: Rng, scale: number): tf.Tensor[] {
  return SHAPES.map((s) =>
    tf.tensor(
      Float32Array.from({ length: s.reduce((a, b) => a * b) }, () => scale * rng.normal()),
      s,
    ),
  );
}

/** Variables with the same initial values under two names' prefixes, and an Adam optimizer for each. */
function twin(prefix: string, seed: number) {
  const init = randomTensors(new Rng(seed), 1);
  const vars = init.map((t, i) => tf.variable(t, true, `${prefix}${i}`));
  tf.dispose(init);
  return { vars, optimizer: tf.train.adam(0.01) };
}

function values(ts: tf.Tensor[]): number[][] {
  return ts.map((t) => Array.from(t.dataSync()));
}

describe('Adam in one pass on the wasm heap (src/model/training/adamHost.wat)', () => {
  beforeAll(() => useBackend('wasm'));
  afterAll(() => tf.disposeVariables());

  it('ships the bytes its text assembles to (npm run build:wasm)', async () => {
    const wat = readFileSync(HOST_WASM.adam.wat, 'utf8');
    const bytes = await assembleWasm(wat);
    expect(Buffer.from(bytes).toString('base64')).toBe(ADAM_HOST_WASM);
    const shared = await assembleWasm(sharedVariant(wat));
    expect(Buffer.from(shared).toString('base64')).toBe(ADAM_HOST_WASM_SHARED);
  });

  it("runs on a shared memory (tfjs's threaded build) with the plain memory's digits", () => {
    const n = 37; // nine quads and a tail
    const rng = new Rng(11);
    const inputs = [0.5, 0.1, 0.01, 1].map((s) =>
      Float32Array.from({ length: n }, () => s * Math.abs(rng.normal())),
    );
    const run = (memory: WebAssembly.Memory) => {
      const k = adamKernel(memory);
      expect(k).not.toBeNull();
      const f = new Float32Array(memory.buffer, 0, 5 * n);
      inputs.forEach((a, i) => f.set(a, i * n)); // g, m, v, w; the new w after them
      k!.adam(0, 4 * n, 8 * n, 12 * n, 16 * n, n, 0.9, 0.999, 0.1, 0.001, 0.19, 0.002, 1e-7, -0.01, 0.5, 1);
      return Array.from(f.slice(n));
    };
    const plain = run(new WebAssembly.Memory({ initial: 1 }));
    const shared = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
    expect(shared.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(run(shared)).toEqual(plain);
    expect(plain.slice(3 * n)).not.toEqual(Array.from(inputs[3])); // the weights moved
  });

  it("gives tfjs's AdamOptimizer's weights, moments and powers of beta bit for bit, clipped or not", () => {
    const ref = twin('ref', 1);
    const ours = twin('ours', 1);
    const rng = new Rng(7);
    // Steps 1, 2 and 4 clip (scale < 1); the learning rate changes before step 4, as warm-up does.
    const scales = [0.37, 0.9, 1, 0.05, 1];
    const before = tf.memory().numTensors;
    scales.forEach((scale, step) => {
      if (step === 3)
        for (const o of [ref.optimizer, ours.optimizer])
          (o as unknown as { learningRate: number }).learningRate = 0.003;
      const g = randomTensors(rng, 0.5);
      const named = (prefix: string) => Object.fromEntries(g.map((t, i) => [`${prefix}${i}`, t.clone()]));
      const refGrads = named('ref');
      tf.tidy(() => {
        const scaled = Object.fromEntries(
          Object.entries(refGrads).map(([n, t]) => [n, scale === 1 ? t : t.mul(scale)]),
        );
        ref.optimizer.applyGradients(scaled as unknown as Parameters<tf.AdamOptimizer['applyGradients']>[0]);
      });
      const ourGrads = named('ours');
      expect(adamOnHost(ours.optimizer, ourGrads, scale)).toBe(true);
      tf.dispose([...g, ...Object.values(refGrads), ...Object.values(ourGrads)]);
    });
    // 2 x 4 moments made on the first step, by each optimizer; nothing else is left.
    expect(tf.memory().numTensors).toBe(before + 2 * 2 * SHAPES.length);
    expect(values(ours.vars)).toEqual(values(ref.vars));
    const r = adamInternals(ref.optimizer);
    const o = adamInternals(ours.optimizer);
    for (const k of ['accumulatedFirstMoment', 'accumulatedSecondMoment'] as const) {
      expect(values(o[k].map((e) => e.variable))).toEqual(values(r[k].map((e) => e.variable)));
      expect(o[k].map((e) => e.originalName)).toEqual(r[k].map((e) => e.originalName.replace('ref', 'ours')));
    }
    expect(o.accBeta1.dataSync()[0]).toBe(r.accBeta1.dataSync()[0]);
    expect(o.accBeta2.dataSync()[0]).toBe(r.accBeta2.dataSync()[0]);
    expect(ours.optimizer.iterations).toBe(ref.optimizer.iterations);
  });

  it('gives a new tensor to each variable: a matMul of the weight (packed by XNNPACK per tensor) sees the update', () => {
    const { vars, optimizer } = twin('mm', 2);
    const x = tf.tensor2d(
      Float32Array.from({ length: 2 * 5 }, (_, i) => Math.sin(i)),
      [2, 5],
    );
    const w = vars[3] as tf.Variable<tf.Rank.R2>; // [5, 33]
    tf.matMul(x, w).dispose(); // the wasm backend caches the weight, packed, for this tensor
    const alias = w.reshape([-1]); // a held view of the old weights keeps them
    const old = Array.from(alias.dataSync());
    const grads = Object.fromEntries(randomTensors(new Rng(3), 1).map((t, i) => [`mm${i}`, t]));
    expect(adamOnHost(optimizer, grads, 1)).toBe(true);
    expect(Array.from(alias.dataSync())).toEqual(old);
    expect(Array.from(w.dataSync())).not.toEqual(old);
    const fresh = tf.tensor2d(w.dataSync(), [5, 33]);
    expect(Array.from(tf.matMul(x, w).dataSync())).toEqual(Array.from(tf.matMul(x, fresh).dataSync()));
    tf.dispose([x, alias, fresh, ...Object.values(grads)]);
  });

  it('changes nothing and returns false when a moment shares its storage with another tensor', () => {
    const { vars, optimizer } = twin('shared', 2);
    const first = Object.fromEntries(randomTensors(new Rng(3), 1).map((t, i) => [`shared${i}`, t]));
    expect(adamOnHost(optimizer, first, 1)).toBe(true);
    const held = adamInternals(optimizer).accumulatedSecondMoment[1].variable.reshape([-1]); // reference count 2
    const before = [...values(vars), Array.from(held.dataSync())];
    const grads = Object.fromEntries(randomTensors(new Rng(4), 1).map((t, i) => [`shared${i}`, t]));
    expect(adamOnHost(optimizer, grads, 1)).toBe(false);
    expect([...values(vars), Array.from(held.dataSync())]).toEqual(before);
    expect(optimizer.iterations).toBe(1);
    tf.dispose([held, ...Object.values(first), ...Object.values(grads)]);
  });
});

describe('Adam in one pass elsewhere', () => {
  it('returns false on the cpu backend (tfjs applies its optimizer)', async () => {
    await useBackend('cpu');
    try {
      const { vars, optimizer } = twin('cpu', 4);
      const grads = Object.fromEntries(randomTensors(new Rng(5), 1).map((t, i) => [`cpu${i}`, t]));
      expect(adamOnHost(optimizer, grads, 1)).toBe(false);
      tf.dispose([...vars, ...Object.values(grads)]);
    } finally {
      await useBackend('wasm');
    }
  });
});
