import { useId, useState, type FormEvent, type ReactNode } from 'react';
import { runMeasure, useUiStore, type QueryKind } from './store';
import { useClient } from './context';
import { HitThumb } from './Thumb';
import { fmtAuto, fmtInt, fmtScore } from './format';
import { PhotosPanel } from './retrieve/PhotosPanel';
import { GalleryPanel } from './retrieve/GalleryPanel';
import { usePhotosStore } from './retrieve/photos-store';
import { useRetrieveRuns } from './retrieve/useRetrieveRun';
import { HELP } from './retrieve/help';
import { MAX_QUERY_CHARS, type WorkerEvent } from '../worker/protocol';

function QueryError({ kind }: { kind: QueryKind }): ReactNode {
  const error = useUiStore((s) => s.retrieval.errors[kind]);
  if (!error) return null;
  return (
    <p className="field-error" role="alert" data-testid={`${kind}-error`}>
      {error}
    </p>
  );
}

/** Ask a model: the starter or a trained run. Captions for your photos, your photos for a sentence,
 * the dataset's images for a sentence, the more general of two sentences. */
export function RetrievePanel(): ReactNode {
  const { starter, live, stored, current } = useRetrieveRuns();
  const opening = useUiStore((s) => s.openingRunId);
  const dataset = useUiStore((s) => s.dataset);
  const starterState = usePhotosStore((s) => s.starter);
  const client = useClient();
  const pickId = useId();

  const all = [...live, ...starter, ...stored];
  const runId = current?.queryable ? current.id : null;
  const offDataset = current && dataset && current.dataset !== null && current.dataset !== dataset.name;

  return (
    <div className="panel-stack">
      <section className="panel" aria-labelledby="retrieve-title">
        <h2 id="retrieve-title">Retrieve</h2>
        <div className="field">
          <label htmlFor={pickId}>Model to query</label>
          <select
            id={pickId}
            value={current?.id ?? ''}
            data-testid="retrieve-run"
            onChange={(e) => {
              const id = e.target.value;
              usePhotosStore.getState().selectRun(id);
              const option = all.find((o) => o.id === id);
              if (option && !option.queryable) client.openRun(id);
            }}
          >
            {all.length === 0 && (
              <option value="">
                {starterState.state === 'loading'
                  ? 'Loading the starter model…'
                  : 'No runs yet: train one first'}
              </option>
            )}
            {starter.length > 0 && (
              <optgroup label="Shipped with the page">
                {starter.map((o) => (
                  <option key={o.id} value={o.id}>
                    {o.name}
                  </option>
                ))}
              </optgroup>
            )}
            {live.length > 0 && (
              <optgroup label="Ready to query">
                {live.map((o) => (
                  <option key={o.id} value={o.id}>
                    {o.name}
                  </option>
                ))}
              </optgroup>
            )}
            {stored.length > 0 && (
              <optgroup label="Stored runs (opened when picked)">
                {stored.map((o) => (
                  <option key={o.id} value={o.id}>
                    {o.name}
                  </option>
                ))}
              </optgroup>
            )}
          </select>
          {current && !current.queryable && (
            <p className="hint" data-testid="run-opening">
              {opening === current.id ? 'Opening the run…' : 'This stored run is not open.'}{' '}
              {opening !== current.id && (
                <button type="button" onClick={() => client.openRun(current.id)}>
                  Open it
                </button>
              )}
            </p>
          )}
          {offDataset && (
            <p className="hint" data-testid="off-dataset">
              {current.name} was trained on {current.dataset}; the loaded dataset is {dataset.name}, which it
              is not queried against: use your own photos and captions below (or load {current.dataset}).
            </p>
          )}
        </div>
      </section>
      <div className="retrieve-grid">
        <PhotosPanel run={current?.queryable ? current : null} />
        <GalleryPanel run={current?.queryable ? current : null} />
        {!offDataset && <SearchImages runId={runId} />}
        <Generality runId={runId} cosine={current?.measure === 'cosine'} />
      </div>
    </div>
  );
}

