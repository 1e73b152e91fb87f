/**
 * Hierarchy mode: pick a WordNet noun subtree, train 2-D order embeddings of it live in the worker and
 * watch the partial order appear (src/ui/hierarchy/HierarchyView.tsx draws it).
 */
import { useId, useMemo, useState, type ReactNode } from 'react';
import { useClient } from './context';
import { HierarchyView, type HierarchyPoint } from './hierarchy/HierarchyView';
import { useUiStore } from './store';
import { fmtInt } from './format';

export const DEFAULT_HIERARCHY_ROOT = 'mammal.n.01';

export function HierarchyPanel(): ReactNode {
  const client = useClient();
  const h = useUiStore((s) => s.hierarchy);
  const ready = useUiStore((s) => s.backend !== null);
  const [root, setRoot] = useState(DEFAULT_HIERARCHY_ROOT);
  const inputId = useId();

  const points: HierarchyPoint[] = useMemo(() => {
    const xy = h.xy;
    if (!xy || xy.length !== 2 * h.names.length) return [];
    return h.names.map((name, id) => ({ id, name, x: xy[2 * id], y: xy[2 * id + 1] }));
  }, [h.xy, h.names]);

  const busy = h.status === 'loading' || h.status === 'training';
  return (
    <div className="hierarchy">
      <section className="panel" aria-labelledby="hierarchy-title">
        <h2 id="hierarchy-title">WordNet hierarchy</h2>
        <p className="hint">
          Order embeddings of a WordNet noun subtree in two dimensions, trained live: &ldquo;x is a y&rdquo;
          holds when x lies above and to the right of y (the more general node is nearer the origin). The same
          energy as for images and captions, E(x, y) = ||max(0, y − x)||².
        </p>
        <label htmlFor={inputId}>Subtree root (synset)</label>
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            client.startHierarchy(root);
          }}
        >
          <input
            id={inputId}
            value={root}
            spellCheck={false}
            onChange={(e) => setRoot(e.target.value)}
            placeholder="mammal.n.01"
          />
          <button type="submit" className="primary" disabled={!ready || h.status === 'loading'}>
            Train hierarchy
          </button>
          <button type="button" disabled={!busy} onClick={() => client.stopHierarchy()}>
            Stop
          </button>
        </form>
        {h.error && (
          <p className="field-error" role="alert">
            {h.error}
          </p>
        )}
        <p className="status-line" data-testid="hierarchy-status" data-step={h.step}>
          {h.status === 'idle' && 'Not started.'}
          {h.status === 'loading' && `Reading WordNet and building the subtree of ${h.root ?? ''}…`}
          {(h.status === 'training' || h.status === 'stopped') &&
            `${h.root}: ${fmtInt(h.names.length)} nodes, ${fmtInt(h.pairs)} is-a pairs (${h.source}); step ${fmtInt(h.step)}, ` +
              `${fmtInt(h.violations)} pairs still out of order${h.status === 'stopped' ? ' (stopped)' : ''}.`}
        </p>
      </section>
      {points.length > 0 && (
        <HierarchyView
          points={points}
          ancestors={(id) => h.ancestors[id] ?? []}
          descendants={(id) => h.descendants[id] ?? []}
          edges={h.edges}
          title={`${h.root}: order embeddings (2-D)`}
        />
      )}
    </div>
  );
}
