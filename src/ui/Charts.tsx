/**
 * The Train tab's charts of the charted runs (their chart rows, derived in ./store/runs.ts from the runs'
 * learning curves): the smoothed loss, recall at K against step and training time, and throughput;
 * drawn with ./ChartCard.tsx.
 */
import { useId, useMemo, useState, type ReactNode } from 'react';
import { useUiStore, type EvalRow, type RunView } from './store';
import { useThrottled } from './throttle';
import { HELP } from './retrieve/help';
import { fmt, fmtAuto, fmtInt, fmtTick } from './format';
import {
  ChartCard,
  Plot,
  fmtDurationTick,
  fmtPercent,
  fmtStepLabel,
  fmtTimeLabel,
  fmtTooltip,
  seriesOf,
  useCharted,
  type Charted,
} from './ChartCard';

/** Upper bound of a recall axis: the next multiple of 10 above the data, at least 10, at most 100. */
export const recallAxisMax = (max: number): number =>
  Math.min(100, Math.max(10, Math.ceil((Number.isFinite(max) ? max : 0) / 10) * 10));

/**
 * The charts redraw at most every REDRAW_MS, each at its own phase (see useThrottled): the legend,
 * summary and point counts above them follow the store at once.
 */
const REDRAW_MS = 500;
const PHASE = { loss: 0, recallStep: 125, recallTime: 250, throughput: 375 } as const;

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
