import { useId, useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { runMeasure, seriesNames, useUiStore, type QueryKind, type RunView } from './store';
import { useClient } from './context';
import { DropZone } from './DropZone';
import { BlobImage, HitThumb } from './Thumb';
import { isImageFile } from './files';
import { fmtAuto, fmtInt, fmtScore } from './format';
import { MAX_QUERY_CHARS, type WorkerEvent } from '../worker/protocol';

interface RunOption {
  id: string;
  name: string;
  queryable: boolean;
  measure: string | null;
}

/** Live runs, the opened run, and the stored runs (opened on selection). */
function useRunOptions(): { live: RunOption[]; stored: RunOption[] } {
  const runs = useUiStore((s) => s.runs);
  const opened = useUiStore((s) => s.openedRunId);
  const stored = useUiStore((s) => s.stored);
  return useMemo(() => {
    const liveRuns = Object.values(runs).filter((r) => r.live || r.id === opened);
    const names = seriesNames(liveRuns);
    const live = liveRuns.map((r: RunView) => ({
      id: r.id,
      name: `${names.get(r.id) ?? r.label}${r.live ? ` (${r.state}, step ${fmtInt(r.step)})` : ' (opened)'}`,
      queryable: true,
      measure: r.model?.measure ?? null,
    }));
    const rest = stored
      .filter((s) => !live.some((l) => l.id === s.id))
      .map((s) => ({
        id: s.id,
        name: `${s.label} · ${s.dataset} · step ${fmtInt(s.step)}`,
        queryable: false,
        measure: s.measure,
      }));
    return { live, stored: rest };
  }, [runs, opened, stored]);
}

function QueryError({ kind }: { kind: QueryKind }): ReactNode {
  const error = useUiStore((s) => s.retrieval.errors[kind]);
  if (!error) return null;
  return (
    <p className="field-error" role="alert" data-testid={`${kind}-error`}>
      {error}
    </p>
  );
}

/** Ask a trained run: captions for a photo, photos for a sentence, the more general of two sentences. */
export function RetrievePanel(): ReactNode {
  const { live, stored } = useRunOptions();
  const opening = useUiStore((s) => s.openingRunId);
  const client = useClient();
  const [picked, setPicked] = useState<string | null>(null);
  const pickId = useId();

  const all = [...live, ...stored];
  const current = all.find((o) => o.id === picked) ?? live[0] ?? null;
  const runId = current?.queryable ? current.id : null;

  return (
    <div className="panel-stack">
      <section className="panel" aria-labelledby="retrieve-title">
        <h2 id="retrieve-title">Retrieve</h2>
        <div className="field">
          <label htmlFor={pickId}>Run to query</label>
          <select
            id={pickId}
            value={current?.id ?? ''}
            onChange={(e) => {
              const id = e.target.value;
              setPicked(id);
              const option = all.find((o) => o.id === id);
              if (option && !option.queryable) client.openRun(id);
            }}
          >
            {all.length === 0 && <option value="">No runs yet: train one first</option>}
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
        </div>
      </section>
      <div className="retrieve-grid">
        <CaptionPhoto runId={runId} />
        <SearchImages runId={runId} />
        <Generality runId={runId} cosine={current?.measure === 'cosine'} />
      </div>
    </div>
  );
}

function CaptionPhoto({ runId }: { runId: string | null }): ReactNode {
  const client = useClient();
  const ranking = useUiStore((s) => s.retrieval.ranking);
  const pending = useUiStore((s) => s.retrieval.pending.rank);
  const cosine = useUiStore((s) => runMeasure(s, ranking?.runId) === 'cosine');
  const [photo, setPhoto] = useState<File | null>(null);
  const inputId = useId();

  const submit = (file: File | null | undefined) => {
    setPhoto(file && isImageFile(file) ? file : null);
    client.rankCaptions(runId, file);
  };

  return (
    <section className="panel" aria-labelledby={`${inputId}-title`}>
      <h3 id={`${inputId}-title`}>Caption a photo</h3>
      <DropZone testId="photo-drop" onDrop={(data) => submit(data.files?.[0])}>
        <label htmlFor={inputId}>Photo to caption (pick or drop a JPEG or PNG)</label>
        <input
          id={inputId}
          type="file"
          accept="image/*"
          aria-label="Photo to caption"
          onChange={(e) => {
            submit(e.target.files?.[0]);
            e.target.value = ''; // the same photo can be picked again
          }}
        />
      </DropZone>
      <QueryError kind="rank" />
      {photo && <BlobImage blob={photo} alt={`The photo: ${photo.name}`} className="photo-preview" />}
      {pending && <p className="hint">Ranking captions…</p>}
      {ranking && (
        <div aria-live="polite">
          <p className="hint">
            Best of {fmtInt(ranking.total)} captions for “{ranking.name}” (score:{' '}
            {cosine ? 'cosine similarity, higher is better' : 'order-violation energy, lower is better'})
          </p>
          <ol className="ranking" data-testid="caption-ranking">
            {ranking.items.map((c) => (
              <li key={c.caption}>
                <span className="caption-text">{c.text}</span>
                <span className="score">{fmtScore(c.score, cosine)}</span>
              </li>
            ))}
          </ol>
        </div>
      )}
    </section>
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
      return `Neither is more general: “${g.a}” and “${g.b}” are unrelated.`;
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
          <p>
            <strong>{verdictText(result)}</strong>
          </p>
          {result.verdict !== 'not-order' && (
            <p className="hint">
              E(A→B) = {fmtAuto(result.eAB)}, E(B→A) = {fmtAuto(result.eBA)} (order-violation energy; about 0
              when the second sentence is more general than the first).
            </p>
          )}
        </div>
      )}
    </section>
  );
}
