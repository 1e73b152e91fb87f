/**
 * Headless trainer: the same model core as the playground, in Node on tfjs's wasm backend.
 *
 *   npm run train -- [--ln on|off] [--measure order|cosine] [--steps N] [--seed S] [--json] ...
 *
 * Trains on the data available (at this stage the synthetic dataset of src/model/synthetic.ts), prints
 * progress and ends with one JSON line of the dev metrics. With --json, progress goes to stderr and
 * stdout holds only that line.
 */
import { initNodeBackend } from './node-backend';
import { oneOf, parseArgs } from './args';
import { Trainer } from '../src/model/trainer';
import { makeSyntheticDataset } from '../src/model/synthetic';
import type { EvalMetrics } from '../src/model/types';

const USAGE = `usage: npm run train -- [--ln on|off] [--measure order|cosine] [--steps N] [--seed S] [--json]
  [--hidden H] [--word-dim W] [--batch B] [--lr LR] [--max-violation] [--eval-every N]
  [--images N] [--backend wasm|cpu]`;

function fmt(m: EvalMetrics): string {
  const d = (x: { r1: number; r5: number; r10: number; medr: number }) =>
    `R@1 ${x.r1.toFixed(1)} R@5 ${x.r5.toFixed(1)} R@10 ${x.r10.toFixed(1)} medr ${x.medr}`;
  return `i2t ${d(m.i2t)} | t2i ${d(m.t2i)} | rsum ${m.rsum.toFixed(1)}`;
}

async function main(): Promise<void> {
  const a = parseArgs(
    process.argv.slice(2),
    {
      ln: 'string',
      measure: 'string',
      steps: 'number',
      seed: 'number',
      json: 'boolean',
      hidden: 'number',
      'word-dim': 'number',
      batch: 'number',
      lr: 'number',
      'max-violation': 'boolean',
      'eval-every': 'number',
      images: 'number',
      backend: 'string',
    },
    USAGE,
  );
  const json = Boolean(a.json);
  const log = (s: string) => (json ? process.stderr : process.stdout).write(s + '\n');
  const backend = await initNodeBackend(oneOf('backend', a.backend, ['wasm', 'cpu'] as const, 'wasm'));
  const steps = Number(a.steps ?? 300);
  const evalEvery = Number(a['eval-every'] ?? 100);
  const ds = makeSyntheticDataset({ numImages: Number(a.images ?? 1200), seed: Number(a.seed ?? 1234) });
  const trainer = new Trainer(
    ds,
    {
      layerNorm: oneOf('ln', a.ln, ['on', 'off'] as const, 'on') === 'on',
      measure: oneOf('measure', a.measure, ['order', 'cosine'] as const, 'order'),
      hiddenDim: Number(a.hidden ?? 256),
      wordDim: Number(a['word-dim'] ?? 300),
      maxViolation: Boolean(a['max-violation']),
    },
    { seed: Number(a.seed ?? 1234), batchSize: Number(a.batch ?? 128), learningRate: Number(a.lr ?? 1e-3) },
  );
  const { model, train } = trainer.config;
  log(
    `dataset ${ds.name}: ${ds.splits.train!.length} train / ${ds.splits.dev!.length} dev images, vocabulary ${trainer.vocab.size}; ` +
      `backend ${backend}; ${model.layerNorm ? 'LN-GRU' : 'GRU'} H=${model.hiddenDim}, ${model.measure}, batch ${train.batchSize}`,
  );
  const t0 = performance.now();

  for (let s = 1; s <= steps; s++) {
    const r = trainer.step();
    if (s % 10 === 0 || s === steps) {
      log(
        `step ${s}/${steps} epoch ${r.epoch} loss ${r.loss.toFixed(4)} |g| ${r.gradNorm.toFixed(3)} ${((train.batchSize * s) / ((performance.now() - t0) / 1000)).toFixed(0)} pairs/s`,
      );
    }
    if (s % evalEvery === 0 && s !== steps) log(`  dev @${s}: ${fmt(trainer.evaluate('dev'))}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const dev = trainer.evaluate('dev');
  log(`dev @${steps}: ${fmt(dev)} (${seconds.toFixed(1)} s)`);
  process.stdout.write(
    JSON.stringify({ ...dev, steps, seconds: Number(seconds.toFixed(2)), config: trainer.config }) + '\n',
  );
  trainer.dispose();
}

main().catch((e: unknown) => {
  process.stderr.write(`train: ${(e as Error).message}\n`);
  process.exit(1);
});
