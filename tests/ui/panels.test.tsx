// @vitest-environment jsdom
import '@testing-library/jest-dom/vitest';
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import type { ReactNode } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TrainingClient } from '../../src/ui/client';
import { ClientContext } from '../../src/ui/context';
import { DataPanel } from '../../src/ui/DataPanel';
import { RetrievePanel } from '../../src/ui/RetrievePanel';
import { RunsPanel } from '../../src/ui/RunsPanel';
import { initialState, useUiStore } from '../../src/ui/store';
import { readZip } from '../../src/ui/zip';
import { initialPhotosState, usePhotosStore } from '../../src/ui/retrieve/photos-store';
import type { PhotosEvent } from '../../src/worker/photos-protocol';
import {
  MAX_QUERY_CHARS,
  type DatasetInfo,
  type ImageHit,
  type WorkerEvent,
} from '../../src/worker/protocol';
import { FakeWorker, LOADED, SCENES, STARTED2, storedRun } from './fake-worker';

let worker: FakeWorker;
let saved: { name: string; data: Blob }[];

async function setup(ui: ReactNode, events: WorkerEvent[] = [LOADED]) {
  const client = new TrainingClient(
    () => {
      worker = new FakeWorker('wasm');
      return worker;
    },
    () => '/tfjs-wasm/',
    { save: (name, data) => saved.push({ name, data }), baseUrl: () => 'http://127.0.0.1:5173/' },
  );
  client.connect();
  await act(() => new Promise<void>((ok) => setTimeout(ok, 0)));
  for (const e of events) worker.emit(e);
  render(<ClientContext.Provider value={client}>{ui}</ClientContext.Provider>);
  return client;
}

const emit = (...events: WorkerEvent[]) =>
  act(() => {
    for (const e of events) worker.emit(e);
  });
const sentCount = () => worker.calls.length;

beforeEach(() => {
  saved = [];
  useUiStore.setState(initialState());
  usePhotosStore.setState(initialPhotosState());
});
afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

