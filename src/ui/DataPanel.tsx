import { useEffect, useId, useState, type ReactNode } from 'react';
import { isRunActive, useUiStore } from './store';
import { useClient } from './context';
import { DropZone } from './DropZone';
import { droppedFolder, isImageFile, pickedFolder } from './files';
import { fmtInt } from './format';
import { DEFAULT_ENCODER_ID, ENCODER_PRESETS, FALLBACK_ENCODER_ID } from '../model/encoders/presets';
import { checkEncodersAvailable, type EncoderAvailability } from '../model/encoders/availability';
import type { DatasetInfo, PickedFile } from '../worker/protocol';

export const DEFAULT_PACK = 'packs/flickr8k-mobilenet-v1-1.0-trunk';
const CUSTOM = 'custom-url';
/** `webkitdirectory` is not in React's input attributes. */
const DIRECTORY_ATTRS = { webkitdirectory: '', directory: '' } as Record<string, string>;

type Availability = Record<string, EncoderAvailability>;

/**
 * Which encoders this server can give the page (checked once per page load: model.json and its weight
 * files must be served); null while checking. Those that cannot load are greyed out with the reason.
 */
function useEncoderAvailability(): Availability | null {
  const [avail, setAvail] = useState<Availability | null>(null);
  useEffect(() => {
    const abort = new AbortController();
    // The page's folder, without its query (?scenes=...) or hash (#data): model URLs join onto it.
    const base = typeof document !== 'undefined' ? new URL('.', document.baseURI).href : '/';
    void checkEncodersAvailable(Object.values(ENCODER_PRESETS), {
      baseUrl: base,
      sharedModelsUrl: new URL('shared-models', base).href,
      signal: abort.signal,
    }).then(
      (a) => {
        if (!abort.signal.aborted) setAvail(a);
      },
      () => undefined,
    );
    return () => abort.abort();
  }, []);
  return avail;
}

