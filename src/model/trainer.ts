/**
 * Training and evaluation of the order-embedding model on a captioned-image dataset, the same in the
 * browser's worker, in Node's headless trainer and in tests. The Trainer holds one run's state and
 * takes its steps; its parts live in ./training/:
 *
 * - ./training/validate.ts: the dataset and configuration checks made before anything is allocated.
 * - ./training/captions.ts: the vocabulary from the training captions only (minimum count, unknown-word
 *   id), every caption encoded once.
 * - ./training/sampler.ts: sampling 'image' (default, every training image once an epoch with one of
 *   its captions) or 'caption' (every caption once an epoch, in batches of nearly equal length); a batch
 *   never holds the same image twice. Deterministic given the seed.
 * - ./training/update.ts: Adam (lr 1e-3 by default, scheduled by ./driver.ts `learningRateAt`),
 *   gradients clipped to a global norm (2 by default), on the host or wholly on the device (WebGPU).
 *   The loss may switch to max-violation at one step (VSE++ warm-up).
 * - ./training/init.ts: random init, pretrained word vectors for the word embedding
 *   (`initWordVectors`), or another run's weights (`initFrom`, fine-tuning).
 * - ./training/averaging.ts: optionally the running mean of the weights from one step on
 *   (`averageFromStep`, Polyak averaging).
 * - ./training/state.ts: the whole state as a checkpoint and back (`checkpoint`, `restore`).
 * - ./training/step-control.ts: a step's errors (divergence, abandonment) and stepAsync's control.
 * - Optionally distillation from an ensemble of trained models (`distillFrom`, ./distill.ts).
 * - Evaluation and embeddings through ./evaluate.ts.
 */
import * as tf from './tf';
import { OrderEmbeddingModel } from './model';
import { DEFAULTS } from './defaults';
import { learningRateAt } from './driver';
import {
  embedDatasetImages,
  embedSequences,
  evaluateSplit,
  evaluateSplitAsync,
  gatherFeatures,
  scoreImages,
  type ChunkControl,
  type EvalSource,
  type EvaluateOptions,
  type ScoredImages,
  type TrainedModel,
} from './evaluate';
import { Rng } from './rng';
import { runToEnd, type Pass } from './ops';
import { padTimeMajor, type Vocabulary } from './tokenizer';
import type { Dataset, EvalMetrics, ModelConfig, StepResult, TrainConfig } from './types';
import type { WordVectors } from './word-vectors';
import { EnsembleTeacher, type Teacher } from './distill';
import { checkRunSize } from './limits';
import type { TrainerCheckpoint } from './checkpoint';
import { CaptionCodec, hasKnownWord } from './caption-codec';
import { checkDistill, checkTrainConfig, validateDataset } from './training/validate';
import { encodeTrainingCaptions, trainingVocabulary, type TrainingCaptions } from './training/captions';
import { BatchSampler, type Batch } from './training/sampler';
import { WeightAverage } from './training/averaging';
import { assignWordVectors, checkInitRun, type InitRun } from './training/init';
import {
  holdCheckpoint,
  restoreCheckpoint,
  takeCheckpoint,
  type HeldCheckpoint,
  type TrainerParts,
} from './training/state';
import {
  StepAbortedError,
  STEP_BLOCK_MACS,
  STEP_SLICE_MS,
  TrainingDivergedError,
  type StepControl,
} from './training/step-control';
import {
  adamInternals,
  applyOnDevice,
  clipAndApply,
  dropDeviceStep,
  gradientNorm,
  type DeviceStepState,
  type PendingDeviceStep,
} from './training/update';

// The Trainer's import path stays the one place to import training from.
export { validateDataset } from './training/validate';
export { StepAbortedError, STEP_BLOCK_MACS, STEP_SLICE_MS, TrainingDivergedError, type StepControl };
export type { EvaluateOptions } from './evaluate';

/** What a run is trained with when not told otherwise: the paper's (./defaults.ts). */
export const DEFAULT_TRAIN: TrainConfig = { ...DEFAULTS.paper.train };

export const DEFAULT_MODEL: Omit<ModelConfig, 'vocabSize' | 'imageDim' | 'margin'> = {
  ...DEFAULTS.paper.model,
  maxViolation: DEFAULTS.loss.maxViolation,
};

/** A batch's loss (a scalar left on the device) and the gradient of every weight. */
type LossAndGrads = { loss: tf.Scalar; grads: Record<string, tf.Tensor> };