describe('RetrievePanel', () => {
  it('refuses a non-image file, an empty or overlong query, naming the culprit, and sends nothing', async () => {
    await setup(<RetrievePanel />, [LOADED, STARTED2]);
    const n = sentCount();
    fireEvent.click(screen.getByLabelText('captions I type'));
    fireEvent.change(screen.getByLabelText('Photos to caption'), {
      target: { files: [new File(['x'], 'dog.jpg', { type: 'image/jpeg' })] },
    });
    expect(screen.getByTestId('rank-photos-error')).toHaveTextContent(
      'The list of candidate captions is empty',
    );
    expect(screen.getByTestId('rank-photos-error')).toHaveAttribute('role', 'alert');

    fireEvent.click(screen.getByRole('button', { name: 'Search' }));
    expect(screen.getByTestId('search-error')).toHaveTextContent('The sentence is empty');
    fireEvent.change(screen.getByLabelText('Search sentence'), {
      target: { value: 'x'.repeat(MAX_QUERY_CHARS + 5) },
    });
    fireEvent.click(screen.getByRole('button', { name: 'Search' }));
    expect(screen.getByTestId('search-error')).toHaveTextContent(`${MAX_QUERY_CHARS + 5} characters`);

    fireEvent.change(screen.getByLabelText('Sentence A'), { target: { value: 'a dog' } });
    fireEvent.click(screen.getByRole('button', { name: 'Which is more general?' }));
    expect(screen.getByTestId('generality-error')).toHaveTextContent('Sentence B is empty');
    expect(sentCount()).toBe(n);
  });

  it('says so when there is no run to ask', async () => {
    await setup(<RetrievePanel />);
    fireEvent.change(screen.getByLabelText('Search sentence'), { target: { value: 'a dog' } });
    fireEvent.click(screen.getByRole('button', { name: 'Search' }));
    expect(screen.getByTestId('search-error')).toHaveTextContent('No trained run');
    expect(worker.types()).not.toContain('searchImages');
  });

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
    await setup(<RetrievePanel />, [LOADED, STARTED2]);
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
    await setup(<RetrievePanel />, [LOADED, STARTED2]);
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
    await setup(<RetrievePanel />, [LOADED]);
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
    await setup(<RetrievePanel />, [LOADED, STARTED2]);
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
    await setup(<RetrievePanel />, [LOADED, STARTED2]);
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

  const hits: ImageHit[] = [
    {
      image: 3,
      name: '3.jpg',
      score: 0.1,
      thumb: { width: 2, height: 1, data: new Uint8ClampedArray(8).fill(200) },
    },
    { image: 7, name: '7.jpg', score: 0.2 },
  ];
  const results = (unknown: string[] = []): WorkerEvent => ({
    type: 'imageResults',
    runId: 'ln-1',
    query: 'a dog',
    items: hits,
    total: 20,
    unknown,
  });

  async function search(dataset: DatasetInfo) {
    await setup(<RetrievePanel />, [{ type: 'datasetLoaded', dataset }, STARTED2]);
    fireEvent.change(screen.getByLabelText('Search sentence'), { target: { value: 'a dog' } });
    fireEvent.click(screen.getByRole('button', { name: 'Search' }));
    expect(worker.last('searchImages')).toEqual(['ln-1', 'a dog', 12]);
  }

  it('draws thumbs from URLs, and lists unknown words', async () => {
    await search({ ...SCENES, thumbs: 'url', thumbBase: 'packs/scenes/' });
    emit(results(['zebra']));
    const grid = screen.getByTestId('image-results');
    const imgs = within(grid).getAllByRole('img');
    expect(imgs.map((i) => i.getAttribute('src'))).toEqual([
      'http://localhost:3000/packs/scenes/thumbs/3.jpg',
      'http://localhost:3000/packs/scenes/thumbs/7.jpg',
    ]);
    expect(within(grid).getAllByTestId('image-hit')).toHaveLength(2);
    expect(screen.getByTestId('unknown-words')).toHaveTextContent('“zebra”');
  });

  it('draws inline pixels to a canvas', async () => {
    const putImageData = vi.fn();
    const ctx = {
      createImageData: (w: number, h: number) => ({
        width: w,
        height: h,
        data: new Uint8ClampedArray(w * h * 4),
      }),
      putImageData,
    };
    vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockReturnValue(ctx as unknown as GPUCanvasContext);
    await search({ ...SCENES, thumbs: 'inline' });
    emit(results());
    const hitsEl = screen.getAllByTestId('image-hit');
    const canvas = hitsEl[0]!.querySelector('canvas')!;
    expect([canvas.width, canvas.height]).toEqual([2, 1]);
    expect(putImageData).toHaveBeenCalledOnce();
    expect(Array.from(putImageData.mock.calls[0]![0].data as Uint8ClampedArray)).toEqual(Array(8).fill(200));
    expect(hitsEl[1]).toHaveTextContent('7.jpg'); // no pixels: the name
    expect(hitsEl[1]!.querySelector('canvas')).toBeNull();
  });

  it('shows the picked files of a folder dataset', async () => {
    const createObjectURL = vi.fn((b: Blob) => `blob:${(b as File).name}`);
    Object.assign(URL, { createObjectURL, revokeObjectURL: vi.fn() });
    const client = await setup(<RetrievePanel />, []);
    const files = ['Images/a.jpg', 'Images/b.jpg', 'captions.txt'].map((path) => ({
      path,
      file: new File(['x'], path.split('/').pop()!, {
        type: path.endsWith('.jpg') ? 'image/jpeg' : 'text/plain',
      }),
    }));
    act(() => void client.loadFolder('mine', files, { preset: 'centernet-mb3' }));
    emit(
      {
        type: 'datasetLoaded',
        dataset: {
          ...SCENES,
          kind: 'folder',
          thumbs: 'file',
          imagePaths: ['Images/x.jpg', 'Images/a.jpg', 'Images/b.jpg'],
        },
      },
      STARTED2,
    );
    fireEvent.change(screen.getByLabelText('Search sentence'), { target: { value: 'a dog' } });
    fireEvent.click(screen.getByRole('button', { name: 'Search' }));
    emit({
      ...results(),
      items: [
        { image: 2, name: 'b.jpg', score: 0.1 },
        { image: 0, name: 'x.jpg', score: 0.2 },
      ],
    } as WorkerEvent);
    const hitsEl = screen.getAllByTestId('image-hit');
    expect(hitsEl[0]!.querySelector('img')?.getAttribute('src')).toBe('blob:b.jpg');
    expect(hitsEl[1]!.querySelector('img')).toBeNull(); // x.jpg was not among the picked files
    expect(hitsEl[1]).toHaveTextContent('x.jpg');
  });

  it('shows only names when the dataset has no thumbnails', async () => {
    await search({ ...SCENES, thumbs: 'none' });
    emit(results());
    const grid = screen.getByTestId('image-results');
    expect(within(grid).queryAllByRole('img')).toHaveLength(0);
    expect(grid).toHaveTextContent('3.jpg');
  });

  it('shows which sentence is more general, and that cosine has no order', async () => {
    await setup(<RetrievePanel />, [LOADED, STARTED2]);
    fireEvent.change(screen.getByLabelText('Sentence A'), { target: { value: 'a dog runs on the grass' } });
    fireEvent.change(screen.getByLabelText('Sentence B'), { target: { value: 'a dog' } });
    fireEvent.click(screen.getByRole('button', { name: 'Which is more general?' }));
    expect(worker.last('compareSentences')).toEqual(['ln-1', 'a dog runs on the grass', 'a dog']);
    const g = {
      type: 'generality',
      runId: 'ln-1',
      a: 'a dog runs on the grass',
      b: 'a dog',
      eAB: 0.001,
      eBA: 0.8,
    } as const;
    emit({ ...g, verdict: 'b-more-general' });
    expect(screen.getByTestId('generality')).toHaveTextContent(
      '“a dog” is more general than “a dog runs on the grass”.',
    );
    expect(screen.getByTestId('generality')).toHaveTextContent('E(A→B) = 0.0010, E(B→A) = 0.8000');
    emit({ ...g, verdict: 'not-order' });
    expect(screen.getByTestId('generality')).toHaveTextContent('Order is not defined for a cosine run');
  });

  it('opens a stored run when it is picked', async () => {
    await setup(<RetrievePanel />, [LOADED, { type: 'runs', runs: [storedRun('old-1', 'LN-GRU')] }]);
    const select = screen.getByLabelText('Model to query');
    fireEvent.change(select, { target: { value: 'old-1' } });
    expect(worker.last('openRun')).toEqual(['old-1']);
    expect(screen.getByTestId('run-opening')).toHaveTextContent('Opening the run');
    emit({ type: 'runOpened', run: storedRun('old-1', 'LN-GRU') });
    fireEvent.change(screen.getByLabelText('Search sentence'), { target: { value: 'a dog' } });
    fireEvent.click(screen.getByRole('button', { name: 'Search' }));
    expect(worker.last('searchImages')?.[0]).toBe('old-1');
  });
});