/** Dataset choice (built-in scenes, a Flickr8k pack, the user's own folder), progress and summary. */
export function DataPanel(): ReactNode {
  const client = useClient();
  const status = useUiStore((s) => s.status);
  const loading = useUiStore((s) => s.loading);
  const error = useUiStore((s) => s.datasetError);
  const ids = {
    pack: useId(),
    folder: useId(),
    encoder: useId(),
    encoderUrl: useId(),
  };
  const [packUrl, setPackUrl] = useState(DEFAULT_PACK);
  const [encoder, setEncoder] = useState<string>(DEFAULT_ENCODER_ID);
  const avail = useEncoderAvailability();
  const unavailable = Object.values(avail ?? {}).filter((a) => !a.ok);
  // An encoder chosen before the check that turned out not to load here: the default, else the first that loads.
  const chosen =
    avail && encoder !== CUSTOM && avail[encoder]?.ok === false
      ? ([DEFAULT_ENCODER_ID, ...Object.keys(ENCODER_PRESETS)].find((id) => avail[id]?.ok) ?? encoder)
      : encoder;
  const [encoderUrl, setEncoderUrl] = useState('');
  const [folder, setFolder] = useState<{ name: string; files: PickedFile[] } | null>(null);
  const [localError, setLocalError] = useState<string | null>(null);

  const busy = loading !== null;
  const blocked = isRunActive(status) || status === 'connecting' || status === 'crashed';
  const disabled = busy || blocked;

  const onDrop = (data: DataTransfer) => {
    void droppedFolder(data).then(
      (f) => {
        setFolder(f);
        setLocalError(null);
      },
      (err: unknown) => setLocalError(`Could not read the dropped folder: ${String(err)}`),
    );
  };

  const loadFolder = () => {
    if (!folder) {
      setLocalError('Pick or drop a folder first.');
      return;
    }
    setLocalError(
      client.loadFolder(
        folder.name,
        folder.files,
        chosen === CUSTOM ? { url: encoderUrl } : { preset: chosen },
      ),
    );
  };

  const images = folder ? folder.files.filter((f) => isImageFile({ name: f.path, type: '' })).length : 0;
  const noPhotos =
    folder && images === 0
      ? `“${folder.name}” holds no photos (${fmtInt(folder.files.length)} files, none a JPEG, PNG, GIF, WebP, BMP, AVIF or HEIC image): pick the folder that holds Images/ and captions.txt.`
      : null;

  return (
    <div className="panel-stack">
      <section className="panel" aria-labelledby="data-title">
        <h2 id="data-title">Dataset</h2>
        {blocked && isRunActive(status) && (
          <p className="hint">Reset the training to load another dataset.</p>
        )}
        <div className="sources">
          <div className="source">
            <h3>Built-in scenes</h3>
            <p className="hint">
              Rendered captioned scenes (shapes, colours, positions) with features from the default
              MobileNetV1 encoder, prebuilt. Loaded when the page opens.
            </p>
            <button type="button" disabled={disabled} onClick={() => client.loadScenes()}>
              Load scenes
            </button>
          </div>

          <div className="source">
            <h3>Flickr8k feature pack</h3>
            <div className="field">
              <label htmlFor={ids.pack}>Feature pack URL</label>
              <input
                id={ids.pack}
                type="text"
                value={packUrl}
                spellCheck={false}
                aria-describedby={`${ids.pack}-hint`}
                onChange={(e) => setPackUrl(e.target.value)}
              />
              <small id={`${ids.pack}-hint`} className="hint">
                Relative to this page; written by{' '}
                <code>npm run prepare:flickr8k -- &lt;Flickr8k folder&gt;</code> into{' '}
                <code>public/packs/</code>.
              </small>
            </div>
            <button type="button" disabled={disabled} onClick={() => setLocalError(client.loadPack(packUrl))}>
              Load pack
            </button>
          </div>

          <div className="source">
            <h3>Your photos</h3>
            <DropZone testId="folder-drop" onDrop={onDrop}>
              <label htmlFor={ids.folder}>
                Pick or drop a folder in the Flickr8k layout (<code>Images/</code>, <code>captions.txt</code>{' '}
                or <code>Flickr8k.token.txt</code>, split lists)
              </label>
              <input
                id={ids.folder}
                type="file"
                multiple
                aria-label="Photo folder"
                disabled={disabled}
                {...DIRECTORY_ATTRS}
                onChange={(e) => {
                  const files = e.target.files;
                  if (files && files.length > 0) {
                    setFolder(pickedFolder(files));
                    setLocalError(null);
                  }
                }}
              />
              {folder && (
                <p className="picked" data-testid="picked-folder">
                  “{folder.name}”: {fmtInt(folder.files.length)} files, {fmtInt(images)} photos
                </p>
              )}
              {noPhotos && (
                <p className="field-error" role="alert" data-testid="no-photos">
                  {noPhotos}
                </p>
              )}
            </DropZone>
            <div className="field">
              <label htmlFor={ids.encoder}>Image encoder</label>
              <select
                id={ids.encoder}
                value={chosen}
                data-checked={avail ? 'true' : 'false'}
                onChange={(e) => setEncoder(e.target.value)}
              >
                {Object.values(ENCODER_PRESETS).map((p) => {
                  const a = avail?.[p.id];
                  return (
                    <option key={p.id} value={p.id} disabled={a?.ok === false} title={a?.reason}>
                      {p.id} — {p.label}
                      {a?.ok === false ? ' (not available on this server)' : ''}
                    </option>
                  );
                })}
                <option value={CUSTOM}>Another tfjs model (model.json URL)</option>
              </select>
              <small className="hint">
                {DEFAULT_ENCODER_ID} (the default, ImageNet) and {FALLBACK_ENCODER_ID} (small) ship with the
                page{avail ? '' : '; checking which encoders this server serves…'}
              </small>
              {unavailable.length > 0 && (
                <ul className="hint encoder-unavailable" data-testid="encoders-unavailable">
                  {unavailable.map((a) => (
                    <li key={a.id}>
                      <code>{a.id}</code> cannot load: {a.reason}
                    </li>
                  ))}
                </ul>
              )}
            </div>
            {chosen === CUSTOM && (
              <div className="field">
                <label htmlFor={ids.encoderUrl}>Encoder model.json URL</label>
                <input
                  id={ids.encoderUrl}
                  type="url"
                  value={encoderUrl}
                  spellCheck={false}
                  onChange={(e) => setEncoderUrl(e.target.value)}
                />
              </div>
            )}
            <button type="button" disabled={disabled || !folder || images === 0} onClick={loadFolder}>
              Load folder
            </button>
          </div>
        </div>

        {localError && (
          <p className="field-error" role="alert">
            {localError}
          </p>
        )}
        {error && (
          <div className="banner error" role="alert" data-testid="dataset-error">
            <p className="banner-message">Could not load the dataset: {error}</p>
          </div>
        )}
        {loading && <LoadProgress />}
      </section>
      <DatasetSummary />
    </div>
  );
}

