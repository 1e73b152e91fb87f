import type { ReactNode } from 'react';
import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import { useUiStore, type LossRow, type MetricRow } from './store';
import { fmt, fmtAuto, fmtInt, fmtTick } from './format';

const CHART_STYLE = { width: '100%', height: 260 } as const;
const MARGIN = { top: 8, right: 16, bottom: 4, left: 0 };
const AXIS_TICK = { fill: 'var(--muted)', fontSize: 12 };
const TOOLTIP_STYLE = {
  background: 'var(--surface)',
  border: '1px solid var(--border)',
  borderRadius: 8,
  color: 'var(--text)',
};

const fmtTooltip = (value: unknown): string => (typeof value === 'number' ? fmtAuto(value) : String(value));
const fmtStepLabel = (label: unknown): string => `step ${fmtInt(Number(label))}`;

/** Upper bound of the R@1 axis: the next multiple of 10 above the data, at least 10, at most 100. */
export const recallAxisMax = (max: number): number =>
  Math.min(100, Math.max(10, Math.ceil((Number.isFinite(max) ? max : 0) / 10) * 10));

function ChartCard(props: {
  title: string;
  testId: string;
  points: number;
  summary: string;
  empty: string;
  children: ReactNode;
}): ReactNode {
  return (
    <figure
      className="panel chart"
      data-testid={props.testId}
      data-points={props.points}
      aria-label={`${props.title}. ${props.summary}`}
    >
      <figcaption>
        <h2>{props.title}</h2>
        <span className="chart-summary">{props.summary}</span>
      </figcaption>
      {props.points === 0 ? <p className="chart-empty">{props.empty}</p> : props.children}
    </figure>
  );
}

export function LossChart(): ReactNode {
  const data: LossRow[] = useUiStore((s) => s.loss);
  const last = data.at(-1);
  return (
    <ChartCard
      title="Training loss"
      testId="loss-chart"
      points={data.length}
      summary={last ? `${fmtAuto(last.smooth)} (smoothed) at step ${fmtInt(last.step)}` : 'no data yet'}
      empty="Press Start to train; the loss appears here as it runs."
    >
      <LineChart responsive style={CHART_STYLE} data={data} margin={MARGIN}>
        <CartesianGrid stroke="var(--grid)" strokeDasharray="3 3" />
        <XAxis dataKey="step" type="number" domain={['dataMin', 'dataMax']} tick={AXIS_TICK} />
        <YAxis tick={AXIS_TICK} width={52} tickFormatter={fmtTick} />
        <Tooltip contentStyle={TOOLTIP_STYLE} formatter={fmtTooltip} labelFormatter={fmtStepLabel} />
        <Legend />
        <Line
          name="loss"
          dataKey="loss"
          stroke="var(--series-raw)"
          strokeWidth={1}
          dot={false}
          isAnimationActive={false}
        />
        <Line
          name="smoothed"
          dataKey="smooth"
          stroke="var(--series-main)"
          strokeWidth={2.5}
          dot={false}
          isAnimationActive={false}
        />
      </LineChart>
    </ChartCard>
  );
}

export function RecallChart(): ReactNode {
  const data: MetricRow[] = useUiStore((s) => s.metrics);
  const split = useUiStore((s) => s.run?.evalSplit ?? 'dev');
  const last = data.at(-1);
  return (
    <ChartCard
      title={`R@1 on ${split} (%)`}
      testId="recall-chart"
      points={data.length}
      summary={
        last
          ? `image→text ${fmt(last.i2tR1, 1)}, text→image ${fmt(last.t2iR1, 1)} at step ${fmtInt(last.step)}`
          : 'no data yet'
      }
      empty="Retrieval recall is evaluated at the start and every few dozen steps."
    >
      <LineChart responsive style={CHART_STYLE} data={data} margin={MARGIN}>
        <CartesianGrid stroke="var(--grid)" strokeDasharray="3 3" />
        <XAxis dataKey="step" type="number" domain={['dataMin', 'dataMax']} tick={AXIS_TICK} />
        <YAxis tick={AXIS_TICK} width={52} domain={[0, recallAxisMax]} />
        <Tooltip
          contentStyle={TOOLTIP_STYLE}
          formatter={(v: unknown) => (typeof v === 'number' ? `${fmt(v, 1)}%` : String(v))}
          labelFormatter={fmtStepLabel}
        />
        <Legend />
        <Line
          name="image → text"
          dataKey="i2tR1"
          stroke="var(--series-i2t)"
          strokeWidth={2.5}
          dot={{ r: 2.5 }}
          isAnimationActive={false}
        />
        <Line
          name="text → image"
          dataKey="t2iR1"
          stroke="var(--series-t2i)"
          strokeWidth={2.5}
          strokeDasharray="6 3"
          dot={{ r: 2.5 }}
          isAnimationActive={false}
        />
      </LineChart>
    </ChartCard>
  );
}