describe('RunsPanel', () => {
  const runs: WorkerEvent = { type: 'runs', runs: [storedRun('ln-1', 'LN-GRU'), storedRun('gru-1', 'GRU')] };

  it('exports a run as a ZIP whose entries are its files', async () => {
    await setup(<RunsPanel />, [LOADED, runs]);
    const item = screen.getByTestId('runs-list').querySelector('li[data-run-id="gru-1"]') as HTMLElement;
    fireEvent.click(within(item).getByRole('button', { name: 'Export' }));
    expect(worker.last('exportRun')).toEqual(['gru-1']);
    expect(within(item).getByRole('button', { name: 'Exporting…' })).toBeDisabled();
    const bin = new Uint8Array([0, 0, 128, 63, 0, 0, 0, 64]);
    emit({
      type: 'exported',
      runId: 'gru-1',
      files: {
        'config.json': '{"format":"orderembed-run"}\n',
        'weights.json': '{"weights":[]}\n',
        'weights.bin': bin.buffer,
        'metrics.json': '{"history":[]}\n',
      },
    });
    expect(saved.map((s) => [s.name, s.data.type])).toEqual([['GRU-gru-1.zip', 'application/zip']]);
    const bytes = await new Promise<ArrayBuffer>((ok) => {
      const r = new FileReader();
      r.onload = () => ok(r.result as ArrayBuffer);
      r.readAsArrayBuffer(saved[0]!.data);
    });
    const entries = readZip(bytes);
    expect(entries.map((e) => e.name)).toEqual([
      'config.json',
      'weights.json',
      'weights.bin',
      'metrics.json',
    ]);
    expect(new TextDecoder().decode(entries[0]!.data)).toBe('{"format":"orderembed-run"}\n');
    expect(entries[2]!.data).toEqual(bin);
    expect(within(item).getByRole('button', { name: 'Export' })).toBeEnabled();
  });

  it('deletes only after a confirmation', async () => {
    await setup(<RunsPanel />, [LOADED, runs]);
    const item = screen.getByTestId('runs-list').querySelector('li[data-run-id="ln-1"]') as HTMLElement;
    fireEvent.click(within(item).getByRole('button', { name: 'Delete' }));
    expect(worker.types()).not.toContain('deleteRun');
    fireEvent.click(within(item).getByRole('button', { name: 'Keep' }));
    fireEvent.click(within(item).getByRole('button', { name: 'Delete' }));
    fireEvent.click(within(item).getByRole('button', { name: 'Delete for good' }));
    expect(worker.last('deleteRun')).toEqual(['ln-1']);
  });

  it('imports picked files and shows what is wrong with them', async () => {
    await setup(<RunsPanel />, [LOADED, runs]);
    const input = screen.getByLabelText(/Run \.zip, or its files/);
    fireEvent.change(input, { target: { files: [new File(['{}'], 'config.json')] } });
    await waitFor(() =>
      expect(screen.getByTestId('runs-error')).toHaveTextContent('missing weights.json, weights.bin'),
    );
    fireEvent.change(input, {
      target: {
        files: [
          new File(['{"model":{"layerNorm":true}}'], 'config.json'),
          new File(['{}'], 'weights.json'),
          new File([new Uint8Array(4)], 'weights.bin'),
        ],
      },
    });
    await waitFor(() => expect(worker.last('importRun')?.[1]).toBe(''));
    emit({ type: 'error', phase: 'import', message: 'model file from another vocabulary' });
    expect(screen.getByTestId('runs-error')).toHaveTextContent(
      'import failed: model file from another vocabulary',
    );
  });
});

