// @vitest-environment jsdom
import '@testing-library/jest-dom/vitest';
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { App } from '../../src/ui/App';
import type { ClientOptions } from '../../src/ui/client';
import { initialState, useUiStore } from '../../src/ui/store';
import type { WorkerEvent } from '../../src/worker/protocol';
import { FakeWorker, LOADED, STARTED2, metricsEvent, progress, storedRun } from './fake-worker';

let workers: FakeWorker[];
const spawn = () => {
  const w = new FakeWorker('wasm');
  workers.push(w);
  return w;
};
const wasmPath = () => 'http://127.0.0.1:5173/tfjs-wasm/';
const options: ClientOptions = { save: () => undefined };
const current = () => workers.at(-1)!;
const emit = (...events: WorkerEvent[]) =>
  act(() => {
    for (const e of events) current().emit(e);
  });
const series = (testId: string) => JSON.parse(screen.getByTestId(testId).getAttribute('data-series') ?? '{}');

beforeEach(() => {
  workers = [];
  useUiStore.setState(initialState());
  history.replaceState(null, '', '/');
});
afterEach(cleanup);

async function renderLoaded() {
  render(<App spawn={spawn} wasmPath={wasmPath} options={options} />);
  expect(await screen.findByTestId('backend')).toHaveTextContent('wasm');
  expect(screen.getByTestId('status')).toHaveTextContent('ready');
  expect(screen.getByTestId('backend-reason')).toHaveTextContent('auto: no WebGPU adapter');
  expect(screen.getByTestId('dataset-summary')).toHaveAttribute('data-loaded', 'false');
  emit(LOADED);
  expect(screen.getByTestId('dataset-summary')).toHaveAttribute('data-loaded', 'true');
  fireEvent.click(screen.getByRole('tab', { name: 'Data' }));
}

