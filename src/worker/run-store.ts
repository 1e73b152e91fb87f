/**
 * Runs persisted in the browser's IndexedDB (database `orderembed-runs`): each run's summary and
 * learning curves (`StoredRun`, small, rewritten after every evaluation), separately its model files
 * (the same files as an exported run folder: config.json, weights.json, weights.bin, metrics.json,
 * codec.json;
 * written when a run pauses or finishes, and on import), and its latest training checkpoint (weights,
 * optimizer state and sampler position, written every few seconds while it trains; ./checkpoints.ts).
 *
 * Storage tells the truth: a write resolves when its transaction has committed (not when the request
 * succeeded, which a quota error may still undo) and rejects with a {@link StorageError} saying what
 * was not saved. A run's record and its files are written in one transaction, so a run is never stored
 * without the weights its state promises. Every record read back is validated field by field
 * (./run-records.ts): a damaged one is listed with its reason, never hiding the others.
 *
 * IndexedDB through the `idb` library (promises over requests and transactions). Without IndexedDB
 * (Node, some private modes) it keeps runs in memory for the session only.
 */
import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';
import { errorMessage, type DamagedRun, type StorageUse, type StoredRun } from './protocol';
import { isOldRecord, validateStoredRun } from './run-records';

export type RunFilesRecord = Record<string, string | ArrayBuffer>;

export type { DamagedRun, StorageUse };

/** A failed write or read, with a message a person can act on. */
export class StorageError extends Error {
  override name = 'StorageError';
  constructor(
    message: string,
    /** The DOMException name (QuotaExceededError, ...), when there was one. */
    readonly causeName?: string,
  ) {
    super(message);
  }
}

const DB_NAME = 'orderembed-runs';
const DB_VERSION = 2;

/** The database: records are validated when read back, so what is stored is typed `unknown` there. */
interface RunsDb extends DBSchema {
  /** Run records, keyed by their `id`. */
  runs: { key: string; value: unknown };
  /** A run's model files, by run id. */
  files: { key: string; value: RunFilesRecord };
  /** A run's latest training checkpoint, by run id (validated by ./checkpoints.ts). */
  checkpoints: { key: string; value: unknown };
}

type Db = IDBPDatabase<RunsDb>;

/** Why a transaction failed, in words: quota errors are named as such. */
function storageReason(e: unknown): { message: string; name?: string } {
  const name = (e as { name?: string } | null)?.name;
  if (name === 'QuotaExceededError')
    return {
      name,
      message:
        "the browser's storage for this site is full (quota exceeded): delete or export old runs on the Runs tab",
    };
  return { name, message: e ? errorMessage(e) : 'the browser gave no reason' };
}

/**
 * Waits for the writes and for the transaction to commit; rejects with a {@link StorageError} saying
 * what was not saved when it errors or aborts. The transaction's own error (a quota error raised at
 * commit, or the failed request that aborted it) is preferred to the writes' aborted requests.
 */
async function commit<S extends StoreNames<RunsDb>[]>(
  tx: IDBPTransaction<RunsDb, S, 'readwrite'>,
  writes: Promise<unknown>[],
  what: string,
): Promise<void> {
  const settled = await Promise.allSettled([...writes, tx.done]);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (!failed) return;
  const r = storageReason(tx.error ?? failed.reason);
  throw new StorageError(`${what} was not saved: ${r.message}`, r.name);
}

/** A read, its failure as a {@link StorageError} naming what was read. */
async function read<T>(what: string, get: () => Promise<T>): Promise<T> {
  try {
    return await get();
  } catch (e) {
    throw new StorageError(`${what} failed: ${storageReason(e).message}`);
  }
}

/** The database, or null where there is none (no IndexedDB, an error, or an older tab blocking the upgrade). */
function openRunsDb(name: string): Promise<Db | null> {
  if (typeof indexedDB === 'undefined') return Promise.resolve(null);
  return new Promise((resolve) => {
    let blocked = false;
    openDB<RunsDb>(name, DB_VERSION, {
      upgrade(db) {
        if (!db.objectStoreNames.contains('runs')) db.createObjectStore('runs', { keyPath: 'id' });
        if (!db.objectStoreNames.contains('files')) db.createObjectStore('files');
        if (!db.objectStoreNames.contains('checkpoints')) db.createObjectStore('checkpoints');
      },
      blocked() {
        blocked = true;
        resolve(null);
      },
    }).then(
      (db) => (blocked ? db.close() : resolve(db)),
      () => resolve(null),
    );
  });
}

export class RunStore {
  private db: Promise<Db | null> | null = null;
  private readonly memRuns = new Map<string, unknown>();
  private readonly memFiles = new Map<string, RunFilesRecord>();
  private readonly memCheckpoints = new Map<string, unknown>();

  constructor(private readonly dbName = DB_NAME) {}

  private open(): Promise<Db | null> {
    this.db ??= openRunsDb(this.dbName);
    return this.db;
  }

  /** Whether runs outlive the page (IndexedDB) or only this session (memory). */
  async durable(): Promise<boolean> {
    return (await this.open()) !== null;
  }

