/**
 * The run library in the worker (part of ./service.ts): the runs stored in IndexedDB (./run-store.ts),
 * listed with the damaged records and the storage use, opened for retrieval, renamed, deleted, exported
 * as run folder files and imported from them (validated field by field before anything is stored).
 */
import { currentRunFiles } from './checkpoints';
import { filesOf } from './live-run';
import type { RunFilesRecord } from './run-store';
import { importRunFiles, rawRunFiles, runsListing } from './stored-runs';
import type { WorkerService } from './service';

export class RunLibrary {
  /** Stored runs that say 'running' but are not in this worker's session were cut off (reload, crash). */
  private staleMarked = false;
  /** Whether the user was told that runs live in memory only (no IndexedDB). */
  private memoryNoticeShown = false;

  constructor(private readonly svc: WorkerService) {}

  /** Posts the stored runs ('runs'); a failure is posted under 'runs'. */
  async list(): Promise<void> {
    const { svc } = this;
    try {
      let listing = await runsListing(svc.store);
      if (!this.staleMarked) {
        this.staleMarked = true;
        const live = svc.training.liveIds();
        for (const r of listing.runs) {
          if ((r.state === 'running' || r.state === 'paused') && !live.has(r.id)) {
            r.state = 'stopped';
            await svc.store.put(r);
          }
        }
        listing = await runsListing(svc.store);
      }
      svc.post({ type: 'runs', ...listing });
      if (!this.memoryNoticeShown && !(await svc.store.durable())) {
        this.memoryNoticeShown = true;
        svc.notice(
          "This browser's storage (IndexedDB) cannot be opened here: runs are kept for this session only; export them to keep them.",
        );
      }
    } catch (e) {
      svc.fail('runs', e);
    }
  }

  /** Posts a run's files ('exported'): a live run's current weights, else the stored ones. */
  async export(runId: string): Promise<void> {
    const { store } = this.svc;
    const live = this.svc.training.live(runId);
    // A damaged record is exported as it is (its files and the record), so that nothing is lost.
    const damaged =
      !live &&
      (await store.get(runId).then(
        () => false,
        () => true,
      ));
    const meta = live || damaged ? undefined : await store.get(runId);
    const files = live
      ? await filesOf(live)
      : damaged
        ? await rawRunFiles(store, runId)
        : meta && (await currentRunFiles(store, meta));
    if (!files)
      throw new Error(
        `run ${runId} has no stored model to export (it never paused, finished or checkpointed)`,
      );
    // Copies: the stored buffers stay usable after the transfer.
    const copy: RunFilesRecord = {};
    const transfer: Transferable[] = [];
    for (const [k, v] of Object.entries(files)) {
      if (typeof v === 'string') copy[k] = v;
      else {
        const c = v.slice(0);
        copy[k] = c;
        transfer.push(c);
      }
    }
    this.svc.post({ type: 'exported', runId, files: copy }, transfer);
  }

  async import(files: RunFilesRecord, label: string): Promise<void> {
    // Validated field by field before anything is stored or allocated; resolves once committed.
    const run = await importRunFiles(this.svc.store, files, label);
    await this.list();
    this.svc.notice(`Imported run '${run.label}' (${run.dataset}, ${run.step} steps).`);
  }

  /** Makes a stored run the one retrieval uses ('runOpened'); a live run needs no opening. */
  async open(runId: string): Promise<void> {
    const meta = await this.svc.store.get(runId);
    if (!meta) throw new Error(`no stored run ${runId}`);
    if (!this.svc.training.live(runId)) await this.svc.queries.openStored(runId);
    this.svc.post({ type: 'runOpened', run: meta });
  }

  async rename(runId: string, label: string): Promise<void> {
    const name = label.trim();
    if (!name) throw new Error('a run name cannot be empty');
    if (name.length > 200) throw new Error(`a run name has at most 200 characters, got ${name.length}`);
    const live = this.svc.training.live(runId);
    if (live) live.stored.label = name;
    const meta = live ? structuredClone(live.stored) : await this.svc.store.get(runId);
    if (!meta) throw new Error(`no stored run ${runId}`);
    await this.svc.store.put({ ...meta, label: name });
    await this.list();
  }

  async delete(runId: string): Promise<void> {
    if (this.svc.training.live(runId))
      throw new Error('a run that is training cannot be deleted; reset it first');
    this.svc.queries.forget(runId);
    await this.svc.store.delete(runId);
    await this.list();
  }
}
