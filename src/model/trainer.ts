/**
 * Training and evaluation of the order-embedding model on a captioned-image dataset, the same in the
 * browser's worker, in Node's headless trainer and in tests.
 *
 * - Vocabulary from the training captions only (minimum count, unknown-word id).
 * - sampling 'image' (default): each epoch visits every training image once, in a shuffled order, with
 *   one of its captions drawn at random; batches of `batchSize` such pairs. sampling 'caption': each epoch
 *   visits every training caption once, batches hold captions of nearly equal length (less padding), in
 *   a shuffled batch order. A batch never holds the same image twice. Deterministic given the seed.
 * - Adam (lr 1e-3 by default, optionally dropped by a factor at one step), gradients clipped to a global
 *   norm (2 by default). The loss may switch to max-violation at one step (VSE++ warm-up).
 * - Random init, pretrained word vectors for the word embedding (`initWordVectors`), or another run's
 *   weights (`initFrom`, fine-tuning).
 * - Optionally the running mean of the weights from one step on (`averageFromStep`, Polyak averaging).
 * - Optionally distillation from an ensemble of trained models (`distillFrom`, ./distill.ts).
 */
import * as tf from './tf';
import { OrderEmbeddingModel } from './model';
import { DEFAULTS, trainOptionEntries, trainOptionProblem } from './defaults';
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
import { padTimeMajor, Vocabulary } from './tokenizer';
import type { Dataset, EvalMetrics, ModelConfig, StepResult, TrainConfig } from './types';
import type { NamedWeight } from './model';
import { pretrainedEmbedding, type WordVectors } from './word-vectors';
import { EnsembleTeacher, type Teacher } from './distill';
import { checkRunSize } from './limits';
import { CHECKPOINT_FORMAT, type TrainerCheckpoint } from './checkpoint';
import { CaptionCodec, hasKnownWord } from './caption-codec';

/** What a run is trained with when not told otherwise: the paper's (./defaults.ts). */
export const DEFAULT_TRAIN: TrainConfig = { ...DEFAULTS.paper.train };

export const DEFAULT_MODEL: Omit<ModelConfig, 'vocabSize' | 'imageDim' | 'margin'> = {
  ...DEFAULTS.paper.model,
  maxViolation: DEFAULTS.loss.maxViolation,
};

/** Throws a clear message for a dataset the model cannot train on. */
export function validateDataset(ds: Dataset): void {
  const { numImages, imageDim, features } = ds;
  if (!(numImages > 0 && imageDim > 0))
    throw new Error(`dataset '${ds.name}': needs images, got ${numImages} of size ${imageDim}`);
  if (features.length !== numImages * imageDim) {
    throw new Error(
      `dataset '${ds.name}': features hold ${features.length} numbers, expected ${numImages} x ${imageDim}`,
    );
  }
  for (let i = 0; i < features.length; i++) {
    if (!Number.isFinite(features[i])) {
      const img = Math.floor(i / imageDim);
      throw new Error(
        `dataset '${ds.name}': image ${img} has a non-finite feature (${features[i]}) at index ${i % imageDim}`,
      );
    }
  }
  ds.captions.forEach((c, k) => {
    if (!(Number.isInteger(c.image) && c.image >= 0 && c.image < numImages)) {
      throw new Error(
        `dataset '${ds.name}': caption ${k} points at image ${c.image}, expected 0..${numImages - 1}`,
      );
    }
  });
  if (!ds.splits.train?.length) throw new Error(`dataset '${ds.name}': has no training split`);
}

export type { EvaluateOptions } from './evaluate';

