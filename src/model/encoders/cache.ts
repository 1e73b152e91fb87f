/**
 * A tiny key -> Float32Array cache for extracted features, so that a photo set is encoded once per
 * encoder and crop mode: IndexedDB in the browser (here), a folder of .f32 files in Node
 * (FileFeatureCache in scripts/lib/node-images.ts).
 */

export interface FeatureCacheInfo {
  /** Columns of the stored matrix. */
  featureDim?: number;
  /** Rows of the stored matrix (images). */
  count?: number;
}

export interface FeatureCache {
  get(key: string): Promise<Float32Array | undefined>;
  /** `info` is optional metadata; an implementation may store it beside the values. */
  put(key: string, value: Float32Array, info?: FeatureCacheInfo): Promise<void>;
}

/** What makes a cached feature matrix valid: same encoder, same crop mode, same photos. */
export interface FeatureCacheKeyParts {
  /** Encoder preset id. */
  encoder: string;
  crops: 1 | 10;
  /** 'mirror': features of the photos mirrored left-right; absent: the photos as they are. */
  view?: 'mirror';
  /**
   * Identity of the photos, in order: e.g. the dataset name plus {@link hashStrings} of the file
   * names, or a content hash for a single user photo.
   */
  images: string;
}

const KEY_PREFIX = 'features-v1';

/**
 * `features-v1;encoder=<id>;crops=<1|10>[;view=mirror];images=<identity>`: readable, and parseable
 * back (keys without a view are those of earlier versions, so their cached features stay valid).
 */
export function featureCacheKey(parts: FeatureCacheKeyParts): string {
  for (const [name, v] of Object.entries(parts)) {
    if (String(v).includes(';')) throw new Error(`feature cache key part ${name} may not contain ';'`);
  }
  const view = parts.view ? `;view=${parts.view}` : '';
  return `${KEY_PREFIX};encoder=${parts.encoder};crops=${parts.crops}${view};images=${parts.images}`;
}

/** The parts of a key made by {@link featureCacheKey}, or undefined for any other string. */
export function parseFeatureCacheKey(key: string): FeatureCacheKeyParts | undefined {
  const m = /^features-v1;encoder=([^;]*);crops=(1|10)(?:;view=(mirror))?;images=([^;]*)$/.exec(key);
  if (!m) return undefined;
  const parts: FeatureCacheKeyParts = { encoder: m[1], crops: Number(m[2]) as 1 | 10, images: m[4] };
  if (m[3]) parts.view = 'mirror';
  return parts;
}

/**
 * 64-bit FNV-1a of the strings (each followed by a NUL), as 16 hex digits: a cheap identity for a list
 * of image names or ids, not a cryptographic hash.
 */
export function hashStrings(items: readonly string[]): string {
  // Two 32-bit halves, because 64-bit multiplication is awkward without BigInt in hot loops.
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ items.length;
  const mix = (c: number): void => {
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c ^ (h1 >>> 16), 0x01000193) >>> 0;
  };
  for (const s of items) {
    for (let i = 0; i < s.length; i++) mix(s.charCodeAt(i));
    mix(0);
  }
  return h1.toString(16).padStart(8, '0') + h2.toString(16).padStart(8, '0');
}

/** A cache that keeps nothing: for environments without storage, and as the default. */
export class NoFeatureCache implements FeatureCache {
  async get(_key: string): Promise<Float32Array | undefined> {
    return undefined;
  }
  async put(_key: string, _value: Float32Array): Promise<void> {}
}

interface StoredFeatures {
  key: string;
  /** The values' bytes (an ArrayBuffer clones cheaply into and out of IndexedDB). */
  data: ArrayBuffer;
  info: FeatureCacheInfo;
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

/**
 * Features in the browser's IndexedDB (database `orderembed-features`, one record per key). Without
 * IndexedDB (Node, some private modes) it behaves as an empty cache that forgets what it is given, so
 * callers need no special case; storage errors are likewise swallowed: the cache is an optimisation.
 */
export class IdbFeatureCache implements FeatureCache {
  static readonly DB_NAME = 'orderembed-features';
  static readonly STORE = 'features';
  private db: Promise<IDBDatabase | null> | null = null;

  constructor(private readonly dbName: string = IdbFeatureCache.DB_NAME) {}

  /** Whether this environment has IndexedDB at all. */
  static available(): boolean {
    return typeof indexedDB !== 'undefined' && indexedDB !== null;
  }

  private open(): Promise<IDBDatabase | null> {
    if (!this.db) {
      this.db = IdbFeatureCache.available()
        ? new Promise<IDBDatabase | null>((resolve) => {
            const req = indexedDB.open(this.dbName, 1);
            req.onupgradeneeded = () =>
              req.result.createObjectStore(IdbFeatureCache.STORE, { keyPath: 'key' });
            req.onsuccess = () => resolve(req.result);
            req.onerror = () => resolve(null);
            req.onblocked = () => resolve(null);
          })
        : Promise.resolve(null);
    }
    return this.db;
  }

  async get(key: string): Promise<Float32Array | undefined> {
    const db = await this.open();
    if (!db) return undefined;
    try {
      const tx = db.transaction(IdbFeatureCache.STORE, 'readonly');
      const rec = (await request(tx.objectStore(IdbFeatureCache.STORE).get(key))) as
        StoredFeatures | undefined;
      return rec && rec.key === key ? new Float32Array(rec.data) : undefined;
    } catch (_err) {
      return undefined;
    }
  }

  async put(key: string, value: Float32Array, info: FeatureCacheInfo = {}): Promise<void> {
    const db = await this.open();
    if (!db) return;
    // A copy of exactly the values, in case `value` is a view into a larger buffer.
    const data = value.slice().buffer as ArrayBuffer;
    const rec: StoredFeatures = { key, data, info };
    try {
      const tx = db.transaction(IdbFeatureCache.STORE, 'readwrite');
      await request(tx.objectStore(IdbFeatureCache.STORE).put(rec));
    } catch (_err) {
      // Quota exceeded or the database went away: keep running without the cache.
    }
  }
}
