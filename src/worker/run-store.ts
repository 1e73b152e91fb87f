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
 * Without IndexedDB (Node, some private modes) it keeps runs in memory for the session only.
 */
import { errorMessage, type DamagedRun, type StorageUse, type StoredRun } from './protocol';
import { validateStoredRun } from './run-records';

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
const RUNS = 'runs';
const FILES = 'files';
const CHECKPOINTS = 'checkpoints';

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

/** Resolves when the transaction commits; rejects (with what) when it errors or aborts. */
function committed(tx: IDBTransaction, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    const failed = () => {
      const r = storageReason(tx.error);
      reject(new StorageError(`${what} was not saved: ${r.message}`, r.name));
    };
    tx.onerror = failed;
    tx.onabort = failed;
  });
}

function request<T>(req: IDBRequest<T>, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(new StorageError(`${what} failed: ${storageReason(req.error).message}`));
  });
}

export class RunStore {
  private db: Promise<IDBDatabase | null> | null = null;
  private readonly memRuns = new Map<string, unknown>();
  private readonly memFiles = new Map<string, RunFilesRecord>();
  private readonly memCheckpoints = new Map<string, unknown>();

  constructor(private readonly dbName = DB_NAME) {}

  private open(): Promise<IDBDatabase | null> {
    this.db ??=
      typeof indexedDB === 'undefined'
        ? Promise.resolve(null)
        : new Promise<IDBDatabase | null>((resolve) => {
            const req = indexedDB.open(this.dbName, DB_VERSION);
            req.onupgradeneeded = () => {
              const db = req.result;
              if (!db.objectStoreNames.contains(RUNS)) db.createObjectStore(RUNS, { keyPath: 'id' });
              if (!db.objectStoreNames.contains(FILES)) db.createObjectStore(FILES);
              if (!db.objectStoreNames.contains(CHECKPOINTS)) db.createObjectStore(CHECKPOINTS);
            };
            req.onsuccess = () => resolve(req.result);
            req.onerror = () => resolve(null);
            req.onblocked = () => resolve(null);
          });
    return this.db;
  }

  /** Whether runs outlive the page (IndexedDB) or only this session (memory). */
  async durable(): Promise<boolean> {
    return (await this.open()) !== null;
  }

  /**
   * Every stored run that passes validation, oldest first, and the records that do not (with the
   * reason). One damaged record never hides the others.
   */
  async list(): Promise<{ runs: StoredRun[]; damaged: DamagedRun[] }> {
    const db = await this.open();
    let entries: [string, unknown][];
    if (db) {
      const st = db.transaction(RUNS, 'readonly').objectStore(RUNS);
      const [keys, values] = await Promise.all([
        request(st.getAllKeys(), 'reading the run list'),
        request(st.getAll(), 'reading the run list'),
      ]);
      entries = keys.map((k, i) => [String(k), values[i]]);
    } else entries = [...this.memRuns.entries()];
    const runs: StoredRun[] = [];
    const damaged: DamagedRun[] = [];
    for (const [id, raw] of entries) {
      try {
        runs.push(validateStoredRun(raw));
      } catch (e) {
        damaged.push({ id, reason: errorMessage(e) });
      }
    }
    runs.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
    return { runs, damaged };
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
    return request(db.transaction(RUNS, 'readonly').objectStore(RUNS).get(id), `reading run ${id}`);
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
    const tx = db.transaction(files ? [RUNS, FILES] : [RUNS], 'readwrite');
    const done = committed(tx, files ? `run '${run.label}' with its weights` : `run '${run.label}'`);
    tx.objectStore(RUNS).put(run);
    if (files) tx.objectStore(FILES).put(files, run.id);
    await done;
  }

  async getFiles(id: string): Promise<RunFilesRecord | undefined> {
    const db = await this.open();
    if (!db) return this.memFiles.get(id);
    return (await request(
      db.transaction(FILES, 'readonly').objectStore(FILES).get(id),
      `reading the weights of run ${id}`,
    )) as RunFilesRecord | undefined;
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
    const tx = db.transaction([RUNS, CHECKPOINTS], 'readwrite');
    const done = committed(tx, `the checkpoint of run '${run.label}'`);
    tx.objectStore(RUNS).put(run);
    tx.objectStore(CHECKPOINTS).put(checkpoint, run.id);
    await done;
  }

  /** A run's last checkpoint as stored (the caller validates it). */
  async getCheckpoint(id: string): Promise<unknown> {
    const db = await this.open();
    if (!db) return this.memCheckpoints.get(id);
    return request(
      db.transaction(CHECKPOINTS, 'readonly').objectStore(CHECKPOINTS).get(id),
      `reading the checkpoint of run ${id}`,
    );
  }

  async delete(id: string): Promise<void> {
    const db = await this.open();
    if (!db) {
      this.memRuns.delete(id);
      this.memFiles.delete(id);
      this.memCheckpoints.delete(id);
      return;
    }
    const tx = db.transaction([RUNS, FILES, CHECKPOINTS], 'readwrite');
    const done = committed(tx, `deleting run ${id}`);
    tx.objectStore(RUNS).delete(id);
    tx.objectStore(FILES).delete(id);
    tx.objectStore(CHECKPOINTS).delete(id);
    await done;
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
