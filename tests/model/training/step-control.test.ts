/**
 * runInSlices (src/model/training/step-control.ts), the loop of Trainer.stepAsync, on a stand-in pass:
 * turns of the event loop after each slice of work, the time spent in them, and abandonment on the
 * signal (the pass's `finally` runs, nothing is finished). tests/model/step-async.test.ts checks the
 * whole step against Trainer.step.
 */
import { describe, expect, it } from 'vitest';
import { runInSlices, StepAbortedError } from '../../../src/model/training/step-control';
import type { Pass } from '../../../src/model/ops';

/** A pass of `stops` stops that logs each piece of work and its end; its result is 'done'. */
function* pass(stops: number, log: string[]): Pass<string> {
  try {
    for (let k = 0; k < stops; k++) {
      log.push(`work ${k}`);
      yield;
    }
    log.push('last');
    return 'done';
  } finally {
    log.push('finally');
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** A finish that returns what it is handed: the pass's result and the ms spent in turns. */
const handed = (value: string, waited: number) => [value, waited] as const;

describe('runInSlices', () => {
  it('runs the pass to its end without a turn when a slice is longer than its work', async () => {
    const log: string[] = [];
    let turns = 0;
    const between = async () => void turns++;
    const got = await runInSlices(
      pass(3, log),
      { between, sliceMs: 1e9 },
      performance.now(),
      () => 1,
      handed,
    );
    expect(got).toEqual(['done', 0]);
    expect(turns).toBe(0);
    expect(log).toEqual(['work 0', 'work 1', 'work 2', 'last', 'finally']);
  });

  it('takes a turn after every stop with sliceMs 0, and hands finish the time spent in the turns', async () => {
    const log: string[] = [];
    const between = async () => {
      log.push('turn');
      await sleep(5);
    };
    const t0 = performance.now();
    const [value, waited] = await runInSlices(pass(3, log), { between, sliceMs: 0 }, t0, () => 1, handed);
    expect(value).toBe('done');
    expect(log).toEqual(['work 0', 'turn', 'work 1', 'turn', 'work 2', 'turn', 'last', 'finally']);
    // Three turns of at least ~5 ms each, and no more than the whole call took.
    expect(waited).toBeGreaterThanOrEqual(12);
    expect(waited).toBeLessThanOrEqual(performance.now() - t0);
  });

  it('abandons the pass at its next stop once the signal aborts, naming the step', async () => {
    const log: string[] = [];
    const abort = new AbortController();
    let turns = 0;
    const between = async () => {
      if (++turns === 2) abort.abort();
    };
    let finished = false;
    const run = runInSlices(
      pass(5, log),
      { between, signal: abort.signal, sliceMs: 0 },
      performance.now(),
      () => 7,
      () => (finished = true),
    );
    const err = await run.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StepAbortedError);
    expect((err as StepAbortedError).step).toBe(7);
    expect(finished).toBe(false);
    // Two pieces of work, then the pass's finally (its tensors would be freed there); never its end.
    expect(log).toEqual(['work 0', 'work 1', 'finally']);
  });

  it('starts no work under a signal aborted already', async () => {
    const log: string[] = [];
    const abort = new AbortController();
    abort.abort();
    const between = async () => {};
    await expect(
      runInSlices(
        pass(2, log),
        { between, signal: abort.signal },
        performance.now(),
        () => 3,
        () => 0,
      ),
    ).rejects.toThrow(/step 3 was abandoned/);
    expect(log).toEqual([]);
  });
});
