/**
 * A stored run made ready to continue from its last checkpoint (./session.ts trains it): its record and
 * checkpoint read back and validated, a trainer restored from the checkpoint on the loaded dataset (which
 * must be the one it trained on), its curve cut at the checkpoint's step.
 */
import { Trainer } from '../model/trainer';
import { loadStoredCheckpoint } from './checkpoints';
import { liveRun, type LiveRun } from './live-run';
import type { RunSpec, StartOptions, StoredRun } from './protocol';
import type { RunStore } from './run-store';

/**
 * The run `runId` of `store` as a live run at its checkpoint, with the options it trained with; throws
 * saying why it cannot be resumed (no such run, no checkpoint, another dataset loaded). `loaded`: the
 * dataset loaded once the records are read.
 */
export async function resumableRun(
  store: RunStore,
  runId: string,
  loaded: () => Trainer['dataset'] | undefined,
): Promise<{ run: LiveRun; options: StartOptions }> {
  const meta = await store.get(runId);
  if (!meta) throw new Error(`no stored run ${runId}`);
  const raw = await store.getCheckpoint(runId);
  if (raw === undefined)
    throw new Error(
      `run '${meta.label}' has no checkpoint to resume from (it was stored before checkpoints)`,
    );
  const sc = await loadStoredCheckpoint(raw);
  const cp = sc.checkpoint;
  const dataset = loaded();
  if (!dataset || dataset.name !== cp.dataset)
    throw new Error(
      `run '${meta.label}' trained on '${cp.dataset}'; load that dataset on the Data tab to resume it` +
        (dataset ? ` (loaded: '${dataset.name}')` : ''),
    );
  const trainer = new Trainer(dataset, cp.model, cp.train);
  try {
    trainer.restore(cp);
  } catch (e) {
    trainer.dispose();
    throw e;
  }
  // The curve after the checkpoint is trained again, so it is dropped.
  const stored: StoredRun = {
    ...meta,
    state: 'running',
    step: cp.steps,
    epoch: cp.epochs,
    seconds: sc.seconds,
    checkpointStep: cp.steps,
    history: meta.history.filter((e) => e.step <= cp.steps),
  };
  const spec: RunSpec = { id: runId, label: meta.label, model: cp.model, train: cp.train };
  return { run: liveRun(spec, trainer, stored), options: { runs: [spec], ...sc.options } };
}
