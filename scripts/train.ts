/**
 * Headless trainer: the same model core as the playground, in Node on tfjs's wasm backend.
 *
 *   npm run train -- [options]   (the table: TRAIN in ./cli/commands.ts; `--help`, docs/cli.md)
 *
 * Trains on the synthetic dataset (src/model/synthetic.ts; the default), a feature pack folder (as written
 * by prepare:flickr8k), or a Flickr8k folder (features prepared through the same code path as
 * prepare:flickr8k, from the file cache when available). Prints progress and ends with one JSON line of
 * the dev metrics. With --json, progress goes to stderr and stdout holds only that line.
 *
 * With --out, the run folder (config.json, weights.bin, weights.json, metrics.json; see
 * src/model/export.ts) is written at the end, and log.jsonl there receives one JSON line per logged step
 * as training goes: {step, epoch, seconds, loss, dev?} (seconds of training, evaluations excluded).
 *
 * With --word-vectors glove-100d (or a GloVe text / wink JSON file), the word embedding starts from
 * pretrained vectors (Trainer.initWordVectors).
 *
 * With --distill-from a,b,..., each step also pulls the model towards the mean score of those runs (an
 * ensemble) on its batch: the distillation loss of src/model/loss.ts, with --distill-weight (1) and
 * --distill-temperature (0.05).
 *
 * With --out, a checkpoint (checkpoint.json and checkpoint-<step>.bin: weights, optimizer state, sampler
 * position; scripts/lib/checkpoint-node.ts) is written every --checkpoint-every steps (default: at each
 * evaluation) and at the end; `--resume <run folder>` continues that run from its checkpoint, taking the
 * very steps the uninterrupted run would have taken (--steps may extend it). A step whose loss or gradient
 * is not finite stops the run before its update ("diverged at step N"); the last checkpoint is kept.
 *
 * With --average-from N, the weights are averaged from step N on (Polyak averaging, see
 * TrainConfig.averageFromStep): evaluations from then on report the averaged weights as `dev` and the
 * trained ones as `devTrained`, and the run folder holds the averaged weights.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { initNodeBackend } from './lib/node-backend';
import { defaultThreadCount, ParallelPool } from './lib/parallel-pool';
import { parseCommand } from './cli/options';
import { TABLE_FLAGS, tableTrainFields, TRAIN } from './cli/commands';
import { readCheckpointFolder, writeCheckpointFolder, type ResumeOptions } from './lib/checkpoint-node';
import { validateLogLines } from '../src/model/validate-run';
import type { TrainerCheckpoint } from '../src/model/checkpoint';
import { loadScriptData, addFeatureViews } from './lib/script-data';
import { readRunFolder, writeRunFolder } from './lib/run-folder';
import { loadWordVectors } from './lib/word-vectors';
import { formatMetrics } from './lib/report';
import { Trainer, TrainingDivergedError } from '../src/model/trainer';
import { DEFAULTS, trainOptionEntries } from '../src/model/defaults';
import { TrainingDriver } from '../src/model/driver';
import { exportRun, importModel, type RunLogEntry } from '../src/model/export';
import type { EvalMetrics, StepResult } from '../src/model/types';
import { splitSizeWarnings } from '../src/model/data/flickr8k';

/** Flags that set the model or its training: a resumed run takes them from its checkpoint. */
const CONFIG_FLAGS: string[] = [
  ...TABLE_FLAGS,
  'ln',
  'measure',
  'epochs',
  'seed',
  'hidden',
  'word-dim',
  'batch',
  'lr',
  'max-violation',
  'images',
  'sampling',
  'init',
  'lr-decay-at',
  'lr-decay',
  'max-violation-after',
  'dropout',
  'average-from',
  'word-vectors',
  'distill-from',
  'distill-weight',
  'distill-temperature',
];

