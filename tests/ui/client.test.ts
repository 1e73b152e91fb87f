// @vitest-environment jsdom
import { beforeEach, describe, expect, it } from 'vitest';
import { TrainingClient, initialSourceFromUrl } from '../../src/ui/client';
import { initialState, useUiStore } from '../../src/ui/store';
import { readZip, writeZip } from '../../src/ui/zip';
import { MAX_QUERY_CHARS } from '../../src/worker/protocol';
import { FakeWorker, LOADED, STARTED2, progress, storedRun } from './fake-worker';

let workers: FakeWorker[];
let saved: { name: string; data: Blob }[];

function makeClient(opts: { spawn?: () => FakeWorker } = {}) {
  const spawn =
    opts.spawn ??
    (() => {
      const w = new FakeWorker('wasm');
      workers.push(w);
      return w;
    });
  return new TrainingClient(spawn, () => 'http://127.0.0.1:5173/tfjs-wasm/', {
    save: (name, data) => saved.push({ name, data }),
    baseUrl: () => 'http://127.0.0.1:5173/app/',
  });
}

const current = () => workers.at(-1)!;
const flush = () => new Promise<void>((ok) => setTimeout(ok, 0));
const st = () => useUiStore.getState();

async function readyClient() {
  const client = makeClient();
  client.connect();
  await flush();
  current().emit(LOADED);
  return client;
}

async function blobBytes(b: Blob): Promise<Uint8Array> {
  return new Uint8Array(
    await new Promise<ArrayBuffer>((ok) => {
      const r = new FileReader();
      r.onload = () => ok(r.result as ArrayBuffer);
      r.readAsArrayBuffer(b);
    }),
  );
}

beforeEach(() => {
  workers = [];
  saved = [];
  useUiStore.setState(initialState());
});

describe('TrainingClient: connecting', () => {
  it('sends init, then listRuns and the built-in scenes once the worker is ready', async () => {
    const client = makeClient();
    client.connect();
    expect(current().calls).toEqual([['init', 'auto', 'http://127.0.0.1:5173/tfjs-wasm/', undefined]]);
    expect(st().status).toBe('connecting');
    await flush();
    expect(current().types()).toEqual(['init', 'listRuns', 'loadDataset']);
    expect(current().last('loadDataset')).toEqual([{ kind: 'scenes' }, expect.any(AbortSignal)]);
    expect(current().last('loadDataset')?.[1]?.aborted).toBe(false);
    expect(st().status).toBe('ready');
    expect(st().loading?.label).toBe('built-in scenes');
    current().emit(LOADED);
    expect(st().dataset?.name).toBe('scenes-200');
    // A second 'ready' (e.g. after a backend fallback) does not reload.
    current().emit({ type: 'ready', backend: 'cpu', reason: 'fallback' });
    expect(current().types()).toEqual(['init', 'listRuns', 'loadDataset']);
  });

  it('reads ?scenes=N from the page URL', () => {
    expect(initialSourceFromUrl('?scenes=40')).toEqual({ kind: 'scenes', numImages: 40 });
    expect(initialSourceFromUrl('?scenes=x')).toEqual({ kind: 'scenes' });
    expect(initialSourceFromUrl('')).toEqual({ kind: 'scenes' });
  });

  it('switching the backend starts a fresh worker that reloads the dataset', async () => {
    const client = await readyClient();
    client.setBackend('webgpu');
    expect(workers).toHaveLength(2);
    expect(workers[0]!.terminated).toBe(true);
    expect(current().calls[0]?.slice(0, 2)).toEqual(['init', 'webgpu']);
    await flush();
    expect(current().types()).toEqual(['init', 'listRuns', 'loadDataset']);
  });
});