export class Trainer {
  readonly config: { model: ModelConfig; train: TrainConfig };
  readonly vocab: Vocabulary;
  /** How this model reads text (the vocabulary, cut to train.maxLength); saved with its run. */
  readonly codec: CaptionCodec;
  readonly model: OrderEmbeddingModel;
  /** Training captions dropped because none of their words is in the vocabulary. */
  readonly droppedCaptions: { index: number; text: string }[];
  /** The dataset trained on (its name goes into exported runs). */
  readonly dataset: Dataset;
  private readonly optimizer: tf.AdamOptimizer;
  private readonly captions: TrainingCaptions;
  private readonly sampler: BatchSampler;
  /** averageFromStep: the mean of the weights after steps averageFromStep..steps. */
  private readonly average: WeightAverage;
  private steps = 0;
  private teacher?: Teacher;
  /** stepOnDevice: the step whose loss and norm are still being read. */
  private pending: PendingDeviceStep | null = null;
  /** stepOnDevice: true while every step's loss and norm were finite; false makes updates no-ops. */
  private deviceOk?: tf.Variable;
  /** stepOnDevice: when the last result was read (its `ms` counts from there). */
  private lastDeviceResultAt = 0;

  constructor(dataset: Dataset, model: Partial<ModelConfig> = {}, train: Partial<TrainConfig> = {}) {
    validateDataset(dataset);
    this.dataset = dataset;
    const t: TrainConfig = { ...DEFAULT_TRAIN, ...train };
    checkTrainConfig(t, dataset);
    this.vocab = trainingVocabulary(dataset, t.minWordCount);
    const measure = model.measure ?? DEFAULT_MODEL.measure;
    const m: ModelConfig = {
      ...DEFAULT_MODEL,
      margin: DEFAULTS.loss.margin[measure],
      ...model,
      vocabSize: this.vocab.size,
      imageDim: dataset.imageDim,
    };
    // Sizes and the memory estimate before anything is allocated (./limits.ts).
    checkRunSize(m, t);
    this.config = { model: m, train: t };
    this.codec = new CaptionCodec(this.vocab, t.maxLength);
    this.captions = encodeTrainingCaptions(dataset, this.codec);
    this.droppedCaptions = this.captions.dropped;
    const rng = new Rng(t.seed);
    // Its own generator, so that a run with augmentation sees the same batches as one without.
    const viewRng = new Rng(t.seed + 0x9e37);
    this.sampler = new BatchSampler(dataset, this.captions, t, rng, viewRng);
    this.average = new WeightAverage(t);
    this.model = new OrderEmbeddingModel(m, rng.seed());
    this.optimizer = tf.train.adam(t.learningRate);
  }

  /** Optimisation steps done so far. */
  get stepsDone(): number {
    return this.steps;
  }

  /** Completed passes over the training images (or captions, with sampling 'caption'). */
  get epochsDone(): number {
    return this.sampler.epochsDone;
  }

  /** Optimisation steps in one epoch (one pass over the training images or captions). */
  get stepsPerEpoch(): number {
    return this.sampler.stepsPerEpoch;
  }

  /**
   * Steps that make `epochs` passes. With sampling 'image' batches run on across epoch boundaries, so
   * this is ceil(epochs x images / B); with 'caption' each epoch has its own batches.
   */
  stepsForEpochs(epochs: number): number {
    return this.sampler.stepsForEpochs(epochs);
  }

  /** Learning rate of the next step (the schedule of ./driver.ts). */
  get learningRate(): number {
    return learningRateAt(this.config.train, this.steps);
  }

  /** Whether the next step uses the max-violation loss (the model's choice, or the warm-up's end). */
  get maxViolation(): boolean {
    const step = this.config.train.maxViolationStep;
    return this.config.model.maxViolation || Boolean(step && this.steps >= step);
  }

  /**
   * Starts from another run's weights (fine-tuning) instead of the random init. The run must have the
   * same architecture and the same vocabulary (the same training captions and minimum word count), so
   * that every weight means the same thing; otherwise this throws naming what differs. The optimizer
   * starts fresh. `label` (the run folder) is recorded as `train.initFrom`.
   */
  initFrom(run: InitRun, label: string): void {
    checkInitRun(run, this.config.model, this.vocab, label);
    this.model.setWeights(run.weights);
    this.config.train.initFrom = label;
  }

