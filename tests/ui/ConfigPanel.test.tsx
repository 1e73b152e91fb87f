// @vitest-environment jsdom
import '@testing-library/jest-dom/vitest';
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigPanel, type ConfigPanelProps } from '../../src/ui/ConfigPanel';
import { initialState, useUiStore, type Status } from '../../src/ui/store';

function setup(status: Status = 'ready') {
  useUiStore.setState({ ...initialState(), status });
  const props: ConfigPanelProps = {
    onStart: vi.fn(),
    onPause: vi.fn(),
    onResume: vi.fn(),
    onReset: vi.fn(),
    onBackendChange: vi.fn(),
  };
  render(<ConfigPanel {...props} />);
  return props;
}

const button = (name: string) => screen.getByRole('button', { name });

beforeEach(() => useUiStore.setState(initialState()));
afterEach(cleanup);

describe('ConfigPanel', () => {
  it('labels every input', () => {
    setup();
    expect(screen.getByLabelText('Backend')).toHaveValue('wasm');
    expect(screen.getByLabelText('Layer-normalized GRU')).toBeChecked();
    expect(screen.getByRole('radio', { name: 'Order violation' })).toBeChecked();
    expect(screen.getByRole('radio', { name: 'Cosine' })).not.toBeChecked();
    expect(screen.getByRole('group', { name: 'Similarity measure' })).toBeInTheDocument();
    expect(screen.getByLabelText('Hidden size')).toHaveValue(128);
    expect(screen.getByLabelText('Batch size')).toHaveValue(64);
    expect(screen.getByLabelText('Learning rate')).toHaveValue(0.001);
    expect(screen.getByLabelText('Seed')).toHaveValue(1);
  });

  it('writes edits to the store', () => {
    setup();
    fireEvent.click(screen.getByLabelText('Layer-normalized GRU'));
    fireEvent.click(screen.getByRole('radio', { name: 'Cosine' }));
    fireEvent.change(screen.getByLabelText('Hidden size'), { target: { value: '256' } });
    fireEvent.change(screen.getByLabelText('Learning rate'), { target: { value: '0.0002' } });
    expect(useUiStore.getState().form).toMatchObject({
      layerNorm: false,
      measure: 'cosine',
      hiddenDim: '256',
      learningRate: '0.0002',
    });
  });

  it('enables only the buttons that make sense', () => {
    const cases: [Status, string[]][] = [
      ['connecting', []],
      ['ready', ['Start']],
      ['starting', ['Reset']],
      ['running', ['Pause', 'Reset']],
      ['paused', ['Resume', 'Reset']],
      ['done', ['Start', 'Reset']],
      ['error', ['Start', 'Reset']],
      ['crashed', []],
    ];
    for (const [status, enabled] of cases) {
      setup(status);
      const state = ['Start', 'Pause', 'Resume', 'Reset'].filter((n) => button(n).matches(':enabled'));
      expect(state, status).toEqual(enabled);
      cleanup();
    }
  });

  it('calls the handlers', () => {
    const props = setup('ready');
    fireEvent.click(button('Start'));
    expect(props.onStart).toHaveBeenCalledOnce();

    act(() => useUiStore.setState({ status: 'running' }));
    fireEvent.click(button('Pause'));
    expect(props.onPause).toHaveBeenCalledOnce();

    act(() => useUiStore.setState({ status: 'paused' }));
    fireEvent.click(button('Resume'));
    fireEvent.click(button('Reset'));
    expect(props.onResume).toHaveBeenCalledOnce();
    expect(props.onReset).toHaveBeenCalledOnce();
  });

  it('starts on Enter (form submit) and asks for a backend change', () => {
    const props = setup('ready');
    fireEvent.submit(screen.getByRole('form', { name: 'Configuration' }));
    expect(props.onStart).toHaveBeenCalledOnce();
    fireEvent.change(screen.getByLabelText('Backend'), { target: { value: 'webgpu' } });
    expect(props.onBackendChange).toHaveBeenCalledWith('webgpu');
  });

  it('locks the configuration while a run is active', () => {
    setup('running');
    expect(screen.getByLabelText('Hidden size')).toBeDisabled();
    expect(screen.getByLabelText('Backend')).toBeDisabled();
    expect(screen.getByRole('radio', { name: 'Cosine' })).toBeDisabled();
    fireEvent.submit(screen.getByRole('form', { name: 'Configuration' }));
  });

  it('shows field errors accessibly', () => {
    setup('ready');
    act(() => useUiStore.getState().setFormErrors({ batchSize: 'Required.' }));
    const input = screen.getByLabelText('Batch size');
    expect(input).toHaveAttribute('aria-invalid', 'true');
    expect(input).toHaveAccessibleDescription('Required.');
    fireEvent.change(input, { target: { value: '8' } });
    expect(input).not.toHaveAttribute('aria-invalid');
  });
});
