/**
 * How the kernel benchmarks (./kernel-timings.ts and the files it gathers) time a piece of GPU work:
 * the median of a few runs after an untimed warm-up, each run awaiting its results so that the GPU's
 * work, not only its scheduling, is timed.
 */
import * as tf from '../src/model/tf';

/** Median wall time of `fn` (ms): one untimed warm-up run, then `reps` runs; `fn` awaits its result. */
export async function time(fn: () => Promise<void>, reps: number, label = ''): Promise<number> {
  let t0 = performance.now();
  await fn();
  console.log(`[bench] ${label} warm-up ${(performance.now() - t0).toFixed(0)} ms`);
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    t0 = performance.now();
    await fn();
    ts.push(performance.now() - t0);
    console.log(`[bench] ${label} ${ts[i].toFixed(1)} ms`);
  }
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)];
}

/** Waits for the data of `t` (the GPU work that made it has finished), then frees it. */
export async function settle(t: tf.Tensor | tf.Tensor[]): Promise<void> {
  const ts = Array.isArray(t) ? t : [t];
  await Promise.all(ts.map((x) => x.data()));
  tf.dispose(ts);
}
