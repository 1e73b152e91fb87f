import type { ReactNode } from 'react';
import { useUiStore } from './store';

/** Shows the worker's error and a way out: reset the run, or replace a dead worker. */
export function ErrorBanner(props: { onRestart(): void; onReset(): void }): ReactNode {
  const error = useUiStore((s) => s.error);
  const status = useUiStore((s) => s.status);
  if (!error) return null;
  return (
    <div className="banner error" role="alert">
      <div>
        <strong>{status === 'crashed' ? 'The training worker stopped.' : 'Something went wrong.'}</strong>
        <p className="banner-message">{error}</p>
      </div>
      <div className="banner-actions">
        {status === 'error' && (
          <button type="button" onClick={props.onReset}>
            Dismiss
          </button>
        )}
        <button type="button" className="primary" onClick={props.onRestart}>
          Restart worker
        </button>
      </div>
    </div>
  );
}
