/**
 * The worker service as the UI sees it: `serviceApi` is the object the worker script exposes with
 * Comlink (npm `comlink`), and `WorkerApi` is its type, which the UI wraps (`Comlink.wrap<WorkerApi>`)
 * and `await`s. Its methods are the `WorkerService` methods of ./service.ts, one per thing the UI asks
 * for, plus `connect`, which hands over the UI's event callback: everything the service has to say
 * (progress, metrics, results, notices, errors) streams through it as `WorkerEvent`s, big buffers
 * transferred, not copied.
 *
 * A call that fails rejects; the UI reports it under the call's error phase. Every call settles only
 * after the UI has taken the events posted before it settled, so a rejection never overtakes the
 * progress that came before it (events and replies travel on different message ports). A long call
 * (the dataset load, the gallery's) takes an `AbortSignal` as its last argument, sent by
 * ./abort-transfer.ts and let go of when the call has settled.
 */
import * as Comlink from 'comlink';
import { releaseAbortSignals } from './abort-transfer';
import type { WorkerEvent } from './protocol';
import type { WorkerService } from './service';

/** Receives the service's events on the UI side (a `Comlink.proxy` there, so it answers each one). */
export type EventSink = (event: WorkerEvent) => unknown;

/** The service methods that the UI calls. */
export const SERVICE_METHODS = [
  'init',
  'loadDataset',
  'start',
  'pause',
  'resume',
  'reset',
  'evaluate',
  'resumeRun',
  'checkpointNow',
  'rankCaptions',
  'searchImages',
  'compareSentences',
  'loadStarter',
  'rankPhotos',
  'loadGallery',
  'searchGallery',
  'listRuns',
  'openRun',
  'exportRun',
  'importRun',
  'renameRun',
  'deleteRun',
  'hierarchyStart',
  'hierarchyStop',
] as const satisfies readonly (keyof WorkerService)[];

export type ServiceMethod = (typeof SERVICE_METHODS)[number];

/** Each service method as an async call. */
export type ServiceCalls = {
  [K in ServiceMethod]: (
    ...args: Parameters<WorkerService[K]>
  ) => Promise<Awaited<ReturnType<WorkerService[K]>>>;
};

/** What the worker exposes: the service's calls and `connect`. */
export interface WorkerApi extends ServiceCalls {
  /** Streams the service's events to `sink` from now on (earlier ones were kept for it). */
  connect(sink: EventSink): Promise<void>;
}

/**
 * Hands the service's events to the UI's sink, in order; events posted before `connect` are kept until
 * then. `delivered()` resolves once the UI has taken every event posted so far.
 */
export class EventRelay {
  private sink: EventSink | null = null;
  private queue: [WorkerEvent, Transferable[]][] = [];
  private last: Promise<unknown> = Promise.resolve();

  post(event: WorkerEvent, transfer: Transferable[] = []): void {
    if (!this.sink) {
      this.queue.push([event, transfer]);
      return;
    }
    // A sink that throws must not fail the service's work: the UI reports its own troubles.
    this.last = Promise.resolve(this.sink(Comlink.transfer(event, transfer))).catch(() => undefined);
  }

  connect(sink: EventSink): void {
    this.sink = sink;
    const queued = this.queue;
    this.queue = [];
    for (const [event, transfer] of queued) this.post(event, transfer);
  }

  delivered(): Promise<unknown> {
    return this.last;
  }
}

/** The object the worker exposes: each call runs the service method, then waits for its events' delivery. */
export function serviceApi(service: WorkerService, relay: EventRelay): WorkerApi {
  const settled = async <T>(args: unknown[], work: () => T | Promise<T>): Promise<T> => {
    try {
      return await work();
    } finally {
      releaseAbortSignals(args);
      await relay.delivered();
    }
  };
  const calls: Record<string, (...args: never[]) => Promise<unknown>> = {};
  for (const name of SERVICE_METHODS) {
    const method = service[name] as (...args: unknown[]) => unknown;
    calls[name] = (...args: unknown[]) => settled(args, () => method.apply(service, args));
  }
  return {
    ...(calls as unknown as ServiceCalls),
    connect: async (sink) => relay.connect(sink),
  };
}