describe('TrainingClient: crash recovery', () => {
  it('restarts once by itself, re-sending init and the last dataset; histories stay', async () => {
    const client = await readyClient();
    const files = [{ path: 'Images/1.jpg', file: new File(['x'], '1.jpg', { type: 'image/jpeg' }) }];
    expect(client.loadFolder('Flickr8k', files, { preset: 'centernet-mb3' })).toBeNull();
    current().emit(LOADED);
    client.start(true);
    current().emit(STARTED2);
    current().emit(progress('ln-1', 1, [2, 1.5]));

    const dead = current();
    dead.crash('wasm memory exhausted');
    expect(dead.terminated).toBe(true);
    expect(workers).toHaveLength(2);
    expect(st().crash).toEqual({ message: 'wasm memory exhausted', restarted: true });
    expect(st().status).toBe('connecting');
    expect(st().runs['ln-1']).toMatchObject({ state: 'stopped', live: false });
    expect(st().runs['ln-1']?.loss).toHaveLength(2);

    await flush();
    expect(current().types()).toEqual(['init', 'listRuns', 'loadDataset']);
    const [source] = current().last('loadDataset')!;
    expect(source).toMatchObject({ kind: 'folder', name: 'Flickr8k', encoder: { preset: 'centernet-mb3' } });
    expect(st().status).toBe('ready');

    // Late events of the dead worker are ignored.
    dead.emit({ type: 'error', phase: 'train', message: 'ghost' });
    expect(st().errors).toEqual([]);

    // A second crash without training in between: no more automatic restarts.
    current().crash('again');
    expect(workers).toHaveLength(2);
    expect(st().status).toBe('crashed');
    expect(st().crash).toEqual({ message: 'again', restarted: false });

    client.restart();
    expect(workers).toHaveLength(3);
    expect(st().crash).toBeNull();
    expect(current().calls[0]?.[0]).toBe('init');
  });

  it('a worker that goes silent after Start is taken as gone and replaced', async () => {
    const spawn = () => {
      const w = new FakeWorker('wasm');
      workers.push(w);
      return w;
    };
    const client = new TrainingClient(spawn, () => '', { silentWorkerMs: 30, baseUrl: () => 'http://x/' });
    client.connect();
    await flush();
    current().emit(LOADED);
    // A worker that answers is left alone.
    client.start();
    current().emit(STARTED2);
    await new Promise((ok) => setTimeout(ok, 60));
    expect(workers).toHaveLength(1);
    current().emit({ type: 'reset' });
    // One that never answers Start is replaced, with a message a person can act on.
    client.start();
    expect(st().status).toBe('starting');
    await new Promise((ok) => setTimeout(ok, 60));
    expect(workers).toHaveLength(2);
    expect(st().crash?.message).toMatch(/stopped answering 0 s after Start .*run out of memory/);
    client.dispose();
  });

  it('a worker that cannot be spawned is reported, not thrown', () => {
    const client = makeClient({
      spawn: () => {
        throw new Error('module script failed');
      },
    });
    client.connect();
    expect(st().status).toBe('crashed');
    expect(st().crash?.message).toBe('module script failed');
  });
});

