/**
 * Cancelling a dataset load stops its downloads (src/worker/datasets.ts): a pack or the prebuilt scenes
 * pack whose files are still downloading rejects with an AbortError naming the file as soon as the load
 * is cancelled, and the scenes are not rendered instead. The service's `loadDataset` is cancelled by the
 * caller's AbortSignal, called directly and through Comlink as the UI calls it (the signal travels as a
 * port, src/worker/abort-transfer.ts): it settles at once with the 'cancelled' notice the UI shows, and
 * the dataset loaded before stays. Last, the UI's own client over Comlink: its Cancel aborts the load
 * in the service.
 */
import { getEventListeners } from 'node:events';
import * as Comlink from 'comlink';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { wasmDir } from '../../scripts/lib/node-backend';
import { registerAbortTransfer } from '../../src/worker/abort-transfer';
import { EventRelay, serviceApi, type WorkerApi } from '../../src/worker/adapter';
import { TrainingClient, type WorkerLike } from '../../src/ui/client';
import { initialState, useUiStore } from '../../src/ui/store';
import { loadDatasetSource } from '../../src/worker/datasets';
import type { DatasetSource, WorkerEvent } from '../../src/worker/protocol';
import { RunStore } from '../../src/worker/run-store';
import { WorkerService } from '../../src/worker/service';

