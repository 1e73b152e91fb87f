// @vitest-environment jsdom
/**
 * The Retrieve tab's own-photos panels (src/ui/retrieve/): each action is one typed call of the worker
 * (rankPhotos, loadGallery with an AbortSignal that Cancel aborts, searchGallery), with exactly the
 * arguments asserted, and the panels show what the worker's 'photos' events say.
 */
import '@testing-library/jest-dom/vitest';
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TrainingClient } from '../../src/ui/client';
import { ClientContext } from '../../src/ui/context';
import { RetrievePanel } from '../../src/ui/RetrievePanel';
import { initialState, useUiStore } from '../../src/ui/store';
import { initialPhotosState, usePhotosStore } from '../../src/ui/retrieve/photos-store';
import type { PhotosEvent } from '../../src/worker/photos-protocol';
import type { WorkerEvent } from '../../src/worker/protocol';
import { FakeWorker, LOADED, STARTED2 } from './fake-worker';

let worker: FakeWorker;

/** The Retrieve tab on a client whose worker has sent `events`. */
async function open(events: WorkerEvent[]): Promise<void> {
  const client = new TrainingClient(
    () => (worker = new FakeWorker('wasm')),
    () => '/tfjs-wasm/',
  );
  client.connect();
  await act(() => new Promise<void>((ok) => setTimeout(ok, 0)));
  for (const e of events) worker.emit(e);
  render(
    <ClientContext.Provider value={client}>
      <RetrievePanel />
    </ClientContext.Provider>,
  );
}

const emit = (...events: WorkerEvent[]) =>
  act(() => {
    for (const e of events) worker.emit(e);
  });
const sentCount = () => worker.calls.length;

beforeEach(() => {
  useUiStore.setState(initialState());
  usePhotosStore.setState(initialPhotosState());
});
afterEach(cleanup);

