// @vitest-environment jsdom
import '@testing-library/jest-dom/vitest';
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { App } from '../../src/ui/App';
import { initialState, useUiStore } from '../../src/ui/store';
import { FakeWorker, STARTED, metrics } from './fake-worker';

let workers: FakeWorker[];
let autoReady: string | null;
const spawn = () => {
  const w = new FakeWorker(autoReady);
  workers.push(w);
  return w;
};
const wasmPath = () => 'http://127.0.0.1:5173/tfjs-wasm/';
const current = () => {
  const w = workers.at(-1);
  if (!w) throw new Error('no worker spawned');
  return w;
};
const emit = (...events: Parameters<FakeWorker['emit']>[0][]) =>
  act(() => {
    for (const e of events) current().emit(e);
  });

beforeEach(() => {
  workers = [];
  autoReady = 'wasm';
  useUiStore.setState(initialState());
});
afterEach(cleanup);

async function renderReady() {
  render(<App spawn={spawn} wasmPath={wasmPath} />);
  expect(await screen.findByTestId('backend')).toHaveTextContent('wasm');
  expect(screen.getByTestId('status')).toHaveTextContent('Ready');
}

describe('App with a fake worker', () => {
  it('initialises the worker with the default backend and wasm path', async () => {
    await renderReady();
    expect(current().sent[0]).toEqual({ type: 'init', backend: 'wasm', wasmPath: wasmPath() });
  });

  it('starts a run from the form and charts progress and metrics', async () => {
    await renderReady();
    fireEvent.change(screen.getByLabelText('Batch size'), { target: { value: '16' } });
    fireEvent.click(screen.getByRole('radio', { name: 'Cosine' }));
    fireEvent.click(screen.getByRole('button', { name: 'Start' }));

    const start = current().sent.at(-1);
    expect(start?.type).toBe('start');
    if (start?.type !== 'start') return;
    expect(start.config.train.batchSize).toBe(16);
    expect(start.config.model.measure).toBe('cosine');
    expect(screen.getByTestId('status')).toHaveTextContent('Building model');

    emit(STARTED, { type: 'metrics', step: 0, split: 'dev', metrics: metrics(1), ms: 2 });
    expect(screen.getByTestId('status')).toHaveTextContent('Training');
    expect(screen.getByTestId('run-info')).toHaveTextContent('synthetic: 200 images, 1,000 captions');
    expect(screen.getByTestId('loss-chart')).toHaveAttribute('data-points', '0');
    expect(screen.getByTestId('recall-chart')).toHaveAttribute('data-points', '1');

    emit({
      type: 'progress',
      step: 3,
      epoch: 0,
      loss: 1.25,
      gradNorm: 1,
      pairsPerSec: 1234,
      points: [
        { step: 1, loss: 2 },
        { step: 2, loss: 1.5 },
        { step: 3, loss: 1.25 },
      ],
    });
    expect(screen.getByTestId('loss-chart')).toHaveAttribute('data-points', '3');
    expect(screen.getByText('1,234')).toBeInTheDocument(); // pairs/s

    fireEvent.click(screen.getByRole('button', { name: 'Pause' }));
    expect(current().types().at(-1)).toBe('pause');
    emit({ type: 'paused', step: 3 });
    expect(screen.getByTestId('status')).toHaveTextContent('Paused');
    expect(screen.getByLabelText('Batch size')).toBeDisabled();

    fireEvent.click(screen.getByRole('button', { name: 'Reset' }));
    expect(current().types().at(-1)).toBe('reset');
    emit({ type: 'reset' });
    expect(screen.getByTestId('status')).toHaveTextContent('Ready');
    expect(screen.getByTestId('loss-chart')).toHaveAttribute('data-points', '0');
  });

  it('does not send start with an invalid form', async () => {
    await renderReady();
    fireEvent.change(screen.getByLabelText('Learning rate'), { target: { value: '' } });
    fireEvent.click(screen.getByRole('button', { name: 'Start' }));
    expect(current().types()).toEqual(['init']);
    expect(screen.getByLabelText('Learning rate')).toHaveAccessibleDescription('Required.');
  });

  it('shows a crash and restarts a fresh worker', async () => {
    await renderReady();
    act(() => current().crash('wasm memory exhausted'));
    expect(screen.getByRole('alert')).toHaveTextContent('wasm memory exhausted');
    expect(screen.getByTestId('status')).toHaveTextContent('Worker crashed');
    expect(screen.getByRole('button', { name: 'Start' })).toBeDisabled();

    const dead = current();
    fireEvent.click(screen.getByRole('button', { name: 'Restart worker' }));
    expect(dead.terminated).toBe(true);
    expect(workers).toHaveLength(2);
    expect(await screen.findByText('Ready')).toBeInTheDocument();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();

    // Late events from the dead worker are ignored.
    act(() => dead.emit({ type: 'error', phase: 'train', message: 'ghost' }));
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('shows worker-reported errors and lets the user dismiss them', async () => {
    await renderReady();
    fireEvent.click(screen.getByRole('button', { name: 'Start' }));
    emit({ type: 'error', phase: 'start', message: 'hidden size too large' });
    expect(screen.getByRole('alert')).toHaveTextContent('start failed: hidden size too large');
    fireEvent.click(screen.getByRole('button', { name: 'Dismiss' }));
    expect(current().types().at(-1)).toBe('reset');
    emit({ type: 'reset' });
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('switching backend restarts the worker with the new backend', async () => {
    await renderReady();
    autoReady = 'cpu';
    fireEvent.change(screen.getByLabelText('Backend'), { target: { value: 'cpu' } });
    expect(workers).toHaveLength(2);
    expect(workers[0]?.terminated).toBe(true);
    expect(current().sent[0]).toMatchObject({ type: 'init', backend: 'cpu' });
    expect(await screen.findByText('cpu')).toBeInTheDocument();
  });

  it('terminates the worker on unmount', async () => {
    await renderReady();
    cleanup();
    expect(current().terminated).toBe(true);
  });
});