function SearchImages({ runId }: { runId: string | null }): ReactNode {
  const client = useClient();
  const images = useUiStore((s) => s.retrieval.images);
  const pending = useUiStore((s) => s.retrieval.pending.search);
  const dataset = useUiStore((s) => s.dataset);
  const pickedFiles = useUiStore((s) => s.pickedFiles);
  const cosine = useUiStore((s) => runMeasure(s, images?.runId) === 'cosine');
  const [query, setQuery] = useState('');
  const id = useId();
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    client.searchImages(runId, query);
  };
  return (
    <section className="panel" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>Search images</h3>
      <form className="inline-form" onSubmit={onSubmit} noValidate>
        <input
          type="text"
          aria-label="Search sentence"
          placeholder="a red circle above a blue square"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          aria-describedby={`${id}-hint`}
        />
        <button type="submit" className="primary" disabled={pending}>
          Search
        </button>
      </form>
      <small id={`${id}-hint`} className="hint">
        At most {MAX_QUERY_CHARS} characters.
      </small>
      <QueryError kind="search" />
      {pending && <p className="hint">Searching…</p>}
      {images && (
        <div aria-live="polite">
          {images.unknown.length > 0 && (
            <p className="unknown" data-testid="unknown-words">
              Not in the model’s vocabulary (ignored): {images.unknown.map((w) => `“${w}”`).join(', ')}
            </p>
          )}
          <p className="hint">
            Best {images.items.length} of {fmtInt(images.total)} images for “{images.query}” (score:{' '}
            {cosine ? 'cosine similarity' : 'order-violation energy'})
          </p>
          <ul className="image-grid" data-testid="image-results">
            {images.items.map((hit, i) => (
              <li key={hit.image} data-testid="image-hit" data-image={hit.image}>
                <HitThumb hit={hit} dataset={dataset} pickedFiles={pickedFiles} />
                <span className="hit-caption">
                  {i + 1}. {hit.name} <span className="score">{fmtScore(hit.score, cosine)}</span>
                </span>
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}

type GeneralityEvent = Extract<WorkerEvent, { type: 'generality' }>;

export function verdictText(g: GeneralityEvent): string {
  switch (g.verdict) {
    case 'a-more-general':
      return `“${g.a}” is more general than “${g.b}”.`;
    case 'b-more-general':
      return `“${g.b}” is more general than “${g.a}”.`;
    case 'equivalent':
      return `“${g.a}” and “${g.b}” are equivalent: each is as general as the other.`;
    case 'unrelated':
      return `Neither contains the other: both energies are far from 0, so neither “${g.a}” nor “${g.b}” is more general.`;
    case 'not-order':
      return 'Order is not defined for a cosine run: cosine similarity is symmetric, so it cannot tell which sentence is more general. Use a run trained with the order measure.';
  }
}

function Generality({ runId, cosine }: { runId: string | null; cosine: boolean }): ReactNode {
  const client = useClient();
  const result = useUiStore((s) => s.retrieval.generality);
  const pending = useUiStore((s) => s.retrieval.pending.generality);
  const [a, setA] = useState('');
  const [b, setB] = useState('');
  const id = useId();
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    client.compareSentences(runId, a, b);
  };
  return (
    <section className="panel" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>Which sentence is more general?</h3>
      <form className="stack-form" onSubmit={onSubmit} noValidate>
        <input
          type="text"
          aria-label="Sentence A"
          placeholder="Sentence A: a dog runs on the grass"
          value={a}
          onChange={(e) => setA(e.target.value)}
        />
        <input
          type="text"
          aria-label="Sentence B"
          placeholder="Sentence B: a dog"
          value={b}
          onChange={(e) => setB(e.target.value)}
        />
        <button type="submit" className="primary" disabled={pending}>
          Which is more general?
        </button>
      </form>
      {cosine && (
        <p className="hint">The selected run uses cosine similarity, which has no notion of order.</p>
      )}
      <QueryError kind="generality" />
      {result && (
        <div className="verdict" data-testid="generality" data-verdict={result.verdict} aria-live="polite">
          {result.unknown && result.unknown.length > 0 && (
            <p className="unknown" data-testid="generality-unknown">
              Not in the model’s vocabulary (ignored): {result.unknown.map((w) => `“${w}”`).join(', ')}
            </p>
          )}
          <p>
            <strong>{verdictText(result)}</strong>
          </p>
          {result.verdict !== 'not-order' && (
            <p className="hint" title={HELP.general}>
              E(A→B) = {fmtAuto(result.eAB)}, E(B→A) = {fmtAuto(result.eBA)} (
              <abbr title={HELP.energy}>order-violation energy</abbr>; about 0 when the second sentence is
              more general than the first).
            </p>
          )}
        </div>
      )}
    </section>
  );
}
