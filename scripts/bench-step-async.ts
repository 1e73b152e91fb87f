/**
 * Trainer.stepAsync against Trainer.step in Node (wasm): the cost of its turns of the event loop, and
 * how soon an abort (a Pause) is read within a step (issue 17; docs/benchmarks.md).
 *
 *   npx tsx scripts/bench-step-async.ts --size playground --steps 30
 *   npx tsx scripts/bench-step-async.ts --size largest --steps 3
 *
 * Two trainers of the same configuration step in turn (one by step, one by stepAsync with a
 * setTimeout(0) turn, as the worker's), so they see the same batches; then, per size, steps aborted
 * half-way (by a timer, as a Pause message would) give the delay from the abort to the step's
 * rejection. Prints medians. Sizes: the Train form's defaults (H 256, W 128, batch 64), and the largest
 * the limits allow at word size 2048 and batch 64 (H 2048), on a synthetic dataset (captions of 3 to 12
 * words, 1024-d features).
 */
import { parseArgs } from 'node:util';
import { initNodeBackend } from './lib/node-backend';
import { StepAbortedError, Trainer } from '../src/model/trainer';
import { makeSyntheticDataset } from '../src/model/synthetic';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: 'playground' },
    steps: { type: 'string', default: '20' },
    'block-macs': { type: 'string' },
  },
});
const sizes: Record<string, { wordDim: number; hiddenDim: number; batchSize: number }> = {
  playground: { wordDim: 128, hiddenDim: 256, batchSize: 64 },
  largest: { wordDim: 2048, hiddenDim: 2048, batchSize: 64 },
};
const size = sizes[values.size!];
if (!size) throw new Error(`--size: expected ${Object.keys(sizes).join(' or ')}, got '${values.size}'`);
const steps = Number(values.steps);
if (!(Number.isInteger(steps) && steps > 0)) throw new Error(`--steps: expected a positive whole number`);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));
/** --block-macs: stepAsync's row blocks (default STEP_BLOCK_MACS). */
const blockMacs = values['block-macs'] ? Number(values['block-macs']) : undefined;

await initNodeBackend('wasm');
const ds = makeSyntheticDataset({ numImages: 600, imageDim: 1024, seed: 2 });
const model = { wordDim: size.wordDim, hiddenDim: size.hiddenDim };
const train = { batchSize: size.batchSize, seed: 1 };
const sync = new Trainer(ds, model, train);
const async_ = new Trainer(ds, model, train);
sync.step(); // warm-up (kernels, first allocations), outside the figures
await async_.stepAsync({ between: tick, blockMacs });
const syncMs: number[] = [];
const asyncMs: number[] = [];
const turns: number[] = [];
const longest: number[] = [];
for (let i = 0; i < steps; i++) {
  let t0 = performance.now();
  const a = sync.step();
  syncMs.push(performance.now() - t0);
  let n = 0;
  let last = 0;
  let gap = 0;
  t0 = performance.now();
  last = t0;
  const b = await async_.stepAsync({
    blockMacs,
    between: async () => {
      gap = Math.max(gap, performance.now() - last);
      n++;
      await tick();
      last = performance.now();
    },
  });
  asyncMs.push(performance.now() - t0);
  gap = Math.max(gap, performance.now() - last);
  turns.push(n);
  longest.push(gap);
  if (a.loss !== b.loss) throw new Error(`step ${a.step}: losses differ (${a.loss} and ${b.loss})`);
}
// Aborts half-way through a step, by a timer: the delay until the step gives up (only where a step
// turns the event loop at all; a step without a turn ends first, as the worker's chunks of steps do).
const abortMs: number[] = [];
for (let i = 0; i < (median(turns) > 0 ? Math.min(steps, 3) : 0); i++) {
  const abort = new AbortController();
  const delay = median(syncMs) / 2;
  // From when the abort was due: the timer itself can only run at one of the step's turns.
  const at = performance.now() + delay;
  setTimeout(() => abort.abort(), delay);
  try {
    await async_.stepAsync({ between: tick, signal: abort.signal, blockMacs });
    throw new Error('the step was not aborted (it ended before its timer)');
  } catch (e) {
    if (!(e instanceof StepAbortedError)) throw e;
    abortMs.push(performance.now() - at);
  }
}
const f = (x: number) => x.toFixed(1);
console.log(
  `${values.size} (H ${size.hiddenDim}, W ${size.wordDim}, batch ${size.batchSize}), ${steps} steps each, same losses: ` +
    `step ${f(median(syncMs))} ms, stepAsync ${f(median(asyncMs))} ms ` +
    `(${(100 * (median(asyncMs) / median(syncMs) - 1)).toFixed(1)} %), ${median(turns)} turns per step, ` +
    `longest stretch without a turn ${f(median(longest))} ms` +
    (abortMs.length ? `; abort read (step given up) after ${abortMs.map(f).join(', ')} ms` : ''),
);
sync.dispose();
async_.dispose();
