/**
 * How a training step ends other than normally, and how `Trainer.stepAsync` (../trainer.ts) is told to
 * stop within one: the errors a step throws (divergence, abandonment) and the control a caller hands in
 * (a turn of its event loop, an abort signal, how much work between two turns), and that turn
 * itself ({@link yieldToEventLoop}), which the worker also takes between its other pieces of work,
 * and stepAsync's loop over a step's pass ({@link runInSlices}).
 */
import type { Pass } from '../ops';

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

/** How `Trainer.stepAsync` stops within a step, and when it gives the step up. */
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

/** A `Trainer.stepAsync` abandoned on its signal, before its update; `step` is the step (1-based). */
export class StepAbortedError extends Error {
  override name = 'StepAbortedError';
  constructor(readonly step: number) {
    super(`step ${step} was abandoned before its update (paused or stopped); it is taken again on resume`);
  }
}

/**
 * One turn of the event loop: lets queued events (a worker's messages such as Pause or a cancel, an abort
 * timer) run; awaiting already-resolved promises alone would only drain microtasks and could starve them.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Runs a step's pass (../ops.ts) to its end, awaiting `control.between()` after about every
 * `control.sliceMs` of work (counted from `t0`, when the step's work began), and hands its result at
 * once to `finish` with the ms spent in those turns: nothing yields between the pass's end and
 * `finish`, so a step is applied whole or not at all. When `control.signal` aborts, the pass is
 * abandoned at its next stop and this rejects with {@link StepAbortedError} for step `step()`.
 */
export async function runInSlices<R, T>(
  pass: Pass<R>,
  control: StepControl,
  t0: number,
  step: () => number,
  finish: (value: R, waited: number) => T,
): Promise<T> {
  const { between, signal, sliceMs = STEP_SLICE_MS } = control;
  let waited = 0;
  let last = t0;
  for (;;) {
    if (signal?.aborted) {
      pass.return(undefined as never); // runs the passes' `finally`: their tensors are freed
      throw new StepAbortedError(step());
    }
    const next = pass.next();
    if (next.done) return finish(next.value, waited);
    if (performance.now() - last >= sliceMs) {
      const w0 = performance.now();
      await between();
      last = performance.now();
      waited += last - w0;
    }
  }
}
