import { useId, useState, type FormEvent, type ReactNode } from 'react';
import { useClient } from '../context';
import { DropZone } from '../DropZone';
import { BlobImage } from '../Thumb';
import { droppedFolder, pickedFolder } from '../files';
import { fmtAuto, fmtDuration, fmtInt } from '../format';
import { tidyCaption } from '../../model/caption-bank';
import { cancelGallery, loadGallery, searchGallery } from './photos-actions';
import { usePhotosStore } from './photos-store';
import { HELP } from './help';
import type { RunOption } from './useRetrieveRun';

/** `webkitdirectory` is not in React's input attributes. */
const DIRECTORY_ATTRS = { webkitdirectory: '', directory: '' } as Record<string, string>;

/** A folder of the user's photos, encoded in the worker (cached), searched by sentence. */
export function GalleryPanel({ run }: { run: RunOption | null }): ReactNode {
  const client = useClient();
  const id = useId();
  const gallery = usePhotosStore((s) => s.gallery);
  const search = usePhotosStore((s) => s.search);
  const [query, setQuery] = useState('');
  const result = search.result && search.result.runId === run?.id ? search.result : null;
  const p = gallery.progress;
  const left = p && p.photosPerSec > 0 ? (p.total - p.done) / p.photosPerSec : null;
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    searchGallery(client, run?.id ?? null, query);
  };
  return (
    <section className="panel" aria-labelledby={`${id}-title`} data-testid="gallery-panel">
      <h3 id={`${id}-title`}>Search your photos</h3>
      <DropZone
        testId="gallery-drop"
        onDrop={(dt) => {
          void droppedFolder(dt).then(({ name, files }) => loadGallery(client, run?.id ?? null, name, files));
        }}
      >
        <label htmlFor={id}>Drop a folder of photos (captions optional), or pick one</label>
        <input
          id={id}
          type="file"
          multiple
          aria-label="Gallery folder"
          {...DIRECTORY_ATTRS}
          onChange={(e) => {
            const { name, files } = pickedFolder(e.target.files ?? []);
            loadGallery(client, run?.id ?? null, name, files);
            e.target.value = '';
          }}
        />
      </DropZone>
      {gallery.error && (
        <p className="field-error" role="alert" data-testid="gallery-error">
          {gallery.error}
        </p>
      )}
      {gallery.pending && (
        <div className="progress-row" data-testid="gallery-progress">
          <progress value={p?.done ?? 0} max={p?.total || 1} />{' '}
          <span>
            {p ? `${fmtInt(p.done)} of ${fmtInt(p.total)} photos` : 'Reading the folder…'}
            {p && p.cached > 0 && ` (${fmtInt(p.cached)} from the cache)`}
            {left !== null && `, about ${fmtDuration(left)} left`}
          </span>{' '}
          <button type="button" onClick={() => cancelGallery(client)}>
            Cancel
          </button>
        </div>
      )}
      {gallery.loaded && (
        <p className="hint" data-testid="gallery-summary" data-count={gallery.loaded.count}>
          Gallery “{gallery.loaded.name}”: {fmtInt(gallery.loaded.count)} photos ({gallery.loaded.encoder}
          {gallery.loaded.cached > 0 && `, ${fmtInt(gallery.loaded.cached)} from the cache`}
          {gallery.loaded.captions > 0 && `, ${fmtInt(gallery.loaded.captions)} with captions`})
          {gallery.loaded.failed.length > 0 && `; left out: ${gallery.loaded.failed.slice(0, 3).join('; ')}`}
        </p>
      )}
      <form className="inline-form" onSubmit={onSubmit} noValidate>
        <input
          type="text"
          aria-label="Gallery search sentence"
          placeholder="a dog runs on the beach"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
        <button type="submit" className="primary" disabled={search.pending || !gallery.loaded}>
          Search my photos
        </button>
      </form>
      {search.error && (
        <p className="field-error" role="alert" data-testid="gallery-search-error">
          {search.error}
        </p>
      )}
      {result && (
        <div aria-live="polite">
          {result.unknown.length > 0 && (
            <p className="unknown">
              Not in the model’s vocabulary (ignored): {result.unknown.map((w) => `“${w}”`).join(', ')}
            </p>
          )}
          <p className="hint">
            {run?.name}: best {result.hits.length} of {fmtInt(result.total)} photos for “{result.query}” (
            <abbr title={HELP.energy}>energy</abbr>, lower fits better)
          </p>
          <ul className="image-grid" data-testid="gallery-results">
            {result.hits.map((h, i) => (
              <li key={h.name} data-testid="gallery-hit" data-name={h.name}>
                {gallery.files.get(h.name) && <BlobImage blob={gallery.files.get(h.name)!} alt={h.name} />}
                <span className="hit-caption">
                  {i + 1}. {h.name} <span className="score">{fmtAuto(h.energy ?? h.score)}</span>
                  {h.caption && <em> {tidyCaption(h.caption)}</em>}
                </span>
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
