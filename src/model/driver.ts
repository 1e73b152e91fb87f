/**
 * The training loop every front end runs: the playground's worker (src/worker/worker.ts), `npm run
 * train` and `npm run compare` (scripts/). One or more trainers take turns step by step (the runs of a
 * comparison see the same batches in the same order); an evaluation is due every `evalEvery` steps and
 * at the last one (and before the first, if asked); the learning-rate schedule is {@link learningRateAt}
 * (the Trainer applies it at every step); {@link TrainingDriver.finish} ends training with the averaged
 * weights when the run averages them (TrainConfig.averageFromStep). What a front end does around the
 * loop (progress, logs, checkpoints, yielding to an event loop, Pause) are hooks.
 *
 * Steps are counted by the first trainer (all of them step together).
 */
import { StepAbortedError, type StepControl, type Trainer } from './trainer';
import type { StepResult, TrainConfig } from './types';
import { DEFAULTS } from './defaults';

/**
 * The learning rate of the step taken after `step` steps: `learningRate`, times the decay factor from
 * `lrDecayStep` on (VSE++'s step decay), times (step + 1) / warmupSteps during a linear warm-up:
 *
 *   lr(step) = learningRate x (step >= lrDecayStep ? lrDecayFactor : 1) x min(1, (step + 1) / warmupSteps)
 *
 * so the first step takes learningRate / warmupSteps and step warmupSteps (1-based) the full rate.
 * Without a schedule the rate is `learningRate` itself, not a product, so runs without one keep their
 * digits.
 */
export function learningRateAt(train: TrainConfig, step: number): number {
  const { learningRate, lrDecayStep, lrDecayFactor, warmupSteps } = train;
  const rate =
    lrDecayStep && step >= lrDecayStep
      ? learningRate * (lrDecayFactor ?? DEFAULTS.schedule.lrDecayFactor)
      : learningRate;
  return warmupSteps && step < warmupSteps ? (rate * (step + 1)) / warmupSteps : rate;
}

export interface DriverOptions {
  /** Stop once this many steps are done; 0: until a hook stops it. */
  steps: number;
  /** An evaluation every this many steps (and at the last step). */
  evalEvery: number;
  /** An evaluation before the first step (chance-level metrics). */
  evaluateFirst?: boolean;
  /**
   * Steps are taken for about this many ms before `afterChunk` (a worker yields there, so that messages
   * are read); 0: `afterChunk` after every step. A chunk also ends where an evaluation is due.
   */
  chunkMs?: number;
}

export interface DriverHooks {
  /**
   * Read before every chunk and evaluation: false stops the loop (Pause, Reset); {@link
   * TrainingDriver.run} may be called again later to go on. May wait (e.g. for an evaluation in progress).
   */
  keepGoing?(): boolean | Promise<boolean>;
  /**
   * Read before every step: given, the step is taken by Trainer.stepAsync under this control (it turns
   * the event loop within a long step; its signal abandons the step in flight, unapplied, and the loop
   * stops: 'stopped'). Not given: Trainer.step, whole.
   */
  stepControl?(): StepControl | undefined;
  /** After trainer `k`'s step. */
  onStep?(k: number, result: StepResult): void;
  /**
   * Trainer `k`'s step threw (the update was not applied). Rethrow (the default) to reject `run`, or
   * return to end it as 'failed'.
   */
  onStepError?(k: number, error: unknown): void;
  /**
   * The evaluation due at `step` (after that step). Resolve false when it was cut short: it stays due,
   * and is done first when the loop goes on.
   */
  evaluate?(step: number): boolean | void | Promise<boolean | void>;
  /** After `step` is done, with its evaluation when one was due (logs, checkpoints). */
  afterStep?(step: number): void;
  /** After each chunk of steps, before a due evaluation (progress, checkpoints, yielding). */
  afterChunk?(): void | Promise<void>;
}

export type DriverOutcome = 'finished' | 'stopped' | 'failed';

export class TrainingDriver {
  /** An evaluation is due at the current step (the first, every evalEvery, the last, or one cut short). */
  evalPending: boolean;
  private looping = false;
  /** The trainer whose step is next in this round (a round abandoned midway goes on from it). */
  private turn = 0;

