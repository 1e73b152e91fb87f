/**
 * The runs the Retrieve tab can query: the starter model (shipped, open from the first load), live
 * runs, the opened stored run, and stored runs (opened when picked). The current one is the user's pick,
 * else the first live run, else the starter.
 */
import { useMemo } from 'react';
import { seriesNames, useUiStore, type RunView } from '../store';
import { fmtInt } from '../format';
import { STARTER_RUN_ID } from '../../worker/photos-protocol';
import { usePhotosStore } from './photos-store';

export interface RunOption {
  id: string;
  name: string;
  queryable: boolean;
  measure: string | null;
  /** The dataset the run was trained on. */
  dataset: string | null;
}

export function useRetrieveRuns(): {
  starter: RunOption[];
  live: RunOption[];
  stored: RunOption[];
  current: RunOption | null;
} {
  const runs = useUiStore((s) => s.runs);
  const opened = useUiStore((s) => s.openedRunId);
  const stored = useUiStore((s) => s.stored);
  const starter = usePhotosStore((s) => s.starter);
  const picked = usePhotosStore((s) => s.selectedRunId);
  return useMemo(() => {
    const liveRuns = Object.values(runs).filter((r) => r.live || r.id === opened);
    const names = seriesNames(liveRuns);
    const live = liveRuns.map((r: RunView) => ({
      id: r.id,
      name: `${names.get(r.id) ?? r.label}${r.live ? ` (${r.state}, step ${fmtInt(r.step)})` : ' (opened)'}`,
      queryable: true,
      measure: r.model?.measure ?? null,
      dataset: r.dataset,
    }));
    const rest = stored
      .filter((s) => !live.some((l) => l.id === s.id))
      .map((s) => ({
        id: s.id,
        name: `${s.label} · ${s.dataset} · step ${fmtInt(s.step)}`,
        queryable: false,
        measure: s.measure,
        dataset: s.dataset,
      }));
    const st: RunOption[] =
      starter.state === 'ready' && starter.info
        ? [
            {
              id: STARTER_RUN_ID,
              name: starter.info.label,
              queryable: true,
              measure: 'order',
              dataset: starter.info.dataset,
            },
          ]
        : [];
    const all = [...live, ...st, ...rest];
    const current = all.find((o) => o.id === picked) ?? live[0] ?? st[0] ?? null;
    return { starter: st, live, stored: rest, current };
  }, [runs, opened, stored, starter, picked]);
}
