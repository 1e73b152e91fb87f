/**
 * The stage our matMul's helper threads multiply in (src/model/kernels/matmul-stage.ts): its blocks,
 * and tf.matMul on the wasm backend with a splitter on it, against the same product on tfjs's heap.
 * The splitter here runs its row blocks one after another on this thread (the helpers themselves:
 * tests/worker/matmul-threads.test.ts; in the page: tests/e2e/threads.e2e.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../../src/model/tf';
import {
  hostMatMulBuild,
  installHostMatMul,
  matMulStage,
  setRowSplitter,
  uninstallHostMatMul,
  type GemmJob,
  type MatMulBuild,
  type RowSplitter,
} from '../../src/model/kernels/matmul-host';
import type { MatMulStage } from '../../src/model/kernels/matmul-stage';
import { Rng } from '../../src/model/rng';
import { useBackend } from '../helpers/tf';

/** Runs each of `threads` row blocks in turn on `stage` (the helpers' protocol, minus the threads). */
function inTurn(stage: MatMulStage, threads: number): RowSplitter & { jobs: GemmJob[] } {
  const jobs: GemmJob[] = [];
  return {
    threads,
    stage,
    jobs,
    run(job) {
      jobs.push(job);
      const block = Math.ceil(job.M / threads / 4) * 4;
      for (let t = 0; t < threads; t++) {
        const rows = Math.min(block, job.M - t * block);
        if (rows > 0)
          stage.kernel.gemm(
            job.a + 4 * t * block * job.K,
            job.bp,
            job.c + 4 * t * block * job.N,
            rows,
            job.K,
            job.N,
            job.tmp + 32 * t,
          );
      }
    },
  };
}

const rand = (rng: Rng, shape: number[]) =>
  tf.tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()),
    shape,
  );

describe('the matMul stage', () => {
  let before: MatMulBuild | null;
  beforeAll(async () => {
    await useBackend('wasm');
    before = hostMatMulBuild();
    expect(installHostMatMul('relaxed')).toBe('relaxed');
  });
  afterAll(() => {
    setRowSplitter(null);
    uninstallHostMatMul();
    if (before) installHostMatMul(before);
  });

  it('hands out aligned blocks, grows, reuses and merges freed ones, and says no past its limit', () => {
    const stage = matMulStage('relaxed', 4)!; // 256 KiB at most
    expect(stage.memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    const a = stage.alloc(100)!;
    const b = stage.alloc(70_000)!; // past the first page: the memory grows
    const c = stage.alloc(64)!;
    expect([a.at % 64, b.at % 64, c.at % 64]).toEqual([0, 0, 0]);
    expect(b.at).toBeGreaterThanOrEqual(a.at + 100);
    expect(stage.memory.buffer.byteLength).toBeGreaterThan(70_000);
    a.free();
    b.free();
    // a and b merged: a block as large as both fits where a was.
    expect(stage.alloc(70_000 + 128)!.at).toBe(a.at);
    expect(stage.alloc(300_000)).toBeNull();
    c.free();
    c.free(); // twice: once
  });

  it.each([
    ['one product', [400, 128], [128, 768]],
    ['batches over one B', [4, 80, 256], [256, 640]],
    ['batch by batch', [3, 256, 256], [3, 256, 600]],
    ['an N that is not a multiple of 8', [256, 300], [300, 1001]],
  ])('%s: the digits of the product on the heap, one thread', (_, sa, sb) => {
    const rng = new Rng(sa.length * 100 + sb[sb.length - 1]);
    const [a, b] = [rand(rng, sa), rand(rng, sb)];
    setRowSplitter(null);
    const alone = tf.tidy(() => tf.matMul(a, b)).dataSync();
    const stage = matMulStage('relaxed')!;
    const splitter = inTurn(stage, 3);
    setRowSplitter(splitter);
    const n0 = tf.memory().numTensors;
    const staged = tf.tidy(() => tf.matMul(a, b));
    expect(splitter.jobs.length).toBeGreaterThan(0); // large enough to split
    expect(staged.dataSync()).toEqual(alone);
    staged.dispose();
    expect(tf.memory().numTensors).toBe(n0);
    // A B multiplied again is not packed again (one B for every batch: kept); the operands are freed.
    const used = stage.used;
    tf.tidy(() => tf.matMul(a, b)).dispose();
    expect(stage.used).toBe(used);
    tf.dispose([a, b]);
  });

  it('multiplies on the heap, with the same digits, where the stage cannot hold the operands', () => {
    const rng = new Rng(5);
    const [a, b] = [rand(rng, [512, 256]), rand(rng, [256, 512])];
    setRowSplitter(null);
    const alone = tf.tidy(() => tf.matMul(a, b)).dataSync();
    // 1.25 MiB: B's packing fits (and B on its way there), A fits, C does not.
    const small = inTurn(matMulStage('relaxed', 20)!, 2);
    setRowSplitter(small);
    const got = tf.tidy(() => tf.matMul(a, b));
    expect(got.dataSync()).toEqual(alone);
    expect(small.jobs).toEqual([]);
    // Nothing left on the stage but B's packing (kept: 256 x 512 floats and the threads' scratch).
    expect(small.stage.used).toBe(4 * 256 * 512 + 32 * 8);
    tf.dispose([got, a, b]);
    setRowSplitter(null);
  });
});