describe('App with a fake worker', () => {
  it('opens on the Start tab with the scenes loading, then shows the summary', async () => {
    render(<App spawn={spawn} wasmPath={wasmPath} options={options} />);
    await screen.findByText('wasm');
    expect(screen.getByRole('tab', { name: 'Start' })).toHaveAttribute('aria-selected', 'true');
    expect(screen.getByTestId('welcome')).toHaveTextContent(/Three things to try/);
    expect(current().types()).toEqual(['init', 'listRuns', 'loadDataset']);
    expect(screen.getByTestId('dataset-progress')).toHaveTextContent('Loading built-in scenes');
    emit({ type: 'datasetProgress', phase: 'encoding', done: 5, total: 20, imagesPerSec: 3 });
    expect(screen.getByLabelText('Dataset loading progress')).toHaveAttribute('value', '5');
    emit({ ...LOADED, dataset: { ...LOADED.dataset, warnings: ['3.jpg: not a JPEG'] } });
    const summary = screen.getByTestId('dataset-summary');
    expect(summary).toHaveTextContent('scenes-200');
    expect(summary).toHaveTextContent('1,000');
    expect(summary).toHaveTextContent('train 160 · dev 20 · test 20');
    expect(summary).toHaveTextContent('centernet-mb3');
    expect(within(summary).getByText('3.jpg: not a JPEG')).toBeInTheDocument();
    expect(screen.queryByTestId('dataset-progress')).not.toBeInTheDocument();
  });

  it('shows a dataset error visibly and keeps working', async () => {
    await renderLoaded();
    fireEvent.click(screen.getByRole('button', { name: 'Load pack' }));
    expect(current().last('loadDataset')?.[0]).toMatchObject({ kind: 'pack' });
    emit({ type: 'error', phase: 'dataset', message: 'packs/x/manifest.json: 404' });
    expect(screen.getByTestId('dataset-error')).toHaveTextContent('manifest.json: 404');
    expect(screen.getByTestId('dataset-error')).toHaveAttribute('role', 'alert');
    expect(screen.getByTestId('dataset-summary')).toHaveTextContent('scenes-200');
    fireEvent.click(screen.getByRole('tab', { name: 'Train' }));
    expect(screen.getByRole('button', { name: 'Start' })).toBeEnabled();
  });

  it('switches tabs with the arrow keys', async () => {
    await renderLoaded();
    const data = screen.getByRole('tab', { name: 'Data' });
    data.focus();
    fireEvent.keyDown(data, { key: 'ArrowRight' });
    const train = screen.getByRole('tab', { name: 'Train' });
    expect(train).toHaveAttribute('aria-selected', 'true');
    expect(train).toHaveFocus();
    expect(screen.getByRole('tabpanel', { name: 'Train' })).toBeVisible();
    fireEvent.keyDown(train, { key: 'End' });
    expect(screen.getByRole('tab', { name: 'Hierarchy' })).toHaveFocus();
    fireEvent.keyDown(screen.getByRole('tab', { name: 'Hierarchy' }), { key: 'ArrowRight' });
    expect(screen.getByRole('tab', { name: 'Start' })).toHaveAttribute('aria-selected', 'true');
    expect(location.hash).toBe('#start');
  });

  it('compares LN on/off and streams both runs into the charts', async () => {
    await renderLoaded();
    fireEvent.click(screen.getByRole('tab', { name: 'Train' }));
    fireEvent.click(screen.getByRole('button', { name: 'Compare LN on/off' }));
    const [start] = current().last('start')!;
    expect(start.runs.map((r) => r.label)).toEqual(['LN-GRU', 'GRU']);
    expect(screen.getByTestId('status')).toHaveTextContent('starting');

    emit(STARTED2, metricsEvent('ln-1', 0, 1), metricsEvent('gru-1', 0, 1));
    expect(screen.getByTestId('status')).toHaveTextContent('running');
    emit(
      progress('ln-1', 1, [2, 1.8, 1.6]),
      progress('gru-1', 1, [2.2, 2.1]),
      metricsEvent('ln-1', 25, 10),
      metricsEvent('gru-1', 25, 8),
    );
    expect(series('chart-loss')).toEqual({ 'LN-GRU': 3, GRU: 2 });
    expect(series('chart-recall-step')).toEqual({ 'LN-GRU': 2, GRU: 2 });
    expect(series('chart-recall-time')).toEqual({ 'LN-GRU': 2, GRU: 2 });
    expect(series('chart-throughput')).toEqual({ 'LN-GRU': 1, GRU: 1 });
    expect(screen.getByTestId('chart-loss')).toHaveAttribute('data-points', '5');
    const stats = screen.getByTestId('run-stats');
    expect(within(stats).getAllByRole('row')).toHaveLength(3);

    // The form is locked while training.
    expect(screen.getByLabelText('Hidden size')).toBeDisabled();
    expect(screen.getByLabelText('Backend')).toBeDisabled();

    fireEvent.click(screen.getByRole('button', { name: 'Pause' }));
    expect(current().types().at(-1)).toBe('pause');
    // Answered at once, before the worker's 'paused': 'pausing', Pause greyed, the reason said.
    expect(screen.getByTestId('status')).toHaveTextContent('pausing');
    expect(screen.getByRole('button', { name: 'Pause' })).toBeDisabled();
    expect(screen.getByTestId('pausing-note')).toHaveTextContent(
      /step in progress stops within about a second, unapplied/,
    );
    emit(progress('ln-1', 3, [1.4]));
    expect(screen.getByTestId('status')).toHaveTextContent('pausing');
    emit({ type: 'paused', step: 3 });
    expect(screen.getByTestId('status')).toHaveTextContent('paused');
    expect(screen.queryByTestId('pausing-note')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Resume' }));
    expect(current().types().at(-1)).toBe('resume');
    emit({ type: 'resumed', step: 3 });

    fireEvent.click(screen.getByRole('button', { name: 'Reset' }));
    expect(current().types().at(-1)).toBe('reset');
    emit({ type: 'reset' });
    expect(screen.getByTestId('status')).toHaveTextContent('ready');
    expect(series('chart-loss')).toEqual({ 'LN-GRU': 3, GRU: 2 }); // the curves stay until the next start
  });

  it('validates the form and shows the messages', async () => {
    await renderLoaded();
    fireEvent.click(screen.getByRole('tab', { name: 'Train' }));
    fireEvent.change(screen.getByLabelText('Learning rate'), { target: { value: '' } });
    fireEvent.change(screen.getByLabelText('Batch size'), { target: { value: '2.5' } });
    fireEvent.click(screen.getByRole('button', { name: 'Start' }));
    expect(current().types()).not.toContain('start');
    expect(screen.getByLabelText('Learning rate')).toHaveAccessibleDescription('Required.');
    expect(screen.getByLabelText('Batch size')).toHaveAccessibleDescription('Must be a whole number.');
    expect(screen.getByLabelText('Batch size')).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByText('Fix the highlighted fields to start.')).toHaveAttribute('role', 'alert');
  });

  it('enables the max-violation warm-up only with the max-violation box, and sends it with dropout', async () => {
    await renderLoaded();
    fireEvent.click(screen.getByRole('tab', { name: 'Train' }));
    const after = screen.getByLabelText('Max-violation after (steps)');
    expect(after).toBeDisabled();
    fireEvent.click(screen.getByLabelText('Max-violation loss'));
    expect(after).toBeEnabled();
    fireEvent.change(after, { target: { value: '300' } });
    fireEvent.change(screen.getByLabelText('Dropout'), { target: { value: '0.1' } });
    fireEvent.click(screen.getByRole('button', { name: 'Start' }));
    const [start] = current().last('start')!;
    expect(start.runs[0]).toMatchObject({
      model: { maxViolation: false },
      train: { maxViolationStep: 300, dropout: 0.1 },
    });
  });

  it('offers the learning-rate warm-up: a message naming the field, then sent with the run', async () => {
    await renderLoaded();
    fireEvent.click(screen.getByRole('tab', { name: 'Train' }));
    const warmup = screen.getByLabelText('Warm-up (steps)');
    expect(warmup).toHaveValue(0);
    expect(warmup).toHaveAccessibleDescription(/grows linearly .* 0: none\./);
    fireEvent.change(warmup, { target: { value: '-5' } });
    fireEvent.click(screen.getByRole('button', { name: 'Start' }));
    expect(current().types()).not.toContain('start');
    expect(warmup).toHaveAccessibleDescription(
      /^Warm-up \(steps\) must be a whole number from 0 to \d+, got -5\./,
    );
    expect(warmup).toHaveAttribute('aria-invalid', 'true');
    fireEvent.change(warmup, { target: { value: '400' } });
    fireEvent.click(screen.getByRole('button', { name: 'Start' }));
    expect(current().last('start')![0].runs[0]!.train).toMatchObject({ warmupSteps: 400 });
  });

  it('shows a crash, restarts by itself, keeps the charts, then offers Restart', async () => {
    await renderLoaded();
    fireEvent.click(screen.getByRole('tab', { name: 'Train' }));
    fireEvent.click(screen.getByRole('button', { name: 'Start' }));
    emit(STARTED2, progress('ln-1', 1, [2, 1.5]));
    act(() => current().crash('wasm memory exhausted'));
    expect(workers).toHaveLength(2);
    const banner = screen.getByTestId('crash-banner');
    expect(banner).toHaveAttribute('role', 'alert');
    expect(banner).toHaveTextContent('wasm memory exhausted');
    expect(banner).toHaveTextContent('A fresh worker was started');
    await screen.findByText('ready', { selector: '[data-testid="status"]' });
    expect(series('chart-loss')).toEqual({ 'LN-GRU': 2, GRU: 0 });
    expect(current().types()).toEqual(['init', 'listRuns', 'loadDataset']);

    act(() => current().crash('again'));
    expect(screen.getByTestId('status')).toHaveTextContent('crashed');
    fireEvent.click(screen.getByRole('button', { name: 'Restart worker' }));
    expect(workers).toHaveLength(3);
    await screen.findByText('ready', { selector: '[data-testid="status"]' });
    expect(screen.queryByTestId('crash-banner')).not.toBeInTheDocument();
  });

  it('shows worker errors and notices, each dismissible', async () => {
    await renderLoaded();
    emit(
      { type: 'error', phase: 'eval', message: 'out of memory' },
      { type: 'notice', message: 'WebGPU device lost; fell back to wasm' },
    );
    expect(screen.getByRole('alert')).toHaveTextContent('eval failed: out of memory');
    expect(screen.getByText('WebGPU device lost; fell back to wasm')).toBeInTheDocument();
    fireEvent.click(screen.getByRole('button', { name: 'Dismiss: eval failed: out of memory' }));
    fireEvent.click(screen.getByRole('button', { name: /Dismiss notice/ }));
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    expect(screen.queryByText('WebGPU device lost; fell back to wasm')).not.toBeInTheDocument();
  });

  it('lists stored runs and draws an opened one', async () => {
    await renderLoaded();
    emit({
      type: 'runs',
      runs: [storedRun('old-1', 'LN-GRU'), storedRun('old-2', 'GRU', { state: 'stopped' })],
    });
    fireEvent.click(screen.getByRole('tab', { name: 'Runs' }));
    const items = within(screen.getByTestId('runs-list')).getAllByRole('listitem');
    expect(items.map((li) => li.getAttribute('data-run-id'))).toEqual(['old-1', 'old-2']);
    expect(items[0]).toHaveTextContent('best R-sum 120.0');
    expect(items[1]).toHaveTextContent('stopped');
    fireEvent.click(within(items[0]!).getByRole('button', { name: 'Open' }));
    expect(current().last('openRun')).toEqual(['old-1']);
    emit({ type: 'runOpened', run: storedRun('old-1', 'LN-GRU') });
    expect(series('chart-loss')).toEqual({ 'LN-GRU': 3 });
    expect(series('chart-recall-step')).toEqual({ 'LN-GRU': 2 });
  });

  it('resumes, renames and lists damaged runs; says when charted runs are of different datasets', async () => {
    await renderLoaded();
    emit({
      type: 'runs',
      runs: [
        storedRun('cut-1', 'LN-GRU, scenes-200, 10:00', { state: 'stopped', checkpointStep: 120 }),
        storedRun('other-1', 'GRU, flickr8k, 09:00', { dataset: 'flickr8k' }),
      ],
      damaged: [
        { id: 'bad-1', reason: 'run bad-1: step: expected a whole number from 0 to 10000000, got "40"' },
      ],
    });
    fireEvent.click(screen.getByRole('tab', { name: 'Runs' }));
    const items = within(screen.getByTestId('runs-list')).getAllByRole('listitem');
    expect(items).toHaveLength(3);
    expect(items[0]).toHaveTextContent('checkpoint at step 120');
    expect(items[2]).toHaveTextContent(/damaged.*got "40"/);
    // Only a run cut off with a checkpoint can be resumed.
    expect(within(items[1]!).queryByRole('button', { name: 'Resume' })).toBeNull();
    fireEvent.click(within(items[0]!).getByRole('button', { name: 'Resume' }));
    expect(current().last('resumeRun')).toEqual(['cut-1']);
    fireEvent.click(within(items[1]!).getByRole('button', { name: 'Rename' }));
    fireEvent.change(within(items[1]!).getByLabelText('New name'), { target: { value: 'my GRU' } });
    fireEvent.click(within(items[1]!).getByRole('button', { name: 'Save' }));
    expect(current().last('renameRun')).toEqual(['other-1', 'my GRU']);
    fireEvent.click(within(items[2]!).getByRole('button', { name: 'Export as it is' }));
    expect(current().last('exportRun')).toEqual(['bad-1']);
    emit({ type: 'runOpened', run: storedRun('cut-1', 'LN-GRU, scenes-200, 10:00') });
    expect(screen.queryByTestId('charts-datasets')).toBeNull();
    emit({ type: 'runOpened', run: storedRun('other-1', 'GRU, flickr8k, 09:00', { dataset: 'flickr8k' }) });
    expect(screen.getByTestId('charts-datasets')).toHaveTextContent(
      /different datasets .*scenes-200.*flickr8k.*not\s+comparable/,
    );
  });

  it('switching the backend restarts the worker with it', async () => {
    await renderLoaded();
    fireEvent.change(screen.getByLabelText('Backend'), { target: { value: 'cpu' } });
    expect(workers).toHaveLength(2);
    expect(workers[0]!.terminated).toBe(true);
    expect(current().calls[0]?.slice(0, 2)).toEqual(['init', 'cpu']);
  });

  it('terminates the worker on unmount', async () => {
    await renderLoaded();
    cleanup();
    expect(current().terminated).toBe(true);
  });
});