describe('TrainingClient: requests', () => {
  it('does not start with an invalid form', async () => {
    const client = await readyClient();
    st().setField('learningRate', '');
    expect(client.start()).toBe(false);
    expect(current().types()).not.toContain('start');
    expect(st().formErrors.learningRate).toBe('Required.');
  });

  it('compare sends two RunSpecs that differ only in layerNorm', async () => {
    const client = await readyClient();
    st().setField('hiddenDim', '64');
    expect(client.start(true)).toBe(true);
    const [options] = current().last('start')!;
    expect(options.runs).toHaveLength(2);
    const [ln, gru] = options.runs;
    expect([ln!.label, gru!.label]).toEqual(['LN-GRU', 'GRU']);
    expect(ln!.id).toMatch(/^ln-/);
    expect(gru!.id).toMatch(/^gru-/);
    expect([ln!.model.layerNorm, gru!.model.layerNorm]).toEqual([true, false]);
    expect({ ...ln!.model, layerNorm: 0 }).toEqual({ ...gru!.model, layerNorm: 0 });
    expect(ln!.train).toEqual(gru!.train);
    expect(ln!.model.hiddenDim).toBe(64);
    expect(options).toMatchObject({ evalEvery: 25, evalImages: 500, maxSteps: 0 });
    expect(st().status).toBe('starting');
  });

  it('starts again after the runs finished (the worker replaces them)', async () => {
    const client = await readyClient();
    client.start();
    current().emit(STARTED2);
    current().emit({ type: 'done', step: 10 });
    expect(client.start()).toBe(true);
    expect(current().types().slice(-2)).toEqual(['start', 'start']);
    expect(st().status).toBe('starting');
  });

  it('resolves a pack URL against the page base and cancels a load by aborting its signal', async () => {
    const client = await readyClient();
    const scenes = current().last('loadDataset')?.[1];
    expect(client.loadPack('packs/flickr8k-mobilenet-v1-1.0-trunk/')).toBeNull();
    const [source, signal] = current().last('loadDataset')!;
    expect(source).toEqual({
      kind: 'pack',
      url: 'http://127.0.0.1:5173/app/packs/flickr8k-mobilenet-v1-1.0-trunk',
    });
    expect(signal).toBeInstanceOf(AbortSignal);
    expect(signal).not.toBe(scenes); // each load has its own signal
    expect(signal?.aborted).toBe(false);
    expect(st().loading).not.toBeNull();
    const n = current().calls.length;
    client.cancelLoad();
    // Cancel is no call of the worker: the load's signal aborts (the newest load's only).
    expect(current().calls.length).toBe(n);
    expect(signal?.aborted).toBe(true);
    expect(scenes?.aborted).toBe(false);
    expect(st().loading).toBeNull();
    // The worker's answer to the cancelled load, as the UI shows it.
    current().emit({
      type: 'notice',
      message: 'Loading the dataset was cancelled: reading the pack manifest was cancelled',
    });
    expect(st().loading).toBeNull();
    expect(st().errors).toEqual([]);
    // The next load gets a fresh signal.
    client.loadScenes(30);
    expect(current().last('loadDataset')).toEqual([
      { kind: 'scenes', numImages: 30 },
      expect.objectContaining({ aborted: false }),
    ]);
    expect(client.loadPack('  ')).toMatch(/empty/);
  });

  it('validates queries and sends nothing when they are wrong', async () => {
    const client = await readyClient();
    client.start();
    current().emit(STARTED2);
    const n = current().calls.length;
    const text = new File(['hello'], 'notes.txt', { type: 'text/plain' });
    expect(client.rankCaptions('ln-1', text)).toBe(false);
    expect(st().retrieval.errors.rank).toMatch(/notes\.txt.*not a photo/);
    expect(client.searchImages('ln-1', '   ')).toBe(false);
    expect(st().retrieval.errors.search).toMatch(/empty/);
    expect(client.searchImages('ln-1', 'a'.repeat(MAX_QUERY_CHARS + 1))).toBe(false);
    expect(st().retrieval.errors.search).toMatch(new RegExp(`too long.*${MAX_QUERY_CHARS}`));
    expect(client.compareSentences('ln-1', 'a dog', '')).toBe(false);
    expect(st().retrieval.errors.generality).toMatch(/Sentence B is empty/);
    expect(client.searchImages(null, 'a dog')).toBe(false);
    expect(st().retrieval.errors.search).toMatch(/No trained run/);
    expect(current().calls.length).toBe(n);

    const photo = new File([new Uint8Array([0xff, 0xd8])], 'dog.JPG', { type: '' });
    expect(client.rankCaptions('ln-1', photo)).toBe(true);
    expect(client.searchImages('ln-1', ' a dog ')).toBe(true);
    expect(client.compareSentences('ln-1', 'a dog runs', 'a dog')).toBe(true);
    const sent = current().calls.slice(n);
    expect(sent.map((c) => c[0])).toEqual(['rankCaptions', 'searchImages', 'compareSentences']);
    expect(sent[0]).toEqual(['rankCaptions', 'ln-1', photo, 'dog.JPG', 10]);
    expect(sent[1]).toEqual(['searchImages', 'ln-1', 'a dog', 12]);
    expect(sent[2]).toEqual(['compareSentences', 'ln-1', 'a dog runs', 'a dog']);
    expect(st().retrieval.errors).toEqual({ rank: undefined, search: undefined, generality: undefined });
    expect(st().retrieval.pending).toEqual({ rank: true, search: true, generality: true });
  });

  it('an exported run is downloaded as one ZIP of its files', async () => {
    const client = await readyClient();
    current().emit({ type: 'runs', runs: [storedRun('ln-7', 'LN-GRU')] });
    client.exportRun('ln-7');
    expect(current().last('exportRun')).toEqual(['ln-7']);
    const weights = new Float32Array([1, 2, 3]).buffer;
    current().emit({
      type: 'exported',
      runId: 'ln-7',
      files: { 'config.json': '{"a":1}', 'weights.json': '{}', 'weights.bin': weights, 'metrics.json': '{}' },
    });
    expect(saved.map((s) => s.name)).toEqual(['LN-GRU-ln-7.zip']);
    const entries = readZip(await blobBytes(saved[0]!.data));
    expect(entries.map((e) => e.name)).toEqual([
      'config.json',
      'weights.json',
      'weights.bin',
      'metrics.json',
    ]);
    expect(new Float32Array(entries[2]!.data.buffer)).toEqual(new Float32Array([1, 2, 3]));
    expect(st().exportingRunId).toBeNull();
  });

  it('imports a ZIP export or the files themselves, and names what is missing', async () => {
    const client = await readyClient();
    const zip = writeZip({
      'config.json': '{"model":{"layerNorm":false}}',
      'weights.json': '{}',
      'weights.bin': new Uint8Array([1, 2, 3, 4]),
      'metrics.json': '{}',
    });
    expect(await client.importFiles([new File([zip], 'GRU-gru-1.zip')])).toBeNull();
    const [files, label] = current().last('importRun')!;
    // The worker names the run from its validated config (model, dataset, time).
    expect(label).toBe('');
    expect(files['config.json']).toBe('{"model":{"layerNorm":false}}');
    expect(new Uint8Array(files['weights.bin'] as ArrayBuffer)).toEqual(new Uint8Array([1, 2, 3, 4]));
    expect(st().importing).toBe(true);
    current().emit({ type: 'runs', runs: [] });
    expect(st().importing).toBe(false);

    const n = current().calls.length;
    const partial = [new File(['{}'], 'config.json'), new File(['{}'], 'weights.json')];
    expect(await client.importFiles(partial)).toMatch(/missing weights\.bin/);
    expect(await client.importFiles([new File(['junk'], 'run.zip')])).toMatch(/run\.zip: not a ZIP/);
    expect(await client.importFiles([new File(['x'], 'config.json'), new File(['x'], 'notes.txt')])).toMatch(
      /notes\.txt.*not a run file/,
    );
    expect(current().calls.length).toBe(n);
    expect(st().runsError).toMatch(/import failed/);
  });

  it('open and delete call the worker', async () => {
    const client = await readyClient();
    const n = current().calls.length;
    client.openRun('a');
    client.deleteRun('b');
    expect(current().calls.slice(n)).toEqual([
      ['openRun', 'a'],
      ['deleteRun', 'b'],
    ]);
    expect(st().openingRunId).toBe('a');
  });

  it('a call that fails is shown under its phase, not when its worker was replaced', async () => {
    const client = await readyClient();
    current().answer('searchImages', () => {
      throw new Error('no dataset is loaded');
    });
    current().answer('renameRun', (runId) => Promise.reject(new Error(`no stored run ${runId}`)));
    current().emit(STARTED2);
    expect(client.searchImages('ln-1', 'a dog')).toBe(true);
    client.renameRun('ghost', 'x');
    await flush();
    expect(st().retrieval.errors.search).toBe('no dataset is loaded');
    expect(st().retrieval.pending.search).toBe(false);
    expect(st().runsError).toBe('runs failed: no stored run ghost');
    current().answer('evaluate', () => Promise.reject(new Error('out of memory')));
    client.evaluate();
    await flush();
    expect(st().errors.map((e) => [e.phase, e.text])).toEqual([['eval', 'eval failed: out of memory']]);

    // A call of a worker that is replaced before the call fails.
    let fail: (e: Error) => void = () => undefined;
    current().answer('listRuns', () => new Promise((_ok, no) => (fail = no)));
    client.listRuns();
    client.restart();
    expect(workers).toHaveLength(2);
    fail(new Error('late'));
    await flush();
    expect(st().runsError).toBe('runs failed: no stored run ghost');
    expect(st().errors).toHaveLength(1);
  });

  it('without a worker, a call says so', () => {
    const client = makeClient();
    client.pause();
    expect(st().errors.map((e) => e.text)).toEqual(['message failed: the worker is not running: restart it']);
  });
});
