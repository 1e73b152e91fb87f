/**
 * The worker's side of the Runs tab that does not need the training session: importing a run's files
 * (validated before anything is stored or allocated), exporting a damaged record as it is, and the list
 * with its damaged records and the storage use.
 */
import { importModel } from '../model/export';
import { validateRunFiles } from '../model/validate-run';
import type { StoredRun } from './protocol';
import type { DamagedRun, RunFilesRecord, RunStore, StorageUse } from './run-store';

/** The files of a run folder that are stored with an imported run. */
const KEPT_FILES = ['config.json', 'weights.json', 'weights.bin', 'metrics.json', 'codec.json'];

/** `${model}, ${dataset}, ${HH:MM}`: a default run name that says what the run is. */
export function defaultRunName(layerNorm: boolean, dataset: string, at: Date = new Date()): string {
  const hhmm = `${String(at.getHours()).padStart(2, '0')}:${String(at.getMinutes()).padStart(2, '0')}`;
  return `${layerNorm ? 'LN-GRU' : 'GRU'}, ${dataset}, ${hhmm}`;
}

/**
 * Validates a run's files field by field (config.json, weights.json against weights.bin's length,
 * metrics.json, log.jsonl), then loads the model once to check its values, then stores the record and
 * the files in one transaction. Resolves to the stored record once committed; throws naming the file
 * and field, or what was not saved.
 */
export async function importRunFiles(
  store: RunStore,
  files: RunFilesRecord,
  label: string,
): Promise<StoredRun> {
  const valid = validateRunFiles(files);
  // The sizes are checked: loading the model now only checks the values (finite) and the vocabulary.
  importModel(files).model.dispose();
  const c = valid.config;
  const kept: RunFilesRecord = {};
  for (const name of KEPT_FILES) if (files[name] !== undefined) kept[name] = files[name];
  // A run folder of `train --out` has its curve in log.jsonl; the stored run keeps it as metrics.json.
  if (kept['metrics.json'] === undefined && valid.history.length)
    kept['metrics.json'] = JSON.stringify({ history: valid.history }) + '\n';
  const history = valid.history;
  const id = `import-${Date.now().toString(36)}-${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
  const run: StoredRun = {
    id,
    label: label || `${defaultRunName(c.model.layerNorm, c.dataset)} (imported)`,
    createdAt: new Date().toISOString(),
    dataset: c.dataset,
    encoder: c.encoder,
    model: c.model,
    train: c.train,
    step: c.steps,
    epoch: c.epochs,
    seconds: history.at(-1)?.seconds ?? 0,
    state: 'imported',
    history,
  };
  await store.save(run, kept);
  return run;
}

/**
 * A stored run's files for download as they are, for a record that fails validation: its files (if
 * any) and the record itself as `run-record.json`. Values JSON cannot hold are written as null.
 */
export async function rawRunFiles(store: RunStore, id: string): Promise<RunFilesRecord> {
  const out: RunFilesRecord = {};
  let files: RunFilesRecord | undefined;
  try {
    files = await store.getFiles(id);
  } catch {
    files = undefined;
  }
  if (files && typeof files === 'object')
    for (const [k, v] of Object.entries(files))
      if (typeof v === 'string' || v instanceof ArrayBuffer) out[k.replace(/[\\/]/g, '_')] = v;
  const raw = await store.getRaw(id);
  let text: string;
  try {
    text = JSON.stringify(raw, null, 2) ?? 'null';
  } catch {
    text = JSON.stringify({ error: 'the record could not be written as JSON' });
  }
  out['run-record.json'] = text + '\n';
  return out;
}

/** The list, the damaged records and the storage use, for a 'runs' event. */
export async function runsListing(
  store: RunStore,
): Promise<{ runs: StoredRun[]; damaged: DamagedRun[]; storage: StorageUse | null }> {
  const { runs, damaged } = await store.list();
  return { runs, damaged, storage: await store.usage() };
}
