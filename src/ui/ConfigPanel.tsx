import { useId, type ChangeEvent, type FormEvent, type ReactNode } from 'react';
import { useUiStore, type FormValues } from './store';
import { canStart, isRunActive } from './format';
import { BACKENDS, isBackendName, type BackendName } from '../worker/protocol';

export interface ConfigPanelProps {
  onStart(): void;
  onPause(): void;
  onResume(): void;
  onReset(): void;
  onBackendChange(backend: BackendName): void;
}

const BACKEND_LABEL: Record<BackendName, string> = {
  wasm: 'WebAssembly (wasm)',
  webgpu: 'WebGPU',
  webgl: 'WebGL',
  cpu: 'Plain JS (cpu)',
};

type NumericField = 'hiddenDim' | 'batchSize' | 'learningRate' | 'seed';

function NumberField(props: {
  field: NumericField;
  label: string;
  hint?: string;
  step: string;
  min: number;
  disabled: boolean;
}): ReactNode {
  const id = useId();
  const value = useUiStore((s) => s.form[props.field]);
  const error = useUiStore((s) => s.formErrors[props.field]);
  const setField = useUiStore((s) => s.setField);
  const describedBy = [props.hint ? `${id}-hint` : '', error ? `${id}-err` : ''].filter(Boolean).join(' ');
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        name={props.field}
        type="number"
        inputMode="decimal"
        step={props.step}
        min={props.min}
        value={value}
        disabled={props.disabled}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy || undefined}
        onChange={(e: ChangeEvent<HTMLInputElement>) => setField(props.field, e.target.value)}
      />
      {props.hint && (
        <small id={`${id}-hint`} className="hint">
          {props.hint}
        </small>
      )}
      {error && (
        <small id={`${id}-err`} className="field-error">
          {error}
        </small>
      )}
    </div>
  );
}

/** Run configuration form plus the Start / Pause / Resume / Reset controls. */
export function ConfigPanel(props: ConfigPanelProps): ReactNode {
  const status = useUiStore((s) => s.status);
  const form = useUiStore((s) => s.form);
  const requestedBackend = useUiStore((s) => s.requestedBackend);
  const setField = useUiStore((s) => s.setField);
  const backendId = useId();
  const lnId = useId();

  const locked = isRunActive(status);
  const setMeasure = (measure: FormValues['measure']) => setField('measure', measure);

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (canStart(status)) props.onStart();
  };

  return (
    <form className="panel config" aria-labelledby="config-title" onSubmit={onSubmit} noValidate>
      <h2 id="config-title">Configuration</h2>
      <fieldset disabled={locked} className="fields">
        <legend className="visually-hidden">Model and training settings</legend>

        <div className="field">
          <label htmlFor={backendId}>Backend</label>
          <select
            id={backendId}
            name="backend"
            value={requestedBackend}
            aria-describedby={`${backendId}-hint`}
            onChange={(e) => {
              if (isBackendName(e.target.value)) props.onBackendChange(e.target.value);
            }}
          >
            {BACKENDS.map((b) => (
              <option key={b} value={b}>
                {BACKEND_LABEL[b]}
              </option>
            ))}
          </select>
          <small id={`${backendId}-hint`} className="hint">
            Changing it restarts the worker.
          </small>
        </div>

        <div className="field check">
          <input
            id={lnId}
            name="layerNorm"
            type="checkbox"
            checked={form.layerNorm}
            onChange={(e) => setField('layerNorm', e.target.checked)}
          />
          <label htmlFor={lnId}>Layer-normalized GRU</label>
        </div>

        <fieldset className="field radios">
          <legend>Similarity measure</legend>
          <label>
            <input
              type="radio"
              name="measure"
              value="order"
              checked={form.measure === 'order'}
              onChange={() => setMeasure('order')}
            />
            Order violation
          </label>
          <label>
            <input
              type="radio"
              name="measure"
              value="cosine"
              checked={form.measure === 'cosine'}
              onChange={() => setMeasure('cosine')}
            />
            Cosine
          </label>
        </fieldset>

        <div className="field-grid">
          <NumberField field="hiddenDim" label="Hidden size" step="1" min={4} disabled={locked} />
          <NumberField field="batchSize" label="Batch size" step="1" min={2} disabled={locked} />
          <NumberField field="learningRate" label="Learning rate" step="0.0001" min={0} disabled={locked} />
          <NumberField field="seed" label="Seed" step="1" min={0} disabled={locked} />
        </div>
      </fieldset>

      <div className="controls" role="group" aria-label="Training controls">
        <button type="submit" className="primary" disabled={!canStart(status)}>
          Start
        </button>
        <button type="button" disabled={status !== 'running'} onClick={props.onPause}>
          Pause
        </button>
        <button type="button" disabled={status !== 'paused'} onClick={props.onResume}>
          Resume
        </button>
        <button
          type="button"
          disabled={!(locked || status === 'done' || status === 'error')}
          onClick={props.onReset}
        >
          Reset
        </button>
      </div>
    </form>
  );
}