/** A fetch that never answers, until its signal aborts (as the browser's does). */
function hangingFetch(): { calls: { url: string; signal?: AbortSignal }[] } {
  const calls: { url: string; signal?: AbortSignal }[] = [];
  vi.stubGlobal('fetch', (url: string, init?: RequestInit) => {
    const signal = init?.signal ?? undefined;
    calls.push({ url: String(url), signal });
    return new Promise((_, reject) => {
      signal?.addEventListener('abort', () =>
        reject(new DOMException('The user aborted a request.', 'AbortError')),
      );
    });
  });
  return { calls };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('a cancelled dataset load', () => {
  it.each<[string, DatasetSource, RegExp]>([
    ['a feature pack', { kind: 'pack', url: 'packs/some-pack' }, /reading the pack manifest was cancelled/],
    ['the prebuilt scenes', { kind: 'scenes' }, /reading the scenes pack manifest was cancelled/],
  ])('stops downloading %s at once', async (_, source, message) => {
    const { calls } = hangingFetch();
    const ctrl = new AbortController();
    const phases: string[] = [];
    const load = loadDatasetSource(source, {
      baseUrl: 'http://127.0.0.1:5173/',
      signal: ctrl.signal,
      onProgress: (phase) => phases.push(phase),
    });
    await vi.waitFor(() => expect(calls.length).toBe(1));
    expect(calls[0].signal).toBe(ctrl.signal);
    const t0 = performance.now();
    ctrl.abort();
    const err = (await load.catch((e: unknown) => e)) as Error;
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(err.name).toBe('AbortError');
    expect(err.message).toMatch(message);
    // Nothing else was fetched or rendered after the cancel.
    expect(calls).toHaveLength(1);
    expect(phases.filter((p) => /render|encod/.test(p))).toEqual([]);
  });
});

describe('a dataset load cancelled by its AbortSignal', () => {
  const events: WorkerEvent[] = [];
  const relay = new EventRelay();
  const service = new WorkerService({
    post: (e, t) => relay.post(e, t),
    baseUrl: () => 'http://127.0.0.1:5173/',
    store: new RunStore('datasets-cancel-test'),
  });
  const channel = new MessageChannel();
  registerAbortTransfer(); // both sides: the UI's and the worker's (one realm here)
  Comlink.expose(serviceApi(service, relay), channel.port1);
  const api = Comlink.wrap<WorkerApi>(channel.port2);
  const first: DatasetSource = { kind: 'synthetic', numImages: 40, seed: 1 };
  const notices = () => events.flatMap((e) => (e.type === 'notice' ? [e.message] : []));

  beforeAll(async () => {
    await api.connect(Comlink.proxy((e: WorkerEvent) => void events.push(e)));
    expect(await api.init('wasm', wasmDir())).toBe(true);
    await api.loadDataset(first); // the dataset that stays
    expect(service.loaded?.info.kind).toBe('synthetic');
  }, 60_000);

  afterAll(() => {
    channel.port1.close();
    channel.port2.close();
  });

  it.each([
    ['directly', (s: DatasetSource, signal: AbortSignal) => service.loadDataset(s, signal)],
    ['through Comlink', (s: DatasetSource, signal: AbortSignal) => api.loadDataset(s, signal)],
  ])('stops a pack download when its signal aborts (%s)', async (_, load) => {
    const { calls } = hangingFetch();
    events.length = 0;
    const ctrl = new AbortController();
    const loading = load({ kind: 'pack', url: 'packs/some-pack' }, ctrl.signal);
    await vi.waitFor(() => expect(calls.length).toBe(1));
    const t0 = performance.now();
    ctrl.abort();
    await loading; // it settles (the outcome is the notice, as for any cancelled load)
    expect(performance.now() - t0).toBeLessThan(1000);
    await relay.delivered();
    expect(notices()).toEqual(['Loading the dataset was cancelled: reading the pack manifest was cancelled']);
    expect(events.filter((e) => e.type === 'error' || e.type === 'datasetLoaded')).toEqual([]);
    expect(calls).toHaveLength(1);
    expect(service.loaded?.info.kind).toBe('synthetic');
    // The service let go of the caller's signal.
    await vi.waitFor(() => expect(getEventListeners(ctrl.signal, 'abort')).toHaveLength(0));
  });

  it.each([
    ['directly', (s: DatasetSource, signal: AbortSignal) => service.loadDataset(s, signal)],
    ['through Comlink', (s: DatasetSource, signal: AbortSignal) => api.loadDataset(s, signal)],
  ])('loads nothing for a signal aborted before the call (%s)', async (_, load) => {
    const { calls } = hangingFetch();
    events.length = 0;
    const ctrl = new AbortController();
    ctrl.abort();
    await load({ kind: 'pack', url: 'packs/some-pack' }, ctrl.signal);
    await relay.delivered();
    expect(calls).toEqual([]);
    expect(notices()).toEqual(['Loading the dataset was cancelled: the previous dataset stays.']);
    expect(events.filter((e) => e.type === 'datasetProgress' || e.type === 'datasetLoaded')).toEqual([]);
    expect(service.loaded?.info.kind).toBe('synthetic');
  });

  it('loads as before with a signal that is never aborted, and lets go of it', async () => {
    events.length = 0;
    const ctrl = new AbortController();
    await api.loadDataset({ kind: 'synthetic', numImages: 30, seed: 2 }, ctrl.signal);
    expect(events.find((e) => e.type === 'datasetLoaded')).toMatchObject({
      dataset: { kind: 'synthetic', numImages: 30 },
    });
    expect(notices()).toEqual([]);
    await vi.waitFor(() => expect(getEventListeners(ctrl.signal, 'abort')).toHaveLength(0));
  });
});

describe("the UI's Cancel, through Comlink to the service", () => {
  it('aborts the load in the worker: its download stops and the cancelled notice reaches the store', async () => {
    const relay = new EventRelay();
    const service = new WorkerService({
      post: (e, t) => relay.post(e, t),
      baseUrl: () => 'http://127.0.0.1:5173/',
      store: new RunStore('datasets-cancel-client-test'),
    });
    const channel = new MessageChannel();
    registerAbortTransfer();
    Comlink.expose(serviceApi(service, relay), channel.port1);
    const worker: WorkerLike = {
      api: Comlink.wrap<WorkerApi>(channel.port2) as unknown as WorkerApi,
      terminate: () => channel.port2.close(),
      onerror: null,
      onmessageerror: null,
    };
    useUiStore.setState(initialState());
    const client = new TrainingClient(
      () => worker,
      () => wasmDir(),
      { initialSource: null, baseUrl: () => 'http://127.0.0.1:5173/', threads: 1 },
    );
    try {
      client.connect();
      await vi.waitFor(() => expect(useUiStore.getState().status).toBe('ready'), { timeout: 30_000 });
      const { calls } = hangingFetch();
      expect(client.loadPack('packs/some-pack')).toBeNull();
      await vi.waitFor(() => expect(calls.length).toBe(1));
      expect(useUiStore.getState().loading).not.toBeNull();
      const t0 = performance.now();
      client.cancelLoad();
      expect(useUiStore.getState().loading).toBeNull();
      await vi.waitFor(() => expect(calls[0].signal?.aborted).toBe(true), { timeout: 1000 });
      await vi.waitFor(
        () =>
          expect(useUiStore.getState().notices.map((m) => m.text)).toContain(
            'Loading the dataset was cancelled: reading the pack manifest was cancelled',
          ),
        { timeout: 1000 },
      );
      expect(performance.now() - t0).toBeLessThan(1000);
      expect(useUiStore.getState().errors).toEqual([]);
      expect(calls).toHaveLength(1);
    } finally {
      client.dispose();
      channel.port1.close();
    }
  }, 60_000);
});
