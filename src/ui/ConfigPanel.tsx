import { useId, type ChangeEvent, type FormEvent, type ReactNode } from 'react';
import { canStart, isRunActive, useUiStore, type FormValues, type NumericField, type RunView } from './store';
import { useClient } from './context';
import { trainOptionEntries } from '../model/defaults';

function NumberField(props: {
  field: NumericField;
  label: string;
  hint?: string;
  step: string;
  /** Greyed out when the field has no effect (the enclosing fieldset still disables it while training). */
  disabled?: boolean;
}): ReactNode {
  const id = useId();
  const value = useUiStore((s) => s.form[props.field]);
  const error = useUiStore((s) => s.formErrors[props.field]);
  const setField = useUiStore((s) => s.setField);
  const describedBy = [error ? `${id}-err` : '', props.hint ? `${id}-hint` : ''].filter(Boolean).join(' ');
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        name={props.field}
        type="number"
        inputMode="decimal"
        step={props.step}
        value={value}
        disabled={props.disabled}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy || undefined}
        onChange={(e: ChangeEvent<HTMLInputElement>) => setField(props.field, e.target.value)}
      />
      {error && (
        <small id={`${id}-err`} className="field-error">
          {error}
        </small>
      )}
      {props.hint && (
        <small id={`${id}-hint`} className="hint">
          {props.hint}
        </small>
      )}
    </div>
  );
}

function CheckField(props: { field: 'layerNorm' | 'maxViolation'; label: string; hint?: string }): ReactNode {
  const id = useId();
  const checked = useUiStore((s) => s.form[props.field]);
  const setField = useUiStore((s) => s.setField);
  return (
    <div className="field check">
      <input
        id={id}
        name={props.field}
        type="checkbox"
        checked={checked}
        aria-describedby={props.hint ? `${id}-hint` : undefined}
        onChange={(e) => setField(props.field, e.target.checked)}
      />
      <label htmlFor={id}>{props.label}</label>
      {props.hint && (
        <small id={`${id}-hint`} className="hint check-hint">
          {props.hint}
        </small>
      )}
    </div>
  );
}

/** Model and training form plus Start / Compare / Pause / Resume / Reset. */
/**
 * Seconds one step of the live runs takes (they take turns), from their measured pairs/s; null before
 * the first measurement.
 */
export function liveStepSeconds(runs: Readonly<Record<string, RunView>>): number | null {
  let seconds = 0;
  for (const r of Object.values(runs)) {
    if (!r.live || (r.state !== 'running' && r.state !== 'paused')) continue;
    if (!(r.pairsPerSec > 0) || !r.train) return null;
    seconds += r.train.batchSize / r.pairsPerSec;
  }
  return seconds > 0 ? seconds : null;
}

/** While pausing: what happens to the step in progress (given up unapplied, taken again on Resume). */
function PausingNote(): ReactNode {
  const status = useUiStore((s) => s.status);
  const stepSeconds = useUiStore((s) => liveStepSeconds(s.runs));
  if (status !== 'pausing') return null;
  const about =
    stepSeconds !== null && stepSeconds >= 1
      ? ` (a step takes about ${stepSeconds.toFixed(0)} s at this size)`
      : '';
  return (
    <p className="hint" data-testid="pausing-note">
      Pausing: the step in progress stops within about a second, unapplied, and is taken again on Resume
      {about}.
    </p>
  );
}

