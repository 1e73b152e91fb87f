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
 * - ./training/batch.ts: a batch's loss and gradients, as a pass that stepAsync can stop within.
 * - ./training/update.ts: Adam (lr 1e-3 by default, scheduled by ./driver.ts `learningRateAt`),
 *   gradients clipped to a global norm (2 by default), on the host or wholly on the device (WebGPU).
 *   The loss may switch to max-violation at one step (VSE++ warm-up).
 * - ./training/device-step.ts: the WebGPU steps (`stepOnDevice`), their results read one step behind.
 * - ./training/init.ts: random init, pretrained word vectors for the word embedding
 *   (`initWordVectors`), or another run's weights (`initFrom`, fine-tuning).
 * - ./training/averaging.ts: optionally the running mean of the weights from one step on
 *   (`averageFromStep`, Polyak averaging).
 * - ./training/state.ts: the whole state as a checkpoint and back (`checkpoint`, `restore`).
 * - ./training/step-control.ts: a step's errors (divergence, abandonment) and stepAsync's control.
 * - Optionally distillation from an ensemble of trained models (`distillFrom`, ./distill.ts).
 * - ./training/evaluation.ts: evaluation and embeddings through ./evaluate.ts (the base class,
 *   DatasetModel, whose methods `evaluate`, `embedTexts`, ... are the Trainer's).
 */
import * as tf from './tf';
import { OrderEmbeddingModel } from './model';
import { DEFAULTS } from './defaults';
import { learningRateAt } from './driver';
import type { TrainedModel } from './evaluate';
import { Rng } from './rng';
import { runToEnd, type Pass } from './ops';
import type { Vocabulary } from './tokenizer';
import type { Dataset, ModelConfig, StepResult, TrainConfig } from './types';
import type { WordVectors } from './word-vectors';
import { EnsembleTeacher, type Teacher } from './distill';
import { checkRunSize } from './limits';
import type { TrainerCheckpoint } from './checkpoint';
import { CaptionCodec } from './caption-codec';
import { checkDistill, checkTrainConfig, validateDataset } from './training/validate';
import { encodeTrainingCaptions, trainingVocabulary, type TrainingCaptions } from './training/captions';
import { BatchSampler, type Batch } from './training/sampler';
import { batchLossAndGradsPass, type LossAndGrads } from './training/batch';
import { DeviceSteps } from './training/device-step';
import { DatasetModel } from './training/evaluation';
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
  runInSlices,
  type StepControl,
} from './training/step-control';
import { applyOnHost } from './training/update';

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

export class Trainer extends DatasetModel {
  readonly config: { model: ModelConfig; train: TrainConfig };
  override readonly vocab: Vocabulary;
  /** How this model reads text (the vocabulary, cut to train.maxLength); saved with its run. */
  override readonly codec: CaptionCodec;
  override readonly model: OrderEmbeddingModel;
  /** Training captions dropped because none of their words is in the vocabulary. */
  readonly droppedCaptions: { index: number; text: string }[];
  /** The dataset trained on (its name goes into exported runs). */
  override readonly dataset: Dataset;
  private readonly optimizer: tf.AdamOptimizer;
  protected override readonly captions: TrainingCaptions;
  private readonly sampler: BatchSampler;
  /** averageFromStep: the mean of the weights after steps averageFromStep..steps. */
  private readonly average: WeightAverage;
  private steps = 0;
  private teacher?: Teacher;
  /** stepOnDevice: the step still being read, and the device's divergence flag. */
  private readonly device: DeviceSteps;