  /**
   * Starts the word embedding from pretrained vectors (./word-vectors.ts): each vocabulary word the
   * table has gets its vector (scaled, and rotated into the word dimension); the others keep their
   * random rows. Call before training. The table's name is recorded as `train.wordVectors`.
   * Returns how many of the vocabulary's words the table covered.
   */
  initWordVectors(vectors: WordVectors): { found: number; total: number } {
    if (this.steps) throw new Error(`word vectors: set them before training (${this.steps} steps done)`);
    const covered = assignWordVectors(this.model, this.vocab, vectors, this.config.train.seed + 0x51);
    this.config.train.wordVectors = vectors.name;
    return covered;
  }

  /**
   * Distillation: from now on each step adds `weight` x the distillation loss at `temperature` towards
   * the mean score of `members` (trained models, e.g. other seeds; ./distill.ts) on the same batch. The
   * members embed every training image and caption once, here (minutes for an H = 1024 ensemble on
   * Flickr8k). Recorded as `train.distill` with the members' labels.
   */
  distillFrom(
    members: readonly (TrainedModel & { label: string })[],
    opts: { weight: number; temperature: number },
    onProgress?: (done: number, total: number) => void,
  ): void {
    checkDistill(opts);
    const { images, captions } = this.trainingSet;
    this.setTeacher(new EnsembleTeacher(members, this.dataset, images, captions, onProgress), opts);
  }

  /** The training images with a usable caption, and those captions (what a teacher must embed). */
  get trainingSet(): { images: number[]; captions: number[] } {
    const { byImage } = this.captions;
    return { images: [...byImage.keys()], captions: [...byImage.values()].flat() };
  }

  /** Distillation from a teacher built already (e.g. shared by several students); see distillFrom. */
  setTeacher(teacher: Teacher, opts: { weight: number; temperature: number }): void {
    checkDistill(opts);
    this.teacher = teacher;
    this.config.train.distill = { teachers: [...teacher.labels], ...opts };
  }

  /**
   * The next batch's loss (left on the device: a scalar tensor) and gradients, with the learning rate
   * of its update set.
   */
  private batchLossAndGrads(): LossAndGrads {
    return runToEnd(this.batchLossAndGradsPass());
  }

  /**
   * {@link batchLossAndGrads} as a pass (./ops.ts) that yields within the GRU's forward and backward
   * passes ({@link stepAsync}). Until it ends the trainer reads as before the step: the batch sampler is
   * put back right after the batch is drawn and moved on only when the pass completes, so a checkpoint
   * taken while it waits, or the pass abandoned, leaves the next step drawing this very batch.
   */
  private *batchLossAndGradsPass(blockMacs?: number): Pass<LossAndGrads> {
    const before = this.sampler.state();
    const { images, captions } = this.nextBatch();
    const batch = padTimeMajor(captions.map((k) => this.captions.encoded[k]!)); // ids [T, B]
    const features = gatherFeatures(this.dataset, images, this.sampler.views(images.length)); // [B, F]
    const after = this.sampler.state();
    this.sampler.restore(before);
    const distill = this.config.train.distill;
    if (distill && !this.teacher)
      throw new Error(
        `distillation: no teacher loaded (call distillFrom with ${distill.teachers.join(', ')})`,
      );
    const teacherScores = this.teacher?.scores(images, captions); // [B, B]
    const pass = this.model.lossAndGradsPass(features, batch.ids, batch.lengths, {
      blockMacs,
      maxViolation: this.maxViolation,
      // Mask seeds from the seed and the step, not from the batch order's generator: a run with dropout
      // sees the same batches as one without.
      ...(this.config.train.dropout
        ? {
            dropout: this.config.train.dropout,
            seed: (this.config.train.seed * 7919 + 2 * this.steps) % 2 ** 30,
          }
        : {}),
      ...(distill && teacherScores
        ? { distill: { scores: teacherScores, temperature: distill.temperature, weight: distill.weight } }
        : {}),
    });
    let out: LossAndGrads;
    try {
      out = yield* pass;
    } finally {
      features.dispose();
      teacherScores?.dispose();
    }
    this.sampler.restore(after);
    // Adam reads its (protected) learningRate at every update, so the decay needs no new optimizer and
    // keeps the moment estimates.
    (this.optimizer as unknown as { learningRate: number }).learningRate = this.learningRate;
    return out;
  }

  /** The next batch from the sampler (a method of its own: tests record the batches through it). */
  private nextBatch(): Batch {
    return this.sampler.next();
  }

