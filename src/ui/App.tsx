import { useEffect, useMemo, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { TrainingClient, initialSourceFromUrl, type ClientOptions, type WorkerLike } from './client';
import { checkpointOnPageHide } from './page-lifecycle';
import { ClientContext } from './context';
import { ConfigPanel } from './ConfigPanel';
import { Charts } from './Charts';
import { DataPanel } from './DataPanel';
import { Header } from './Header';
import { Messages } from './Messages';
import { RetrievePanel } from './RetrievePanel';
import { RunsPanel } from './RunsPanel';
import { HierarchyPanel } from './HierarchyPanel';
import { StatsBar } from './StatsBar';
import { Welcome } from './Welcome';
import { spawnTrainingWorker, wasmBaseUrl } from '../worker/spawn';

export interface AppProps {
  /** Creates the training worker; tests pass a fake. */
  spawn?: () => WorkerLike;
  wasmPath?: () => string;
  /** Client options (tests: the download saver, the first dataset). */
  options?: ClientOptions;
}

export const TABS = [
  { id: 'start', name: 'Start' },
  { id: 'data', name: 'Data' },
  { id: 'train', name: 'Train' },
  { id: 'retrieve', name: 'Retrieve' },
  { id: 'runs', name: 'Runs' },
  { id: 'hierarchy', name: 'Hierarchy' },
] as const;
export type TabId = (typeof TABS)[number]['id'];

const tabFromHash = (hash: string): TabId => TABS.find((t) => `#${t.id}` === hash)?.id ?? 'start';

export function App({ spawn = spawnTrainingWorker, wasmPath = wasmBaseUrl, options }: AppProps): ReactNode {
  const client = useMemo(
    () =>
      new TrainingClient(spawn, wasmPath, {
        initialSource: initialSourceFromUrl(globalThis.location?.search ?? ''),
        ...options,
      }),
    [spawn, wasmPath, options],
  );
  const [tab, setTab] = useState<TabId>(() => tabFromHash(globalThis.location?.hash ?? ''));
  const tabRefs = useRef<Partial<Record<TabId, HTMLButtonElement | null>>>({});

  useEffect(() => {
    client.connect();
    return () => client.dispose();
  }, [client]);
  useEffect(() => checkpointOnPageHide(client), [client]);

  const select = (id: TabId, focus = false) => {
    setTab(id);
    if (focus) tabRefs.current[id]?.focus();
    if (globalThis.history?.replaceState) globalThis.history.replaceState(null, '', `#${id}`);
  };

  const onKeyDown = (e: KeyboardEvent) => {
    const i = TABS.findIndex((t) => t.id === tab);
    const next =
      e.key === 'ArrowRight'
        ? (i + 1) % TABS.length
        : e.key === 'ArrowLeft'
          ? (i - 1 + TABS.length) % TABS.length
          : e.key === 'Home'
            ? 0
            : e.key === 'End'
              ? TABS.length - 1
              : -1;
    if (next < 0) return;
    e.preventDefault();
    select(TABS[next]!.id, true);
  };

  const panel = (id: TabId, children: ReactNode) => (
    <section
      key={id}
      id={`panel-${id}`}
      role="tabpanel"
      aria-labelledby={`tab-${id}`}
      hidden={tab !== id}
      tabIndex={0}
      className="tabpanel"
    >
      {children}
    </section>
  );

  return (
    <ClientContext.Provider value={client}>
      <div className="app">
        <a className="skip-link" href={`#panel-${tab}`}>
          Skip to content
        </a>
        <Header />
        <Messages />
        {/* In a landmark (nav), so that no content sits outside one (axe-core 'region'). */}
        <nav aria-label="Sections">
          <div className="tabs" role="tablist" aria-label="Sections" onKeyDown={onKeyDown}>
            {TABS.map((t) => (
              <button
                key={t.id}
                ref={(el) => {
                  tabRefs.current[t.id] = el;
                }}
                type="button"
                role="tab"
                id={`tab-${t.id}`}
                aria-selected={tab === t.id}
                aria-controls={`panel-${t.id}`}
                tabIndex={tab === t.id ? 0 : -1}
                className="tab"
                onClick={() => select(t.id)}
              >
                {t.name}
              </button>
            ))}
          </div>
        </nav>
        <main>
          {panel('start', <Welcome go={(id) => select(id)} />)}
          {panel('data', <DataPanel />)}
          {panel(
            'train',
            <div className="layout">
              <aside className="sidebar">
                <ConfigPanel />
              </aside>
              <div className="content">
                <StatsBar />
                <Charts active={tab === 'train'} />
              </div>
            </div>,
          )}
          {panel('retrieve', <RetrievePanel />)}
          {panel('runs', <RunsPanel />)}
          {panel('hierarchy', <HierarchyPanel />)}
        </main>
      </div>
    </ClientContext.Provider>
  );
}