  /**
   * Every stored run that passes validation, oldest first, and the records that do not (with the
   * reason). One damaged record never hides the others. Records of the old format are listed converted
   * and written back converted.
   */
  async list(): Promise<{ runs: StoredRun[]; damaged: DamagedRun[] }> {
    const db = await this.open();
    let entries: [string, unknown][];
    if (db) {
      const st = db.transaction('runs').store;
      const [keys, values] = await read('reading the run list', () =>
        Promise.all([st.getAllKeys(), st.getAll()]),
      );
      entries = keys.map((k, i) => [String(k), values[i]]);
    } else entries = [...this.memRuns.entries()];
    const runs: StoredRun[] = [];
    const damaged: DamagedRun[] = [];
    const converted: StoredRun[] = [];
    for (const [id, raw] of entries) {
      try {
        runs.push(validateStoredRun(raw));
        if (isOldRecord(raw)) converted.push(runs[runs.length - 1]);
      } catch (e) {
        damaged.push({ id, reason: errorMessage(e) });
      }
    }
    await this.rewrite(converted);
    runs.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
    return { runs, damaged };
  }

  /**
   * Writes back records read in the old format (./run-records.ts) in the new one, each only while it is
   * still stored in the old one (not deleted or rewritten meanwhile). Best effort: a record not rewritten
   * stays as it was and is converted again when next read.
   */
  private async rewrite(runs: StoredRun[]): Promise<void> {
    if (!runs.length) return;
    const db = await this.open();
    if (!db) {
      for (const r of runs)
        if (isOldRecord(this.memRuns.get(r.id))) this.memRuns.set(r.id, structuredClone(r));
      return;
    }
    try {
      const tx = db.transaction('runs', 'readwrite');
      const writes = runs.map(async (r) => {
        if (isOldRecord(await tx.store.get(r.id))) await tx.store.put(r);
      });
      await Promise.all([...writes, tx.done]);
    } catch {
      // Kept in the old format, which is still read.
    }
  }

  /** The record of a run, validated (throws naming the damaged field). */
  async get(id: string): Promise<StoredRun | undefined> {
    const raw = await this.getRaw(id);
    return raw === undefined ? undefined : validateStoredRun(raw);
  }

  /** The record as stored, unchecked (to export a damaged record as it is). */
  async getRaw(id: string): Promise<unknown> {
    const db = await this.open();
    if (!db) return this.memRuns.get(id);
    return read(`reading run ${id}`, () => db.get('runs', id));
  }

  /** Writes a run's record; resolves once committed. */
  async put(run: StoredRun): Promise<void> {
    await this.save(run);
  }

  /**
   * Writes a run's record and, when given, its files in one transaction: both are stored or neither.
   * Resolves once committed; rejects with a {@link StorageError} saying what was not saved.
   */
  async save(run: StoredRun, files?: RunFilesRecord): Promise<void> {
    const db = await this.open();
    if (!db) {
      this.memRuns.set(run.id, structuredClone(run));
      if (files) this.memFiles.set(run.id, files);
      return;
    }
    const stores: ('runs' | 'files')[] = files ? ['runs', 'files'] : ['runs'];
    const tx = db.transaction(stores, 'readwrite');
    const writes = [tx.objectStore('runs').put(run)];
    if (files) writes.push(tx.objectStore('files').put(files, run.id));
    await commit(tx, writes, files ? `run '${run.label}' with its weights` : `run '${run.label}'`);
  }

  async getFiles(id: string): Promise<RunFilesRecord | undefined> {
    const db = await this.open();
    if (!db) return this.memFiles.get(id);
    return read(`reading the weights of run ${id}`, () => db.get('files', id));
  }

  /**
   * Writes a run's record and its checkpoint (replacing the previous one) in one transaction; resolves
   * once committed, so the record never names a checkpoint that is not stored.
   */
  async saveWithCheckpoint(run: StoredRun, checkpoint: unknown): Promise<void> {
    const db = await this.open();
    if (!db) {
      this.memRuns.set(run.id, structuredClone(run));
      this.memCheckpoints.set(run.id, checkpoint);
      return;
    }
    const tx = db.transaction(['runs', 'checkpoints'], 'readwrite');
    const writes = [tx.objectStore('runs').put(run), tx.objectStore('checkpoints').put(checkpoint, run.id)];
    await commit(tx, writes, `the checkpoint of run '${run.label}'`);
  }

  /** A run's last checkpoint as stored (the caller validates it). */
  async getCheckpoint(id: string): Promise<unknown> {
    const db = await this.open();
    if (!db) return this.memCheckpoints.get(id);
    return read(`reading the checkpoint of run ${id}`, () => db.get('checkpoints', id));
  }

  async delete(id: string): Promise<void> {
    const db = await this.open();
    if (!db) {
      this.memRuns.delete(id);
      this.memFiles.delete(id);
      this.memCheckpoints.delete(id);
      return;
    }
    const tx = db.transaction(['runs', 'files', 'checkpoints'], 'readwrite');
    const writes = [
      tx.objectStore('runs').delete(id),
      tx.objectStore('files').delete(id),
      tx.objectStore('checkpoints').delete(id),
    ];
    await commit(tx, writes, `deleting run ${id}`);
  }

  /** Asks the browser to keep this site's storage under pressure; whether it agreed. */
  async persist(): Promise<boolean> {
    const storage = (globalThis.navigator as Navigator | undefined)?.storage;
    if (!storage?.persist) return false;
    try {
      return (await storage.persisted?.()) || (await storage.persist());
    } catch {
      return false;
    }
  }

  /** Space used and available for this site, when the browser says; null otherwise. */
  async usage(): Promise<StorageUse | null> {
    const storage = (globalThis.navigator as Navigator | undefined)?.storage;
    if (!storage?.estimate) return null;
    try {
      const e = await storage.estimate();
      const persisted = (await storage.persisted?.()) ?? false;
      return { usedBytes: e.usage ?? 0, quotaBytes: e.quota ?? 0, persisted };
    } catch {
      return null;
    }
  }
}