  /**
   * One optimisation step on the next batch. It reads the loss and the gradient norm back before it
   * returns (a synchronous read): the path for wasm and cpu, where a read costs nothing. On WebGPU,
   * where each read stalls the queue, use {@link stepOnDevice}.
   */
  step(): StepResult {
    const t0 = performance.now();
    return this.applyStep(this.batchLossAndGrads(), t0);
  }

  /**
   * {@link step}, stopping for a turn of the caller's event loop (`control.between()`) after about every
   * `sliceMs` of work within the GRU's forward and backward passes (and their large products, in row
   * blocks of `blockMacs` multiply-adds), so that a worker reads a Pause during a step of many seconds.
   * When `control.signal` aborts, the step is abandoned at its next stop, before the update: no weight,
   * Adam moment or power, step counter or sampler position has changed, its tensors are freed, and it
   * rejects with {@link StepAbortedError}; the next step takes this very batch. Not aborted, it gives
   * {@link step}'s result to the last digit (a row block of a product holds that product's rows). `ms`
   * counts the step's own work, not the turns of the event loop.
   */
  async stepAsync(control: StepControl): Promise<StepResult> {
    const t0 = performance.now();
    const { between, signal, sliceMs = STEP_SLICE_MS, blockMacs = STEP_BLOCK_MACS } = control;
    const pass = this.batchLossAndGradsPass(blockMacs);
    let waited = 0;
    let last = t0;
    for (;;) {
      if (signal?.aborted) {
        pass.return(undefined as never); // runs the passes' `finally`: their tensors are freed
        throw new StepAbortedError(this.steps + 1);
      }
      const next = pass.next();
      if (next.done) {
        const result = this.applyStep(next.value, t0);
        return { ...result, ms: result.ms - waited };
      }
      if (performance.now() - last >= sliceMs) {
        const w0 = performance.now();
        await between();
        last = performance.now();
        waited += last - w0;
      }
    }
  }

