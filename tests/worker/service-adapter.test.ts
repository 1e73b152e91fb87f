/**
 * The worker's message adapter (src/worker/adapter.ts): a stray message is refused by name, each request
 * reaches its service method, and a failing call comes back as an 'error' event under its phase.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { wasmDir } from '../../scripts/lib/node-backend';
import { handleMessage } from '../../src/worker/adapter';
import { WorkerService } from '../../src/worker/service';
import { RunStore } from '../../src/worker/run-store';
import type { WorkerEvent } from '../../src/worker/protocol';

const events: WorkerEvent[] = [];
const service = new WorkerService({
  post: (e) => events.push(e),
  baseUrl: () => 'http://page.test/',
  store: new RunStore('adapter-test'),
});
const errors = () => events.filter((e) => e.type === 'error');

beforeAll(async () => {
  vi.stubGlobal('fetch', async () => new Response('not found', { status: 404 }));
  await service.init('wasm', wasmDir());
  return () => vi.unstubAllGlobals();
}, 60_000);

describe('handleMessage', () => {
  it('refuses a message that is not a request, naming it', () => {
    events.length = 0;
    handleMessage(service, { type: 'launchMissiles' });
    expect(errors()).toEqual([
      { type: 'error', phase: 'message', message: 'unknown message: {"type":"launchMissiles"}' },
    ]);
    handleMessage(service, { type: 'searchImages', runId: 'a' }); // no query
    expect(errors()).toHaveLength(2);
  });

  it('reports a failing request under its phase', async () => {
    events.length = 0;
    handleMessage(service, {
      type: 'start',
      options: {
        runs: [{ id: 'a', label: 'a', model: {}, train: {} }],
        evalEvery: 5,
        maxSteps: 0,
        evalImages: 0,
      },
    });
    handleMessage(service, { type: 'searchImages', runId: 'a', query: 'a circle', limit: 5 });
    handleMessage(service, { type: 'openRun', runId: 'ghost' });
    handleMessage(service, { type: 'renameRun', runId: 'ghost', label: '' });
    await vi.waitFor(() => expect(errors()).toHaveLength(4));
    const byPhase = Object.fromEntries(errors().map((e) => [e.type === 'error' && e.phase, e]));
    expect(byPhase.start).toMatchObject({ message: expect.stringMatching(/no dataset is loaded: load one/) });
    expect(byPhase.search).toMatchObject({ message: 'no dataset is loaded' });
    expect(
      errors()
        .filter((e) => e.type === 'error' && e.phase === 'runs')
        .map((e) => e.type === 'error' && e.message)
        .sort(),
    ).toEqual(['a run name cannot be empty', 'no stored run ghost']);
  });

  it('answers listRuns with the stored runs', async () => {
    events.length = 0;
    handleMessage(service, { type: 'listRuns' });
    await vi.waitFor(() => expect(events.some((e) => e.type === 'runs')).toBe(true));
    const runs = events.find((e) => e.type === 'runs');
    expect(runs).toMatchObject({ type: 'runs', runs: [], damaged: [] });
    // In Node there is no IndexedDB: the user is told that runs live for this session only.
    expect(events.some((e) => e.type === 'notice' && /kept for this session only/.test(e.message))).toBe(
      true,
    );
  });
});