export class Trainer {
  readonly config: { model: ModelConfig; train: TrainConfig };
  readonly vocab: Vocabulary;
  /** How this model reads text (the vocabulary, cut to train.maxLength); saved with its run. */
  readonly codec: CaptionCodec;
  readonly model: OrderEmbeddingModel;
  /** Training captions dropped because none of their words is in the vocabulary. */
  readonly droppedCaptions: { index: number; text: string }[] = [];
  /** The dataset trained on (its name goes into exported runs). */
  readonly dataset: Dataset;
  private readonly optimizer: tf.AdamOptimizer;
  private readonly rng: Rng;
  private readonly viewRng: Rng;
  /** Encoded caption ids of every caption (null when it cannot be encoded for training). */
  private readonly encoded: (Int32Array | null)[];
  /** Training images with at least one usable caption, and those captions. */
  private readonly trainCaptions = new Map<number, number[]>();
  private order: number[] = [];
  private cursor = 0;
  /** sampling 'caption': this epoch's batches (caption indices), and the next one to use. */
  private captionBatches: number[][] = [];
  private batchCursor = 0;
  private steps = 0;
  private epochs = 0;
  /** averageFromStep: the mean of the weights after steps averageFromStep..steps, and how many. */
  private average?: { count: number; weights: NamedWeight[] };
  private averageApplied = false;
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
    if (t.dropout !== undefined && !(t.dropout >= 0 && t.dropout < 1))
      throw new Error(`train config: dropout must be in [0, 1), got ${t.dropout}`);
    for (const [k, o] of trainOptionEntries()) {
      const v = t[k];
      const problem = v === undefined ? null : trainOptionProblem(o, v);
      if (problem) throw new Error(`train config: ${k} must be ${problem}, got ${v}`);
    }
    const avg = t.averageFromStep;
    if (avg !== undefined && !(Number.isInteger(avg) && avg >= 0))
      throw new Error(`train config: averageFromStep must be a step number (0: none), got ${avg}`);
    if (t.augment) {
      const views = dataset.featureViews ?? [];
      if (!views.length)
        throw new Error(
          `train config: augment needs other views of the features, dataset '${dataset.name}' has none`,
        );
      views.forEach((v, k) => {
        if (v.length !== dataset.features.length)
          throw new Error(
            `dataset '${dataset.name}': feature view ${k} holds ${v.length} numbers, expected ${dataset.features.length}`,
          );
      });
    }
    const trainSet = new Set(dataset.splits.train);
    const trainTexts = dataset.captions.filter((c) => trainSet.has(c.image)).map((c) => c.text);
    this.vocab = Vocabulary.build(trainTexts, { minCount: t.minWordCount });
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
    // Empty captions are an error (named); captions without a known word are dropped from training.
    this.encoded = dataset.captions.map((c, k) => {
      const ids = this.encodeText(c.text, k);
      return hasKnownWord(ids) ? ids : null;
    });
    dataset.captions.forEach((c, k) => {
      if (!trainSet.has(c.image)) return;
      if (!this.encoded[k]) {
        this.droppedCaptions.push({ index: k, text: c.text });
        return;
      }
      const list = this.trainCaptions.get(c.image) ?? [];
      list.push(k);
      this.trainCaptions.set(c.image, list);
    });
    if (this.trainCaptions.size < 2) {
      throw new Error(
        `dataset '${dataset.name}': needs at least 2 training images with a usable caption, got ${this.trainCaptions.size}`,
      );
    }
    this.rng = new Rng(t.seed);
    // Its own generator, so that a run with augmentation sees the same batches as one without.
    this.viewRng = new Rng(t.seed + 0x9e37);
    this.model = new OrderEmbeddingModel(m, this.rng.seed());
    this.optimizer = tf.train.adam(t.learningRate);
  }

  /** Optimisation steps done so far. */
  get stepsDone(): number {
    return this.steps;
  }

  /** Optimisation steps in one epoch (one pass over the training images or captions). */
  get stepsPerEpoch(): number {
    const B = Math.min(this.config.train.batchSize, this.trainCaptions.size);
    if (this.config.train.sampling === 'image') return Math.ceil(this.trainCaptions.size / B);
    let n = 0;
    for (const list of this.trainCaptions.values()) n += list.length;
    return Math.ceil(n / B);
  }

  /**
   * Steps that make `epochs` passes. With sampling 'image' batches run on across epoch boundaries, so
   * this is ceil(epochs x images / B); with 'caption' each epoch has its own batches.
   */
  stepsForEpochs(epochs: number): number {
    if (this.config.train.sampling === 'caption') return epochs * this.stepsPerEpoch;
    const B = Math.min(this.config.train.batchSize, this.trainCaptions.size);
    return Math.ceil((epochs * this.trainCaptions.size) / B);
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
  initFrom(
    run: { model: ModelConfig; vocab: Vocabulary; weights: readonly NamedWeight[] },
    label: string,
  ): void {
    const mine = this.config.model;
    for (const key of ['wordDim', 'hiddenDim', 'imageDim', 'layerNorm', 'measure'] as const) {
      if (run.model[key] !== mine[key])
        throw new Error(
          `${label}: model ${key} is ${String(run.model[key])}, this run's is ${String(mine[key])}`,
        );
    }
    const theirs = run.vocab.toJSON().tokens;
    const ours = this.vocab.toJSON().tokens;
    const at = ours.findIndex((w, i) => theirs[i] !== w);
    if (theirs.length !== ours.length || at >= 0) {
      throw new Error(
        `${label}: model file from another vocabulary (${theirs.length} words against ${ours.length} from ` +
          `these training captions` +
          (at >= 0
            ? `; word ${at} is ${JSON.stringify(theirs[at])}, here ${JSON.stringify(ours[at])})`
            : ')'),
      );
    }
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
    const tokens = this.vocab.toJSON().tokens;
    const { wordDim } = this.config.model;
    const base = this.model.wordEmbedding.dataSync() as Float32Array;
    const { data, found } = pretrainedEmbedding(
      tokens,
      vectors,
      base,
      wordDim,
      this.config.train.seed + 0x51,
    );
    tf.tidy(() => this.model.wordEmbedding.assign(tf.tensor2d(data, [tokens.length, wordDim])));
    this.config.train.wordVectors = vectors.name;
    return { found, total: tokens.length - 2 };
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
    return { images: [...this.trainCaptions.keys()], captions: [...this.trainCaptions.values()].flat() };
  }

  /** Distillation from a teacher built already (e.g. shared by several students); see distillFrom. */
  setTeacher(teacher: Teacher, opts: { weight: number; temperature: number }): void {
    checkDistill(opts);
    this.teacher = teacher;
    this.config.train.distill = { teachers: [...teacher.labels], ...opts };
  }

  /** Completed passes over the training images (or captions, with sampling 'caption'). */
  get epochsDone(): number {
    return this.epochs;
  }

  /**
   * The next batch's loss (left on the device: a scalar tensor) and gradients, with the learning rate
   * of its update set.
   */
  private batchLossAndGrads(): { loss: tf.Scalar; grads: Record<string, tf.Tensor> } {
    return runToEnd(this.batchLossAndGradsPass());
  }

  /**
   * {@link batchLossAndGrads} as a pass (./ops.ts) that yields within the GRU's forward and backward
   * passes ({@link stepAsync}). Until it ends the trainer reads as before the step: the batch sampler is
   * put back right after the batch is drawn and moved on only when the pass completes, so a checkpoint
   * taken while it waits, or the pass abandoned, leaves the next step drawing this very batch.
   */
  private *batchLossAndGradsPass(
    blockMacs?: number,
  ): Pass<{ loss: tf.Scalar; grads: Record<string, tf.Tensor> }> {
    const before = this.samplerState();
    const { images, captions } = this.nextBatch();
    const batch = padTimeMajor(captions.map((k) => this.encoded[k]!));
    const features = gatherFeatures(this.dataset, images, this.augmentViews(images.length));
    const after = this.samplerState();
    this.restoreSampler(before);
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
    let out: { loss: tf.Scalar; grads: Record<string, tf.Tensor> };
    try {
      out = yield* pass;
    } finally {
      features.dispose();
      teacherScores?.dispose();
    }
    this.restoreSampler(after);
    // Adam reads its (protected) learningRate at every update, so the decay needs no new optimizer and
    // keeps the moment estimates.
    (this.optimizer as unknown as { learningRate: number }).learningRate = this.learningRate;
    return out;
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
  private applyStep(
    { loss: lossT, grads }: { loss: tf.Scalar; grads: Record<string, tf.Tensor> },
    t0: number,
  ): StepResult {
    const loss = lossT.dataSync()[0];
    lossT.dispose();
    const gradNorm = this.gradientNorm(grads);
    // Divergence stops the run before the update: the weights and Adam's moments stay those of the last
    // good step (a checkpoint taken now resumes from there).
    if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
      tf.dispose(Object.values(grads));
      throw new TrainingDivergedError(this.steps + 1, loss, gradNorm);
    }
    this.clipAndApply(grads, gradNorm);
    this.steps++;
    const from = this.config.train.averageFromStep;
    if (from && this.steps >= from && !this.averageApplied) this.accumulateAverage();
    return { step: this.steps, epoch: this.epochs, loss, gradNorm, ms: performance.now() - t0 };
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
    const adam = this.optimizer as unknown as AdamInternals;
    const before: DeviceStepState = {
      ...this.samplerState(),
      iterations: adam.iterations_ ?? 0,
    };
    const { loss, grads } = this.batchLossAndGrads();
    const norm = this.applyOnDevice(grads, loss);
    this.steps++;
    const from = this.config.train.averageFromStep;
    const averaging = Boolean(from && this.steps >= from && !this.averageApplied);
    // The weights after this update, in PyTorch layout, held on the device until the read says the step
    // was good (tf.clone shares the buffer: later updates assign new ones).
    const weights = averaging
      ? this.model.variables.map((v, k) =>
          this.model.weightShapes[k].name === 'image.weight' ? v.transpose() : v.clone(),
        )
      : undefined;
    const step: PendingDeviceStep = {
      step: this.steps,
      epoch: this.epochs,
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
        this.restoreSampler(later.before);
      }
      tf.dispose(p.weights ?? []);
      (this.optimizer as unknown as AdamInternals).iterations_ = p.before.iterations;
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
      this.accumulateAverage(
        this.model.weightShapes.map(({ name, shape }, k) => ({ name, shape, data: data[k] })),
      );
    }
    return { step: p.step, epoch: p.epoch, loss, gradNorm, ms };
  }

  /** Where the batch sampler stands (its arrays are replaced, never changed in place, when it moves on). */
  private samplerState(): SamplerState {
    return {
      rng: this.rng.getState(),
      viewRng: this.viewRng.getState(),
      order: this.order,
      cursor: this.cursor,
      captionBatches: this.captionBatches,
      batchCursor: this.batchCursor,
      epochs: this.epochs,
    };
  }

  private restoreSampler(s: SamplerState): void {
    this.rng.setState(s.rng);
    this.viewRng.setState(s.viewRng);
    this.order = s.order;
    this.cursor = s.cursor;
    this.captionBatches = s.captionBatches;
    this.batchCursor = s.batchCursor;
    this.epochs = s.epochs;
  }

  /**
   * Everything the next steps depend on, as plain data: the weights, Adam's moments and bias-correction
   * powers, the batch sampler's position and generators, the step and epoch counters and the running
   * mean of the weights. A trainer built with the same dataset and configuration and given this by
   * {@link restore} takes the very steps this one would have taken, to the last digit. (A distillation
   * teacher is not included: set it again before restoring.)
   */
  checkpoint(): TrainerCheckpoint {
    if (this.pending)
      throw new Error(
        `checkpoint: step ${this.pending.step} is still being read from the device (await flushDeviceStep() first)`,
      );
    const adam = this.optimizer as unknown as AdamInternals;
    const roles = this.variableRoles();
    const tensor = (name: string, v: tf.Tensor) => ({
      name,
      shape: [...v.shape],
      data: new Float32Array(v.dataSync()),
    });
    const moments = (list: AdamInternals['accumulatedFirstMoment'], kind: 'm' | 'v') =>
      list.map((s) =>
        tensor(`adam.${kind}.${roles.get(s.originalName.slice(0, -2)) ?? s.originalName}`, s.variable),
      );
    const order = adam.accumulatedFirstMoment.map((s) => roles.get(s.originalName.slice(0, -2)) ?? '');
    return {
      format: CHECKPOINT_FORMAT,
      version: 1,
      model: { ...this.config.model },
      train: structuredClone(this.config.train),
      dataset: this.dataset.name,
      numImages: this.dataset.numImages,
      vocabSize: this.vocab.size,
      steps: this.steps,
      epochs: this.epochs,
      rng: this.rng.getState(),
      viewRng: this.viewRng.getState(),
      order: [...this.order],
      cursor: this.cursor,
      captionBatches: this.captionBatches.map((b) => [...b]),
      batchCursor: this.batchCursor,
      adam: {
        iterations: adam.iterations_ ?? 0,
        beta1Power: adam.accBeta1.dataSync()[0],
        beta2Power: adam.accBeta2.dataSync()[0],
        order,
      },
      averageCount: this.average?.count ?? 0,
      averageApplied: this.averageApplied,
      // The variables as they are (image.weight [F, H], not the export's torch layout).
      tensors: [
        ...this.model.variables.map((v, k) => tensor(`weight.${this.model.weightShapes[k].name}`, v)),
        ...moments(adam.accumulatedFirstMoment, 'm'),
        ...moments(adam.accumulatedSecondMoment, 'v'),
        ...(this.average?.weights.map((w) => ({ ...w, name: `average.${w.name}`, data: w.data.slice() })) ??
          []),
      ],
    };
  }

  /**
   * Continues from a {@link checkpoint} of a trainer with the same dataset and configuration (checked:
   * a mismatch throws naming it). Call on a fresh trainer, before any step.
   */
  restore(cp: TrainerCheckpoint): void {
    if (this.steps)
      throw new Error(`checkpoint: restore into a fresh trainer (${this.steps} steps done here)`);
    const mine = { model: this.config.model, train: this.config.train };
    for (const part of ['model', 'train'] as const) {
      const a = cp[part] as unknown as Record<string, unknown>;
      const b = mine[part] as unknown as Record<string, unknown>;
      for (const k of new Set([...Object.keys(a), ...Object.keys(b)]))
        if (JSON.stringify(a[k]) !== JSON.stringify(b[k]))
          throw new Error(
            `checkpoint: ${part}.${k} is ${JSON.stringify(a[k])}, this trainer's is ${JSON.stringify(b[k])}`,
          );
    }
    if (
      cp.dataset !== this.dataset.name ||
      cp.numImages !== this.dataset.numImages ||
      cp.vocabSize !== this.vocab.size
    )
      throw new Error(
        `checkpoint: trained on '${cp.dataset}' (${cp.numImages} images, vocabulary ${cp.vocabSize}), ` +
          `this trainer has '${this.dataset.name}' (${this.dataset.numImages} images, vocabulary ${this.vocab.size})`,
      );
    const byName = new Map(cp.tensors.map((t) => [t.name, t]));
    const need = (name: string, shape: readonly number[]) => {
      const t = byName.get(name);
      if (!t) throw new Error(`checkpoint: missing tensor '${name}'`);
      if (t.shape.join() !== shape.join() || t.data.length !== shape.reduce((a, b) => a * b, 1))
        throw new Error(`checkpoint: tensor '${name}' has shape [${t.shape}], expected [${shape}]`);
      return t;
    };
    const vars = this.model.variables;
    const names = this.model.weightShapes.map((w) => w.name);
    const weights = vars.map((v, k) => need(`weight.${names[k]}`, v.shape));
    const roleVar = new Map(names.map((n, k) => [n, vars[k]]));
    const moments = (kind: 'm' | 'v') =>
      cp.adam.order.map((role) => {
        const v = roleVar.get(role);
        if (!v) throw new Error(`checkpoint: Adam moment of unknown weight '${role}'`);
        return { v, t: need(`adam.${kind}.${role}`, v.shape) };
      });
    const first = moments('m');
    const second = moments('v');
    const average = cp.averageCount
      ? this.model.weightShapes.map(({ name, shape }) => ({ ...need(`average.${name}`, shape), name }))
      : undefined;
    // Everything checked: now change the trainer.
    vars.forEach((v, k) => tf.tidy(() => v.assign(tf.tensor(weights[k].data, v.shape, 'float32'))));
    const adam = this.optimizer as unknown as AdamInternals;
    tf.dispose([...adam.accumulatedFirstMoment, ...adam.accumulatedSecondMoment].map((s) => s.variable));
    const slot = (list: typeof first, kind: 'm' | 'v') =>
      list.map(({ v, t }) => ({
        originalName: `${v.name}/${kind}`,
        variable: tf.tidy(() => tf.tensor(t.data, v.shape, 'float32').variable(false)),
      }));
    adam.accumulatedFirstMoment = slot(first, 'm');
    adam.accumulatedSecondMoment = slot(second, 'v');
    tf.tidy(() => {
      adam.accBeta1.assign(tf.scalar(cp.adam.beta1Power));
      adam.accBeta2.assign(tf.scalar(cp.adam.beta2Power));
    });
    adam.iterations_ = cp.adam.iterations;
    this.steps = cp.steps;
    this.epochs = cp.epochs;
    this.rng.setState(cp.rng);
    this.viewRng.setState(cp.viewRng);
    this.order = [...cp.order];
    this.cursor = cp.cursor;
    this.captionBatches = cp.captionBatches.map((b) => [...b]);
    this.batchCursor = cp.batchCursor;
    this.average = average
      ? {
          count: cp.averageCount,
          weights: average.map((w) => ({ name: w.name, shape: [...w.shape], data: w.data.slice() })),
        }
      : undefined;
    this.averageApplied = cp.averageApplied;
  }

  /** tf.Variable name -> the weight name (word_embedding, gru.weight_ih, ...) of each model variable. */
  private variableRoles(): Map<string, string> {
    const names = this.model.weightShapes.map((w) => w.name);
    return new Map(this.model.variables.map((v, k) => [v.name, names[k]]));
  }

  /** Steps whose weights the running mean holds (0 before averageFromStep, or without averaging). */
  get averagedSteps(): number {
    return this.average?.count ?? 0;
  }

  /**
   * Runs `fn` with the averaged weights in the model (e.g. an evaluation), then puts the trained weights
   * back, so that training goes on unchanged. Throws when no step has been averaged yet.
   */
  withAveragedWeights<T>(fn: () => T): T {
    const average = this.requireAverage();
    const trained = this.model.getWeights();
    this.model.setWeights(average.weights);
    try {
      return fn();
    } finally {
      this.model.setWeights(trained);
    }
  }

  /**
   * Makes the averaged weights the model's (at the end of training, before export) and stops averaging
   * (the exported config keeps averageFromStep as the record). Throws when no step has been averaged.
   */
  applyAveragedWeights(): void {
    this.model.setWeights(this.requireAverage().weights);
    this.average = undefined;
    this.averageApplied = true;
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
      const ids = this.encodeText(text, k);
      if (!hasKnownWord(ids)) {
        throw new Error(
          `text ${k} (${JSON.stringify(text)}) has no word of the vocabulary (${this.vocab.size} words from the training captions)`,
        );
      }
      return ids;
    });
    const b = padTimeMajor(seqs);
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
    return this.encoded[k] ?? this.encodeText(this.dataset.captions[k].text, k);
  }

  /** Word ids of a text, cut to the maximum caption length; `k` names it in errors. */
  private encodeText(text: string, k: number): Int32Array {
    return this.codec.encodeCaption(text, k);
  }

  private nextBatch(): { images: number[]; captions: number[] } {
    if (this.config.train.sampling === 'caption') {
      if (this.batchCursor >= this.captionBatches.length) {
        if (this.captionBatches.length) this.epochs++;
        this.captionBatches = this.lengthSortedBatches();
        this.batchCursor = 0;
      }
      const captions = this.captionBatches[this.batchCursor++];
      return { images: captions.map((k) => this.dataset.captions[k].image), captions };
    }
    const B = Math.min(this.config.train.batchSize, this.trainCaptions.size);
    const images: number[] = [];
    const captions: number[] = [];
    while (images.length < B) {
      if (this.cursor >= this.order.length) {
        if (this.order.length) this.epochs++;
        this.order = this.rng.shuffle([...this.trainCaptions.keys()].sort((a, b) => a - b));
        this.cursor = 0;
        // A batch never holds the same image twice: its other entries would be false negatives.
        if (images.length)
          this.order = this.order
            .filter((i) => !images.includes(i))
            .concat(this.order.filter((i) => images.includes(i)));
      }
      const img = this.order[this.cursor++];
      const list = this.trainCaptions.get(img)!;
      images.push(img);
      captions.push(list[this.rng.int(list.length)]);
    }
    return { images, captions };
  }

  /**
   * One epoch of sampling 'caption': all training captions, ordered by length (ties in random order), cut
   * into batches of B; a caption whose image is already in the batch moves on to the next batch. The
   * batch order is shuffled, so consecutive steps see different lengths.
   */
  private lengthSortedBatches(): number[][] {
    const B = Math.min(this.config.train.batchSize, this.trainCaptions.size);
    const all: number[] = [];
    for (const img of [...this.trainCaptions.keys()].sort((a, b) => a - b))
      all.push(...this.trainCaptions.get(img)!);
    const shuffled = this.rng.shuffle(all);
    const rank = new Map(shuffled.map((k, r) => [k, r]));
    shuffled.sort((a, b) => this.encoded[a]!.length - this.encoded[b]!.length || rank.get(a)! - rank.get(b)!);
    const batches: number[][] = [];
    let current: number[] = [];
    let seen = new Set<number>();
    let carry: number[] = [];
    const flush = () => {
      batches.push(current);
      current = [];
      seen = new Set();
      const pending = carry;
      carry = [];
      for (const k of pending) add(k);
    };
    const add = (k: number) => {
      const img = this.dataset.captions[k].image;
      if (seen.has(img)) carry.push(k);
      else {
        current.push(k);
        seen.add(img);
        if (current.length === B) flush();
      }
    };
    for (const k of shuffled) add(k);
    // The tail: the last partial batch, then captions still waiting for a batch without their image.
    // A one-caption batch has no negatives; it is skipped (its caption is seen again next epoch).
    while (current.length >= 2) flush();
    return this.rng.shuffle(batches);
  }

  /** With augmentation, the feature matrix each of n batch images is read from (drawn at random). */
  private augmentViews(n: number): Float32Array[] | undefined {
    if (!this.config.train.augment) return undefined;
    const all = [this.dataset.features, ...(this.dataset.featureViews ?? [])];
    return Array.from({ length: n }, () => all[this.viewRng.int(all.length)]);
  }

  /** Adds the current weights (or `weights`) to the running mean: avg += (w - avg) / count. */
  private accumulateAverage(weights = this.model.getWeights()): void {
    if (!this.average) {
      this.average = { count: 1, weights };
      return;
    }
    const count = ++this.average.count;
    this.average.weights.forEach((avg, i) => {
      const w = weights[i].data;
      const a = avg.data;
      for (let j = 0; j < a.length; j++) a[j] += (w[j] - a[j]) / count;
    });
  }

  private requireAverage(): { count: number; weights: NamedWeight[] } {
    if (!this.average) {
      const from = this.config.train.averageFromStep;
      throw new Error(
        this.averageApplied
          ? 'no averaged weights: they were already applied to the model'
          : from
            ? `no averaged weights yet: averaging starts at step ${from}, ${this.steps} steps done`
            : 'no averaged weights: averageFromStep is not set',
      );
    }
    return this.average;
  }

  /** The global norm of the gradients (before clipping), read back. */
  private gradientNorm(grads: Record<string, tf.Tensor>): number {
    const normT = globalNorm(grads);
    const norm = normT.dataSync()[0];
    normT.dispose();
    return norm;
  }

  /**
   * stepOnDevice's update, with nothing read back: clips the gradients to the global norm on the device,
   * applies Adam, then selects the previous weights, moments and powers back unless this step's loss and
   * norm (and every earlier device step's) are finite. Frees the gradients; returns the norm (before
   * clipping), which the caller frees.
   */
  private applyOnDevice(grads: Record<string, tf.Tensor>, loss: tf.Scalar): tf.Scalar {
    const norm = globalNorm(grads);
    this.deviceOk ??= tf.variable(tf.scalar(true, 'bool'), false);
    const okFlag = this.deviceOk;
    const ok = tf.tidy(() => tf.logicalAnd(okFlag, tf.logicalAnd(tf.isFinite(loss), tf.isFinite(norm))));
    okFlag.assign(ok);
    const adam = this.optimizer as unknown as AdamInternals;
    const state = (): tf.Variable[] => [
      ...this.model.variables,
      ...adam.accumulatedFirstMoment.map((s) => s.variable),
      ...adam.accumulatedSecondMoment.map((s) => s.variable),
      adam.accBeta1,
      adam.accBeta2,
    ];
    // Clones share the buffers: Adam's assign gives its variables new ones, so these keep the old values.
    const old = new Map(state().map((v) => [v, v.clone()]));
    tf.tidy(() => {
      // scale = min(1, clip / norm): the same as clipAndApply's host test, as a tensor.
      const scale = tf.minimum(tf.scalar(1), tf.div(tf.scalar(this.config.train.clipNorm), norm));
      const named: tf.NamedTensorMap = {};
      for (const [name, g] of Object.entries(grads)) named[name] = g.mul(scale);
      this.optimizer.applyGradients(named as unknown as Parameters<tf.AdamOptimizer['applyGradients']>[0]);
    });
    // The moments Adam created on its first update were zeros before it.
    for (const v of state()) {
      const was = old.get(v);
      tf.tidy(() => v.assign(tf.where(ok, v, was ?? tf.zerosLike(v))));
    }
    tf.dispose([ok, ...old.values()]);
    tf.dispose(Object.values(grads));
    return norm;
  }

  /** Clips all gradients to a global norm (`norm` is theirs), applies Adam, frees the gradients. */
  private clipAndApply(grads: Record<string, tf.Tensor>, norm: number): void {
    const list = Object.values(grads);
    const clip = this.config.train.clipNorm;
    const scale = norm > clip ? clip / norm : 1;
    tf.tidy(() => {
      const named: tf.NamedTensorMap = {};
      for (const [name, g] of Object.entries(grads)) named[name] = scale === 1 ? g : g.mul(scale);
      // tfjs types the map as variables but takes gradient tensors keyed by variable name.
      this.optimizer.applyGradients(named as unknown as Parameters<tf.AdamOptimizer['applyGradients']>[0]);
    });
    tf.dispose(list);
  }
}

