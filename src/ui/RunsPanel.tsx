import { useEffect, useId, useState, type ReactNode } from 'react';
import { isRunActive, useUiStore, type RunSummary } from './store';
import type { DamagedRun } from '../worker/protocol';
import { formatBytes } from '../model/limits';
import { useClient } from './context';
import { fmt, fmtDuration, fmtInt } from './format';

function RunItem({ run }: { run: RunSummary }): ReactNode {
  const client = useClient();
  const opened = useUiStore((s) => s.openedRunId === run.id);
  const opening = useUiStore((s) => s.openingRunId === run.id);
  const exporting = useUiStore((s) => s.exportingRunId === run.id);
  const live = useUiStore((s) => s.runs[run.id]?.live === true);
  const busy = useUiStore((s) => isRunActive(s.status));
  const [confirming, setConfirming] = useState(false);
  const [renaming, setRenaming] = useState<string | null>(null);
  const titleId = useId();
  const nameId = useId();
  const resumable =
    run.checkpointStep !== null && !live && (run.state === 'stopped' || run.state === 'paused');
  const created = new Date(run.createdAt);
  return (
    <li data-run-id={run.id} className="run-item" aria-labelledby={titleId}>
      <div className="run-main">
        <h3 id={titleId}>
          {run.label} <span className="run-state">{run.state}</span>
          {opened && <span className="run-tag">open</span>}
        </h3>
        {renaming !== null && (
          <form
            className="run-rename"
            onSubmit={(e) => {
              e.preventDefault();
              if (renaming.trim()) client.renameRun(run.id, renaming.trim());
              setRenaming(null);
            }}
          >
            <label htmlFor={nameId}>New name</label>
            <input
              id={nameId}
              value={renaming}
              maxLength={200}
              onChange={(e) => setRenaming(e.target.value)}
            />
            <button type="submit" disabled={!renaming.trim()}>
              Save
            </button>
            <button type="button" onClick={() => setRenaming(null)}>
              Cancel
            </button>
          </form>
        )}
        <p className="run-meta">
          {run.dataset}
          {run.encoder && !run.dataset.includes(run.encoder) ? ` (${run.encoder})` : ''} · {run.measure} ·
          hidden {run.hiddenDim} · {fmtInt(run.step)} steps · {fmtDuration(run.seconds)} · best R-sum{' '}
          {fmt(run.bestRsum, 1)}
          {Number.isNaN(created.getTime()) ? '' : ` · ${created.toLocaleString()}`}
          {run.checkpointStep !== null ? ` · checkpoint at step ${fmtInt(run.checkpointStep)}` : ''}
        </p>
      </div>
      <div className="run-actions" role="group" aria-label={`Actions for ${run.label} (${run.id})`}>
        <button type="button" disabled={opening || (opened && !live)} onClick={() => client.openRun(run.id)}>
          {opening ? 'Opening…' : 'Open'}
        </button>
        <button type="button" disabled={exporting} onClick={() => client.exportRun(run.id)}>
          {exporting ? 'Exporting…' : 'Export'}
        </button>
        {resumable && (
          <button
            type="button"
            disabled={busy}
            title={busy ? 'Reset the current training first' : undefined}
            onClick={() => client.resumeRun(run.id)}
          >
            Resume
          </button>
        )}
        <button type="button" disabled={renaming !== null} onClick={() => setRenaming(run.label)}>
          Rename
        </button>
        {confirming ? (
          <>
            <button
              type="button"
              className="danger"
              onClick={() => {
                setConfirming(false);
                client.deleteRun(run.id);
              }}
            >
              Delete for good
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              Keep
            </button>
          </>
        ) : (
          <button type="button" disabled={live} onClick={() => setConfirming(true)}>
            Delete
          </button>
        )}
      </div>
    </li>
  );
}

