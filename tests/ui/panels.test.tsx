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
