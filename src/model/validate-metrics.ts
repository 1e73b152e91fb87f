/**
 * Validation of a run's learning curve and metrics: metrics.json (its history and final metrics) and
 * log.jsonl (one log entry per line), each entry and each recall figure within its range.
 */
import type { RunLogEntry, RunMetrics } from './export';
import type { EvalMetrics } from './types';
import { arr, fail, int, num, rec, RunValidationError } from './validate-fields';
import { describeValue, LIMITS } from './limits';

/** Recall@K in percent and the median / mean rank of one direction (image to text, text to image). */
function validateRecall(where: string, v: unknown): EvalMetrics['i2t'] {
  const r = rec(where, v);
  return {
    r1: num(`${where}.r1`, r.r1, 0, 100),
    r5: num(`${where}.r5`, r.r5, 0, 100),
    r10: num(`${where}.r10`, r.r10, 0, 100),
    medr: num(`${where}.medr`, r.medr, 0),
    meanr: num(`${where}.meanr`, r.meanr, 0),
  };
}

/** Evaluation metrics: both directions' recall, and R-sum (the sum of six recalls, at most 600). */
export function validateEvalMetrics(where: string, v: unknown): EvalMetrics {
  const m = rec(where, v);
  return {
    i2t: validateRecall(`${where}.i2t`, m.i2t),
    t2i: validateRecall(`${where}.t2i`, m.t2i),
    rsum: num(`${where}.rsum`, m.rsum, 0, 600),
  };
}

/** Longest learning curve accepted (entries of metrics.json, lines of log.jsonl). */
const MAX_HISTORY = 1_000_000;

/** One entry of a learning curve (metrics.json history, a line of log.jsonl). A null loss: none logged. */
export function validateLogEntry(where: string, v: unknown): RunLogEntry {
  const e = rec(where, v);
  const entry: RunLogEntry = {
    step: int(`${where}.step`, e.step, 0, LIMITS.steps),
    epoch: int(`${where}.epoch`, e.epoch ?? 0, 0, LIMITS.steps),
    seconds: num(`${where}.seconds`, e.seconds ?? 0, 0),
    // JSON writes NaN (no loss at an evaluation-only step) as null.
    loss: e.loss === null || e.loss === undefined ? Number.NaN : num(`${where}.loss`, e.loss),
  };
  if (e.dev !== undefined) entry.dev = validateEvalMetrics(`${where}.dev`, e.dev);
  if (e.devTrained !== undefined) entry.devTrained = validateEvalMetrics(`${where}.devTrained`, e.devTrained);
  return entry;
}

/** metrics.json: {history: RunLogEntry[], final?: {split: EvalMetrics}}. */
export function validateRunMetrics(v: unknown, file = 'metrics.json'): RunMetrics {
  const m = rec(file, v);
  const history = arr(`${file}: history`, m.history, MAX_HISTORY).map((e, i) =>
    validateLogEntry(`${file}: history[${i}]`, e),
  );
  const out: RunMetrics = { history };
  if (m.final !== undefined && m.final !== null) {
    const f = rec(`${file}: final`, m.final);
    out.final = Object.fromEntries(
      Object.entries(f).map(([k, x]) => [k, validateEvalMetrics(`${file}: final.${k}`, x)]),
    );
  }
  return out;
}

/** log.jsonl of `train --out`: one log entry per line (blank lines skipped). */
export function validateLogLines(text: string, file = 'log.jsonl'): RunLogEntry[] {
  const out: RunLogEntry[] = [];
  const lines = text.split('\n');
  if (lines.length > MAX_HISTORY) fail(file, `at most ${MAX_HISTORY} lines`, `${lines.length} lines`);
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new RunValidationError(`${file}: line ${i + 1} is not valid JSON: ${describeValue(line)}`);
    }
    out.push(validateLogEntry(`${file}: line ${i + 1}`, v));
  });
  return out;
}