  /**
   * The end of a step once its loss and gradients are there: the loss read back, the divergence check,
   * the clipped update, the counters and the running mean. Nothing here yields, so a step is applied
   * whole or not at all.
   */
  private applyStep({ loss: lossT, grads }: LossAndGrads, t0: number): StepResult {
    const loss = lossT.dataSync()[0];
    lossT.dispose();
    const gradNorm = gradientNorm(grads);
    // Divergence stops the run before the update: the weights and Adam's moments stay those of the last
    // good step (a checkpoint taken now resumes from there).
    if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
      tf.dispose(Object.values(grads));
      throw new TrainingDivergedError(this.steps + 1, loss, gradNorm);
    }
    clipAndApply(this.optimizer, grads, gradNorm, this.config.train.clipNorm);
    this.steps++;
    if (this.average.due(this.steps)) this.average.add(this.model.getWeights());
    return { step: this.steps, epoch: this.epochsDone, loss, gradNorm, ms: performance.now() - t0 };
  }

  /**
   * One optimisation step that never waits for the device: the path for WebGPU, where a synchronous read
   * stalls the queue (and tfjs's `dataSync` there is its slow path). The gradients are clipped on the
   * device (scale = min(1, clip / norm) as a tensor), the update is applied, and the loss and gradient
   * norm are read asynchronously, one step behind: this call enqueues step N, then awaits the read of
   * step N - 1 (queued behind it, so the device stays busy) and resolves to step N - 1's result (null on
   * the first call). {@link flushDeviceStep} reads the last one.
   *
   * Divergence still stops the run before the update: a device flag turns every update into a no-op
   * (weights, Adam's moments and powers selected back) from the first step whose loss or norm is not
   * finite, so when the late read shows it, the step counter, Adam's iteration count and the batch
   * sampler are put back to where {@link step} would leave them, and this throws TrainingDivergedError
   * for that step with the weights of the last good step.
   *
   * On wasm and cpu this gives {@link step}'s losses up to float rounding (clip / norm is divided in
   * float32 on the device, in float64 on the host), which is why {@link step} keeps the synchronous read
   * there: its digits are the reference runs' digits.
   */
  async stepOnDevice(): Promise<StepResult | null> {
    const t0 = performance.now();
    const before: DeviceStepState = {
      ...this.sampler.state(),
      iterations: adamInternals(this.optimizer).iterations_ ?? 0,
    };
    const { loss, grads } = this.batchLossAndGrads();
    this.deviceOk ??= tf.variable(tf.scalar(true, 'bool'), false);
    const { clipNorm } = this.config.train;
    const norm = applyOnDevice(this.optimizer, this.model.variables, grads, loss, clipNorm, this.deviceOk);
    this.steps++;
    const averaging = this.average.due(this.steps);
    // The weights after this update, in PyTorch layout, held on the device until the read says the step
    // was good (tf.clone shares the buffer: later updates assign new ones).
    const weights = averaging
      ? this.model.variables.map((v, k) =>
          this.model.weightShapes[k].name === 'image.weight' ? v.transpose() : v.clone(),
        )
      : undefined;
    const step: PendingDeviceStep = {
      step: this.steps,
      epoch: this.epochsDone,
      t0,
      before,
      tensors: [loss, norm],
      read: Promise.all([loss.data(), norm.data()]),
      weights,
    };
    const previous = this.pending;
    this.pending = step;
    return previous ? this.settleDeviceStep(previous) : null;
  }

  /**
   * Whether steps go through {@link stepOnDevice} (the training driver asks): on WebGPU, where a
   * synchronous read stalls the queue; wasm and cpu keep {@link step}'s synchronous path and digits.
   */
  get stepsOnDevice(): boolean {
    return tf.getBackend() === 'webgpu';
  }

  /** The result of the last {@link stepOnDevice} not yet returned (null: none); throws on divergence. */
  async flushDeviceStep(): Promise<StepResult | null> {
    return this.pending ? this.settleDeviceStep(this.pending) : null;
  }

  /** A device step's result is still to be read (call {@link flushDeviceStep} before a checkpoint). */
  get deviceStepPending(): boolean {
    return this.pending !== null;
  }

  /** Awaits the read of `p`, the oldest pending device step; on a non-finite value, rolls back and throws. */
  private async settleDeviceStep(p: PendingDeviceStep): Promise<StepResult> {
    const [lossV, normV] = await p.read;
    tf.dispose(p.tensors);
    const loss = lossV[0];
    const gradNorm = normV[0];
    if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
      // p's update and every later one were no-ops on the device; the host state goes back to just
      // after p's batch was drawn, as step() leaves it.
      const later = this.pending !== p ? this.pending : null;
      if (later) {
        dropDeviceStep(later);
        this.sampler.restore(later.before);
      }
      tf.dispose(p.weights ?? []);
      adamInternals(this.optimizer).iterations_ = p.before.iterations;
      this.steps = p.step - 1;
      this.pending = null;
      tf.tidy(() => this.deviceOk?.assign(tf.scalar(true, 'bool')));
      throw new TrainingDivergedError(p.step, loss, gradNorm);
    }
    if (this.pending === p) this.pending = null;
    // Results overlap in time (one is read while the next runs): each counts from the previous one, so
    // that the ms of consecutive steps add up to the wall-clock time.
    const now = performance.now();
    const ms = now - Math.max(p.t0, this.lastDeviceResultAt);
    this.lastDeviceResultAt = now;
    if (p.weights) {
      const data = await Promise.all(p.weights.map((w) => w.data() as Promise<Float32Array>));
      tf.dispose(p.weights);
      this.average.add(this.model.weightShapes.map(({ name, shape }, k) => ({ name, shape, data: data[k] })));
    }
    return { step: p.step, epoch: p.epoch, loss, gradNorm, ms };
  }

  /**
   * Everything the next steps depend on, as plain data (./training/state.ts): the weights, Adam's
   * moments and bias-correction powers, the batch sampler's position and generators, the step and epoch
   * counters and the running mean of the weights. A trainer built with the same dataset and
   * configuration and given this by {@link restore} takes the very steps this one would have taken, to
   * the last digit. (A distillation teacher is not included: set it again before restoring.)
   */
  checkpoint(): TrainerCheckpoint {
    this.checkpointable();
    return takeCheckpoint(this.parts, this.steps, this.sampler.state());
  }

  /**
   * The same checkpoint, taken now at no copying cost and read later (./training/state.ts,
   * readCheckpointTensors): the tensors stay held on the backend while the trainer steps on, so that a
   * big model's copy need not block training. Release it (releaseCheckpoint) if it is not read.
   */
  holdCheckpoint(): HeldCheckpoint {
    this.checkpointable();
    return holdCheckpoint(this.parts, this.steps, this.sampler.state());
  }

  private checkpointable(): void {
    if (this.pending)
      throw new Error(
        `checkpoint: step ${this.pending.step} is still being read from the device (await flushDeviceStep() first)`,
      );
  }

  /**
   * Continues from a {@link checkpoint} of a trainer with the same dataset and configuration (checked:
   * a mismatch throws naming it). Call on a fresh trainer, before any step.
   */
  restore(cp: TrainerCheckpoint): void {
    if (this.steps)
      throw new Error(`checkpoint: restore into a fresh trainer (${this.steps} steps done here)`);
    const { steps, sampler } = restoreCheckpoint(this.parts, cp);
    this.steps = steps;
    this.sampler.restore(sampler);
  }

  /** The parts a checkpoint is taken from and restored into. */
  private get parts(): TrainerParts {
    const { config, dataset, model, optimizer, average } = this;
    return { config, dataset, vocabSize: this.vocab.size, model, optimizer, average };
  }

  /** Steps whose weights the running mean holds (0 before averageFromStep, or without averaging). */
  get averagedSteps(): number {
    return this.average.count;
  }

  /**
   * Runs `fn` with the averaged weights in the model (e.g. an evaluation), then puts the trained weights
   * back, so that training goes on unchanged. Throws when no step has been averaged yet.
   */
  withAveragedWeights<T>(fn: () => T): T {
    return this.average.withMean(this.model, this.steps, fn);
  }

  /**
   * Makes the averaged weights the model's (at the end of training, before export) and stops averaging
   * (the exported config keeps averageFromStep as the record). Throws when no step has been averaged.
   */
  applyAveragedWeights(): void {
    this.average.apply(this.model, this.steps);
  }

  /**
   * Retrieval metrics on a split: image -> caption (rank of the image's best caption) and caption ->
   * image, R@1/5/10, median and mean rank, R-sum.
   */
  evaluate(split: 'dev' | 'train' | 'test' = 'dev', opts: EvaluateOptions = {}): EvalMetrics {
    return evaluateSplit(this.evalSource, split, opts);
  }

  /**
   * {@link evaluate} in chunks, awaiting `control.between()` after each (./evaluate.ts), so that a
   * worker stays responsive during a long evaluation; the same metrics. Rejects when `control.signal`
   * aborts. Do not step the trainer while it runs: the weights must stay those being evaluated.
   */
  evaluateAsync(
    split: 'dev' | 'train' | 'test',
    opts: EvaluateOptions,
    control: ChunkControl,
  ): Promise<EvalMetrics> {
    return evaluateSplitAsync(this.evalSource, split, opts, control);
  }

  /** Score matrix of images x captions of those images, and caption -> image index. */
  scoreImages(images: number[]): ScoredImages {
    return scoreImages(this.evalSource, images);
  }

  /** Joint-space embeddings of dataset images [n, H]. */
  embedImages(images: number[], batch?: number): tf.Tensor2D {
    return embedDatasetImages(this.model, this.dataset, images, batch);
  }

  /** Joint-space embeddings of dataset captions [n, H] (unknown words map to the unknown-word id). */
  embedCaptions(captionIndex: number[], batch?: number): tf.Tensor2D {
    return embedSequences(
      this.model,
      captionIndex.map((k) => this.captionIds(k)),
      batch,
    );
  }

  /**
   * Joint-space embeddings of free texts (search queries, user captions) [n, H]. A text that is empty or
   * has no word of the vocabulary cannot be placed and is rejected, naming it.
   */
  embedTexts(texts: string[]): tf.Tensor2D {
    const seqs = texts.map((text, k) => {
      const ids = this.codec.encodeCaption(text, k);
      if (!hasKnownWord(ids)) {
        throw new Error(
          `text ${k} (${JSON.stringify(text)}) has no word of the vocabulary (${this.vocab.size} words from the training captions)`,
        );
      }
      return ids;
    });
    const b = padTimeMajor(seqs); // ids [T, n]
    return this.model.embedCaptions(b.ids, b.lengths);
  }

  dispose(): void {
    if (this.pending) dropDeviceStep(this.pending);
    this.pending = null;
    this.deviceOk?.dispose();
    this.model.dispose();
    this.optimizer.dispose();
  }

  /** The model, the dataset and its caption encoding, for ./evaluate.ts. */
  private get evalSource(): EvalSource {
    return { model: this.model, dataset: this.dataset, captionIds: (k) => this.captionIds(k) };
  }

  /** Word ids of caption k: the training encoding, or (no known word) all unknown-word ids. */
  private captionIds(k: number): Int32Array {
    return this.captions.encoded[k] ?? this.codec.encodeCaption(this.dataset.captions[k].text, k);
  }
}
