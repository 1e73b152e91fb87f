/**
 * The evaluation log of `npm run compare` (one JSON line per run and evaluation), its summary, and its
 * reader; shared by compare.ts and plot-curves.ts. The reader also takes the `log.jsonl` of a
 * `npm run train -- --out <folder>` run (lines {step, epoch, seconds, loss, dev?}, no run name).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { EvalMetrics } from '../../src/model/types';

export interface LogLine {
  run: string;
  step: number;
  epoch: number;
  trainSeconds: number;
  loss: number;
  dev: EvalMetrics;
}

/**
 * Reads a log file, naming the line that is not JSON. Lines of a `train` log become lines of a run named
 * after the file (its folder for `log.jsonl`); its lines without dev metrics are skipped.
 */
export function readLog(file: string): LogLine[] {
  const base = path.basename(file, '.jsonl');
  const name = base === 'log' ? path.basename(path.dirname(path.resolve(file))) : base;
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .map((l, i) => ({ l, at: i + 1 }))
    .filter(({ l }) => l.trim())
    .map(({ l, at }) => {
      let v: Partial<LogLine> & { seconds?: number };
      try {
        v = JSON.parse(l) as Partial<LogLine> & { seconds?: number };
      } catch {
        throw new Error(`${file}:${at}: not a JSON line`);
      }
      if (v.run !== undefined) return v as LogLine;
      if (typeof v.step !== 'number' || typeof v.seconds !== 'number')
        throw new Error(
          `${file}:${at}: neither a compare line (run, ...) nor a train line (step, seconds, ...)`,
        );
      return v.dev
        ? ({ ...v, run: name, trainSeconds: v.seconds, epoch: v.epoch ?? 0, loss: v.loss ?? NaN } as LogLine)
        : null;
    })
    .filter((l): l is LogLine => l !== null);
  if (!lines.length) throw new Error(`${file}: no evaluations logged`);
  return lines;
}

/** The log's lines grouped by run, in order of first appearance. */
export function byRun(lines: LogLine[]): LogLine[][] {
  const runs = [...new Set(lines.map((l) => l.run))];
  return runs.map((r) => lines.filter((l) => l.run === r));
}

/** Best R-sum per run, and how fast each run reached the second run's best (the baseline). */
export function summarize(history: LogLine[][]): string[] {
  const out: string[] = [];
  const best = history.map((h) => h.reduce((b, l) => (l.dev.rsum > b.dev.rsum ? l : b), h[0]));
  best.forEach((b) => {
    const d = b.dev;
    out.push(
      `best ${b.run}: rsum ${d.rsum.toFixed(1)} at step ${b.step} (${b.trainSeconds.toFixed(0)} s): ` +
        `i2t R@1/5/10 ${d.i2t.r1.toFixed(1)}/${d.i2t.r5.toFixed(1)}/${d.i2t.r10.toFixed(1)} medr ${d.i2t.medr}, ` +
        `t2i R@1/5/10 ${d.t2i.r1.toFixed(1)}/${d.t2i.r5.toFixed(1)}/${d.t2i.r10.toFixed(1)} medr ${d.t2i.medr}`,
    );
  });
  if (history.length >= 2) {
    const target = best[1];
    const hit = history[0].find((l) => l.dev.rsum >= target.dev.rsum);
    out.push(
      hit
        ? `${hit.run} reached ${target.run}'s best rsum ${target.dev.rsum.toFixed(1)} at step ${hit.step} (${hit.trainSeconds.toFixed(0)} s): ` +
            `${(hit.step / target.step).toFixed(2)}x the steps and ${(hit.trainSeconds / target.trainSeconds).toFixed(2)}x the wall-clock of ${target.run} (step ${target.step}, ${target.trainSeconds.toFixed(0)} s)`
        : `${history[0][0].run} never reached ${target.run}'s best rsum ${target.dev.rsum.toFixed(1)}`,
    );
  }
  return out;
}