  constructor(dataset: Dataset, model: Partial<ModelConfig> = {}, train: Partial<TrainConfig> = {}) {
    super();
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
    // Device steps move the step counter on, and set it back when a late read shows divergence.
    const steps = { get: () => this.steps, set: (n: number) => (this.steps = n) };
    const lossAndGrads = () => this.batchLossAndGrads();
    this.device = new DeviceSteps({ ...this.parts, sampler: this.sampler, lossAndGrads, steps });
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
   * {@link batchLossAndGrads} as a pass (./training/batch.ts) that yields within the GRU's forward and
   * backward passes ({@link stepAsync}). Until it ends the trainer reads as before the step: the batch
   * sampler is put back right after the batch is drawn and moved on only when the pass completes, so a
   * checkpoint taken while it waits, or the pass abandoned, leaves the next step drawing this very batch.
   */
  private *batchLossAndGradsPass(blockMacs?: number): Pass<LossAndGrads> {
    const { dataset, captions, sampler, model, teacher, steps, maxViolation } = this;
    const train = this.config.train;
    const nextBatch = () => this.nextBatch();
    const parts = { dataset, captions, sampler, model, train, teacher, steps, maxViolation, nextBatch };
    const out = yield* batchLossAndGradsPass(parts, blockMacs);
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
    const pass = this.batchLossAndGradsPass(control.blockMacs ?? STEP_BLOCK_MACS);
    const finish = (lossAndGrads: LossAndGrads, waited: number) => this.applyStep(lossAndGrads, t0, waited);
    return runInSlices(pass, control, t0, () => this.steps + 1, finish);
  }

  /**
   * The end of a step once its loss and gradients are there: the loss read back, the divergence check,
   * the clipped update (./training/update.ts), the counters and the running mean. Nothing here yields,
   * so a step is applied whole or not at all. Its `ms` counts from `t0`, less the `waited` turns of the
   * event loop (stepAsync).
   */
  private applyStep(lossAndGrads: LossAndGrads, t0: number, waited = 0): StepResult {
    const { clipNorm } = this.config.train;
    const { loss, gradNorm } = applyOnHost(this.optimizer, lossAndGrads, clipNorm, this.steps + 1);
    this.steps++;
    if (this.average.due(this.steps)) this.average.add(this.model.getWeights());
    const ms = performance.now() - t0 - waited;
    return { step: this.steps, epoch: this.epochsDone, loss, gradNorm, ms };
  }

  /**
   * One optimisation step that never waits for the device: the path for WebGPU, where a synchronous read
   * stalls the queue. The update is applied on the device and the loss and gradient norm are read one
   * step behind (./training/device-step.ts): this call enqueues step N and resolves to step N - 1's
   * result (null on the first call); {@link flushDeviceStep} reads the last one. A step whose loss or
   * norm is not finite is rolled back to where {@link step} would leave it and throws
   * TrainingDivergedError. On wasm and cpu it gives {@link step}'s losses up to float rounding.
   */
  stepOnDevice(): Promise<StepResult | null> {
    return this.device.step();
  }

  /**
   * Whether steps go through {@link stepOnDevice} (the training driver asks): on WebGPU, where a
   * synchronous read stalls the queue; wasm and cpu keep {@link step}'s synchronous path and digits.
   */
  get stepsOnDevice(): boolean {
    return tf.getBackend() === 'webgpu';
  }

  /** The result of the last {@link stepOnDevice} not yet returned (null: none); throws on divergence. */
  flushDeviceStep(): Promise<StepResult | null> {
    return this.device.flush();
  }

  /** A device step's result is still to be read (call {@link flushDeviceStep} before a checkpoint). */
  get deviceStepPending(): boolean {
    return this.device.isPending;
  }

  /**
   * Everything the next steps depend on, as plain data (./training/state.ts): the weights, Adam's
   * moments and bias-correction powers, the batch sampler's position and generators, the step and epoch
   * counters and the running mean of the weights. A trainer built with the same dataset and
   * configuration and given this by {@link restore} takes the very steps this one would have taken, to
   * the last digit. (A distillation teacher is not included: set it again before restoring.)
   */
  checkpoint(): TrainerCheckpoint {
    this.device.checkSettled();
    return takeCheckpoint(this.parts, this.steps, this.sampler.state());
  }

  /**
   * The same checkpoint, taken now at no copying cost and read later (./training/state.ts,
   * readCheckpointTensors): the tensors stay held on the backend while the trainer steps on, so that a
   * big model's copy need not block training. Release it (releaseCheckpoint) if it is not read.
   */
  holdCheckpoint(): HeldCheckpoint {
    this.device.checkSettled();
    return holdCheckpoint(this.parts, this.steps, this.sampler.state());
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

  dispose(): void {
    this.device.dispose();
    this.model.dispose();
    this.optimizer.dispose();
  }
}
