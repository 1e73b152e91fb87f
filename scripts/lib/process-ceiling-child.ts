/**
 * One job of ./process-ceiling.ts: `tsx process-ceiling-child.ts H W batch steps` trains an LN-GRU on
 * bench:model's data (./bench-data.ts) with one thread (wasm) and prints the
 * median ms of `steps` training steps after one warm-up step, as `step_ms=<ms>`.
 */
import { initNodeBackend } from './node-backend';
import { Trainer } from '../../src/model/trainer';
import { benchDataset } from './bench-data';
import { median } from './stats';

const [H, W, batch, steps] = process.argv.slice(2).map(Number);

async function main(): Promise<void> {
  if (![H, W, batch, steps].every((v) => Number.isInteger(v) && v > 0))
    throw new Error('usage: process-ceiling-child.ts H W batch steps (positive integers)');
  await initNodeBackend('wasm');
  const tr = new Trainer(
    benchDataset(512),
    { hiddenDim: H, wordDim: W, layerNorm: true },
    { batchSize: batch, minWordCount: 1 },
  );
  tr.step();
  const ms: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    tr.step();
    ms.push(performance.now() - t0);
  }
  process.stdout.write(`step_ms=${median(ms).toFixed(1)}\n`);
  tr.dispose();
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(1);
});
