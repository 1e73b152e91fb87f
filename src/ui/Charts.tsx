import { useId, useMemo, useState, type ReactNode } from 'react';
import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import { seriesNames, useUiStore, type RunView } from './store';
import { fmt, fmtAuto, fmtDuration, fmtInt, fmtTick } from './format';

const CHART_STYLE = { width: '100%', height: 260 } as const;
const MARGIN = { top: 8, right: 16, bottom: 4, left: 0 };
const AXIS_TICK = { fill: 'var(--muted)', fontSize: 12 };
const TOOLTIP_STYLE = {
  background: 'var(--surface)',
  border: '1px solid var(--border)',
  borderRadius: 8,
  color: 'var(--text)',
};
const PALETTE = 6;

/** The colour of the i-th charted run. */
export const runColor = (i: number): string => `var(--run-${i % PALETTE})`;

const fmtTooltip = (value: unknown): string => (typeof value === 'number' ? fmtAuto(value) : String(value));
const fmtStepLabel = (label: unknown): string => `step ${fmtInt(Number(label))}`;
const fmtTimeLabel = (label: unknown): string => `${fmtDuration(Number(label))} of training`;

/** Upper bound of a recall axis: the next multiple of 10 above the data, at least 10, at most 100. */
export const recallAxisMax = (max: number): number =>
  Math.min(100, Math.max(10, Math.ceil((Number.isFinite(max) ? max : 0) / 10) * 10));

interface Charted {
  run: RunView;
  name: string;
  color: string;
}

/** The charted runs with their display names and colours. */
function useCharted(): Charted[] {
  const runs = useUiStore((s) => s.runs);
  const ids = useUiStore((s) => s.chartRuns);
  return useMemo(() => {
    const list = ids.map((id) => runs[id]).filter((r): r is RunView => r !== undefined);
    const names = seriesNames(list);
    return list.map((run, i) => ({ run, name: names.get(run.id) ?? run.label, color: runColor(i) }));
  }, [runs, ids]);
}

function ChartCard(props: {
  title: string;
  testId: string;
  series: Record<string, number>;
  summary: string;
  empty: string;
  active: boolean;
  controls?: ReactNode;
  children: ReactNode;
}): ReactNode {
  const points = Object.values(props.series).reduce((a, b) => a + b, 0);
  const titleId = useId();
  return (
    <figure
      className="panel chart"
      data-testid={props.testId}
      data-points={points}
      data-series={JSON.stringify(props.series)}
      aria-labelledby={titleId}
      aria-describedby={`${titleId}-summary`}
    >
      <figcaption>
        <h3 id={titleId}>{props.title}</h3>
        <span id={`${titleId}-summary`} className="chart-summary">
          {props.summary}
        </span>
        {props.controls}
      </figcaption>
      {points === 0 ? <p className="chart-empty">{props.empty}</p> : props.active ? props.children : null}
    </figure>
  );
}

const seriesOf = (charted: Charted[], count: (r: RunView) => number): Record<string, number> =>
  Object.fromEntries(charted.map((c) => [c.name, count(c.run)]));

/** One line per charted run against the training step (the loss and throughput charts). */
function StepChart(props: {
  title: string;
  testId: string;
  charted: Charted[];
  summary: string;
  empty: string;
  active: boolean;
  rows: (r: RunView) => readonly { step: number }[];
  /** The field of a row to draw. */
  dataKey: string;
}): ReactNode {
  return (
    <ChartCard
      title={props.title}
      testId={props.testId}
      series={seriesOf(props.charted, (r) => props.rows(r).length)}
      summary={props.summary || 'no data yet'}
      empty={props.empty}
      active={props.active}
    >
      <LineChart responsive style={CHART_STYLE} margin={MARGIN}>
        <CartesianGrid stroke="var(--grid)" strokeDasharray="3 3" />
        <XAxis
          dataKey="step"
          type="number"
          domain={['dataMin', 'dataMax']}
          allowDuplicatedCategory={false}
          tick={AXIS_TICK}
        />
        <YAxis tick={AXIS_TICK} width={52} tickFormatter={fmtTick} />
        <Tooltip contentStyle={TOOLTIP_STYLE} formatter={fmtTooltip} labelFormatter={fmtStepLabel} />
        <Legend itemSorter={null} />
        {props.charted.map((c) => (
          <Line
            key={c.run.id}
            data={props.rows(c.run)}
            name={c.name}
            dataKey={props.dataKey}
            stroke={c.color}
            strokeWidth={2}
            dot={false}
            isAnimationActive={false}
          />
        ))}
      </LineChart>
    </ChartCard>
  );
}