async function main(): Promise<void> {
  const { values: a } = parseCommand(TRAIN);
  const resumeDir = a.resume === undefined ? undefined : path.resolve(a.resume);
  let resumed: { checkpoint: TrainerCheckpoint; resume: ResumeOptions } | undefined;
  if (resumeDir) {
    const given = a as Record<string, unknown>;
    const clash = CONFIG_FLAGS.filter((k) => given[k] !== undefined);
    if (clash.length)
      throw new Error(
        `--resume takes the run's configuration from its checkpoint; drop ${clash.map((k) => `--${k}`).join(', ')}`,
      );
    resumed = readCheckpointFolder(resumeDir);
  }
  const cp = resumed?.checkpoint;
  const json = Boolean(a.json);
  const log = (s: string) => (json ? process.stderr : process.stdout).write(s + '\n');
  if (a.steps !== undefined && a.epochs !== undefined)
    throw new Error(`--steps and --epochs exclude each other`);
  const backend = await initNodeBackend(a.backend);
  const paper = DEFAULTS.paper;
  const quick = DEFAULTS.quickCli;
  const seed = cp?.train.seed ?? a.seed ?? paper.train.seed;
  const data = await loadScriptData(a.data, {
    synthetic: { numImages: cp?.numImages ?? a.images ?? quick.syntheticImages, seed },
    prepare: {
      encoder: a.encoder,
      limit: a.limit,
      log: (line) => process.stderr.write(line + '\n'),
    },
  });
  const ds = data.dataset;
  for (const w of splitSizeWarnings(ds.splits, a.batch ?? paper.train.batchSize))
    process.stderr.write(`warning: ${w}\n`);
  if (a.augment !== undefined) addFeatureViews(data, String(a.data), a.augment);
  // --init: fine-tune another run. Its architecture is the default here; its encoder must be the data's.
  const initDir = a.init === undefined ? undefined : path.resolve(a.init);
  const init = initDir ? importModel(readRunFolder(initDir)) : undefined;
  if (init && init.config.encoder !== data.encoder) {
    init.model.dispose();
    throw new Error(
      `--init ${initDir}: the run was trained on ${init.config.encoder ?? 'non-photo'} features, the data has ${data.encoder ?? 'non-photo'} features`,
    );
  }
  const base = init?.config.model;
  const trainer = cp
    ? new Trainer(ds, cp.model, cp.train)
    : new Trainer(
        ds,
        {
          layerNorm: a.ln ? a.ln === 'on' : (base?.layerNorm ?? paper.model.layerNorm),
          measure: a.measure ?? base?.measure ?? paper.model.measure,
          hiddenDim: a.hidden ?? base?.hiddenDim ?? quick.hiddenDim,
          wordDim: a['word-dim'] ?? base?.wordDim ?? paper.model.wordDim,
          maxViolation: Boolean(a['max-violation']),
        },
        {
          seed,
          batchSize: a.batch ?? paper.train.batchSize,
          learningRate: a.lr ?? paper.train.learningRate,
          lrDecayStep: a['lr-decay-at'],
          lrDecayFactor: a['lr-decay'],
          maxViolationStep: a['max-violation-after'],
          dropout: a.dropout,
          ...(a.augment !== undefined ? { augment: true } : {}),
          averageFromStep: a['average-from'],
          sampling: a.sampling ?? paper.train.sampling,
          ...tableTrainFields(a),
        },
      );
  if (a['word-vectors'] !== undefined) {
    if (init)
      throw new Error('--word-vectors and --init exclude each other (--init brings its own word embedding)');
    const vocab = new Set(trainer.vocab.toJSON().tokens);
    const { found, total } = trainer.initWordVectors(loadWordVectors(a['word-vectors'], vocab));
    log(
      `word vectors ${a['word-vectors']}: ${found} of the ${total} vocabulary words (${((100 * found) / total).toFixed(1)}%)`,
    );
  }
  if (init && initDir) {
    try {
      trainer.initFrom(
        { model: init.config.model, vocab: init.vocab, weights: init.model.getWeights() },
        initDir,
      );
    } finally {
      init.model.dispose();
    }
  }
  const distill = cp?.train.distill;
  if (a['distill-from'] !== undefined || distill) {
    const folders = distill ? distill.teachers : (a['distill-from'] ?? []);
    const teachers = folders.map((f) => ({ ...importModel(readRunFolder(path.resolve(f))), label: f }));
    try {
      for (const t of teachers)
        if (t.config.encoder !== data.encoder)
          throw new Error(
            `--distill-from ${t.label}: the run was trained on ${t.config.encoder ?? 'non-photo'} features, the data has ${data.encoder ?? 'non-photo'} features`,
          );
      const t0 = performance.now();
      trainer.distillFrom(
        teachers,
        distill
          ? { weight: distill.weight, temperature: distill.temperature }
          : {
              weight: a['distill-weight'] ?? DEFAULTS.loss.distillWeight,
              temperature: a['distill-temperature'] ?? DEFAULTS.loss.distillTemperature,
            },
        (done, total) =>
          log(`teacher ${done}/${total} embedded (${((performance.now() - t0) / 1000).toFixed(0)} s)`),
      );
    } finally {
      for (const t of teachers) t.model.dispose();
    }
  } else if (a['distill-weight'] !== undefined || a['distill-temperature'] !== undefined) {
    throw new Error('--distill-weight and --distill-temperature need --distill-from');
  }
  if (cp) trainer.restore(cp); // checks the dataset and configuration against the checkpoint's
  // --threads: each step's batch in shards over worker_threads (scripts/lib/parallel-pool.ts); 1 starts none.
  const threads = a.threads ?? defaultThreadCount();
  const pool = threads > 1 ? await ParallelPool.start(threads, a.backend, { onFailure: log }) : undefined;
  pool?.attach(trainer);
  const { model, train } = trainer.config;
  const ro = resumed?.resume;
  const epochs = a.epochs;
  const steps = epochs ? trainer.stepsForEpochs(epochs) : (a.steps ?? ro?.steps ?? quick.steps);
  const evalEvery = a['eval-every'] ?? ro?.evalEvery ?? quick.evalEvery;
  const logEvery = a['log-every'] ?? ro?.logEvery ?? quick.logEvery;
  const evalImages = a['eval-images'] ?? ro?.evalImages;
  const checkpointEvery = a['checkpoint-every'] ?? evalEvery;
  const startStep = trainer.stepsDone;
  if (startStep >= steps)
    throw new Error(
      `--resume ${resumeDir}: the checkpoint is at step ${startStep} of ${steps}; give --steps above it`,
    );
  const hasDev = Boolean(ds.splits.dev?.length);
  const out = a.out === undefined ? resumeDir : path.resolve(a.out);
  const logFile = out ? path.join(out, 'log.jsonl') : undefined;
  // A resumed run keeps its curve up to the checkpoint; the steps after it are taken again.
  const history: RunLogEntry[] =
    resumeDir && existsSync(path.join(resumeDir, 'log.jsonl'))
      ? validateLogLines(
          readFileSync(path.join(resumeDir, 'log.jsonl'), 'utf8'),
          path.join(resumeDir, 'log.jsonl'),
        ).filter((e) => e.step <= startStep)
      : [];
  if (out && logFile) {
    mkdirSync(out, { recursive: true });
    writeFileSync(logFile, history.map((e) => JSON.stringify(e) + '\n').join(''));
  }
  if (cp) log(`resumed ${resumeDir} at step ${startStep} of ${steps}`);
  log(
    `dataset ${ds.name}: ${ds.splits.train!.length} train / ${ds.splits.dev?.length ?? 'no'} dev images, vocabulary ${trainer.vocab.size}; ` +
      `backend ${backend}, ${threads} thread${threads > 1 ? 's' : ''}; ${model.layerNorm ? 'LN-GRU' : 'GRU'} H=${model.hiddenDim}, ${model.measure}, batch ${train.batchSize}; ` +
      `${steps} steps${epochs ? ` (${epochs} epochs)` : ''}` +
      (train.initFrom ? `; from the weights of ${train.initFrom}` : '') +
      (train.wordVectors ? `; word embedding from ${train.wordVectors}` : '') +
      (train.distill
        ? `; distilled from an ensemble of ${train.distill.teachers.length} (weight ${train.distill.weight}, temperature ${train.distill.temperature})`
        : '') +
      (train.maxViolationStep ? `; max-violation loss after step ${train.maxViolationStep}` : '') +
      (train.dropout ? `; dropout ${train.dropout}` : '') +
      (train.averageFromStep ? `; weights averaged from step ${train.averageFromStep}` : '') +
      (train.augment ? `; augmented with ${ds.featureViews!.length} other view(s) of the features` : '') +
      trainOptionEntries()
        .map(([k, o]) => (train[k] ? `; ${o.summary(train[k])}` : ''))
        .join(''),
  );
  if (!hasDev) log('no dev split: dev metrics are skipped');
  const evaluate = (): EvalMetrics | undefined =>
    hasDev ? trainer.evaluate('dev', { maxImages: evalImages }) : undefined;
  const evaluateAveraged = (): EvalMetrics | undefined =>
    trainer.averagedSteps ? trainer.withAveragedWeights(evaluate) : undefined;

  let trainMs = (ro?.trainSeconds ?? 0) * 1000;
  const t0 = performance.now();
  let dev: EvalMetrics | undefined = history.findLast((e) => e.dev)?.dev;
  let checkpointStep = startStep;
  const saveCheckpoint = () => {
    if (!out) return;
    writeCheckpointFolder(out, trainer.checkpoint(), {
      steps,
      evalEvery,
      logEvery,
      evalImages,
      trainSeconds: trainMs / 1000,
    });
    checkpointStep = trainer.stepsDone;
  };
  // The shared loop (src/model/driver.ts): each step is logged every logEvery steps and when evaluated.
  const driver = new TrainingDriver([trainer], { steps, evalEvery });
  let last: StepResult | undefined;
  /** The step last evaluated, and its metrics (the averaged weights' and the trained ones'). */
  let evaluated: { step: number; dev?: EvalMetrics; trained?: EvalMetrics } = { step: -1 };
  await driver.run({
    onStep: (_, r) => {
      last = r;
      trainMs += r.ms;
      const s = r.step;
      if (s % logEvery === 0 || driver.evaluationDue(s))
        log(
          `step ${s}/${steps} epoch ${r.epoch} loss ${r.loss.toFixed(4)} |g| ${r.gradNorm.toFixed(3)} ${((train.batchSize * s) / (trainMs / 1000)).toFixed(0)} pairs/s`,
        );
    },
    onStepError: (_, e) => {
      if (e instanceof TrainingDivergedError && out)
        throw new Error(
          `${e.message}\n` +
            (checkpointStep
              ? `the last good checkpoint (step ${checkpointStep}) is kept in ${out}`
              : 'no checkpoint had been written yet'),
        );
      throw e;
    },
    evaluate: (s) => {
      const trained = evaluate();
      const averaged = evaluateAveraged();
      const metrics = averaged ?? trained;
      evaluated = { step: s, dev: metrics, ...(averaged && trained ? { trained } : {}) };
      if (!metrics) return;
      dev = metrics;
      if (averaged && trained) log(`  dev @${s}, trained weights: ${formatMetrics(trained)}`);
      const end = s === steps;
      const wall = end ? ` (${((performance.now() - t0) / 1000).toFixed(1)} s)` : '';
      const what = averaged ? `, mean of the weights of the last ${trainer.averagedSteps} steps` : '';
      log(`${end ? '' : '  '}dev @${s}${what}: ${formatMetrics(metrics)}${wall}`);
    },
    afterStep: (s) => {
      const ev = evaluated.step === s ? evaluated : undefined;
      if (last && (s % logEvery === 0 || ev)) {
        const entry: RunLogEntry = {
          step: s,
          epoch: trainer.epochsDone,
          seconds: Number((trainMs / 1000).toFixed(3)),
          loss: last.loss,
          ...(ev?.dev ? { dev: ev.dev } : {}),
          ...(ev?.trained ? { devTrained: ev.trained } : {}),
        };
        history.push(entry);
        if (logFile) appendFileSync(logFile, JSON.stringify(entry) + '\n');
      }
      if (out && (s % checkpointEvery === 0 || s === steps)) saveCheckpoint();
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  if (driver.finish().length)
    log(
      `--average-from ${train.averageFromStep}: training ended before that step; the trained weights are kept`,
    );
  if (out) {
    const { files } = exportRun(trainer, {
      encoder: data.encoder,
      history,
      final: dev ? { dev } : undefined,
    });
    await writeRunFolder(out, files);
    log(`wrote ${out} (${Object.keys(files).join(', ')}, log.jsonl)`);
  }
  process.stdout.write(
    JSON.stringify({ ...dev, steps, seconds: Number(seconds.toFixed(2)), config: trainer.config }) + '\n',
  );
  await pool?.close();
  trainer.dispose();
}

main().catch((e: unknown) => {
  process.stderr.write(`train: ${(e as Error).message}\n`);
  process.exit(1);
});