/**
 * A step whose loss or gradient is not finite: thrown before the update, so the model keeps the weights
 * of the last good step. `step` is the step that diverged (1-based).
 */
export class TrainingDivergedError extends Error {
  override name = 'TrainingDivergedError';
  constructor(
    readonly step: number,
    readonly loss: number,
    readonly gradNorm: number,
  ) {
    super(
      `diverged at step ${step}: the loss is ${loss} and the gradient norm ${gradNorm}; the update was not applied ` +
        `(lower the learning rate, or resume from the last checkpoint)`,
    );
  }
}

/**
 * sqrt(sum of every gradient's squares), on the device. The sums are added 7 at a time, the running
 * total first: one tfjs AddN over the LN-GRU's 11 gradients binds 12 storage buffers, above WebGPU's
 * default limit of 8 per shader stage (the pipeline fails validation). Left to right as one AddN adds
 * them, so the digits are AddN's.
 */
function globalNorm(grads: Record<string, tf.Tensor>): tf.Scalar {
  return tf.tidy(() => {
    const sums = Object.values(grads).map((g) => g.square().sum());
    let total = tf.addN(sums.slice(0, 7));
    for (let k = 7; k < sums.length; k += 6) total = tf.addN([total, ...sums.slice(k, k + 6)]);
    return total.sqrt();
  }) as tf.Scalar;
}

