/**
 * A helper thread of our matMul kernel (./matmul-threads.ts has the protocol): instantiates the kernel
 * on the stage's shared memory (../model/kernels/matmul-stage.ts), says so, then waits for products and
 * computes its block of rows of each, forever (the training worker terminates it).
 */
import { wasmModule } from '../model/kernels/wasm-module';
import type { MatMulExports } from '../model/kernels/matmul-host';
import { CTL, type HelperInit, type HelperReady } from './matmul-thread-protocol';

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<HelperInit>) => void) | null;
  postMessage(m: HelperReady): void;
};

scope.onmessage = (e) => {
  const { memory, ctl: buffer, bytes, index } = e.data;
  let kernel: MatMulExports;
  try {
    kernel = new WebAssembly.Instance(wasmModule(bytes), { env: { memory } })
      .exports as unknown as MatMulExports;
  } catch (err) {
    scope.postMessage({ ok: false, error: (err as Error).message ?? String(err) });
    return;
  }
  scope.onmessage = null;
  const ctl = new Int32Array(buffer);
  // The generation before saying ready: the first job can only come after this helper's answer.
  let gen = Atomics.load(ctl, CTL.GEN);
  scope.postMessage({ ok: true });
  for (;;) {
    Atomics.wait(ctl, CTL.GEN, gen);
    gen = Atomics.load(ctl, CTL.GEN);
    const M = ctl[CTL.M];
    const K = ctl[CTL.K];
    const N = ctl[CTL.N];
    const block = ctl[CTL.BLOCK];
    const r0 = index * block;
    const rows = Math.min(block, M - r0);
    if (rows > 0)
      kernel.gemm(
        ctl[CTL.A] + 4 * r0 * K,
        ctl[CTL.BP],
        ctl[CTL.C] + 4 * r0 * N,
        rows,
        K,
        N,
        ctl[CTL.TMP] + 32 * index,
      );
    Atomics.add(ctl, CTL.DONE, 1);
    Atomics.notify(ctl, CTL.DONE);
  }
};
