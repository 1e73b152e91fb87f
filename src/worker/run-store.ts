/**
 * Runs persisted in the browser's IndexedDB (database `orderembed-runs`): each run's summary and
 * learning curves (`StoredRun`, small, rewritten after every evaluation) and, separately, its model
 * files (the same files as an exported run folder: config.json, weights.json, weights.bin,
 * metrics.json; written when a run pauses or finishes, and on import). A reload therefore finds every
 * run with its charts, and finished runs ready for retrieval.
 *
 * Without IndexedDB (Node, some private modes) it keeps runs in memory for the session only.
 */
import type { StoredRun } from './protocol';

export type RunFilesRecord = Record<string, string | ArrayBuffer>;

const DB_NAME = 'orderembed-runs';
const RUNS = 'runs';
const FILES = 'files';

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

export class RunStore {
  private db: Promise<IDBDatabase | null> | null = null;
  private readonly memRuns = new Map<string, StoredRun>();
  private readonly memFiles = new Map<string, RunFilesRecord>();

  constructor(private readonly dbName = DB_NAME) {}

  private open(): Promise<IDBDatabase | null> {
    this.db ??=
      typeof indexedDB === 'undefined'
        ? Promise.resolve(null)
        : new Promise<IDBDatabase | null>((resolve) => {
            const req = indexedDB.open(this.dbName, 1);
            req.onupgradeneeded = () => {
              req.result.createObjectStore(RUNS, { keyPath: 'id' });
              req.result.createObjectStore(FILES);
            };
            req.onsuccess = () => resolve(req.result);
            req.onerror = () => resolve(null);
            req.onblocked = () => resolve(null);
          });
    return this.db;
  }

  async list(): Promise<StoredRun[]> {
    const db = await this.open();
    const runs = db
      ? await request(db.transaction(RUNS, 'readonly').objectStore(RUNS).getAll() as IDBRequest<StoredRun[]>)
      : [...this.memRuns.values()];
    return runs.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
  }

  async get(id: string): Promise<StoredRun | undefined> {
    const db = await this.open();
    if (!db) return this.memRuns.get(id);
    return (await request(db.transaction(RUNS, 'readonly').objectStore(RUNS).get(id))) as
      StoredRun | undefined;
  }

  async put(run: StoredRun): Promise<void> {
    const db = await this.open();
    if (!db) {
      this.memRuns.set(run.id, structuredClone(run));
      return;
    }
    await request(db.transaction(RUNS, 'readwrite').objectStore(RUNS).put(run));
  }

  async putFiles(id: string, files: RunFilesRecord): Promise<void> {
    const db = await this.open();
    if (!db) {
      this.memFiles.set(id, files);
      return;
    }
    await request(db.transaction(FILES, 'readwrite').objectStore(FILES).put(files, id));
  }

  async getFiles(id: string): Promise<RunFilesRecord | undefined> {
    const db = await this.open();
    if (!db) return this.memFiles.get(id);
    return (await request(db.transaction(FILES, 'readonly').objectStore(FILES).get(id))) as
      RunFilesRecord | undefined;
  }

  async delete(id: string): Promise<void> {
    const db = await this.open();
    if (!db) {
      this.memRuns.delete(id);
      this.memFiles.delete(id);
      return;
    }
    const tx = db.transaction([RUNS, FILES], 'readwrite');
    tx.objectStore(RUNS).delete(id);
    tx.objectStore(FILES).delete(id);
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB delete failed'));
    });
  }
}
