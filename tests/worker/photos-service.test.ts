/**
 * The own-photos calls of the worker service (src/worker/photos.ts): each answers with 'photos' events,
 * a failure being the 'failed' event of its query (the call resolves). Then a gallery load cancelled by
 * its AbortSignal (src/worker/photos-gallery.ts), driven as the UI drives it: directly, and through
 * Comlink (the signal travels as a port, src/worker/abort-transfer.ts). The load stops at the next check
 * (between chunks, or inside one), the query fails saying how far it got, and the photos encoded by then
 * stay cached: the same folder again encodes only the rest, and is searched by sentence. The starter is a tiny exported run served by a stubbed fetch; photo decoding
 * and the image encoder (browser-only) are replaced by a fake `encodePhotos` that returns one known
 * row per photo, and the IndexedDB feature cache by a Map.
 */
import * as Comlink from 'comlink';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { wasmDir } from '../../scripts/lib/node-backend';
import { IdbFeatureCache } from '../../src/model/encoders';
import { exportRun } from '../../src/model/export';
import { makeSyntheticDataset } from '../../src/model/synthetic';
import { Trainer } from '../../src/model/trainer';
import { registerAbortTransfer } from '../../src/worker/abort-transfer';
import { EventRelay, serviceApi, type WorkerApi } from '../../src/worker/adapter';
import type * as PhotosModels from '../../src/worker/photos-models';
import type { PhotosEvent } from '../../src/worker/photos-protocol';
import type { PickedFile, WorkerEvent } from '../../src/worker/protocol';
import { RunStore } from '../../src/worker/run-store';
import { WorkerService } from '../../src/worker/service';

/** The fake encoder's calls, and what the test does at the n-th (0-based) one before it answers. */
const encoder = vi.hoisted(() => ({
  calls: [] as { paths: string[]; signal?: AbortSignal }[],
  at: new Map<number, (signal?: AbortSignal) => void | Promise<void>>(),
}));

vi.mock('../../src/worker/photos-models', async (importOriginal) => {
  const real = await importOriginal<typeof PhotosModels>();
  const encodePhotos: typeof real.encodePhotos = async (preset, photos, _baseUrl, _onProgress, signal) => {
    const n = encoder.calls.push({ paths: photos.map((p) => p.path), signal }) - 1;
    await new Promise((ok) => setTimeout(ok, 1)); // an encoder takes its time
    await encoder.at.get(n)?.(signal);
    // As extractFeatures does: an aborted signal rejects the chunk.
    if (signal?.aborted)
      throw Object.assign(new Error('feature extraction cancelled'), { name: 'AbortError' });
    const F = preset.featureDim;
    const features = new Float32Array(photos.length * F);
    photos.forEach((p, i) => features.fill(rowValue(p.path), i * F, (i + 1) * F));
    return { features, errors: new Map<number, string>() };
  };
  return { ...real, encodePhotos };
});

/** The value every feature of photo `path` gets from the fake encoder (p012.jpg: 12). */
function rowValue(path: string): number {
  return Number(/\d+/.exec(path)?.[0] ?? -1);
}

const BASE = 'http://page.test/';
const ENCODER = 'mobilenet-v1-1.0-trunk';
let giveStarter: (files: Record<string, string | ArrayBuffer>) => void = () => undefined;
/** The tiny starter's files, made once the backend is up (the service asks for them as soon as it is). */
const starterFiles = new Promise<Record<string, string | ArrayBuffer>>((ok) => (giveStarter = ok));

/** Serves the tiny starter under starter/; anything else is a 404. */
async function serve(url: string | URL): Promise<Response> {
  const u = String(url);
  const files = await starterFiles;
  const body = u.startsWith(`${BASE}starter/`) ? files[u.slice(`${BASE}starter/`.length)] : undefined;
  return body === undefined ? new Response('not found', { status: 404 }) : new Response(body);
}

/** The IndexedDB feature cache, in memory; `onPut` runs after each write. */
const cache = new Map<string, Float32Array>();
let onPut: (() => void) | null = null;

/** A folder of `n` photos named `${prefix}000.jpg`, ..., plus a file that is not a photo. */
function folder(prefix: string, n: number): PickedFile[] {
  const files: PickedFile[] = Array.from({ length: n }, (_, i) => {
    const path = `${prefix}${String(i).padStart(3, '0')}.jpg`;
    return { path, file: new File([new Uint8Array([0xff, 0xd8, i & 0xff])], path, { lastModified: 1 }) };
  });
  return [...files, { path: 'notes.txt', file: new File(['x'], 'notes.txt') }];
}

