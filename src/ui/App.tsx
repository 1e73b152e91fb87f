import { useEffect, useMemo, type ReactNode } from 'react';
import { TrainingClient, type WorkerLike } from './client';
import { ConfigPanel } from './ConfigPanel';
import { LossChart, RecallChart } from './Charts';
import { ErrorBanner } from './ErrorBanner';
import { Header } from './Header';
import { StatsBar } from './StatsBar';
import { spawnTrainingWorker, wasmBaseUrl } from '../worker/spawn';

export interface AppProps {
  /** Creates the training worker; tests pass a fake. */
  spawn?: () => WorkerLike;
  wasmPath?: () => string;
}

export function App({ spawn = spawnTrainingWorker, wasmPath = wasmBaseUrl }: AppProps): ReactNode {
  const client = useMemo(() => new TrainingClient(spawn, wasmPath), [spawn, wasmPath]);

  useEffect(() => {
    client.connect();
    return () => client.dispose();
  }, [client]);

  return (
    <div className="app">
      <Header />
      <main className="layout">
        <aside className="sidebar">
          <ConfigPanel
            onStart={() => client.start()}
            onPause={() => client.pause()}
            onResume={() => client.resume()}
            onReset={() => client.reset()}
            onBackendChange={(b) => client.setBackend(b)}
          />
          <p className="note">
            Trains on a synthetic captioned-image set: random image features with captions that describe them.
            Metrics are recall@1 for caption retrieval (image → text) and image search (text → image).
          </p>
        </aside>
        <section className="content" aria-label="Training progress">
          <ErrorBanner onRestart={() => client.connect()} onReset={() => client.reset()} />
          <StatsBar />
          <div className="charts">
            <LossChart />
            <RecallChart />
          </div>
        </section>
      </main>
    </div>
  );
}
