/**
 * Side-by-side training runs that differ only in their model options (LN on/off, measure), on the same
 * data, seed and batches, in ONE process: the runs take turns step by step, so machine noise hits them
 * alike, and each run's wall-clock counts only its own training steps.
 *
 *   npm run compare -- [options]   (the table: COMPARE in ./cli/commands.ts; `--help`, docs/cli.md)
 *
 * Writes one JSON line per evaluation ({run, step, epoch, trainSeconds, loss, dev}) to --log, and prints
 * a summary: best dev R-sum per run and when it was reached, and the steps and seconds each run needed
 * to reach the first run's baseline (the best R-sum of the second run). With --out, each run's final model
 * is exported to <folder>/<run name> (the run-folder format `npm run evaluate -- --model` reads).
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { initNodeBackend } from './lib/node-backend';
import { defaultThreadCount, ParallelPool } from './lib/parallel-pool';
import { parseCommand } from './cli/options';
import { COMPARE, tableTrainFields } from './cli/commands';
import { loadScriptData, addFeatureViews } from './lib/script-data';
import { writeRunFolder } from './lib/run-folder';
import { exportRun } from '../src/model/export';
import { Trainer } from '../src/model/trainer';
import { TrainingDriver } from '../src/model/driver';
import { summarize, type LogLine } from './lib/run-log';
import type { Measure } from '../src/model/types';
import { splitSizeWarnings } from '../src/model/data/flickr8k';

interface RunSpec {
  name: string;
  layerNorm: boolean;
  measure: Measure;
}

function parseRun(name: string): RunSpec {
  const m = /^(ln|gru)-(order|cosine)$/.exec(name);
  if (!m) throw new Error(`--runs: '${name}' is not <ln|gru>-<order|cosine>`);
  return { name, layerNorm: m[1] === 'ln', measure: m[2] as Measure };
}

async function main(): Promise<void> {
  const { values: a } = parseCommand(COMPARE);
  const backend = await initNodeBackend('wasm');
  const data = await loadScriptData(a.data);
  const ds = data.dataset;
  if (a.augment !== undefined) addFeatureViews(data, String(a.data), a.augment);
  const specs = a.runs.map(parseRun);
  const seed = a.seed;
  const batch = a.batch;
  for (const w of splitSizeWarnings(data.dataset.splits, batch)) process.stderr.write(`warning: ${w}\n`);
  const sampling = a.sampling;
  const trainers = specs.map(
    (s) =>
      new Trainer(
        ds,
        {
          layerNorm: s.layerNorm,
          measure: s.measure,
          hiddenDim: a.hidden,
          wordDim: a['word-dim'],
          maxViolation: Boolean(a['max-violation']),
        },
        {
          seed,
          batchSize: batch,
          learningRate: a.lr,
          sampling,
          lrDecayStep: a['lr-decay-at'],
          lrDecayFactor: a['lr-decay'],
          maxViolationStep: a['max-violation-after'],
          dropout: a.dropout,
          ...(a.augment !== undefined ? { augment: true } : {}),
          ...tableTrainFields(a),
        },
      ),
  );
  // --threads: each step's batch in shards over worker_threads (scripts/lib/parallel-pool.ts), one pool
  // for all runs (they step in turn); 1 starts none.
  const threads = a.threads ?? defaultThreadCount();
  const pool =
    threads > 1 ? await ParallelPool.start(threads, 'wasm', { onFailure: (m) => console.log(m) }) : undefined;
  for (const tr of trainers) pool?.attach(tr);
  const stepsPerEpoch = trainers[0].stepsPerEpoch;
  const steps = a.steps !== undefined ? a.steps : trainers[0].stepsForEpochs(a.epochs);
  const evalEvery = a['eval-every'] ?? stepsPerEpoch;
  const evalOpts = a['eval-images'] ? { maxImages: a['eval-images'] } : {};
  const logFile = a.log;
  if (logFile) {
    mkdirSync(path.dirname(logFile), { recursive: true });
    writeFileSync(logFile, '');
  }
  const t = trainers[0].config;
  console.log(
    `compare on ${ds.name} (${ds.splits.train!.length} train / ${ds.splits.dev?.length ?? 0} dev images, ` +
      `vocabulary ${trainers[0].vocab.size}), backend ${backend}, ${threads} thread${threads > 1 ? 's' : ''}: ${specs.map((s) => s.name).join(' vs ')}; ` +
      `H=${t.model.hiddenDim} W=${t.model.wordDim} batch ${batch} (sampling by ${sampling}), ${steps} steps (${stepsPerEpoch}/epoch), seed ${seed}`,
  );
  const seconds = trainers.map(() => 0);
  const lastLoss = trainers.map(() => NaN);
  const history: LogLine[][] = trainers.map(() => []);
  const evaluateAll = (step: number) => {
    trainers.forEach((tr, k) => {
      const dev = tr.evaluate('dev', evalOpts);
      const line: LogLine = {
        run: specs[k].name,
        step,
        epoch: tr.epochsDone,
        trainSeconds: seconds[k],
        loss: lastLoss[k],
        dev,
      };
      history[k].push(line);
      if (logFile) appendFileSync(logFile, JSON.stringify(line) + '\n');
      console.log(
        `  ${specs[k].name.padEnd(10)} step ${step} (${seconds[k].toFixed(0)} s) loss ${lastLoss[k].toFixed(3)} ` +
          `i2t R@1 ${dev.i2t.r1.toFixed(1)} R@10 ${dev.i2t.r10.toFixed(1)} | t2i R@1 ${dev.t2i.r1.toFixed(1)} R@10 ${dev.t2i.r10.toFixed(1)} | rsum ${dev.rsum.toFixed(1)}`,
      );
    });
  };
  // The shared loop (src/model/driver.ts): the runs take turns step by step.
  const driver = new TrainingDriver(trainers, { steps, evalEvery });
  await driver.run({
    onStep: (k, r) => {
      seconds[k] += r.ms / 1000;
      lastLoss[k] = r.loss;
    },
    evaluate: evaluateAll,
  });
  driver.finish();
  console.log(summarize(history).join('\n'));
  if (a.out) {
    for (const [k, tr] of trainers.entries()) {
      const dir = path.join(a.out, specs[k].name);
      const { files } = exportRun(tr, {
        encoder: data.encoder,
        final: history[k].length ? { dev: history[k][history[k].length - 1].dev } : undefined,
      });
      await writeRunFolder(dir, files);
      console.log(`wrote ${dir}`);
    }
  }
  await pool?.close();
  trainers.forEach((tr) => tr.dispose());
}

main().catch((e: unknown) => {
  process.stderr.write(`compare: ${(e as Error).message}\n`);
  process.exit(1);
});
