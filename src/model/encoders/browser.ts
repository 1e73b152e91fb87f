/**
 * Browser side of the encoders: model loading over HTTP and photo decoding with createImageBitmap +
 * OffscreenCanvas (both available in a worker). No Node APIs; the DOM APIs are feature-checked at call
 * time so this module can be imported (and its pure parts tested) anywhere.
 */
import * as tf from '../tf';
import type { EncoderPreset, EncoderSource, ModelLoader, RgbImage } from './types';

/** Whether a parsed model.json describes a graph model (tfjs-converter) rather than a layers model. */
export function isGraphModelJson(json: unknown): boolean {
  if (typeof json !== 'object' || json === null) return false;
  const j = json as { format?: unknown; modelTopology?: { node?: unknown } };
  return j.format === 'graph-model' || Array.isArray(j.modelTopology?.node);
}

/**
 * A layers or graph model from already-read artifacts (model.json contents plus weights), whichever the
 * artifacts describe: loaders read the files once and need not know the format in advance.
 */
export async function loadModelFromArtifacts(
  artifacts: tf.io.ModelArtifacts,
): Promise<tf.LayersModel | tf.GraphModel> {
  const handler = tf.io.fromMemory(artifacts);
  return isGraphModelJson(artifacts) ? tf.loadGraphModel(handler) : tf.loadLayersModel(handler);
}

export interface BrowserLoaderOptions {
  /** Prefix for root-relative model URLs (`/models/...`) when the page is not served from `/`. */
  baseUrl?: string;
  /** URL prefix under which ../shared/models is served, if it is (e.g. by a dev server). */
  sharedModelsUrl?: string;
  /** URL prefix under which node_modules is served, if it is. */
  packagesUrl?: string;
}

const joinUrl = (base: string, rest: string): string =>
  `${base.replace(/\/+$/, '')}/${rest.replace(/^\/+/, '')}`;

/** The model.json URL of a source in the browser; throws for sources the page cannot reach. */
export function modelUrlOf(source: EncoderSource, opts: BrowserLoaderOptions = {}): string {
  switch (source.kind) {
    case 'url':
      return opts.baseUrl && source.url.startsWith('/') ? joinUrl(opts.baseUrl, source.url) : source.url;
    case 'shared':
      if (!opts.sharedModelsUrl) {
        throw new Error(
          `the shared model folder '${source.dir}' is not served to the browser; give its model.json URL instead`,
        );
      }
      return joinUrl(opts.sharedModelsUrl, `${source.dir}/model.json`);
    case 'package':
      if (!opts.packagesUrl)
        throw new Error(`the package model '${source.path}' is not served to the browser`);
      return joinUrl(
        opts.packagesUrl,
        source.path.endsWith('.json') ? source.path : `${source.path}/model.json`,
      );
  }
}

/**
 * Browser loader: fetches model.json and its weight shards once (tf.io.http) and builds a layers or
 * graph model, whichever the file describes. Errors name the preset and the URL.
 */
export function browserModelLoader(opts: BrowserLoaderOptions = {}): ModelLoader {
  return async (preset: EncoderPreset) => {
    const url = modelUrlOf(preset.source, opts);
    try {
      const handler = tf.io.http(url);
      if (!handler.load) throw new Error('the HTTP handler cannot load');
      const artifacts = await handler.load();
      return await loadModelFromArtifacts(artifacts);
    } catch (err) {
      throw new Error(`cannot load image encoder '${preset.id}' from ${url}: ${(err as Error).message}`);
    }
  };
}

export interface DecodeOptions {
  /** Scale photos whose longer side exceeds this down while decoding (saves memory on 12 MP photos). */
  maxSide?: number;
}

/** Decodes an encoded photo (JPEG, PNG, WebP, ...) to RGBA pixels; `name` appears in errors. */
export async function decodeImageBlob(
  blob: Blob,
  name = 'image',
  opts: DecodeOptions = {},
): Promise<RgbImage> {
  if (typeof createImageBitmap === 'undefined' || typeof OffscreenCanvas === 'undefined') {
    throw new Error(
      `cannot decode ${name}: createImageBitmap and OffscreenCanvas are needed (a browser or worker)`,
    );
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob);
    const long = Math.max(bitmap.width, bitmap.height);
    if (opts.maxSide && long > opts.maxSide) {
      const f = opts.maxSide / long;
      const resized = await createImageBitmap(bitmap, {
        resizeWidth: Math.max(1, Math.round(bitmap.width * f)),
        resizeHeight: Math.max(1, Math.round(bitmap.height * f)),
        resizeQuality: 'high',
      });
      bitmap.close();
      bitmap = resized;
    }
  } catch (err) {
    throw new Error(`cannot decode ${name}: ${(err as Error).message || 'not a supported image'}`);
  }
  try {
    const { width, height } = bitmap;
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error(`cannot decode ${name}: no 2d canvas context`);
    ctx.drawImage(bitmap, 0, 0);
    return { width, height, data: ctx.getImageData(0, 0, width, height).data, channels: 4 };
  } finally {
    bitmap.close();
  }
}
