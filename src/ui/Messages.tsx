import type { ReactNode } from 'react';
import { useUiStore } from './store';
import { useClient } from './context';

/** The crash banner, the worker's errors and its notices, each dismissible. */
export function Messages(): ReactNode {
  const client = useClient();
  const crash = useUiStore((s) => s.crash);
  const status = useUiStore((s) => s.status);
  const errors = useUiStore((s) => s.errors);
  const notices = useUiStore((s) => s.notices);
  const dismissCrash = useUiStore((s) => s.dismissCrash);
  const dismissError = useUiStore((s) => s.dismissError);
  const dismissNotice = useUiStore((s) => s.dismissNotice);
  const dead = status === 'crashed';
  return (
    <div className="messages">
      {crash && (
        <div className="banner error" role="alert" data-testid="crash-banner">
          <div>
            <strong>The training worker crashed.</strong>
            <p className="banner-message">{crash.message}</p>
            <p className="banner-note">
              {dead
                ? 'It was restarted once already. The charts keep the runs’ histories; restart it to go on.'
                : 'A fresh worker was started and the dataset is reloaded; the runs that were training are marked stopped.'}
            </p>
          </div>
          <div className="banner-actions">
            {dead ? (
              <button type="button" className="primary" onClick={() => client.restart()}>
                Restart worker
              </button>
            ) : (
              <button type="button" onClick={dismissCrash}>
                Dismiss
              </button>
            )}
          </div>
        </div>
      )}
      {errors.map((e) => (
        <div key={e.id} className="banner error" role="alert">
          <p className="banner-message">{e.text}</p>
          <button type="button" onClick={() => dismissError(e.id)} aria-label={`Dismiss: ${e.text}`}>
            Dismiss
          </button>
        </div>
      ))}
      <div aria-live="polite">
        {notices.length > 0 && (
          <ul className="notices" aria-label="Notices">
            {notices.map((n) => (
              <li key={n.id} className="banner info">
                <p className="banner-message">{n.text}</p>
                <button
                  type="button"
                  onClick={() => dismissNotice(n.id)}
                  aria-label={`Dismiss notice: ${n.text}`}
                >
                  Dismiss
                </button>
              </li>
            ))}
          </ul>
        )}
      </div>
    </div>
  );
}
