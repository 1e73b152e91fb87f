/** Console formatting of retrieval metrics for the scripts (train, evaluate). */
import type { EvalMetrics, RecallMetrics } from '../../src/model/types';

/** One line: R@1/5/10 and median rank both ways, and the R-sum. */
export function formatMetrics(m: EvalMetrics): string {
  const d = (x: RecallMetrics) =>
    `R@1 ${x.r1.toFixed(1)} R@5 ${x.r5.toFixed(1)} R@10 ${x.r10.toFixed(1)} medr ${x.medr}`;
  return `i2t ${d(m.i2t)} | t2i ${d(m.t2i)} | rsum ${m.rsum.toFixed(1)}`;
}
