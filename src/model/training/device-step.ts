/**
 * Trainer.stepOnDevice's machinery: optimisation steps that never wait for the device, the path for
 * WebGPU, where a synchronous read stalls the queue (and tfjs's `dataSync` there is its slow path). The
 * gradients are clipped on the device (scale = min(1, clip / norm) as a tensor, ./update.ts
 * applyOnDevice), the update is applied, and the loss and gradient norm are read asynchronously, one
 * step behind: {@link DeviceSteps.step} enqueues step N, then awaits the read of step N - 1 (queued
 * behind it, so the device stays busy) and resolves to step N - 1's result (null on the first call).
 * {@link DeviceSteps.flush} reads the last one.
 *
 * Divergence still stops the run before the update: a device flag turns every update into a no-op
 * (weights, Adam's moments and powers selected back) from the first step whose loss or norm is not
 * finite, so when the late read shows it, the step counter, Adam's iteration count and the batch
 * sampler are put back to where Trainer.step would leave them, and this throws TrainingDivergedError
 * for that step with the weights of the last good step.
 *
 * On wasm and cpu this gives Trainer.step's losses up to float rounding (clip / norm is divided in
 * float32 on the device, in float64 on the host), which is why Trainer.step keeps the synchronous read
 * there: its digits are the reference runs' digits.
 */
import * as tf from '../tf';
import type { StepResult } from '../types';
import type { LossAndGrads } from './batch';
import type { BatchSampler, SamplerState } from './sampler';
import type { TrainerParts } from './state';
import { TrainingDivergedError } from './step-control';
import { adamInternals, applyOnDevice } from './update';

/** The host state before a device step drew its batch: what a rollback returns to. */
export interface DeviceStepState extends SamplerState {
  iterations: number;
}

/** A stepOnDevice step enqueued, its loss and norm being read. */
export interface PendingDeviceStep {
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

/**
 * Frees a device step whose result is not wanted, once its read is done: freeing a tensor while WebGPU
 * still reads it fails that read.
 */
export function dropDeviceStep(p: PendingDeviceStep): void {
  const free = () => tf.dispose([...p.tensors, ...(p.weights ?? [])]);
  p.read.then(free, free);
}

/** What device steps read and move in their trainer (its config's clipNorm is read at each step). */
export interface DeviceStepHost extends Pick<TrainerParts, 'config' | 'model' | 'optimizer' | 'average'> {
  sampler: BatchSampler;
  /** The next batch's loss and gradients, its update's learning rate set (Trainer.batchLossAndGrads). */
  lossAndGrads(): LossAndGrads;
  /** The trainer's step counter: a step moves it on, a rollback sets it back. */
  steps: { get(): number; set(steps: number): void };
}

/** The device steps of one trainer: the step still being read, and the device's divergence flag. */
export class DeviceSteps {
  /** The step whose loss and norm are still being read. */
  private pending: PendingDeviceStep | null = null;
  /** True while every step's loss and norm were finite; false makes updates no-ops. */
  private deviceOk?: tf.Variable;
  /** When the last result was read (its `ms` counts from there). */
  private lastDeviceResultAt = 0;

  constructor(private readonly host: DeviceStepHost) {}

  /** One step enqueued; resolves to the previous step's result (null on the first call). */
  async step(): Promise<StepResult | null> {
    const { host } = this;
    const t0 = performance.now();
    const before: DeviceStepState = {
      ...host.sampler.state(),
      iterations: adamInternals(host.optimizer).iterations_ ?? 0,
    };
    const { loss, grads } = host.lossAndGrads();
    this.deviceOk ??= tf.variable(tf.scalar(true, 'bool'), false);
    const { clipNorm } = host.config.train;
    const norm = applyOnDevice(host.optimizer, host.model.variables, grads, loss, clipNorm, this.deviceOk);
    const steps = host.steps.get() + 1;
    host.steps.set(steps);
    const averaging = host.average.due(steps);
    // The weights after this update, in PyTorch layout, held on the device until the read says the step
    // was good (tf.clone shares the buffer: later updates assign new ones).
    const weights = averaging
      ? host.model.variables.map((v, k) =>
          host.model.weightShapes[k].name === 'image.weight' ? v.transpose() : v.clone(),
        )
      : undefined;
    const read = Promise.all([loss.data(), norm.data()]);
    // Handled here too: a trainer given up with this step unread (its device lost) never awaits it, and
    // its failed read must not surface as an unhandled rejection; settle() still sees the failure.
    read.catch(() => undefined);
    const step: PendingDeviceStep = {
      step: steps,
      epoch: host.sampler.epochsDone,
      t0,
      before,
      tensors: [loss, norm],
      read,
      weights,
    };
    const previous = this.pending;
    this.pending = step;
    return previous ? this.settle(previous) : null;
  }

  /** The result of the last {@link step} not yet returned (null: none); throws on divergence. */
  async flush(): Promise<StepResult | null> {
    return this.pending ? this.settle(this.pending) : null;
  }

  /** A step's result is still to be read. */
  get isPending(): boolean {
    return this.pending !== null;
  }

  /** Throws while a step is still being read: a checkpoint then would miss it. */
  checkSettled(): void {
    if (this.pending)
      throw new Error(
        `checkpoint: step ${this.pending.step} is still being read from the device (await flushDeviceStep() first)`,
      );
  }

  /** Awaits the read of `p`, the oldest pending device step; on a non-finite value, rolls back and throws. */
  private async settle(p: PendingDeviceStep): Promise<StepResult> {
    const { host } = this;
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
        host.sampler.restore(later.before);
      }
      tf.dispose(p.weights ?? []);
      adamInternals(host.optimizer).iterations_ = p.before.iterations;
      host.steps.set(p.step - 1);
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
      host.average.add(host.model.weightShapes.map(({ name, shape }, k) => ({ name, shape, data: data[k] })));
    }
    return { step: p.step, epoch: p.epoch, loss, gradNorm, ms };
  }

  /** Frees the step still being read (once read) and the device flag. */
  dispose(): void {
    if (this.pending) dropDeviceStep(this.pending);
    this.pending = null;
    this.deviceOk?.dispose();
  }
}
