/**
 * The worker service behind Comlink (src/worker/adapter.ts), as the worker script exposes it and the UI
 * wraps it, over a MessageChannel in Node: typed calls reach the real `WorkerService`, a call that fails
 * rejects with the service's message, events stream through the connected callback (kept until it is
 * connected, buffers transferred), and a call settles only after the events posted before it.
 */
import * as Comlink from 'comlink';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { wasmDir } from '../../scripts/lib/node-backend';
import { EventRelay, serviceApi, type WorkerApi } from '../../src/worker/adapter';
import { WorkerService } from '../../src/worker/service';
import { RunStore } from '../../src/worker/run-store';
import type { WorkerEvent } from '../../src/worker/protocol';

const channel = new MessageChannel();
const relay = new EventRelay();
const service = new WorkerService({
  post: (e, t) => relay.post(e, t),
  baseUrl: () => 'http://page.test/',
  store: new RunStore('adapter-test'),
});
Comlink.expose(serviceApi(service, relay), channel.port1);
const api = Comlink.wrap<WorkerApi>(channel.port2);

const events: WorkerEvent[] = [];
const errors = () => events.filter((e) => e.type === 'error');

beforeAll(async () => {
  vi.stubGlobal('fetch', async () => new Response('not found', { status: 404 }));
  // Posted before the UI connects: kept for it.
  service.notice('hello');
  await api.connect(Comlink.proxy((e: WorkerEvent) => void events.push(e)));
  expect(await api.init('wasm', wasmDir())).toBe(true);
}, 60_000);

afterAll(() => {
  vi.unstubAllGlobals();
  channel.port1.close();
  channel.port2.close();
});

describe('the service behind Comlink', () => {
  it('streams the events posted before connect, then the init events', () => {
    expect(events[0]).toEqual({ type: 'notice', message: 'hello' });
    expect(events.find((e) => e.type === 'ready')).toMatchObject({ type: 'ready', backend: 'wasm' });
  });

  it('rejects a call that fails with the service message', async () => {
    await expect(api.searchImages('a', 'a circle', 5)).rejects.toThrow(/^no dataset is loaded$/);
    await expect(api.openRun('ghost')).rejects.toThrow('no stored run ghost');
    await expect(api.renameRun('ghost', '')).rejects.toThrow('a run name cannot be empty');
  });

  it('settles a call after the events it posted', async () => {
    events.length = 0;
    // start posts its refusal as an event (under 'start') and resolves.
    await api.start({
      runs: [{ id: 'a', label: 'a', model: {}, train: {} }],
      evalEvery: 5,
      maxSteps: 0,
      evalImages: 0,
    });
    expect(errors()).toEqual([
      { type: 'error', phase: 'start', message: expect.stringMatching(/no dataset is loaded: load one/) },
    ]);
    events.length = 0;
    await api.listRuns();
    expect(events.find((e) => e.type === 'runs')).toMatchObject({ type: 'runs', runs: [], damaged: [] });
    // In Node there is no IndexedDB: the user is told that runs live for this session only.
    expect(events.some((e) => e.type === 'notice' && /kept for this session only/.test(e.message))).toBe(
      true,
    );
  });

  it('transfers the buffers an event hands over', async () => {
    events.length = 0;
    const weights = new Float32Array([1, 2, 3]);
    relay.post({ type: 'exported', runId: 'r', files: { 'weights.bin': weights.buffer } }, [weights.buffer]);
    expect(weights.buffer.byteLength).toBe(0); // handed over, not copied
    await relay.delivered();
    const exported = events.find((e) => e.type === 'exported');
    expect(
      exported?.type === 'exported' && new Float32Array(exported.files['weights.bin'] as ArrayBuffer),
    ).toEqual(new Float32Array([1, 2, 3]));
  });
});
