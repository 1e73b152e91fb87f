/**
 * The training worker script: one `WorkerService` (./service.ts: the tfjs backend, the loaded dataset,
 * the training session, retrieval and the stored runs), exposed with Comlink as the typed `WorkerApi` of
 * ./adapter.ts; its events go to the sink the UI hands to `connect`. Spawn it with
 * `spawnTrainingWorker()` from ./spawn.ts.
 */
import * as Comlink from 'comlink';
import { EventRelay, serviceApi } from './adapter';
import { registerAbortTransfer } from './abort-transfer';
import { WorkerService } from './service';

const ctx = self as unknown as DedicatedWorkerGlobalScope;
registerAbortTransfer(); // the UI's AbortSignals arrive as ports (./abort-transfer.ts)

const relay = new EventRelay();
const service = new WorkerService({
  post: (event, transfer) => relay.post(event, transfer),
  baseUrl: () => new URL(import.meta.env.BASE_URL, self.location.href).href,
});

Comlink.expose(serviceApi(service, relay), ctx);

ctx.addEventListener('unhandledrejection', (e: PromiseRejectionEvent) => {
  service.fail('train', e.reason);
});
