/**
 * Cancelling a dataset load stops its downloads (src/worker/datasets.ts): a pack or the prebuilt scenes
 * pack whose files are still downloading rejects with an AbortError naming the file as soon as the load
 * is cancelled, and the scenes are not rendered instead.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadDatasetSource } from '../../src/worker/datasets';
import type { DatasetSource } from '../../src/worker/protocol';

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
