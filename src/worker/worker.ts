/**
 * The training worker script: one `WorkerService` (./service.ts: the tfjs backend, the loaded dataset,
 * the training session, retrieval and the stored runs) behind the message adapter ./adapter.ts. It
 * speaks only the protocol in ./protocol.ts; spawn it with `spawnTrainingWorker()` from ./spawn.ts.
 */
import { handleMessage } from './adapter';
import { WorkerService } from './service';

const ctx = self as unknown as DedicatedWorkerGlobalScope;

const service = new WorkerService({
  post: (event, transfer = []) => ctx.postMessage(event, transfer),
  baseUrl: () => new URL(import.meta.env.BASE_URL, self.location.href).href,
});

ctx.onmessage = (e: MessageEvent<unknown>) => handleMessage(service, e.data);

ctx.addEventListener('unhandledrejection', (e: PromiseRejectionEvent) => {
  service.fail('train', e.reason);
});
