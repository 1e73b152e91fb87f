import { useId, type ReactNode } from 'react';
import { isRunActive, useUiStore } from './store';
import { STATUS_HINT } from './format';
import { useClient } from './context';
import { usePhotosStore } from './retrieve/photos-store';
import { useRetrieveRuns } from './retrieve/useRetrieveRun';
import { BACKENDS, isBackendChoice, type BackendChoice } from '../worker/protocol';
import type { MatMulBuild } from '../model/kernels/matmul-choice';

/** Our matMul kernel's builds, in words (the thread count's tooltip). */
const MATMUL_LABEL: Record<MatMulBuild, string> = {
  relaxed: 'relaxed SIMD, fused multiply-add',
  plain: 'SIMD',
};

const BACKEND_LABEL: Record<BackendChoice, string> = {
  auto: 'Auto',
  webgpu: 'WebGPU',
  wasm: 'WebAssembly (wasm)',
  webgl: 'WebGL',
  cpu: 'Plain JS (cpu)',
};

/** Which dataset is loaded and which model the Retrieve tab asks: always in view. */
function ActiveModel(): ReactNode {
  const dataset = useUiStore((s) => s.dataset);
  const loading = useUiStore((s) => s.loading);
  const starter = usePhotosStore((s) => s.starter.state);
  const { current } = useRetrieveRuns();
  return (
    <p className="badge active-model" data-testid="active-model">
      <span>
        Dataset:{' '}
        <strong data-testid="active-dataset">{dataset?.name ?? (loading ? 'loading…' : 'none')}</strong>
      </span>{' '}
      <span>
        Model:{' '}
        <strong data-testid="active-run">
          {current?.name ??
            (starter === 'loading'
              ? 'opening the starter…'
              : starter === 'failed'
                ? 'none (the starter failed)'
                : 'none')}
        </strong>
      </span>
    </p>
  );
}

/** Title, backend choice (and the backend in use, with the reason), and the training status. */
export function Header(): ReactNode {
  const client = useClient();
  const status = useUiStore((s) => s.status);
  const backend = useUiStore((s) => s.backend);
  const reason = useUiStore((s) => s.backendReason);
  const threads = useUiStore((s) => s.backendThreads);
  const threadsWhy = useUiStore((s) => s.threadsWhy);
  const matMul = useUiStore((s) => s.backendMatMul);
  const requested = useUiStore((s) => s.requestedBackend);
  const id = useId();
  const locked = isRunActive(status);
  return (
    <header className="app-header">
      <div className="brand">
        <h1>orderembed</h1>
        <p className="tagline">Order embeddings of images and captions, trained in your browser</p>
      </div>
      <div className="header-controls">
        <div className="backend-pick">
          <label htmlFor={id}>Backend</label>
          <select
            id={id}
            value={requested}
            disabled={locked}
            aria-describedby={`${id}-hint`}
            onChange={(e) => {
              if (isBackendChoice(e.target.value)) client.setBackend(e.target.value);
            }}
          >
            {(['auto', ...BACKENDS] as const).map((b) => (
              <option key={b} value={b}>
                {BACKEND_LABEL[b]}
              </option>
            ))}
          </select>
          <span id={`${id}-hint`} className="visually-hidden">
            Changing the backend restarts the worker and reloads the dataset.
          </span>
        </div>
        <p className="badge backend-badge">
          <span>
            Using <strong data-testid="backend">{backend ?? '…'}</strong>
            {threads !== null && (
              <>
                {', '}
                <strong
                  data-testid="backend-threads"
                  data-threads={threads}
                  data-matmul={matMul ?? 'xnnpack'}
                  title={
                    matMul
                      ? `matrix products by orderembed's own WebAssembly kernel (${MATMUL_LABEL[matMul]})`
                      : "matrix products by tfjs's XNNPACK"
                  }
                >
                  {threads === 1 ? '1 thread' : `${threads} threads`}
                </strong>
              </>
            )}
          </span>
          {threadsWhy && (
            <span className="backend-reason" data-testid="threads-why" title={threadsWhy}>
              single-threaded: {threadsWhy}
            </span>
          )}
          {reason && (
            <span className="backend-reason" data-testid="backend-reason" title={reason}>
              {reason}
            </span>
          )}
        </p>
        <ActiveModel />
        <p className={`badge status status-${status}`} title={STATUS_HINT[status]}>
          <span className="visually-hidden">Status: </span>
          <span data-testid="status" role="status">
            {status}
          </span>
        </p>
      </div>
    </header>
  );
}
