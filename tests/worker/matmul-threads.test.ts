/**
 * The matMul helper threads (src/worker/matmul-threads.ts, ./matmul-thread.worker.ts) in Node: each
 * helper is the page's worker module run in a worker_threads thread behind a small Web Worker shim, on
 * a stage (a shared WebAssembly.Memory, src/model/kernels/matmul-stage.ts) as in the page.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker as NodeWorker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import '../../scripts/lib/node-backend'; // relaxed SIMD on in Node 20
import { matMulStage, setRowSplitter } from '../../src/model/kernels/matmul-host';
import { blockRows, startMatMulThreads, stopMatMulThreads } from '../../src/worker/matmul-threads';
import { Rng } from '../../src/model/rng';

const require = createRequire(import.meta.url);
const TSX = pathToFileURL(
  path.join(path.dirname(require.resolve('tsx/package.json')), 'dist/esm/api/index.mjs'),
).href;
const HELPER = new URL('../../src/worker/matmul-thread.worker.ts', import.meta.url).href;

/** A worker_threads thread running `module` with `self` (onmessage, postMessage) as a Web Worker has. */
class ShimWorker {
  onmessage: ((e: MessageEvent) => void) | null = null;
  onerror: ((e: ErrorEvent) => void) | null = null;
  private readonly w: NodeWorker;
  constructor(module: string) {
    const boot = `
      const { parentPort } = require('node:worker_threads');
      let handler = null;
      const queue = [];
      globalThis.self = {
        get onmessage() { return handler; },
        set onmessage(f) { handler = f; while (f && queue.length) f({ data: queue.shift() }); },
        postMessage: (m) => parentPort.postMessage(m),
      };
      parentPort.on('message', (data) => (handler ? handler({ data }) : queue.push(data)));
      import(${JSON.stringify(TSX)}).then((m) => { m.register(); return import(${JSON.stringify(module)}); });`;
    this.w = new NodeWorker(boot, { eval: true });
    this.w.on('message', (data) => this.onmessage?.({ data } as MessageEvent));
    this.w.on('error', (e) => this.onerror?.({ message: e.message } as ErrorEvent));
  }
  postMessage(m: unknown): void {
    this.w.postMessage(m);
  }
  terminate(): void {
    void this.w.terminate();
  }
}

/** A helper that starts and then never answers a product (as one that died). */
const SILENT = `data:text/javascript,${encodeURIComponent(
  'self.onmessage = () => { self.onmessage = null; self.postMessage({ ok: true }); };',
)}`;

/** A stage holding A [M, K] and B [K, N] (B packed), with room for C and the scratch. */
function setUp(M: number, K: number, N: number, seed: number) {
  const stage = matMulStage('relaxed')!;
  const block = (floats: number) => stage.alloc(4 * floats)!.at;
  const [a, b, bp, c, tmp] = [M * K, K * N, K * Math.ceil(N / 8) * 8, M * N, 64].map(block);
  const rng = new Rng(seed);
  const f = (at: number, n: number) => new Float32Array(stage.memory.buffer, at, n);
  f(a, M * K).forEach((_, i, x) => (x[i] = rng.normal()));
  f(b, K * N).forEach((_, i, x) => (x[i] = rng.normal()));
  stage.kernel.pack(b, bp, K, N);
  const job = { a, bp, c, M, K, N, tmp };
  const C = () => f(c, M * N).slice();
  return { stage, job, C, f };
}

describe('matMul helper threads', () => {
  afterEach(() => {
    stopMatMulThreads();
    setRowSplitter(null);
  });

  it('splits rows in blocks of a multiple of 4, the last taking what is left', () => {
    expect(blockRows(128, 2)).toBe(64);
    expect(blockRows(130, 2)).toBe(68);
    expect(blockRows(37, 3)).toBe(16);
    expect(blockRows(8, 8)).toBe(4);
  });

  it.each([2, 3])('%i threads give the product of one, bit for bit', async (threads) => {
    const { stage, job, C, f } = setUp(150, 70, 44, threads);
    stage.kernel.gemm(job.a, job.bp, job.c, job.M, job.K, job.N, job.tmp);
    const alone = C();
    f(job.c, job.M * job.N).fill(NaN);
    const broken: string[] = [];
    const splitter = await startMatMulThreads(stage, threads, (w) => broken.push(w), {
      spawn: () => new ShimWorker(HELPER) as unknown as Worker,
    });
    expect(splitter?.threads).toBe(threads);
    for (let rep = 0; rep < 3; rep++) {
      splitter!.run(job);
      expect(C()).toEqual(alone);
    }
    // Fewer rows than threads x 4: the later blocks are empty.
    splitter!.run({ ...job, M: 5 });
    expect(C().subarray(0, 5 * job.N)).toEqual(alone.subarray(0, 5 * job.N));
    expect(broken).toEqual([]);
  });

  it('computes the product alone when a helper stops answering, says so once, and keeps going', async () => {
    const { stage, job, C, f } = setUp(64, 32, 16, 7);
    stage.kernel.gemm(job.a, job.bp, job.c, job.M, job.K, job.N, job.tmp);
    const alone = C();
    f(job.c, job.M * job.N).fill(NaN);
    const broken: string[] = [];
    const splitter = await startMatMulThreads(stage, 2, (w) => broken.push(w), {
      spawn: () => new ShimWorker(SILENT) as unknown as Worker,
      timeoutMs: 300,
    });
    splitter!.run(job);
    expect(C()).toEqual(alone);
    splitter!.run(job);
    expect(C()).toEqual(alone);
    expect(broken).toEqual(['a matMul helper thread did not answer within 0.3 s']);
  });

  it('rejects, starting nothing, when a helper cannot start', async () => {
    const { stage } = setUp(8, 8, 8, 1);
    const failing = `data:text/javascript,${encodeURIComponent(
      "self.onmessage = () => self.postMessage({ ok: false, error: 'no SIMD here' });",
    )}`;
    await expect(
      startMatMulThreads(stage, 2, () => {}, {
        spawn: () => new ShimWorker(failing) as unknown as Worker,
      }),
    ).rejects.toThrow('no SIMD here');
  });
});
