/**
 * A tiny key -> Float32Array cache for extracted features, so that a photo set is encoded once per
 * encoder and crop mode: IndexedDB in the browser (here), a folder of .f32 files in Node
 * (FileFeatureCache in scripts/lib/node-images.ts).
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';

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

interface FeaturesDb extends DBSchema {
  /** Records as stored; validated when read back ({@link storedValues}). */
  features: { key: string; value: unknown };
}

/**
 * The values of a record read back, or undefined when it is not a whole record for `key`: a record of
 * another key, bytes that are not whole float32 values, or a size its `info` contradicts.
 */
export function storedValues(rec: unknown, key: string): Float32Array | undefined {
  if (typeof rec !== 'object' || rec === null) return undefined;
  const { key: k, data, info } = rec as Partial<StoredFeatures>;
  if (k !== key || !(data instanceof ArrayBuffer) || data.byteLength % 4 !== 0) return undefined;
  const values = data.byteLength / 4;
  const { count, featureDim } = info ?? {};
  if (count !== undefined && featureDim !== undefined && count * featureDim !== values) return undefined;
  return new Float32Array(data);
}

/**
 * Features in the browser's IndexedDB (database `orderembed-features`, one record per key), through the
 * `idb` library. Without IndexedDB (Node, some private modes) it behaves as an empty cache that forgets
 * what it is given, so callers need no special case; storage errors are likewise swallowed (the cache is
 * an optimisation), and a record that does not read back whole is a miss.
 */
export class IdbFeatureCache implements FeatureCache {
  static readonly DB_NAME = 'orderembed-features';
  static readonly STORE = 'features';
  private db: Promise<IDBPDatabase<FeaturesDb> | null> | null = null;

  constructor(private readonly dbName: string = IdbFeatureCache.DB_NAME) {}

  /** Whether this environment has IndexedDB at all. */
  static available(): boolean {
    return typeof indexedDB !== 'undefined' && indexedDB !== null;
  }

  private open(): Promise<IDBPDatabase<FeaturesDb> | null> {
    this.db ??= IdbFeatureCache.available()
      ? new Promise((resolve) => {
          // A blocked open (another tab deleting or upgrading the database) means no cache, not a wait.
          openDB<FeaturesDb>(this.dbName, 1, {
            upgrade: (db) => db.createObjectStore(IdbFeatureCache.STORE, { keyPath: 'key' }),
            blocked: () => resolve(null),
          }).then(resolve, () => resolve(null));
        })
      : Promise.resolve(null);
    return this.db;
  }

  async get(key: string): Promise<Float32Array | undefined> {
    const db = await this.open();
    if (!db) return undefined;
    try {
      return storedValues(await db.get(IdbFeatureCache.STORE, key), key);
    } catch (_err) {
      return undefined;
    }
  }

  /** Resolves once the record is committed, or (quota exceeded, database gone) once it is not. */
  async put(key: string, value: Float32Array, info: FeatureCacheInfo = {}): Promise<void> {
    const db = await this.open();
    if (!db) return;
    // A copy of exactly the values, in case `value` is a view into a larger buffer.
    const data = value.slice().buffer as ArrayBuffer;
    const rec: StoredFeatures = { key, data, info };
    try {
      const tx = db.transaction(IdbFeatureCache.STORE, 'readwrite');
      await Promise.all([tx.store.put(rec), tx.done]);
    } catch (_err) {
      // Keep running without the cache.
    }
  }
}