function LoadProgress(): ReactNode {
  const client = useClient();
  const loading = useUiStore((s) => s.loading);
  if (!loading) return null;
  const known = loading.total > 0;
  return (
    <div className="load-progress" data-testid="dataset-progress">
      <p>
        Loading {loading.label}: {loading.phase}
        {known && ` ${fmtInt(loading.done)} / ${fmtInt(loading.total)}`}
        {loading.imagesPerSec > 0 && `, ${loading.imagesPerSec.toFixed(1)} images/s`}
      </p>
      <div className="progress-row">
        <progress
          aria-label="Dataset loading progress"
          {...(known ? { value: loading.done, max: loading.total } : {})}
        />
        <button type="button" onClick={() => client.cancelLoad()}>
          Cancel
        </button>
      </div>
    </div>
  );
}

const KIND_LABEL: Record<DatasetInfo['kind'], string> = {
  synthetic: 'synthetic',
  scenes: 'built-in scenes',
  pack: 'feature pack',
  folder: 'your folder',
};

/** The loaded dataset: name, counts, splits, encoder, warnings. */
export function DatasetSummary(): ReactNode {
  const dataset = useUiStore((s) => s.dataset);
  const loading = useUiStore((s) => s.loading);
  return (
    <section
      className="panel summary"
      aria-labelledby="summary-title"
      data-testid="dataset-summary"
      data-loaded={dataset ? 'true' : 'false'}
    >
      <h2 id="summary-title">Loaded dataset</h2>
      {!dataset ? (
        <p className="hint">{loading ? 'Loading…' : 'No dataset loaded.'}</p>
      ) : (
        <>
          <p className="dataset-name">
            <strong>{dataset.name}</strong> <span className="hint">({KIND_LABEL[dataset.kind]})</span>
          </p>
          <dl className="facts">
            <div>
              <dt>Images</dt>
              <dd>{fmtInt(dataset.numImages)}</dd>
            </div>
            <div>
              <dt>Captions</dt>
              <dd>{fmtInt(dataset.numCaptions)}</dd>
            </div>
            <div>
              <dt>Splits</dt>
              <dd>
                {Object.keys(dataset.splits).length === 0
                  ? 'none'
                  : Object.entries(dataset.splits)
                      .map(([k, v]) => `${k} ${fmtInt(v)}`)
                      .join(' · ')}
              </dd>
            </div>
            <div>
              <dt>Encoder</dt>
              <dd>
                {dataset.encoder ?? 'none'} ({fmtInt(dataset.imageDim)}-d)
              </dd>
            </div>
          </dl>
          {(dataset.notes ?? []).map((n, i) => (
            <p key={i} className="hint dataset-note" data-testid="dataset-note">
              {n}
            </p>
          ))}
          {dataset.warnings.length > 0 && (
            <details className="warnings" data-testid="dataset-warnings">
              <summary>
                {dataset.warnings.length} warning{dataset.warnings.length === 1 ? '' : 's'}
              </summary>
              <ul>
                {dataset.warnings.slice(0, 50).map((w, i) => (
                  <li key={i}>{w}</li>
                ))}
                {dataset.warnings.length > 50 && <li>… and {dataset.warnings.length - 50} more</li>}
              </ul>
            </details>
          )}
        </>
      )}
    </section>
  );
}