describe('DataPanel', () => {
  it('loads a picked folder with the chosen encoder (paths without the top folder)', async () => {
    await setup(<DataPanel />);
    const file = (rel: string, type = 'image/jpeg') => {
      const f = new File(['x'], rel.split('/').pop()!, { type });
      Object.defineProperty(f, 'webkitRelativePath', { value: rel });
      return f;
    };
    const input = screen.getByLabelText('Photo folder');
    expect(input).toHaveAttribute('webkitdirectory');
    fireEvent.change(input, {
      target: {
        files: [
          file('Flickr8k/Images/1.jpg'),
          file('Flickr8k/captions.txt', 'text/plain'),
          file('Flickr8k/.DS_Store', ''),
        ],
      },
    });
    expect(screen.getByTestId('picked-folder')).toHaveTextContent('“Flickr8k”: 2 files, 1 photos');
    fireEvent.change(screen.getByLabelText('Image encoder'), { target: { value: 'mobilenet-v2-0.35' } });
    fireEvent.click(screen.getByRole('button', { name: 'Load folder' }));
    const source = worker.last('loadDataset')?.[0];
    expect(source?.kind).toBe('folder');
    if (source?.kind !== 'folder') return;
    expect(source.name).toBe('Flickr8k');
    expect(source.files.map((f) => f.path)).toEqual(['Images/1.jpg', 'captions.txt']);
    expect(source.encoder).toEqual({ preset: 'mobilenet-v2-0.35' });
    // Progress with a Cancel button.
    emit({ type: 'datasetProgress', phase: 'extracting features', done: 1, total: 2, imagesPerSec: 0.5 });
    expect(screen.getByTestId('dataset-progress')).toHaveTextContent(
      'extracting features 1 / 2, 0.5 images/s',
    );
    // Cancel aborts the load's signal; it calls nothing else.
    const signal = worker.last('loadDataset')?.[1];
    expect(signal?.aborted).toBe(false);
    const n = worker.calls.length;
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(signal?.aborted).toBe(true);
    expect(worker.calls.length).toBe(n);
    expect(screen.queryByTestId('dataset-progress')).not.toBeInTheDocument();
  });

  it('greys out the encoders this server cannot load, with the reason, and offers the rest', async () => {
    // A server with the shipped models only: 404 for anything under shared-models/.
    const fetchMock = vi.fn((url: string | URL) => {
      const u = String(url);
      if (u.includes('/shared-models/')) return Promise.resolve(new Response('not found', { status: 404 }));
      if (u.endsWith('model.json'))
        return Promise.resolve(
          new Response(JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['w.bin'] }] })),
        );
      return Promise.resolve(new Response('', { status: 200 }));
    });
    vi.stubGlobal('fetch', fetchMock);
    try {
      await setup(<DataPanel />);
      const select = screen.getByLabelText('Image encoder');
      await waitFor(() => expect(select).toHaveAttribute('data-checked', 'true'));
      const option = (id: string) =>
        within(select)
          .getAllByRole('option')
          .find((o) => (o as HTMLOptionElement).value === id)!;
      expect(option('mobilenet-v2-0.35')).toBeDisabled();
      expect(option('mobilenet-v2-0.35')).toHaveTextContent('not available on this server');
      expect(option('mobilenet-v1-1.0-trunk')).toBeEnabled();
      expect(option('centernet-mb3')).toBeEnabled();
      expect((select as HTMLSelectElement).value).toBe('mobilenet-v1-1.0-trunk');
      expect(screen.getByTestId('encoders-unavailable')).toHaveTextContent(
        /mobilenet-v2-0\.35 cannot load: .*shared-models\/mobilenet-v2-0\.35\/model\.json: HTTP 404/,
      );
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('says a picked folder holds no photos and does not offer to load it', async () => {
    await setup(<DataPanel />);
    const f = new File(['x'], 'notes.txt', { type: 'text/plain' });
    Object.defineProperty(f, 'webkitRelativePath', { value: 'stuff/notes.txt' });
    fireEvent.change(screen.getByLabelText('Photo folder'), { target: { files: [f] } });
    expect(screen.getByTestId('no-photos')).toHaveTextContent(/“stuff” holds no photos \(1 files/);
    expect(screen.getByRole('button', { name: 'Load folder' })).toBeDisabled();
  });

  it('asks for the URL of a custom encoder', async () => {
    await setup(<DataPanel />);
    fireEvent.change(screen.getByLabelText('Image encoder'), { target: { value: 'custom-url' } });
    const input = screen.getByLabelText('Encoder model.json URL');
    fireEvent.change(input, { target: { value: 'models/my/model.json' } });
    const f = new File(['x'], '1.jpg', { type: 'image/jpeg' });
    Object.defineProperty(f, 'webkitRelativePath', { value: 'top/Images/1.jpg' });
    fireEvent.change(screen.getByLabelText('Photo folder'), { target: { files: [f] } });
    fireEvent.click(screen.getByRole('button', { name: 'Load folder' }));
    const source = worker.last('loadDataset')?.[0];
    expect(source).toMatchObject({
      kind: 'folder',
      encoder: { url: 'http://127.0.0.1:5173/models/my/model.json' },
    });
  });
});
