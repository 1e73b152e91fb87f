import { useMemo, type ReactNode } from 'react';
import { bestRsum, seriesNames, useUiStore, type RunView } from './store';
import { fmt, fmtAuto, fmtDuration, fmtInt } from './format';
import { runColor } from './ChartCard';
import { HELP } from './retrieve/help';
import { trainOptionEntries } from '../model/defaults';

function describe(r: RunView): string {
  if (!r.model) return r.dataset;
  const m = r.model;
  return [
    `${m.measure}`,
    `hidden ${m.hiddenDim}`,
    `word ${m.wordDim}`,
    `margin ${m.margin}`,
    m.maxViolation ? 'max-violation' : '',
    r.train?.maxViolationStep ? `max-violation after step ${r.train.maxViolationStep}` : '',
    r.train?.dropout ? `dropout ${r.train.dropout}` : '',
    r.train ? `batch ${r.train.batchSize}` : '',
    r.train ? `lr ${r.train.learningRate}` : '',
    r.train?.lrDecayStep ? `÷10 after step ${r.train.lrDecayStep}` : '',
    ...trainOptionEntries().map(([k, o]) => (r.train?.[k] ? o.summary(r.train[k]) : '')),
    r.dataset,
  ]
    .filter(Boolean)
    .join(' · ');
}

/** Latest numbers of every charted run, one row each. */
export function StatsBar(): ReactNode {
  const runs = useUiStore((s) => s.runs);
  const ids = useUiStore((s) => s.chartRuns);
  const split = useUiStore((s) => s.evalSplit);
  const list = useMemo(
    () => ids.map((id) => runs[id]).filter((r): r is RunView => r !== undefined),
    [runs, ids],
  );
  const names = seriesNames(list);
  if (list.length === 0) return null;
  return (
    <section className="panel stats" aria-labelledby="stats-title">
      <h2 id="stats-title">Runs on the charts</h2>
      <div className="table-scroll">
        <table data-testid="run-stats">
          <thead>
            <tr>
              <th scope="col">Run</th>
              <th scope="col">State</th>
              <th scope="col">Step</th>
              <th scope="col">Epoch</th>
              <th scope="col">Loss (EMA)</th>
              <th scope="col">Pairs/s</th>
              <th scope="col" title={HELP.recallAtK}>
                R@1 i→t / t→i ({split})
              </th>
              <th scope="col" title={HELP.rsum}>
                Best R-sum
              </th>
              <th scope="col">Time</th>
            </tr>
          </thead>
          <tbody>
            {list.map((r, i) => {
              const last = r.evals.at(-1);
              return (
                <tr key={r.id} data-run-id={r.id}>
                  <th scope="row">
                    <span className="swatch" style={{ background: runColor(i) }} aria-hidden="true" />
                    {names.get(r.id)}
                    <small className="run-desc">{describe(r)}</small>
                  </th>
                  <td>{r.state}</td>
                  <td>{fmtInt(r.step)}</td>
                  <td>{fmtInt(r.epoch)}</td>
                  <td>{fmtAuto(r.loss.at(-1)?.smooth)}</td>
                  <td>{r.live ? fmtInt(r.pairsPerSec) : '—'}</td>
                  <td>{last ? `${fmt(last.i2tR1, 1)} / ${fmt(last.t2iR1, 1)}` : '—'}</td>
                  <td>{fmt(bestRsum(r.evals), 1)}</td>
                  <td>{fmtDuration(r.seconds)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
