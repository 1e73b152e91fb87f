/**
 * An `AbortSignal` as an argument of a Comlink call (the UI cancels a dataset load or a gallery load
 * with its own AbortController). A signal cannot be cloned into a message, so this Comlink transfer
 * handler, which both sides register (`registerAbortTransfer()`: the worker script and the UI's spawn),
 * sends it as one of two things:
 * - a signal already aborted: `{ aborted: true }`, read as an aborted signal before the call runs;
 * - otherwise a transferred `MessagePort`: the caller's side posts `{ type: 'abort' }` on it once, when
 *   the signal aborts; the callee's side reads it into a fresh AbortController's signal, which the
 *   called method checks where it would check a cancel flag.
 *
 * When the call has settled, the callee's side calls `releaseAbortSignals(args)` (./adapter.ts does, for
 * every service call): it posts `{ type: 'released' }` and closes its port, and the caller's side then
 * stops listening to the signal and closes its own, so a signal that is never aborted leaves no port
 * open and no listener behind.
 */
import * as Comlink from 'comlink';

/** The name the handler is registered under (the same on both sides). */
export const ABORT_SIGNAL_HANDLER = 'abortSignal';

/** A message on the signal's port: the caller aborted, or the callee is done with the signal. */
export type AbortPortMessage = { type: 'abort' } | { type: 'released' };

/** An `AbortSignal` on the wire. */
export type WireAbortSignal = { aborted: true } | { aborted: false; port: MessagePort };

/** The callee's port of each signal it read, until the call that took it settles. */
const calleePorts = new WeakMap<AbortSignal, MessagePort>();

/** The caller's side: watches `signal` and tells the callee when it aborts. */
function serialize(signal: AbortSignal): [WireAbortSignal, Transferable[]] {
  if (signal.aborted) return [{ aborted: true }, []];
  const { port1, port2 } = new MessageChannel();
  const onAbort = () => port1.postMessage({ type: 'abort' } satisfies AbortPortMessage);
  const done = () => {
    signal.removeEventListener('abort', onAbort);
    port1.close();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  port1.addEventListener('message', (e: MessageEvent<AbortPortMessage>) => {
    if (e.data?.type === 'released') done();
  });
  port1.start();
  return [{ aborted: false, port: port2 }, [port2]];
}

/** The callee's side: a signal that aborts when the caller's does. */
function deserialize(wire: WireAbortSignal): AbortSignal {
  const controller = new AbortController();
  if (wire.aborted) {
    controller.abort();
    return controller.signal;
  }
  const { port } = wire;
  port.addEventListener('message', (e: MessageEvent<AbortPortMessage>) => {
    if (e.data?.type === 'abort') controller.abort();
  });
  port.start();
  calleePorts.set(controller.signal, port);
  return controller.signal;
}

/** Registers the handler with Comlink (idempotent); both the caller's and the callee's side need it. */
export function registerAbortTransfer(): void {
  if (Comlink.transferHandlers.has(ABORT_SIGNAL_HANDLER)) return;
  const handler: Comlink.TransferHandler<AbortSignal, WireAbortSignal> = {
    canHandle: (value): value is AbortSignal =>
      typeof AbortSignal !== 'undefined' && value instanceof AbortSignal,
    serialize,
    deserialize,
  };
  Comlink.transferHandlers.set(ABORT_SIGNAL_HANDLER, handler as Comlink.TransferHandler<unknown, unknown>);
}

/** The callee's side, once a call has settled: lets go of the signals among its arguments (see above). */
export function releaseAbortSignals(args: readonly unknown[]): void {
  for (const arg of args) {
    if (!(arg instanceof AbortSignal)) continue;
    const port = calleePorts.get(arg);
    if (!port) continue;
    calleePorts.delete(arg);
    port.postMessage({ type: 'released' } satisfies AbortPortMessage);
    port.close();
  }
}