  constructor(
    readonly trainers: readonly Trainer[],
    readonly options: DriverOptions,
  ) {
    if (!trainers.length) throw new Error('training driver: no trainer');
    if (!(Number.isInteger(options.evalEvery) && options.evalEvery > 0))
      throw new Error(`training driver: evalEvery must be a positive whole number, got ${options.evalEvery}`);
    this.evalPending = Boolean(options.evaluateFirst);
  }

  /** Steps done (by every trainer). */
  get step(): number {
    return this.trainers[0].stepsDone;
  }

  /** The step limit is reached. */
  get finished(): boolean {
    return this.options.steps > 0 && this.step >= this.options.steps;
  }

  /** Whether an evaluation is due after `step`: every evalEvery steps and at the last. */
  evaluationDue(step: number): boolean {
    return step % this.options.evalEvery === 0 || (this.options.steps > 0 && step >= this.options.steps);
  }

  /** An evaluation at the current step, at the next chunk boundary ('Evaluate now' while training). */
  requestEvaluation(): void {
    this.evalPending = true;
  }

  /**
   * Trains until the step limit ('finished': the last evaluation done), a hook stops it ('stopped'; call
   * again to go on) or a step fails and `onStepError` returns ('failed'). A second call while one runs
   * returns 'stopped' at once.
   */
  async run(hooks: DriverHooks = {}): Promise<DriverOutcome> {
    if (this.looping) return 'stopped';
    this.looping = true;
    try {
      return await this.loop(hooks);
    } finally {
      this.looping = false;
    }
  }

  /**
   * Ends training: when the run averages its weights (TrainConfig.averageFromStep) and has averaged
   * some, those become each trainer's weights (to export them). Returns the trainers whose averaging
   * had not started (training ended before averageFromStep; their trained weights are kept).
   */
  finish(): Trainer[] {
    const early: Trainer[] = [];
    for (const t of this.trainers) {
      if (t.averagedSteps) t.applyAveragedWeights();
      else if (t.config.train.averageFromStep) early.push(t);
    }
    return early;
  }

  private async loop(h: DriverHooks): Promise<DriverOutcome> {
    const chunkMs = this.options.chunkMs ?? 0;
    while (h.keepGoing ? await h.keepGoing() : true) {
      if (this.evalPending) {
        const done = await h.evaluate?.(this.step);
        if (done === false) continue; // cut short: still due; keepGoing decides
        this.evalPending = false;
        h.afterStep?.(this.step);
        if (this.finished) return 'finished';
        continue;
      }
      if (this.finished) return 'finished';
      const chunkStart = performance.now();
      do {
        for (; this.turn < this.trainers.length; this.turn++) {
          const k = this.turn;
          const control = h.stepControl?.();
          const t = this.trainers[k];
          let result: StepResult | null;
          try {
            // On WebGPU a step never waits for the device: its result comes one step late (and the
            // chunk's last one from the flush below). Pause is seen between chunks there.
            result = t.stepsOnDevice
              ? await t.stepOnDevice()
              : control
                ? await t.stepAsync(control)
                : t.step();
          } catch (e) {
            if (e instanceof StepAbortedError) return 'stopped';
            if (!h.onStepError) throw e;
            h.onStepError(k, e);
            return 'failed';
          }
          if (result) h.onStep?.(k, result);
        }
        this.turn = 0;
        if (this.evaluationDue(this.step)) this.evalPending = true;
        else h.afterStep?.(this.step);
      } while (!this.evalPending && performance.now() - chunkStart < chunkMs);
      // Device steps still being read: every result is in before evaluations, checkpoints and progress.
      for (const [k, t] of this.trainers.entries()) {
        try {
          const result = await t.flushDeviceStep();
          if (result) h.onStep?.(k, result);
        } catch (e) {
          if (!h.onStepError) throw e;
          h.onStepError(k, e);
          return 'failed';
        }
      }
      await h.afterChunk?.();
    }
    return 'stopped';
  }
}
