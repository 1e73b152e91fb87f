/**
 * The message adapter of the worker service: each `WorkerRequest` of ./protocol.ts becomes a call of the
 * matching `WorkerService` method (./service.ts); a call that fails is posted as an 'error' event under
 * the request's phase. Requests are checked with `isWorkerRequest` first (stray messages from browser
 * extensions or dev tooling are refused, named).
 */
import { errorMessage, isWorkerRequest, type ErrorPhase, type WorkerRequest } from './protocol';
import type { WorkerService } from './service';

/** Handles one message posted to the worker. */
export function handleMessage(service: WorkerService, data: unknown): void {
  if (!isWorkerRequest(data)) {
    service.fail('message', `unknown message: ${errorMessage(data)}`);
    return;
  }
  try {
    handleRequest(service, data);
  } catch (err) {
    service.fail('message', err);
  }
}

/** Calls the service's method for `msg`; a failure is reported under `phase`. */
export function handleRequest(service: WorkerService, msg: WorkerRequest): void {
  const guard = (phase: ErrorPhase, work: () => Promise<void>): void => {
    work().catch((e: unknown) => service.fail(phase, e));
  };
  switch (msg.type) {
    case 'init':
      void service.init(msg.backend, msg.wasmPath, msg.threads);
      return;
    case 'loadDataset':
      guard('dataset', () => service.loadDataset(msg.source));
      return;
    case 'cancelLoad':
      service.cancelLoad();
      return;
    case 'start':
      guard('start', () => service.start(msg.options));
      return;
    case 'pause':
      guard('runs', () => service.pause());
      return;
    case 'resume':
      service.resume();
      return;
    case 'reset':
      guard('runs', () => service.reset());
      return;
    case 'evaluate':
      service.evaluate();
      return;
    case 'rankCaptions':
      guard('rank', () => service.rankCaptions(msg.runId, msg.image, msg.name, msg.limit));
      return;
    case 'searchImages':
      guard('search', () => service.searchImages(msg.runId, msg.query, msg.limit));
      return;
    case 'compareSentences':
      guard('generality', () => service.compareSentences(msg.runId, msg.a, msg.b));
      return;
    case 'exportRun':
      guard('export', () => service.exportRun(msg.runId));
      return;
    case 'importRun':
      guard('import', () => service.importRun(msg.files, msg.label));
      return;
    case 'listRuns':
      guard('runs', () => service.listRuns());
      return;
    case 'openRun':
      guard('runs', () => service.openRun(msg.runId));
      return;
    case 'deleteRun':
      guard('runs', () => service.deleteRun(msg.runId));
      return;
    case 'renameRun':
      guard('runs', () => service.renameRun(msg.runId, msg.label));
      return;
    case 'resumeRun':
      guard('start', () => service.resumeRun(msg.runId));
      return;
    case 'checkpointNow':
      void service.checkpointNow();
      return;
    case 'hierarchyStart':
      guard('hierarchy', () => service.hierarchyStart(msg.root, msg.maxNodes));
      return;
    case 'hierarchyStop':
      service.hierarchyStop();
      return;
    case 'photos':
      void service.photos(msg.request);
      return;
  }
}
