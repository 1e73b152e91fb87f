/**
 * Node-side image and model I/O for the encoders (scripts and tests; never bundled for the browser):
 * JPEG decoding with jpeg-js (pure JS, so no native build and no @tensorflow/tfjs-node), loading tfjs
 * layers/graph models from local folders through an in-memory IOHandler, and a feature cache as plain
 * files. The encoder itself (src/model/encoders) is the same code the browser worker runs.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decode as decodeJpegJs } from 'jpeg-js';
import * as tf from '../../src/model/tf';
import { loadModelFromArtifacts } from '../../src/model/encoders/browser';
import { photoProblem, sniffPhoto } from '../../src/model/encoders/photo';
import {
  hashStrings,
  parseFeatureCacheKey,
  type FeatureCache,
  type FeatureCacheInfo,
} from '../../src/model/encoders/cache';
import type { EncoderPreset, ModelLoader, RgbImage } from '../../src/model/encoders/types';

/** Repository root (this file lives in <root>/scripts/lib/). */
export const repoRoot: string = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The shared data folder: $ORDEREMBED_SHARED, else `../shared` beside the repository. */
export function sharedRoot(): string {
  const env = process.env.ORDEREMBED_SHARED;
  return env && env.trim() !== '' ? path.resolve(env) : path.resolve(repoRoot, '..', 'shared');
}

/** Decodes JPEG bytes to RGB pixels; `name` (a file name) appears in every error. */
export function decodeJpeg(bytes: Uint8Array, name: string): RgbImage {
  const header = sniffPhoto(bytes.subarray(0, 256 * 1024));
  if (header.format !== 'jpeg') {
    // Name what the file is instead of a bare "SOI not found" (the page decodes the other formats).
    throw new Error(
      photoProblem(name, bytes.byteLength, header) ??
        `${name}: a ${header.format?.toUpperCase()} image; the command-line tools read JPEG only (convert it, or load the folder in the page)`,
    );
  }
  let img: { width: number; height: number; data: Uint8Array };
  try {
    img = decodeJpegJs(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      maxResolutionInMP: 100,
      maxMemoryUsageInMB: 1024,
    });
  } catch (err) {
    throw new Error(`cannot decode ${name} as JPEG: ${(err as Error).message}`);
  }
  if (!(img.width > 0 && img.height > 0) || img.data.length !== img.width * img.height * 3) {
    throw new Error(`cannot decode ${name} as JPEG: no image data (${img.width}x${img.height})`);
  }
  return { width: img.width, height: img.height, data: img.data, channels: 3 };
}

/** Reads and decodes a JPEG file; errors name the file. */
export async function readJpeg(file: string): Promise<RgbImage> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new Error(`cannot read image ${file}: ${(err as Error).message}`);
  }
  return decodeJpeg(bytes, file);
}

interface ModelJson {
  modelTopology?: object;
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  signature?: object;
  userDefinedMetadata?: Record<string, unknown>;
  modelInitializer?: object;
  trainingConfig?: tf.io.TrainingConfig;
  weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

/**
 * model.json plus its weight shards from a folder (or the path of the model.json itself), as the
 * in-memory artifacts tf.io.fromMemory takes: the same thing tf.io.http builds in the browser.
 */
export async function readModelArtifacts(dirOrJson: string): Promise<tf.io.ModelArtifacts> {
  const jsonPath = dirOrJson.endsWith('.json') ? dirOrJson : path.join(dirOrJson, 'model.json');
  if (!existsSync(jsonPath)) throw new Error(`no model.json at ${jsonPath}`);
  const json = JSON.parse(await readFile(jsonPath, 'utf8')) as ModelJson;
  if (!json.modelTopology) throw new Error(`${jsonPath} has no modelTopology`);
  const dir = path.dirname(jsonPath);
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const shards: Uint8Array[] = [];
  for (const group of json.weightsManifest ?? []) {
    weightSpecs.push(...group.weights);
    for (const p of group.paths) {
      const file = path.join(dir, decodeURIComponent(p));
      try {
        shards.push(await readFile(file));
      } catch (err) {
        throw new Error(`weight shard ${file} of ${jsonPath}: ${(err as Error).message}`);
      }
    }
  }
  const total = shards.reduce((n, s) => n + s.byteLength, 0);
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const s of shards) {
    weightData.set(s, offset);
    offset += s.byteLength;
  }
  const { weightsManifest: _w, ...rest } = json;
  return { ...rest, weightSpecs, weightData: weightData.buffer } as tf.io.ModelArtifacts;
}

/** Loads a layers or graph model from a local folder (or model.json path). */
export async function loadModelFromDir(dirOrJson: string): Promise<tf.LayersModel | tf.GraphModel> {
  return loadModelFromArtifacts(await readModelArtifacts(dirOrJson));
}

