import type { ReactNode } from 'react';
import { useUiStore } from './store';
import { fmt, fmtAuto, fmtInt } from './format';

/** Latest numbers of the run, as a description list. */
export function StatsBar(): ReactNode {
  const step = useUiStore((s) => s.step);
  const epoch = useUiStore((s) => s.epoch);
  const pairsPerSec = useUiStore((s) => s.pairsPerSec);
  const lastLoss = useUiStore((s) => s.loss.at(-1));
  const lastMetrics = useUiStore((s) => s.metrics.at(-1));
  const run = useUiStore((s) => s.run);

  const items: [string, string][] = [
    ['Step', fmtInt(step)],
    ['Epoch', fmtInt(epoch)],
    ['Loss (EMA)', fmtAuto(lastLoss?.smooth)],
    ['Pairs / s', fmtInt(pairsPerSec)],
    ['R@1 i→t / t→i', lastMetrics ? `${fmt(lastMetrics.i2tR1, 1)} / ${fmt(lastMetrics.t2iR1, 1)}` : '—'],
    ['R sum', fmt(lastMetrics?.rsum, 1)],
  ];

  return (
    <section className="panel stats" aria-labelledby="stats-title">
      <h2 id="stats-title" className="visually-hidden">
        Run statistics
      </h2>
      <dl>
        {items.map(([k, v]) => (
          <div key={k} className="stat">
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
      {run && (
        <p className="run-info" data-testid="run-info">
          {[
            run.model.layerNorm ? 'LN-GRU' : 'plain GRU',
            `${run.model.measure} measure`,
            `hidden ${run.model.hiddenDim}`,
            `word dim ${run.model.wordDim}`,
            `vocab ${fmtInt(run.model.vocabSize)}`,
            `margin ${run.model.margin}`,
            `batch ${run.train.batchSize}`,
            `lr ${run.train.learningRate}`,
            `${run.dataset.name}: ${fmtInt(run.dataset.numImages)} images, ${fmtInt(run.dataset.numCaptions)} captions`,
          ].join(' · ')}
        </p>
      )}
    </section>
  );
}