const events: WorkerEvent[] = [];
const photosEvents = (from: number): PhotosEvent[] =>
  events.slice(from).flatMap((e) => (e.type === 'photos' ? [e.event] : []));
const relay = new EventRelay();
const service = new WorkerService({
  post: (e, t) => {
    events.push(e);
    relay.post(e, t);
  },
  baseUrl: () => BASE,
  store: new RunStore('photos-service-test'),
});

beforeAll(async () => {
  vi.stubGlobal('fetch', serve);
  expect(await service.init('wasm', wasmDir())).toBe(true);
  // Image features as wide as the encoder's, so that the gallery can be searched with it.
  const ds = makeSyntheticDataset({ numImages: 40, imageDim: 1024, seed: 3 });
  const t = new Trainer(ds, { wordDim: 8, hiddenDim: 8 }, { batchSize: 8, seed: 1 });
  t.step();
  giveStarter(exportRun(t, { encoder: ENCODER, dataset: 'flickr8k' }).files);
  t.dispose();
  vi.spyOn(IdbFeatureCache.prototype, 'get').mockImplementation(async (key) => cache.get(key));
  vi.spyOn(IdbFeatureCache.prototype, 'put').mockImplementation(async (key, value) => {
    cache.set(key, value.slice());
    onPut?.();
  });
  const from = events.length;
  await service.loadStarter();
  expect(photosEvents(from).filter((e) => e.kind === 'failed')).toEqual([]);
}, 60_000);