/**
 * Frees a device step whose result is not wanted, once its read is done: freeing a tensor while WebGPU
 * still reads it fails that read.
 */
function dropDeviceStep(p: PendingDeviceStep): void {
  const free = () => tf.dispose([...p.tensors, ...(p.weights ?? [])]);
  p.read.then(free, free);
}

/** The batch sampler's position and generators (see Trainer.samplerState). */
interface SamplerState {
  rng: number;
  viewRng: number;
  order: number[];
  cursor: number;
  captionBatches: number[][];
  batchCursor: number;
  epochs: number;
}

/** The host state before a device step drew its batch: what a rollback returns to. */
interface DeviceStepState extends SamplerState {
  iterations: number;
}

/** A stepOnDevice step enqueued, its loss and norm being read. */
interface PendingDeviceStep {
  step: number;
  epoch: number;
  t0: number;
  before: DeviceStepState;
  /** The loss and the gradient norm, freed once read. */
  tensors: tf.Tensor[];
  read: Promise<[ArrayLike<number>, ArrayLike<number>]>;
  /** With averaging: the weights after this step, PyTorch layout (as getWeights). */
  weights?: tf.Tensor[];
}

/** How {@link Trainer.stepAsync} stops within a step, and when it gives the step up. */
export interface StepControl {
  /** A turn of the caller's event loop (e.g. a setTimeout(0) in a worker, so that messages are read). */
  between: () => Promise<void>;
  /** Aborted: the step in flight is abandoned at its next stop, unapplied. */
  signal?: AbortSignal;
  /** Work between two turns, ms (default {@link STEP_SLICE_MS}). */
  sliceMs?: number;
  /** Multiply-adds of a block of a large product (default {@link STEP_BLOCK_MACS}). */
  blockMacs?: number;
}

