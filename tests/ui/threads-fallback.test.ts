// @vitest-environment jsdom
/**
 * A training worker that crashes while it starts its threads (a pthread worker that cannot load takes it
 * down) is replaced once by a single-threaded one, without using up the automatic restart, and the header
 * says why; issue 18.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { TrainingClient } from '../../src/ui/client';
import { matMulFromUrl } from '../../src/ui/worker-connection';
import { initialState, reduceEvent, useUiStore } from '../../src/ui/store';
import { FakeWorker } from './fake-worker';

const flush = () => new Promise<void>((ok) => setTimeout(ok, 0));
const st = () => useUiStore.getState();

describe('TrainingClient: threads that cannot start', () => {
  let workers: FakeWorker[];
  const client = (threads?: number) =>
    new TrainingClient(
      () => {
        // The first worker never answers 'init' (it dies starting its threads); the others do.
        const w = new FakeWorker(workers.length === 0 ? null : 'wasm');
        workers.push(w);
        return w;
      },
      () => 'http://127.0.0.1/tfjs-wasm/',
      { initialSource: null, ...(threads === undefined ? {} : { threads }) },
    );

  beforeEach(() => {
    workers = [];
    useUiStore.setState(initialState());
  });

  it('replaces a worker that crashed before ready with a one-thread worker and says why', async () => {
    client(4).connect();
    expect(workers[0]!.calls[0]).toEqual(['init', 'auto', 'http://127.0.0.1/tfjs-wasm/', 4]);
    workers[0]!.crash('importScripts failed');
    await flush();
    expect(workers).toHaveLength(2);
    expect(workers[0]!.terminated).toBe(true);
    expect(workers[1]!.calls[0]).toEqual(['init', 'auto', 'http://127.0.0.1/tfjs-wasm/', 1]);
    expect(st().crash).toBeNull();
    expect(st().threadsWhy).toBe(
      'the training worker crashed while starting its threads (importScripts failed)',
    );
    // The automatic restart is still there for a later crash.
    workers[1]!.crash('later');
    await flush();
    expect(workers).toHaveLength(3);
    expect(st().crash).toEqual({ message: 'later', restarted: true });
  });

  it("sends ?matmul= (our kernel's build, or tfjs's) with init, and shows what the worker multiplies with", async () => {
    expect(matMulFromUrl('?matmul=xnnpack')).toBe('xnnpack');
    expect(matMulFromUrl('?threads=1&matmul=plain')).toBe('plain');
    expect(matMulFromUrl('?matmul=fast')).toBeUndefined();
    expect(matMulFromUrl('')).toBeUndefined();
    const c = new TrainingClient(
      () => {
        const w = new FakeWorker('wasm');
        workers.push(w);
        return w;
      },
      () => 'http://127.0.0.1/tfjs-wasm/',
      { initialSource: null, threads: 1, matMul: 'xnnpack' },
    );
    c.connect();
    expect(workers[0]!.calls[0]).toEqual(['init', 'auto', 'http://127.0.0.1/tfjs-wasm/', 1, 'xnnpack']);
    expect(
      reduceEvent(st(), { type: 'ready', backend: 'wasm', reason: '', threads: 2, matMul: 'relaxed' }),
    ).toMatchObject({
      backendThreads: 2,
      backendMatMul: 'relaxed',
    });
    expect(
      reduceEvent(st(), { type: 'ready', backend: 'wasm', reason: '', threads: 2 }).backendMatMul,
    ).toBeNull();
  });

  it('does not retry when one thread was asked for', async () => {
    client(1).connect();
    workers[0]!.crash('boom');
    await flush();
    expect(st().crash).toEqual({ message: 'boom', restarted: true });
    expect(workers[1]!.calls[0]).toEqual(['init', 'auto', 'http://127.0.0.1/tfjs-wasm/', 1]);
    expect(st().threadsWhy).toBeNull();
  });
});