export function LossChart({ active = true }: { active?: boolean }): ReactNode {
  const charted = useCharted();
  const summary = charted
    .filter((c) => c.run.loss.length > 0)
    .map((c) => `${c.name} ${fmtAuto(c.run.loss.at(-1)?.smooth)} at step ${fmtInt(c.run.loss.at(-1)?.step)}`)
    .join(' · ');
  return (
    <StepChart
      title="Training loss (smoothed)"
      testId="chart-loss"
      charted={charted}
      summary={summary}
      empty="Press Start to train; the loss appears here as it runs."
      active={active}
      rows={(r) => r.loss}
      dataKey="smooth"
    />
  );
}

export type RecallK = 1 | 5 | 10;

function RecallChart(props: {
  x: 'step' | 'seconds';
  k: RecallK;
  active: boolean;
  controls?: ReactNode;
}): ReactNode {
  const charted = useCharted();
  const split = useUiStore((s) => s.evalSplit);
  const byStep = props.x === 'step';
  const i2t = `i2tR${props.k}` as const;
  const t2i = `t2iR${props.k}` as const;
  const max = Math.max(0, ...charted.flatMap((c) => c.run.evals.map((e) => Math.max(e[i2t], e[t2i]))));
  const summary = charted
    .filter((c) => c.run.evals.length > 0)
    .map((c) => {
      const last = c.run.evals.at(-1)!;
      return `${c.name} image→text ${fmt(last[i2t], 1)}, text→image ${fmt(last[t2i], 1)}`;
    })
    .join(' · ');
  return (
    <ChartCard
      title={`R@${props.k} on ${split} (%) vs ${byStep ? 'step' : 'training time'}`}
      testId={byStep ? 'chart-recall-step' : 'chart-recall-time'}
      series={seriesOf(charted, (r) => r.evals.length)}
      summary={summary || 'no data yet'}
      empty="Recall is evaluated at the start and every few dozen steps."
      active={props.active}
      controls={props.controls}
    >
      <LineChart responsive style={CHART_STYLE} margin={MARGIN}>
        <CartesianGrid stroke="var(--grid)" strokeDasharray="3 3" />
        <XAxis
          dataKey={props.x}
          type="number"
          domain={['dataMin', 'dataMax']}
          allowDuplicatedCategory={false}
          tick={AXIS_TICK}
          tickFormatter={byStep ? fmtTick : (v: number) => fmtDuration(v)}
        />
        <YAxis tick={AXIS_TICK} width={44} domain={[0, recallAxisMax(max)]} />
        <Tooltip
          contentStyle={TOOLTIP_STYLE}
          formatter={(v: unknown) => (typeof v === 'number' ? `${fmt(v, 1)}%` : String(v))}
          labelFormatter={byStep ? fmtStepLabel : fmtTimeLabel}
        />
        <Legend itemSorter={null} />
        {charted.flatMap((c) => [
          <Line
            key={`${c.run.id}-i2t`}
            data={c.run.evals}
            name={`${c.name} image→text`}
            dataKey={i2t}
            stroke={c.color}
            strokeWidth={2}
            dot={{ r: 2 }}
            isAnimationActive={false}
          />,
          <Line
            key={`${c.run.id}-t2i`}
            data={c.run.evals}
            name={`${c.name} text→image`}
            dataKey={t2i}
            stroke={c.color}
            strokeWidth={2}
            strokeDasharray="6 3"
            dot={{ r: 2 }}
            isAnimationActive={false}
          />,
        ])}
      </LineChart>
    </ChartCard>
  );
}

/** R@K vs step and vs training time, with one K picker for both. */
export function RecallCharts({ active = true }: { active?: boolean }): ReactNode {
  const [k, setK] = useState<RecallK>(1);
  const name = useId();
  const picker = (
    <fieldset className="segmented">
      <legend className="visually-hidden">Recall at</legend>
      {([1, 5, 10] as const).map((v) => (
        <label key={v} className={k === v ? 'checked' : undefined}>
          <input type="radio" name={name} value={v} checked={k === v} onChange={() => setK(v)} />
          R@{v}
        </label>
      ))}
    </fieldset>
  );
  return (
    <>
      <RecallChart x="step" k={k} active={active} controls={picker} />
      <RecallChart x="seconds" k={k} active={active} />
    </>
  );
}

export function ThroughputChart({ active = true }: { active?: boolean }): ReactNode {
  const charted = useCharted();
  const summary = charted
    .filter((c) => c.run.live && c.run.pairsPerSec > 0)
    .map((c) => `${c.name} ${fmtInt(c.run.pairsPerSec)} pairs/s`)
    .join(' · ');
  return (
    <StepChart
      title="Throughput (caption–image pairs per second)"
      testId="chart-throughput"
      charted={charted}
      summary={summary}
      empty="Training speed appears here while runs train."
      active={active}
      rows={(r) => r.speed}
      dataKey="pairsPerSec"
    />
  );
}

export function Charts({ active = true }: { active?: boolean }): ReactNode {
  return (
    <div className="charts">
      <LossChart active={active} />
      <RecallCharts active={active} />
      <ThroughputChart active={active} />
    </div>
  );
}
