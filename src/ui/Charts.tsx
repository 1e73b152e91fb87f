import { memo, useId, useMemo, useState, type ReactNode } from 'react';
import { CartesianGrid, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import { seriesNames, useUiStore, type EvalRow, type RunView } from './store';
import { useThrottled } from './throttle';
import { HELP } from './retrieve/help';
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

/** One drawn line: its rows, the field drawn, and how it looks. */
interface PlotLine {
  key: string;
  name: string;
  color: string;
  dashed: boolean;
  dots: boolean;
  data: readonly object[];
  dataKey: string;
}

/**
 * The charts redraw at most every REDRAW_MS, each at its own phase (see useThrottled): the legend,
 * summary and point counts above them follow the store at once.
 */
const REDRAW_MS = 500;
const PHASE = { loss: 0, recallStep: 125, recallTime: 250, throughput: 375 } as const;

function ChartCard(props: {
  title: string;
  testId: string;
  series: Record<string, number>;
  summary: string;
  empty: string;
  active: boolean;
  legend: readonly PlotLine[];
  /** The drawn (throttled) lines: until they hold a point, a hint covers the (mounted) chart. */
  drawn: readonly PlotLine[];
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
      {/*
        The drawing stays mounted while the tab shows, from before the first point on: mounting a
        Recharts chart is its costliest render, so it happens while idle, not as training starts. Until
        the chart has drawn a point, the hint covers it.
      */}
      {props.active ? (
        <div className="chart-body">
          {props.children}
          {points === 0 || !props.drawn.some((l) => l.data.length > 0) ? (
            <p className="chart-empty">{points === 0 ? props.empty : ''}</p>
          ) : null}
        </div>
      ) : points === 0 ? (
        <p className="chart-empty">{props.empty}</p>
      ) : null}
      {points > 0 && props.active ? <ChartLegend lines={props.legend} /> : null}
    </figure>
  );
}

/**
 * The legend in HTML rather than Recharts' <Legend>, which measures itself in the DOM at every redraw
 * (forced layouts were the largest single cost of a chart update).
 */
function ChartLegend({ lines }: { lines: readonly PlotLine[] }): ReactNode {
  return (
    <ul className="chart-legend">
      {lines.map((l) => (
        <li key={l.key}>
          <svg width="22" height="10" aria-hidden="true">
            <line
              x1="1"
              x2="21"
              y1="5"
              y2="5"
              stroke={l.color}
              strokeWidth="2"
              strokeDasharray={l.dashed ? '6 3' : undefined}
            />
          </svg>
          {l.name}
        </li>
      ))}
    </ul>
  );
}

const seriesOf = (charted: Charted[], count: (r: RunView) => number): Record<string, number> =>
  Object.fromEntries(charted.map((c) => [c.name, count(c.run)]));

const fmtDurationTick = (v: number): string => fmtDuration(v);
const fmtPercent = (v: unknown): string => (typeof v === 'number' ? `${fmt(v, 1)}%` : String(v));

interface PlotProps {
  lines: PlotLine[];
  x: 'step' | 'seconds';
  xTick: (v: number) => string;
  label: (label: unknown) => string;
  value: (v: unknown) => string;
  yWidth: number;
  /** Fixed y range [0, yMax]; the data's range when absent. */
  yMax?: number;
}

/** The Recharts drawing, memoized: it re-renders only when its (throttled) lines change. */
const Plot = memo(function Plot(p: PlotProps): ReactNode {
  return (
    <LineChart responsive style={CHART_STYLE} margin={MARGIN}>
      <CartesianGrid stroke="var(--grid)" strokeDasharray="3 3" />
      <XAxis
        dataKey={p.x}
        type="number"
        domain={['dataMin', 'dataMax']}
        allowDuplicatedCategory={false}
        tick={AXIS_TICK}
        tickFormatter={p.xTick}
      />
      <YAxis
        tick={AXIS_TICK}
        width={p.yWidth}
        tickFormatter={fmtTick}
        domain={p.yMax === undefined ? undefined : [0, p.yMax]}
      />
      <Tooltip contentStyle={TOOLTIP_STYLE} formatter={p.value} labelFormatter={p.label} />
      {p.lines.map((l) => (
        <Line
          key={l.key}
          data={l.data as object[]}
          name={l.name}
          dataKey={l.dataKey}
          stroke={l.color}
          strokeWidth={2}
          strokeDasharray={l.dashed ? '6 3' : undefined}
          dot={l.dots ? DOT : false}
          isAnimationActive={false}
        />
      ))}
    </LineChart>
  );
});

const DOT = { r: 2 };

/** One line per charted run against the training step (the loss and throughput charts). */
function StepChart(props: {
  title: string;
  testId: string;
  charted: Charted[];
  summary: string;
  empty: string;
  active: boolean;
  phase: number;
  rows: (r: RunView) => readonly { step: number }[];
  /** The field of a row to draw. */
  dataKey: string;
}): ReactNode {
  const { charted, rows, dataKey } = props;
  const lines = useMemo(
    () =>
      charted.map((c) => ({
        key: c.run.id,
        name: c.name,
        color: c.color,
        dashed: false,
        dots: false,
        data: rows(c.run),
        dataKey,
      })),
    // `rows` is a field accessor that the callers define inline.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [charted, dataKey],
  );
  const drawn = useThrottled(lines, REDRAW_MS, props.phase);
  return (
    <ChartCard
      title={props.title}
      testId={props.testId}
      series={seriesOf(charted, (r) => rows(r).length)}
      summary={props.summary || 'no data yet'}
      empty={props.empty}
      active={props.active}
      legend={lines}
      drawn={drawn}
    >
      <Plot lines={drawn} x="step" xTick={fmtTick} label={fmtStepLabel} value={fmtTooltip} yWidth={52} />
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
      phase={PHASE.loss}
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
  const lines = useMemo(
    () =>
      charted.flatMap((c) =>
        // Solid image→text, dashed text→image, in the run's colour.
        (
          [
            ['i2t', i2t, 'image→text'],
            ['t2i', t2i, 'text→image'],
          ] as const
        ).map(([dir, dataKey, label]) => ({
          key: `${c.run.id}-${dir}`,
          name: `${c.name} ${label}`,
          color: c.color,
          dashed: dir === 't2i',
          dots: true,
          data: c.run.evals,
          dataKey,
        })),
      ),
    [charted, i2t, t2i],
  );
  const drawn = useThrottled(lines, REDRAW_MS, byStep ? PHASE.recallStep : PHASE.recallTime);
  const max = Math.max(
    0,
    ...drawn.flatMap((l) => (l.data as EvalRow[]).map((e) => e[l.dataKey as keyof EvalRow])),
  );
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
      legend={lines}
      drawn={drawn}
      controls={props.controls}
    >
      <Plot
        lines={drawn}
        x={props.x}
        xTick={byStep ? fmtTick : fmtDurationTick}
        label={byStep ? fmtStepLabel : fmtTimeLabel}
        value={fmtPercent}
        yWidth={44}
        yMax={recallAxisMax(max)}
      />
    </ChartCard>
  );
}

/** R@K vs step and vs training time, with one K picker for both. */
export function RecallCharts({ active = true }: { active?: boolean }): ReactNode {
  const [k, setK] = useState<RecallK>(1);
  const name = useId();
  const picker = (
    <fieldset className="segmented" title={HELP.recallAtK}>
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
      phase={PHASE.throughput}
      rows={(r) => r.speed}
      dataKey="pairsPerSec"
    />
  );
}

/** Says so when the charted runs were trained on different datasets (their curves do not compare). */
function DatasetMix(): ReactNode {
  const charted = useCharted();
  const datasets = [...new Set(charted.map((c) => c.run.dataset))];
  if (datasets.length < 2) return null;
  return (
    <p className="hint chart-warning" role="note" data-testid="charts-datasets">
      These runs were trained on different datasets (
      {charted.map((c) => `${c.name}: ${c.run.dataset}`).join('; ')}): their loss and recall are not
      comparable.
    </p>
  );
}

export function Charts({ active = true }: { active?: boolean }): ReactNode {
  return (
    <div className="charts">
      <DatasetMix />
      <LossChart active={active} />
      <RecallCharts active={active} />
      <ThroughputChart active={active} />
    </div>
  );
}