afterAll(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

beforeEach(() => {
  encoder.calls = [];
  encoder.at.clear();
  onPut = null;
});

const cachedRows = (prefix: string): number[] =>
  [...cache.entries()]
    .filter(([key]) => key.includes(`|${prefix}`))
    .map(([, row]) => row[0])
    .sort((a, b) => a - b);
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

describe('the own-photos calls', () => {
  it.each<[string, () => Promise<void>, PhotosEvent]>([
    [
      'rankPhotos without a photo',
      () => service.rankPhotos({ runId: 'starter', photos: [], source: 'bank', limit: 10 }),
      { kind: 'failed', query: 'rank', runId: 'starter', message: 'no photo was given' },
    ],
    [
      'rankPhotos with no typed candidate',
      () =>
        service.rankPhotos({
          runId: 'starter',
          photos: folder('r', 1),
          source: 'typed',
          typed: ' \n',
          limit: 10,
        }),
      {
        kind: 'failed',
        query: 'rank',
        runId: 'starter',
        message: 'the list of candidate captions is empty: type at least one caption, one a line',
      },
    ],
    [
      'searchGallery before any gallery',
      () => service.searchGallery({ runId: 'starter', query: 'a dog', limit: 5 }),
      {
        kind: 'failed',
        query: 'search',
        runId: 'starter',
        message: 'no gallery yet: drop a folder of photos first',
      },
    ],
    [
      'loadGallery of a folder without photos',
      () => service.loadGallery({ runId: 'starter', name: 'docs', files: folder('x', 0) }),
      {
        kind: 'failed',
        query: 'gallery',
        runId: 'starter',
        message: 'the folder “docs” holds no photos (JPEG, PNG, GIF, WebP, BMP or AVIF) among its 1 files',
      },
    ],
  ])('%s: resolves, with the failed event of its query', async (_, call, failed) => {
    const from = events.length;
    await expect(call()).resolves.toBeUndefined();
    expect(photosEvents(from)).toEqual([failed]);
    expect(encoder.calls).toEqual([]);
  });

  it('loadStarter resolves at once once the starter is open, posting nothing new', async () => {
    const from = events.length;
    await service.loadStarter();
    expect(events.slice(from)).toEqual([]);
  });
});

describe('a gallery load cancelled by its AbortSignal', () => {
  it('stops after the chunk in flight, says how far it got, and keeps those photos cached', async () => {
    const files = folder('a', 80); // chunks of 32: 0-31, 32-63, 64-79
    const ctrl = new AbortController();
    // Once the second chunk is encoded, while its photos are being cached.
    encoder.at.set(1, () => {
      onPut = () => ctrl.abort();
    });
    const from = events.length;
    await service.loadGallery({ runId: 'starter', name: 'trip', files }, ctrl.signal);
    // The third chunk was never started; the second had been encoded, and is counted.
    expect(encoder.calls.map((c) => c.paths.length)).toEqual([32, 32]);
    expect(encoder.calls[1].signal?.aborted).toBe(true);
    const got = photosEvents(from);
    expect(
      got.filter((e) => e.kind === 'galleryProgress').map((e) => e.kind === 'galleryProgress' && e.done),
    ).toEqual([0, 32, 64]);
    expect(got.at(-1)).toEqual({
      kind: 'failed',
      query: 'gallery',
      runId: 'starter',
      message: 'encoding the folder “trip” was cancelled after 64 of 80 photos (those are cached)',
    });
    expect(got.some((e) => e.kind === 'galleryLoaded')).toBe(false);
    expect(cachedRows('a')).toEqual(range(0, 64));

    // The same folder again, not cancelled: only the 16 photos left are encoded.
    const again = events.length;
    await service.loadGallery({ runId: 'starter', name: 'trip', files });
    expect(encoder.calls.slice(2).map((c) => c.paths)).toEqual([range(64, 80).map((i) => `a0${i}.jpg`)]);
    const loaded = photosEvents(again).at(-1);
    expect(loaded).toMatchObject({ kind: 'galleryLoaded', name: 'trip', count: 80, cached: 64, skipped: 1 });
    expect(cachedRows('a')).toEqual(range(0, 80));

    // The whole folder is searchable: the photos cached before the cancel are in it too.
    const search = events.length;
    await service.searchGallery({ runId: 'starter', query: 'a dog', limit: 100 });
    const found = photosEvents(search);
    expect(found).toHaveLength(1);
    const res = found[0];
    if (res.kind !== 'searchResults') throw new Error(`expected searchResults, got ${res.kind}`);
    expect(res).toMatchObject({ runId: 'starter', query: 'a dog', total: 80 });
    expect(res.hits).toHaveLength(60); // at most 60 hits a search
    expect(new Set(res.hits.map((h) => h.name)).size).toBe(60);
    expect(res.hits.every((h) => /^a0\d\d\.jpg$/.test(h.name) && Number.isFinite(h.score))).toBe(true);
  });

  it('stops inside a chunk: that chunk is not counted, the ones before stay cached', async () => {
    const files = folder('b', 40);
    const ctrl = new AbortController();
    encoder.at.set(1, () => ctrl.abort());
    const from = events.length;
    await service.loadGallery({ runId: 'starter', name: 'pets', files }, ctrl.signal);
    expect(photosEvents(from).at(-1)).toMatchObject({
      kind: 'failed',
      query: 'gallery',
      message: 'encoding the folder “pets” was cancelled after 32 of 40 photos (those are cached)',
    });
    expect(cachedRows('b')).toEqual(range(0, 32));
  });

  it('encodes nothing with a signal aborted before the call', async () => {
    const files = folder('c', 10);
    const from = events.length;
    await service.loadGallery({ runId: 'starter', name: 'old', files }, AbortSignal.abort());
    expect(photosEvents(from).at(-1)).toMatchObject({
      kind: 'failed',
      query: 'gallery',
      message: 'encoding the folder “old” was cancelled after 0 of 10 photos (those are cached)',
    });
    expect(encoder.calls).toEqual([]);
    expect(cachedRows('c')).toEqual([]);
  });

  it('is cancelled through Comlink as the UI cancels it: the call settles with the failed event', async () => {
    const channel = new MessageChannel();
    registerAbortTransfer(); // both sides: the UI's and the worker's (one realm here)
    Comlink.expose(serviceApi(service, relay), channel.port1);
    const api = Comlink.wrap<WorkerApi>(channel.port2);
    const seen: WorkerEvent[] = [];
    await api.connect(Comlink.proxy((e: WorkerEvent) => void seen.push(e)));
    const files = folder('d', 70);
    const ctrl = new AbortController();
    // The first chunk is encoded until the abort reaches the worker: only the UI's abort can end it.
    encoder.at.set(0, (signal) => new Promise((ok) => signal?.addEventListener('abort', () => ok())));
    const call = api.loadGallery({ runId: 'starter', name: 'far', files }, ctrl.signal);
    await vi.waitFor(() => expect(encoder.calls.length).toBe(1));
    ctrl.abort();
    await call;
    expect(encoder.calls).toHaveLength(1);
    // Settled after its events reached the UI: the last one is the cancel.
    expect(seen.filter((e) => e.type === 'photos').at(-1)).toEqual({
      type: 'photos',
      event: {
        kind: 'failed',
        query: 'gallery',
        runId: 'starter',
        message: 'encoding the folder “far” was cancelled after 0 of 70 photos (those are cached)',
      },
    });
    expect(cachedRows('d')).toEqual([]);
    channel.port1.close();
    channel.port2.close();
  }, 15_000);
});
