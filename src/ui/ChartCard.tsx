/**
 * The parts every chart of the Train tab is drawn with (./Charts.tsx): the charted runs with their names
 * and colours, the card (title, summary, point counts for the tests, the hint while empty, the legend)
 * and the memoized Recharts drawing of a set of lines.
 */
import { memo, useId, useMemo, type ReactNode } from 'react';
import { CartesianGrid, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
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

export const fmtTooltip = (value: unknown): string =>
  typeof value === 'number' ? fmtAuto(value) : String(value);
export const fmtStepLabel = (label: unknown): string => `step ${fmtInt(Number(label))}`;
export const fmtTimeLabel = (label: unknown): string => `${fmtDuration(Number(label))} of training`;

export interface Charted {
  run: RunView;
  name: string;
  color: string;
}

/** The charted runs with their display names and colours. */
export function useCharted(): Charted[] {
  const runs = useUiStore((s) => s.runs);
  const ids = useUiStore((s) => s.chartRuns);
  return useMemo(() => {
    const list = ids.map((id) => runs[id]).filter((r): r is RunView => r !== undefined);
    const names = seriesNames(list);
    return list.map((run, i) => ({ run, name: names.get(run.id) ?? run.label, color: runColor(i) }));
  }, [runs, ids]);
}

/** One drawn line: its rows, the field drawn, and how it looks. */
export interface PlotLine {
  key: string;
  name: string;
  color: string;
  dashed: boolean;
  dots: boolean;
  data: readonly object[];
  dataKey: string;
}

export function ChartCard(props: {
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

export const seriesOf = (charted: Charted[], count: (r: RunView) => number): Record<string, number> =>
  Object.fromEntries(charted.map((c) => [c.name, count(c.run)]));

export const fmtDurationTick = (v: number): string => fmtDuration(v);
export const fmtPercent = (v: unknown): string => (typeof v === 'number' ? `${fmt(v, 1)}%` : String(v));

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
export const Plot = memo(function Plot(p: PlotProps): ReactNode {
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
