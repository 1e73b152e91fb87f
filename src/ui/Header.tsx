import type { ReactNode } from 'react';
import { useUiStore } from './store';
import { STATUS_LABEL } from './format';

export function Header(): ReactNode {
  const status = useUiStore((s) => s.status);
  const backend = useUiStore((s) => s.backend);
  const reason = useUiStore((s) => s.backendReason);
  return (
    <header className="app-header">
      <div className="brand">
        <h1>orderembed</h1>
        <p className="tagline">Order embeddings of images and captions, trained in your browser</p>
      </div>
      <div className="badges">
        <span className="badge" title={reason ?? undefined}>
          Backend: <strong data-testid="backend">{backend ?? '…'}</strong>
        </span>
        <span className={`badge status status-${status}`} role="status" data-testid="status">
          {STATUS_LABEL[status]}
        </span>
      </div>
    </header>
  );
}