/** A stored record that failed validation: its reason, and Export (as it is) and Delete. */
function DamagedItem({ run }: { run: DamagedRun }): ReactNode {
  const client = useClient();
  const exporting = useUiStore((s) => s.exportingRunId === run.id);
  const [confirming, setConfirming] = useState(false);
  const titleId = useId();
  return (
    <li data-damaged-id={run.id} className="run-item run-damaged" aria-labelledby={titleId}>
      <div className="run-main">
        <h3 id={titleId}>
          {run.id} <span className="run-state">damaged</span>
        </h3>
        <p className="run-meta">{run.reason}</p>
      </div>
      <div className="run-actions" role="group" aria-label={`Actions for the damaged record ${run.id}`}>
        <button type="button" disabled={exporting} onClick={() => client.exportRun(run.id)}>
          {exporting ? 'Exporting…' : 'Export as it is'}
        </button>
        {confirming ? (
          <>
            <button
              type="button"
              className="danger"
              onClick={() => {
                setConfirming(false);
                client.deleteRun(run.id);
              }}
            >
              Delete for good
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              Keep
            </button>
          </>
        ) : (
          <button type="button" onClick={() => setConfirming(true)}>
            Delete
          </button>
        )}
      </div>
    </li>
  );
}

/** Asks the browser once to keep this site's storage under pressure (a window-only API). */
let persistAsked = false;
function askPersistentStorage(): void {
  if (persistAsked) return;
  persistAsked = true;
  const storage = globalThis.navigator?.storage;
  void storage?.persist?.().catch(() => false);
}

/** Stored runs (IndexedDB, kept by the worker): open, export as .zip, import, delete. */
export function RunsPanel(): ReactNode {
  const client = useClient();
  const stored = useUiStore((s) => s.stored);
  const loaded = useUiStore((s) => s.runsLoaded);
  const error = useUiStore((s) => s.runsError);
  const importing = useUiStore((s) => s.importing);
  const damaged = useUiStore((s) => s.damagedRuns);
  const use = useUiStore((s) => s.storageUse);
  const importId = useId();
  useEffect(askPersistentStorage, []);
  return (
    <div className="panel-stack">
      <section className="panel" aria-labelledby="runs-title">
        <h2 id="runs-title">Stored runs</h2>
        <p className="hint">
          Every run is saved in this browser. Open one to draw its curves and query it; Export downloads one
          .zip (config.json, codec.json, weights.json, weights.bin, metrics.json) that{' '}
          <code>npm run evaluate -- --model</code> reads once unzipped into a folder.
        </p>
        {error && (
          <p className="field-error" role="alert" data-testid="runs-error">
            {error}
          </p>
        )}
        {use && use.quotaBytes > 0 && (
          <p className="hint" data-testid="storage-use">
            Storage: {formatBytes(use.usedBytes)} used of {formatBytes(use.quotaBytes)} available to this site
            {use.persisted ? ' (persistent)' : ' (the browser may clear it when space runs low)'}.
          </p>
        )}
        {!loaded ? (
          <p className="hint">Loading the list…</p>
        ) : stored.length === 0 && damaged.length === 0 ? (
          <p className="hint">No stored runs yet.</p>
        ) : null}
        <ul className="runs-list" data-testid="runs-list">
          {stored.map((r) => (
            <RunItem key={r.id} run={r} />
          ))}
          {damaged.map((r) => (
            <DamagedItem key={r.id} run={r} />
          ))}
        </ul>
      </section>
      <section className="panel" aria-labelledby={`${importId}-title`}>
        <h2 id={`${importId}-title`}>Import a run</h2>
        <div className="field">
          <label htmlFor={importId}>
            Run .zip, or its files (config.json, codec.json, weights.json, weights.bin, metrics.json)
          </label>
          <input
            id={importId}
            type="file"
            multiple
            accept=".zip,.json,.bin,application/zip"
            disabled={importing}
            onChange={(e) => {
              const files = Array.from(e.target.files ?? []);
              e.target.value = '';
              if (files.length > 0) void client.importFiles(files);
            }}
          />
        </div>
        {importing && <p className="hint">Importing…</p>}
      </section>
    </div>
  );
}