/**
 * stepAsync's turns of the event loop: about every 100 ms of work. A Pause is then read within about
 * 0.1 s plus the longest piece that cannot stop (up to about 0.9 s at the largest size on two loaded
 * cores: a time step's product, a block, the update; docs/benchmarks.md), and a step of the
 * playground's size (tens to a couple of hundred ms) takes one turn at most.
 */
export const STEP_SLICE_MS = 100;

/**
 * Multiply-adds of a row block of the GRU's all-steps products in stepAsync: 2^29, about 0.15 s on two
 * wasm threads; below that size (the playground's) a product is not cut. Smaller blocks cost more than
 * they give (2^27: 75 turns and +16 % per step at the largest size, 2^29: 49 turns, within noise;
 * docs/benchmarks.md): the longest stretch without a turn (about 0.9 s there) is not a product's block.
 */
export const STEP_BLOCK_MACS = 2 ** 29;

/** A {@link Trainer.stepAsync} abandoned on its signal, before its update; `step` is the step (1-based). */
export class StepAbortedError extends Error {
  override name = 'StepAbortedError';
  constructor(readonly step: number) {
    super(`step ${step} was abandoned before its update (paused or stopped); it is taken again on resume`);
  }
}

/** The parts of tfjs's AdamOptimizer (4.x) a checkpoint saves and restores, exactly as they are. */
interface AdamInternals {
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
  /** beta1^t and beta2^t, kept as running products (restoring them by pow() would change digits). */
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  iterations_?: number;
}

function checkDistill(opts: { weight: number; temperature: number }): void {
  if (!(opts.weight > 0)) throw new Error(`distillation: weight must be > 0, got ${opts.weight}`);
  if (!(opts.temperature > 0))
    throw new Error(`distillation: temperature must be > 0, got ${opts.temperature}`);
}
