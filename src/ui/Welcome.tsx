import type { ReactNode } from 'react';
import { fmt, fmtInt } from './format';
import { PhotosPanel } from './retrieve/PhotosPanel';
import { usePhotosStore } from './retrieve/photos-store';
import { useRetrieveRuns } from './retrieve/useRetrieveRun';
import { HELP } from './retrieve/help';

/** The starter model's loading state, in one line (progress, what is open, or what failed). */
export function StarterStatus(): ReactNode {
  const st = usePhotosStore((s) => s.starter);
  if (st.state === 'failed')
    return (
      <p className="field-error" role="alert" data-testid="starter-error">
        {st.message}
      </p>
    );
  if (st.state === 'loading') {
    const p = st.progress;
    return (
      <p className="hint" data-testid="starter-status" data-state="loading">
        Opening the starter model
        {p && p.total > 0
          ? ` (${fmt((100 * p.loaded) / p.total, 0)}% of ${fmt(p.total / 1048576, 1)} MB)`
          : ''}
        …{p && p.total > 0 && <progress value={p.loaded} max={p.total} aria-label="Starter model loading" />}
      </p>
    );
  }
  const i = st.info!;
  return (
    <div data-testid="starter-status" data-state="ready">
      <p className="hint">
        Open: the <strong>starter model</strong>, an LN-GRU order embedding trained on {i.dataset} (
        {fmtInt(i.steps)} steps
        {i.dev ? `; dev R@1 ${fmt(i.dev.i2t, 1)} image → caption, ${fmt(i.dev.t2i, 1)} caption → image` : ''}
        ), opened in {fmt((st.ms ?? 0) / 1000, 1)} s.
        {st.bank &&
          'sentences' in st.bank &&
          ` Its caption bank holds ${fmtInt(st.bank.sentences)} sentences.`}
      </p>
      {st.bank && 'error' in st.bank && (
        <p className="field-error" role="alert">
          {st.bank.error}: type your own candidate captions instead.
        </p>
      )}
      {st.problems.map((p) => (
        <p key={p} className="hint">
          {p}
        </p>
      ))}
    </div>
  );
}

/** The first screen: what this is, in two sentences, and three things to try. */
export function Welcome({ go }: { go: (tab: 'train' | 'hierarchy' | 'retrieve') => void }): ReactNode {
  const { current } = useRetrieveRuns();
  return (
    <div className="panel-stack welcome" data-testid="welcome">
      <section className="panel">
        <h2>Order embeddings of photos and captions, trained in your browser</h2>
        <p>
          An <strong>order embedding</strong> puts photos and captions in one space where a caption lies below
          everything it describes (“a dog” below “a black dog runs on the grass”, which lies below a photo of
          it), and how much a pair breaks that order, its <abbr title={HELP.energy}>energy</abbr>, ranks
          captions for a photo and photos for a caption. <strong>Layer normalization</strong> rescales the
          caption encoder’s (a GRU’s) activations at every word, which makes it train faster and more
          steadily.
        </p>
        <StarterStatus />
      </section>
      <section className="panel">
        <h3>Three things to try</h3>
        <ol className="try-list">
          <li>
            <strong>Drop a photo</strong> below: the starter model ranks its caption bank for it, on this
            computer (nothing is uploaded). More on the{' '}
            <button type="button" className="link" onClick={() => go('retrieve')}>
              Retrieve
            </button>{' '}
            tab: your own candidate captions, a folder searched by sentence, which sentence is more general.
          </li>
          <li>
            <strong>Compare LN on/off</strong>: two runs that differ only in layer norm train side by side on
            the built-in scenes.{' '}
            <button type="button" onClick={() => go('train')}>
              Go to Train
            </button>
          </li>
          <li>
            <strong>The WordNet hierarchy</strong>: watch 2-D order embeddings of a noun subtree (e.g. mammal)
            train live.{' '}
            <button type="button" onClick={() => go('hierarchy')}>
              Go to Hierarchy
            </button>
          </li>
        </ol>
      </section>
      <PhotosPanel run={current?.queryable ? current : null} compact />
      <section className="panel">
        <h3>The numbers on these pages</h3>
        <dl className="glossary">
          <dt>R@K</dt>
          <dd>{HELP.recallAtK}</dd>
          <dt>R-sum</dt>
          <dd>{HELP.rsum}</dd>
          <dt>Energy</dt>
          <dd>{HELP.energy}</dd>
          <dt>Margin</dt>
          <dd>{HELP.margin}</dd>
        </dl>
      </section>
    </div>
  );
}