/**
 * Where a preset's model lives on this machine. 'shared' dirs resolve against `<shared>/models`,
 * 'package' paths against node_modules, root-relative URLs (`/models/...`) against public/ (the files
 * the playground serves), file:// URLs and other paths against the file system. http(s) URLs are
 * returned as they are.
 */
export function resolveModelLocation(preset: EncoderPreset, shared: string = sharedRoot()): string {
  const src = preset.source;
  switch (src.kind) {
    case 'shared':
      return path.join(shared, 'models', src.dir);
    case 'package':
      return path.join(repoRoot, 'node_modules', src.path);
    case 'url': {
      const u = src.url;
      if (/^https?:\/\//i.test(u)) return u;
      if (/^file:\/\//i.test(u)) return fileURLToPath(u);
      if (u.startsWith('/')) {
        const inPublic = path.join(repoRoot, 'public', u);
        return existsSync(inPublic) ? inPublic : u;
      }
      return path.resolve(u);
    }
  }
}

/**
 * The Node {@link ModelLoader}: local folders through {@link readModelArtifacts}, http(s) through
 * tfjs's own HTTP handler (Node 20 has fetch). `shared` is the shared data folder (default
 * {@link sharedRoot}); errors name the preset and the path, and say how to point at the shared folder.
 */
export function nodeModelLoader(shared: string = sharedRoot()): ModelLoader {
  return async (preset: EncoderPreset) => {
    const where = resolveModelLocation(preset, shared);
    if (/^https?:\/\//i.test(where)) {
      const handler = tf.io.http(where);
      return loadModelFromArtifacts(await handler.load!());
    }
    if (!existsSync(where)) {
      const hint =
        preset.source.kind === 'shared'
          ? ` (the shared folder is ${shared}; set ORDEREMBED_SHARED to its location)`
          : preset.source.kind === 'url' && preset.source.url.startsWith('/models/')
            ? ' (it ships in the repository: restore it with `git checkout -- public/models`)'
            : '';
      throw new Error(`image encoder '${preset.id}': model not found at ${where}${hint}`);
    }
    try {
      return await loadModelFromDir(where);
    } catch (err) {
      throw new Error(`image encoder '${preset.id}': cannot load ${where}: ${(err as Error).message}`);
    }
  };
}

interface FileManifest {
  key: string;
  encoder: string | null;
  crops: number | null;
  featureDim: number | null;
  count: number | null;
  /** Number of float32 values in the .f32 file. */
  length: number;
  created: string;
}

/**
 * Feature cache as files: `<dir>/<hash>.f32` (raw little-endian float32, row-major) beside
 * `<dir>/<hash>.json` ({key, encoder, crops, featureDim, count, length}). The file name is a hash of the
 * key; the manifest's full key is compared on read, and a size mismatch (a half-written file) reads as
 * a miss. Writes go to a temporary name first and are renamed into place.
 */
export class FileFeatureCache implements FeatureCache {
  constructor(readonly dir: string) {}

  private files(key: string): { data: string; manifest: string } {
    const base = path.join(this.dir, hashStrings([key]));
    return { data: `${base}.f32`, manifest: `${base}.json` };
  }

  async get(key: string): Promise<Float32Array | undefined> {
    const f = this.files(key);
    let manifest: FileManifest;
    try {
      manifest = JSON.parse(await readFile(f.manifest, 'utf8')) as FileManifest;
    } catch (_err) {
      return undefined;
    }
    if (manifest.key !== key) return undefined;
    try {
      if ((await stat(f.data)).size !== manifest.length * 4) return undefined;
      const bytes = await readFile(f.data);
      // Copy into a fresh, aligned buffer: a Buffer may sit at any offset of a shared pool.
      const out = new Float32Array(manifest.length);
      new Uint8Array(out.buffer).set(bytes);
      return out;
    } catch (_err) {
      return undefined;
    }
  }

  async put(key: string, value: Float32Array, info: FeatureCacheInfo = {}): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const f = this.files(key);
    const parts = parseFeatureCacheKey(key);
    const manifest: FileManifest = {
      key,
      encoder: parts?.encoder ?? null,
      crops: parts?.crops ?? null,
      featureDim: info.featureDim ?? null,
      count: info.count ?? (info.featureDim ? value.length / info.featureDim : null),
      length: value.length,
      created: new Date().toISOString(),
    };
    const tmp = `.tmp-${process.pid}-${Date.now()}`;
    await writeFile(f.data + tmp, new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
    await rename(f.data + tmp, f.data);
    await writeFile(f.manifest + tmp, JSON.stringify(manifest, null, 2) + '\n');
    await rename(f.manifest + tmp, f.manifest);
  }
}