describe('RetrievePanel: own photos', () => {
  const ranked = (runId: string): PhotosEvent => ({
    kind: 'ranked',
    runId,
    source: 'typed',
    candidates: 3,
    repeated: 1,
    unknownOnly: [],
    unknownWords: ['zorblax'],
    nothingFits: 0.5,
    results: [
      {
        name: 'dog.jpg',
        best: 0.012,
        nothingFits: false,
        items: [
          { text: 'a dog runs on the grass .', score: -0.012, energy: 0.012 },
          { text: 'a brown dog', score: -0.05, energy: 0.05 },
        ],
      },
      {
        name: 'noise.png',
        best: 0.9,
        nothingFits: true,
        items: [{ text: 'a brown dog', score: -0.9, energy: 0.9 }],
      },
      { name: 'x.heic', items: [], best: null, nothingFits: false, error: 'x.heic: a HEIC/HEIF photo' },
    ],
  });

  it('ranks typed candidates for photos, flags what fits nothing, and clears the results on a failure', async () => {
    await open([LOADED, STARTED2]);
    fireEvent.click(screen.getByLabelText('captions I type'));
    fireEvent.change(screen.getByLabelText('Candidate captions, one a line'), {
      target: { value: 'a dog runs on the grass .\na brown dog\n' },
    });
    const photos = ['dog.jpg', 'noise.png', 'x.heic'].map((n) => new File(['x'], n, { type: 'image/jpeg' }));
    fireEvent.change(screen.getByLabelText('Photos to caption'), { target: { files: photos } });
    expect(worker.last('rankPhotos')).toEqual([
      {
        runId: 'ln-1',
        photos: photos.map((f) => ({ path: f.name, file: f })),
        source: 'typed',
        typed: 'a dog runs on the grass .\na brown dog\n',
        limit: 10,
      },
    ]);
    emit({ type: 'photos', event: ranked('ln-1') });
    const results = screen.getAllByTestId('photo-result');
    expect(results).toHaveLength(3);
    const items = within(results[0]).getAllByRole('listitem');
    expect(items.map((li) => li.textContent)).toEqual([
      'a dog runs on the grass. 0.0120',
      'a brown dog 0.0500',
    ]);
    expect(within(results[0]).queryByTestId('nothing-fits')).toBeNull();
    expect(within(results[1]).getByTestId('nothing-fits')).toHaveTextContent('Nothing here fits well');
    expect(within(results[2]).getByRole('alert')).toHaveTextContent('x.heic: a HEIC/HEIF photo');
    expect(screen.getByTestId('candidate-unknown')).toHaveTextContent('“zorblax”');
    expect(screen.getByText(/1 repeats left out/)).toBeInTheDocument();

    emit({
      type: 'photos',
      event: { kind: 'failed', query: 'rank', runId: 'ln-1', message: 'b.txt: not a photo' },
    });
    expect(screen.getByTestId('rank-photos-error')).toHaveTextContent('b.txt: not a photo');
    expect(screen.queryAllByTestId('photo-result')).toHaveLength(0);
  });

  it('takes dropped photos, and highlights the drop zone while something is dragged over it', async () => {
    await open([LOADED, STARTED2]);
    const zone = screen.getByTestId('photos-drop');
    fireEvent.dragOver(zone);
    expect(zone).toHaveClass('dropzone', 'dragging');
    fireEvent.dragLeave(zone);
    expect(zone).not.toHaveClass('dragging');
    fireEvent.dragOver(zone);
    const photo = new File([new Uint8Array([0xff, 0xd8, 0xff])], 'dog.jpg', { type: 'image/jpeg' });
    fireEvent.drop(zone, { dataTransfer: { files: [photo, photo] } });
    expect(zone).not.toHaveClass('dragging');
    expect(worker.last('rankPhotos')).toEqual([
      {
        runId: 'ln-1',
        photos: [
          { path: 'dog.jpg', file: photo },
          { path: 'dog.jpg', file: photo },
        ],
        source: 'bank',
        limit: 10,
      },
    ]);
  });

  it('offers the starter once it is open and shows only its own results', async () => {
    await open([LOADED]);
    emit({
      type: 'photos',
      event: {
        kind: 'starterLoaded',
        starter: {
          id: 'starter',
          label: 'starter (LN-GRU, trained on flickr8k)',
          dataset: 'flickr8k',
          encoder: 'mobilenet-v1-1.0-trunk',
          steps: 100,
          hiddenDim: 1024,
          layerNorm: true,
          dev: null,
          calibration: null,
          weightBytes: 10,
        },
        bank: { file: 'starter/caption-bank.txt', sentences: 5000 },
        problems: [],
        ms: 100,
      },
    });
    expect(screen.getByLabelText('Model to query')).toHaveValue('starter');
    // The loaded dataset (scenes) is not what the starter was trained on: the page says so.
    expect(screen.getByTestId('off-dataset')).toHaveTextContent('trained on flickr8k');
    expect(screen.queryByLabelText('Search sentence')).toBeNull();
    emit({ type: 'photos', event: ranked('another-run') });
    expect(screen.queryAllByTestId('photo-result')).toHaveLength(0);
    emit({ type: 'photos', event: ranked('starter') });
    expect(screen.getAllByTestId('photo-result')).toHaveLength(3);
    expect(screen.getByTestId('photo-rankings')).toHaveTextContent('starter (LN-GRU, trained on flickr8k)');
  });

  /** A picked folder: its files with their webkitRelativePath, as the browser gives them. */
  const folder = (name: string, paths: string[]): File[] =>
    paths.map((p) => {
      const f = new File(['x'], p, { type: 'image/jpeg' });
      Object.defineProperty(f, 'webkitRelativePath', { value: `${name}/${p}` });
      return f;
    });
  const pickGallery = (files: File[]) =>
    fireEvent.change(screen.getByLabelText('Gallery folder'), { target: { files } });

  it('encodes a picked folder into the gallery; Cancel aborts that load’s signal and calls nothing', async () => {
    await open([LOADED, STARTED2]);
    const files = folder('holiday', ['a.jpg', 'b.jpg']);
    pickGallery(files);
    const [args, signal] = worker.last('loadGallery') ?? [];
    expect(args).toEqual({
      runId: 'ln-1',
      name: 'holiday',
      files: [
        { path: 'a.jpg', file: files[0] },
        { path: 'b.jpg', file: files[1] },
      ],
    });
    expect(signal).toBeInstanceOf(AbortSignal);
    expect(signal?.aborted).toBe(false);
    emit({
      type: 'photos',
      event: { kind: 'galleryProgress', done: 1, total: 2, photosPerSec: 2, cached: 0 },
    });
    const progress = screen.getByTestId('gallery-progress');
    expect(progress).toHaveTextContent('1 of 2 photos');
    const n = sentCount();
    fireEvent.click(within(progress).getByRole('button', { name: 'Cancel' }));
    expect(signal?.aborted).toBe(true);
    expect(sentCount()).toBe(n);
    expect(screen.queryByTestId('gallery-progress')).toBeNull();
    // The worker's answer to the abort: the query fails, saying how far it got.
    const message = 'encoding the folder “holiday” was cancelled after 1 of 2 photos (those are cached)';
    emit({ type: 'photos', event: { kind: 'failed', query: 'gallery', runId: 'ln-1', message } });
    expect(screen.getByTestId('gallery-error')).toHaveTextContent(message);

    // The next folder goes with a signal of its own.
    pickGallery(files);
    const next = worker.last('loadGallery')?.[1];
    expect(next).toBeInstanceOf(AbortSignal);
    expect(next).not.toBe(signal);
    expect(next?.aborted).toBe(false);
    expect(worker.types().filter((t) => t === 'loadGallery')).toHaveLength(2);
  });

  it('searches the gallery by sentence; a rejected gallery call is the gallery’s failure', async () => {
    await open([LOADED, STARTED2]);
    const files = folder('holiday', ['a.jpg', 'b.jpg']);
    pickGallery(files);
    emit({
      type: 'photos',
      event: {
        kind: 'galleryLoaded',
        runId: 'ln-1',
        name: 'holiday',
        encoder: 'centernet-mb3',
        count: 2,
        cached: 0,
        failed: [],
        skipped: 0,
        captions: 0,
        ms: 5,
      },
    });
    expect(screen.getByTestId('gallery-summary')).toHaveAttribute('data-count', '2');
    fireEvent.change(screen.getByLabelText('Gallery search sentence'), { target: { value: ' a dog ' } });
    fireEvent.click(screen.getByRole('button', { name: 'Search my photos' }));
    expect(worker.last('searchGallery')).toEqual([{ runId: 'ln-1', query: 'a dog', limit: 12 }]);
    emit({
      type: 'photos',
      event: {
        kind: 'searchResults',
        runId: 'ln-1',
        query: 'a dog',
        hits: [{ index: 1, name: 'b.jpg', score: -0.1, energy: 0.1 }],
        total: 2,
        unknown: [],
      },
    });
    const found = within(screen.getByTestId('gallery-results')).getAllByTestId('gallery-hit');
    expect(found.map((h) => h.getAttribute('data-name'))).toEqual(['b.jpg']);

    // A call that rejects (its arguments could not be sent, say) ends the gallery's progress, saying why.
    worker.answer('loadGallery', () => {
      throw new Error('the folder could not be sent to the worker');
    });
    pickGallery(files);
    expect(screen.getByTestId('gallery-progress')).toBeInTheDocument();
    await waitFor(() =>
      expect(screen.getByTestId('gallery-error')).toHaveTextContent(
        'the folder could not be sent to the worker',
      ),
    );
    expect(screen.queryByTestId('gallery-progress')).toBeNull();
    // Reported once, where the gallery's results go, not also under the page's messages.
    expect(useUiStore.getState().errors).toEqual([]);
  });
});