export function ConfigPanel(): ReactNode {
  const client = useClient();
  const status = useUiStore((s) => s.status);
  const measure = useUiStore((s) => s.form.measure);
  const maxViolation = useUiStore((s) => s.form.maxViolation);
  const hasDataset = useUiStore((s) => s.dataset !== null);
  const startable = useUiStore(canStart);
  const setField = useUiStore((s) => s.setField);
  const hasErrors = useUiStore((s) => Object.keys(s.formErrors).length > 0);

  const locked = isRunActive(status);
  const setMeasure = (m: FormValues['measure']) => setField('measure', m);

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (startable) client.start(false);
  };

  return (
    <form className="panel config" aria-labelledby="config-title" onSubmit={onSubmit} noValidate>
      <h2 id="config-title">Model and training</h2>
      <fieldset disabled={locked} className="fields">
        <legend className="visually-hidden">Model and training settings</legend>
        <CheckField field="layerNorm" label="Layer-normalized GRU" hint="Compare runs both ways." />

        <fieldset className="field radios">
          <legend>Similarity measure</legend>
          <label>
            <input
              type="radio"
              name="measure"
              value="order"
              checked={measure === 'order'}
              onChange={() => setMeasure('order')}
            />
            Order violation
          </label>
          <label>
            <input
              type="radio"
              name="measure"
              value="cosine"
              checked={measure === 'cosine'}
              onChange={() => setMeasure('cosine')}
            />
            Cosine
          </label>
        </fieldset>

        <div className="field-grid">
          <NumberField field="wordDim" label="Word-embedding size" step="1" />
          <NumberField field="hiddenDim" label="Hidden size" step="1" />
          <NumberField
            field="margin"
            label="Margin"
            step="0.01"
            hint="0.05 for order, 0.2 for cosine. How far a matching pair must beat a non-matching one before the loss lets go."
          />
          <NumberField field="learningRate" label="Learning rate" step="0.0001" />
          <NumberField field="batchSize" label="Batch size" step="1" />
          <NumberField field="seed" label="Seed" step="1" />
        </div>
        <CheckField field="maxViolation" label="Max-violation loss" hint="Hardest negative only (VSE++)." />
        <div className="field-grid">
          <NumberField
            field="maxViolationAfter"
            label="Max-violation after (steps)"
            step="100"
            disabled={!maxViolation}
            hint="With the box above: the summed loss first. 0: from the start."
          />
          <NumberField
            field="dropout"
            label="Dropout"
            step="0.05"
            hint="On image features and word vectors while training. 0: none."
          />
        </div>

        <div className="field-grid">
          <NumberField field="evalEvery" label="Evaluate every (steps)" step="1" />
          <NumberField field="evalImages" label="Evaluation images" step="50" hint="0: the whole split." />
          <NumberField field="maxSteps" label="Stop after (steps)" step="100" hint="0: until you pause." />
          <NumberField
            field="lrDecayStep"
            label="Learning rate ÷10 after (steps)"
            step="100"
            hint="0: never (the paper's constant rate)."
          />
          {/* The TRAIN_OPTIONS table of src/model/defaults.ts: one field per entry. */}
          {trainOptionEntries().map(([k, o]) => (
            <NumberField key={k} field={k} label={o.label} step={o.step} hint={o.hint} />
          ))}
        </div>
      </fieldset>

      {hasErrors && (
        <p className="field-error" role="alert">
          Fix the highlighted fields to start.
        </p>
      )}
      {!hasDataset && <p className="hint">Training starts once a dataset is loaded (Data tab).</p>}

      <PausingNote />
      <div className="controls" role="group" aria-label="Training controls">
        <button type="submit" className="primary" disabled={!startable}>
          Start
        </button>
        <button type="button" className="primary" disabled={!startable} onClick={() => client.start(true)}>
          Compare LN on/off
        </button>
        <button type="button" disabled={status !== 'running'} onClick={() => client.pause()}>
          Pause
        </button>
        <button type="button" disabled={status !== 'paused'} onClick={() => client.resume()}>
          Resume
        </button>
        <button
          type="button"
          disabled={!(locked || status === 'done' || status === 'stopped')}
          onClick={() => client.reset()}
        >
          Reset
        </button>
        <button
          type="button"
          disabled={!(status === 'running' || status === 'paused' || status === 'done')}
          onClick={() => client.evaluate()}
        >
          Evaluate now
        </button>
      </div>
    </form>
  );
}
