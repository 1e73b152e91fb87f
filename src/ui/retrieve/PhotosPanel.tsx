import { useId, type ReactNode } from 'react';
import { useClient } from '../context';
import { DropZone } from '../DropZone';
import { BlobImage } from '../Thumb';
import { fmtAuto, fmtInt } from '../format';
import { tidyCaption } from '../../model/caption-bank';
import type { CandidateSource } from '../../worker/photos-protocol';
import { rankPhotos } from './photos-actions';
import { usePhotosStore } from './photos-store';
import { HELP } from './help';
import type { RunOption } from './useRetrieveRun';

const SOURCE_LABEL: Record<CandidateSource, string> = {
  bank: 'the caption bank',
  dataset: 'the loaded dataset’s captions',
  typed: 'captions I type',
};

/**
 * Caption your own photos: drop one or many, pick where the candidate captions come from, and get each
 * photo's best distinct captions from the selected run (encoded in the worker; nothing is uploaded).
 */
export function PhotosPanel({
  run,
  compact = false,
}: {
  run: RunOption | null;
  compact?: boolean;
}): ReactNode {
  const client = useClient();
  const id = useId();
  const source = usePhotosStore((s) => s.source);
  const typed = usePhotosStore((s) => s.typed);
  const rank = usePhotosStore((s) => s.rank);
  const bank = usePhotosStore((s) => s.starter.bank);
  const { setSource, setTyped } = usePhotosStore.getState();
  const result = rank.result && rank.result.runId === run?.id ? rank.result : null;
  const submit = (files: readonly File[]) => rankPhotos(client, run?.id ?? null, files, source, typed);

  return (
    <section className="panel" aria-labelledby={`${id}-title`} data-testid="photos-panel">
      <h3 id={`${id}-title`}>Caption your photos</h3>
      <DropZone
        testId="photos-drop"
        onDrop={(dt) => submit(Array.from(dt.files ?? []).filter((f) => f.size >= 0))}
      >
        <label htmlFor={id}>Drop one or many photos here, or pick them (they stay on this computer)</label>
        <input
          id={id}
          type="file"
          accept="image/*"
          multiple
          aria-label={compact ? 'Photo to caption with the starter' : 'Photos to caption'}
          onChange={(e) => {
            submit(Array.from(e.target.files ?? []));
            e.target.value = '';
          }}
        />
      </DropZone>
      {!compact && (
        <fieldset className="field" aria-label="Candidate captions">
          <legend>Candidate captions</legend>
          {(['bank', 'dataset', 'typed'] as const).map((s) => (
            <label key={s} className="radio">
              <input
                type="radio"
                name={`${id}-source`}
                value={s}
                checked={source === s}
                onChange={() => setSource(s)}
              />{' '}
              {SOURCE_LABEL[s]}
              {s === 'bank' && bank && 'sentences' in bank && ` (${fmtInt(bank.sentences)} sentences)`}
            </label>
          ))}
          {bank && 'error' in bank && (
            <p className="field-error" role="alert" data-testid="bank-error">
              {bank.error}
            </p>
          )}
          {source === 'typed' && (
            <textarea
              aria-label="Candidate captions, one a line"
              rows={5}
              placeholder={'a dog runs on the grass\na child plays in the water\na man rides a bike'}
              value={typed}
              onChange={(e) => setTyped(e.target.value)}
            />
          )}
        </fieldset>
      )}
      {rank.error && (
        <p className="field-error" role="alert" data-testid="rank-photos-error">
          {rank.error}
        </p>
      )}
      {rank.pending && (
        <p className="hint" data-testid="rank-progress">
          Encoding and ranking
          {rank.progress ? ` (${rank.progress.done} of ${rank.progress.total} photos)` : ''}…
        </p>
      )}
      {result && (
        <div aria-live="polite" data-testid="photo-rankings">
          <p className="hint">
            {run?.name ?? result.runId}: best of {fmtInt(result.candidates)} distinct captions from{' '}
            {SOURCE_LABEL[result.source]} per photo
            {result.repeated > 0 && ` (${fmtInt(result.repeated)} repeats left out)`}; score:{' '}
            <abbr title={HELP.energy}>energy</abbr>, lower fits better.
          </p>
          {result.unknownOnly.length > 0 && (
            <p className="unknown">
              Left out, no word the model knows: {result.unknownOnly.map((t) => `“${t}”`).join(', ')}
            </p>
          )}
          {result.unknownWords.length > 0 && result.source === 'typed' && (
            <p className="unknown" data-testid="candidate-unknown">
              Not in the model’s vocabulary (ignored): {result.unknownWords.map((w) => `“${w}”`).join(', ')}
            </p>
          )}
          <ul className="photo-results">
            {result.results.map((r) => (
              <li
                key={r.name}
                data-testid="photo-result"
                data-photo={r.name}
                data-nothing-fits={String(r.nothingFits)}
              >
                <div className="photo-result-head">
                  {rank.files.get(r.name) && (
                    <BlobImage
                      blob={rank.files.get(r.name)!}
                      alt={`The photo ${r.name}`}
                      className="photo-preview"
                    />
                  )}
                  <strong>{r.name}</strong>
                </div>
                {r.error && (
                  <p className="field-error" role="alert">
                    {r.error}
                  </p>
                )}
                {r.nothingFits && (
                  <p className="nothing-fits" title={HELP.nothingFits} data-testid="nothing-fits">
                    Nothing here fits well: this photo is unlike what the model was trained on (best energy{' '}
                    {fmtAuto(r.best)}, above {fmtAuto(result.nothingFits)}).
                  </p>
                )}
                {r.items.length > 0 && (
                  <ol className="ranking" data-testid="photo-captions">
                    {r.items.map((c) => (
                      <li key={c.text}>
                        <span className="caption-text">{tidyCaption(c.text)}</span>{' '}
                        <span className="score" title={HELP.energy}>
                          {fmtAuto(c.energy ?? c.score)}
                        </span>
                      </li>
                    ))}
                  </ol>
                )}
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
