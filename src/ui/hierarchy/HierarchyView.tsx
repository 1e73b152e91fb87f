/**
 * 2-D order embeddings of a hierarchy as an SVG scatter (pure: all data comes in through props; the
 * worker's HierarchyTrainer, src/model/wordnet/hierarchy-trainer.ts, provides the points and lookups).
 *
 * Orientation: the usual axes, origin at the bottom left. Order embeddings put the more general node
 * nearer the origin (f(x) >= f(y) coordinate-wise when x is-a y), so "x is-a y" shows as x lying above
 * and to the right of y, and the root sits at the bottom left. The caption says so.
 *
 * Hovering a node, or focusing it (Tab into the plot, then the arrow keys, Home and End; Escape clears),
 * highlights its ancestors and descendants and lists them beside the plot.
 */
import { useId, useMemo, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import type { HierarchyPoint } from '../../model/wordnet/hierarchy-trainer';

export type { HierarchyPoint };

export interface HierarchyViewProps {
  points: readonly HierarchyPoint[];
  /** All more general nodes of a node (ids). */
  ancestors: (id: number) => readonly number[];
  /** All more specific nodes of a node (ids). */
  descendants: (id: number) => readonly number[];
  /** Direct is-a edges [child, parent], drawn faintly; optional. */
  edges?: readonly (readonly [number, number])[];
  /** Heading of the figure. */
  title?: string;
  width?: number;
  height?: number;
  /** Names listed per group before "and N more". */
  listLimit?: number;
}

const PAD = 28;
const COLORS = {
  node: 'var(--series-raw, #a8b9e6)',
  active: 'var(--series-main, #1f4fd1)',
  ancestor: 'var(--series-i2t, #c2410c)',
  descendant: 'var(--series-t2i, #0f766e)',
} as const;

type Role = 'active' | 'ancestor' | 'descendant' | 'other' | 'none';

/** Maps data coordinates to the plot: x grows to the right, y upwards, the origin always in view. */
function scales(points: readonly HierarchyPoint[], width: number, height: number) {
  let x0 = 0;
  let x1 = 0;
  let y0 = 0;
  let y1 = 0;
  for (const p of points) {
    if (Number.isFinite(p.x)) [x0, x1] = [Math.min(x0, p.x), Math.max(x1, p.x)];
    if (Number.isFinite(p.y)) [y0, y1] = [Math.min(y0, p.y), Math.max(y1, p.y)];
  }
  const sx = (width - 2 * PAD) / (x1 - x0 || 1);
  const sy = (height - 2 * PAD) / (y1 - y0 || 1);
  return {
    x: (v: number) => PAD + (v - x0) * sx,
    y: (v: number) => height - PAD - (v - y0) * sy,
    origin: { x: PAD - x0 * sx, y: height - PAD + y0 * sy },
  };
}

function NameList(props: {
  label: string;
  ids: readonly number[];
  names: Map<number, string>;
  limit: number;
}) {
  const shown = props.ids.slice(0, props.limit);
  return (
    <div className="hierarchy-list">
      <h4>
        {props.label} ({props.ids.length})
      </h4>
      {props.ids.length === 0 ? (
        <p>none</p>
      ) : (
        <ul aria-label={props.label}>
          {shown.map((id) => (
            <li key={id}>{props.names.get(id) ?? `#${id}`}</li>
          ))}
          {props.ids.length > shown.length && <li>and {props.ids.length - shown.length} more</li>}
        </ul>
      )}
    </div>
  );
}

export function HierarchyView(props: HierarchyViewProps): ReactNode {
  const { points, ancestors, descendants, edges } = props;
  const width = props.width ?? 560;
  const height = props.height ?? 420;
  const limit = props.listLimit ?? 40;
  const title = props.title ?? 'Order embeddings of the hierarchy';
  const uid = useId();
  const [hovered, setHovered] = useState<number | null>(null);
  const [focused, setFocused] = useState<number | null>(null);
  const [cursor, setCursor] = useState(0); // roving tabindex: the point that takes Tab
  const refs = useRef(new Map<number, SVGCircleElement>());

  const names = useMemo(() => new Map(points.map((p) => [p.id, p.name])), [points]);
  const s = useMemo(() => scales(points, width, height), [points, width, height]);
  const active = hovered ?? focused;
  const related = useMemo(() => {
    if (active === null || !names.has(active)) return null;
    return { up: ancestors(active), down: descendants(active) };
  }, [active, names, ancestors, descendants]);
  const roleOf = useMemo(() => {
    const up = new Set(related?.up ?? []);
    const down = new Set(related?.down ?? []);
    return (id: number): Role =>
      related === null
        ? 'none'
        : id === active
          ? 'active'
          : up.has(id)
            ? 'ancestor'
            : down.has(id)
              ? 'descendant'
              : 'other';
  }, [related, active]);

  const tabStop = points.length === 0 ? -1 : points[Math.min(cursor, points.length - 1)].id;
  const moveTo = (index: number) => {
    const p = points[(index + points.length) % points.length];
    setCursor((index + points.length) % points.length);
    refs.current.get(p.id)?.focus();
  };
  const onKeyDown = (e: KeyboardEvent<SVGCircleElement>, index: number) => {
    const keys: Record<string, () => void> = {
      ArrowRight: () => moveTo(index + 1),
      ArrowDown: () => moveTo(index + 1),
      ArrowLeft: () => moveTo(index - 1),
      ArrowUp: () => moveTo(index - 1),
      Home: () => moveTo(0),
      End: () => moveTo(points.length - 1),
      Escape: () => {
        setFocused(null);
        setHovered(null);
      },
    };
    const action = keys[e.key];
    if (action) {
      e.preventDefault();
      action();
    }
  };

  // Highlighted points are drawn last so that they lie on top.
  const rank: Record<Role, number> = { other: 0, none: 0, descendant: 1, ancestor: 2, active: 3 };
  const drawn = points
    .map((p, index) => ({ p, index, role: roleOf(p.id) }))
    .sort((a, b) => rank[a.role] - rank[b.role]);
  const byId = new Map(points.map((p) => [p.id, p]));
  const detailsId = `${uid}-details`;
  const activeName = active !== null ? names.get(active) : undefined;

  return (
    <figure className="panel hierarchy" aria-labelledby={`${uid}-title`}>
      <figcaption>
        <h2 id={`${uid}-title`}>{title}</h2>
        <p className="hierarchy-caption">
          Each node lies above and to the right of every node it is a kind of; the most general node is
          nearest the origin (bottom left). Hover or focus a node to see{' '}
          <span style={{ color: COLORS.ancestor }}>its ancestors (more general)</span> and{' '}
          <span style={{ color: COLORS.descendant }}>its descendants (more specific)</span>.
        </p>
      </figcaption>
      <div className="hierarchy-body" style={{ display: 'flex', flexWrap: 'wrap', gap: 16 }}>
        <svg
          role="listbox"
          aria-label={`${title}: ${points.length} nodes`}
          aria-describedby={detailsId}
          viewBox={`0 0 ${width} ${height}`}
          width={width}
          height={height}
          onMouseLeave={() => setHovered(null)}
          style={{ maxWidth: '100%', height: 'auto', overflow: 'visible' }}
        >
          <g aria-hidden="true" stroke="var(--muted, #4b5563)" strokeWidth={1}>
            <line x1={s.origin.x} y1={s.origin.y} x2={width - PAD / 2} y2={s.origin.y} />
            <line x1={s.origin.x} y1={s.origin.y} x2={s.origin.x} y2={PAD / 2} />
          </g>
          <g aria-hidden="true" fill="var(--muted, #4b5563)" fontSize={11}>
            <text x={width - PAD / 2} y={s.origin.y + 16} textAnchor="end">
              coordinate 1 →
            </text>
            <text x={s.origin.x + 6} y={PAD / 2 + 4}>
              coordinate 2 ↑
            </text>
          </g>
          {edges && (
            <g aria-hidden="true" strokeWidth={1}>
              {edges.map(([c, p]) => {
                const a = byId.get(c);
                const b = byId.get(p);
                if (!a || !b) return null;
                const lit = related !== null && roleOf(c) !== 'other' && roleOf(p) !== 'other';
                return (
                  <line
                    key={`${c}-${p}`}
                    x1={s.x(a.x)}
                    y1={s.y(a.y)}
                    x2={s.x(b.x)}
                    y2={s.y(b.y)}
                    stroke={lit ? COLORS.active : 'var(--grid, #e3e7ee)'}
                    strokeOpacity={lit ? 0.6 : 0.8}
                  />
                );
              })}
            </g>
          )}
          {drawn.map(({ p, index, role }) => (
            <circle
              key={p.id}
              ref={(el) => {
                if (el) refs.current.set(p.id, el);
                else refs.current.delete(p.id);
              }}
              role="option"
              aria-label={p.name}
              aria-selected={role === 'active'}
              data-role={role}
              tabIndex={p.id === tabStop ? 0 : -1}
              cx={s.x(p.x)}
              cy={s.y(p.y)}
              r={role === 'active' ? 6 : 4}
              fill={role === 'none' || role === 'other' ? COLORS.node : COLORS[role]}
              fillOpacity={role === 'other' ? 0.35 : 0.9}
              stroke={role === 'active' ? 'var(--focus, #f59e0b)' : 'none'}
              strokeWidth={2}
              onMouseEnter={() => setHovered(p.id)}
              onFocus={() => {
                setFocused(p.id);
                setCursor(index);
              }}
              onBlur={() => setFocused((f) => (f === p.id ? null : f))}
              onKeyDown={(e) => onKeyDown(e, index)}
            >
              <title>{p.name}</title>
            </circle>
          ))}
        </svg>
        <section id={detailsId} className="hierarchy-details" aria-live="polite" style={{ minWidth: 200 }}>
          {related === null || activeName === undefined ? (
            <p>Hover or focus a node to list its ancestors and descendants.</p>
          ) : (
            <>
              <h3>{activeName}</h3>
              <NameList label={`Ancestors of ${activeName}`} ids={related.up} names={names} limit={limit} />
              <NameList
                label={`Descendants of ${activeName}`}
                ids={related.down}
                names={names}
                limit={limit}
              />
            </>
          )}
        </section>
      </div>
    </figure>
  );
}
