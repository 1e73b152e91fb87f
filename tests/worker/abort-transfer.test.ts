/**
 * An AbortSignal as an argument of a Comlink call (src/worker/abort-transfer.ts), over a real
 * MessageChannel in Node, with the handler registered once for both sides as the UI and the worker do:
 * a signal aborted before the call arrives aborted, one aborted during the call aborts the callee's
 * signal, and once the call has settled (the callee lets go, as ./adapter.ts does) the caller's side
 * stops listening and both ports of the signal are closed, aborted or not.
 */
import { getEventListeners } from 'node:events';
import * as Comlink from 'comlink';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { registerAbortTransfer, releaseAbortSignals } from '../../src/worker/abort-transfer';

registerAbortTransfer();
registerAbortTransfer(); // idempotent: the UI and the worker may both call it in one realm (tests)

/** What the callee saw of the signal it was given: at the call's start and when it returned. */
interface Seen {
  label: string;
  isSignal: boolean;
  abortedAtStart: boolean;
  abortedAtEnd: boolean;
}

/** The callee: waits until its signal aborts or the test ends the wait, then lets go of the signal. */
const pending: (() => void)[] = [];
const callee = {
  async hold(label: string, signal?: AbortSignal): Promise<Seen> {
    const isSignal = signal instanceof AbortSignal;
    const abortedAtStart = signal?.aborted ?? false;
    try {
      await new Promise<void>((done) => {
        if (signal?.aborted) return done();
        signal?.addEventListener('abort', () => done(), { once: true });
        pending.push(done);
      });
      return { label, isSignal, abortedAtStart, abortedAtEnd: signal?.aborted ?? false };
    } finally {
      releaseAbortSignals([label, signal]);
    }
  },
};

const channel = new MessageChannel();
Comlink.expose(callee, channel.port1);
const api = Comlink.wrap<typeof callee>(channel.port2);

/** The ports closed while a test runs. */
const close = vi.spyOn(MessagePort.prototype, 'close');
afterEach(() => close.mockClear());
afterAll(() => {
  channel.port1.close();
  channel.port2.close();
});

const closedPorts = () => new Set(close.mock.contexts).size;

describe('an AbortSignal through Comlink', () => {
  it('arrives aborted when it was aborted before the call, with no port to leave open', async () => {
    const ctrl = new AbortController();
    ctrl.abort();
    const seen = await api.hold('before', ctrl.signal);
    expect(seen).toEqual({ label: 'before', isSignal: true, abortedAtStart: true, abortedAtEnd: true });
    expect(close).not.toHaveBeenCalled(); // no channel was made for it
    expect(getEventListeners(ctrl.signal, 'abort')).toHaveLength(0);
  });

  it('aborts the callee’s signal when the caller aborts during the call, then closes both ports', async () => {
    const ctrl = new AbortController();
    const call = api.hold('during', ctrl.signal);
    await vi.waitFor(() => expect(pending).toHaveLength(1));
    expect(getEventListeners(ctrl.signal, 'abort')).toHaveLength(1);
    const t0 = performance.now();
    ctrl.abort();
    const seen = await call;
    expect(performance.now() - t0).toBeLessThan(200);
    expect(seen).toEqual({ label: 'during', isSignal: true, abortedAtStart: false, abortedAtEnd: true });
    pending.length = 0;
    // The callee closed its port; the caller's side closes its own when told.
    await vi.waitFor(() => expect(closedPorts()).toBe(2));
    expect(getEventListeners(ctrl.signal, 'abort')).toHaveLength(0);
  });

  it('leaves no listener and no open port behind when the signal is never aborted', async () => {
    const ctrl = new AbortController();
    const call = api.hold('never', ctrl.signal);
    await vi.waitFor(() => expect(pending).toHaveLength(1));
    expect(getEventListeners(ctrl.signal, 'abort')).toHaveLength(1);
    pending.shift()!();
    const seen = await call;
    expect(seen).toEqual({ label: 'never', isSignal: true, abortedAtStart: false, abortedAtEnd: false });
    await vi.waitFor(() => expect(closedPorts()).toBe(2));
    expect(getEventListeners(ctrl.signal, 'abort')).toHaveLength(0);
    // Aborting after the call settled reaches nothing (no port is written to, nothing throws).
    const post = vi.spyOn(MessagePort.prototype, 'postMessage');
    ctrl.abort();
    expect(post).not.toHaveBeenCalled();
    post.mockRestore();
  });

  it('passes a call without a signal through unchanged', async () => {
    const call = api.hold('none');
    await vi.waitFor(() => expect(pending).toHaveLength(1));
    pending.shift()!();
    expect(await call).toEqual({
      label: 'none',
      isSignal: false,
      abortedAtStart: false,
      abortedAtEnd: false,
    });
    expect(close).not.toHaveBeenCalled();
  });
});
