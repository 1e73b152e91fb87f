/**
 * Feature packs served over HTTP (src/model/data/pack.ts's manifest and features), and the fetches every
 * download of a dataset load goes through: a failure names the file and how to make it, and a cancelled
 * load stops the download at once (an Error named AbortError naming the file).
 */
import { splitSizeWarnings } from '../model/data/flickr8k';
import { PACK_FEATURES, PACK_MANIFEST, packToDataset, parsePackManifest } from '../model/data/pack';
import { ENCODER_PRESETS } from '../model/encoders';
import { infoOf, type LoadContext, type LoadedDataset } from './dataset-loaded';

/**
 * GETs a data file; a failure names the URL and, when given, how to make the file (`hint`). A 404 says
 * "not found" (the servers of this project answer a missing data file with 404, never with the page).
 */
export async function fetchOk(
  url: string,
  what: string,
  hint?: string,
  signal?: AbortSignal,
): Promise<Response> {
  let res: Response;
  const how = hint ? `; ${hint}` : '';
  try {
    res = await fetch(url, signal ? { signal } : undefined);
  } catch (e) {
    if (signal?.aborted) throw readingCancelled(what);
    throw new Error(`cannot fetch ${what} (${url}): ${(e as Error).message}${how}`);
  }
  if (res.status === 404) throw new Error(`${what} not found: ${url} (HTTP 404)${how}`);
  if (!res.ok) throw new Error(`cannot fetch ${what} (${url}): HTTP ${res.status}${how}`);
  return res;
}

/** The body of a data file; a cancelled load stops the download. */
export async function fetchBytes(
  url: string,
  what: string,
  hint: string,
  signal: AbortSignal,
): Promise<ArrayBuffer> {
  const res = await fetchOk(url, what, hint, signal);
  try {
    return await res.arrayBuffer();
  } catch (e) {
    if (signal.aborted) throw readingCancelled(what);
    throw new Error(`cannot read ${what} (${url}): ${(e as Error).message}; ${hint}`);
  }
}

/** A cancelled download, as extractFeatures reports a cancelled extraction (an Error named AbortError). */
function readingCancelled(what: string): Error {
  const err = new Error(`reading ${what} was cancelled`);
  err.name = 'AbortError';
  return err;
}

/** How to make a pack that is not served, by its URL. */
export function packHint(url: string): string {
  return /(^|\/)scenes\/?$/.test(url)
    ? 'the built-in scenes pack ships in public/scenes/; rebuild it with `npm run prepare:scenes`'
    : 'make a Flickr8k pack with `npm run prepare:flickr8k -- <Flickr8k folder>` (it writes public/packs/flickr8k-<encoder>/), then restart `npm start`';
}

/** A feature pack served at `url` (a folder URL, absolute or relative to the base). */
export async function loadPack(url: string, ctx: LoadContext): Promise<LoadedDataset> {
  const base = new URL(url.replace(/\/*$/, '/'), ctx.baseUrl).href;
  ctx.onProgress('reading the pack manifest', 0, 2, 0);
  const hint = packHint(url);
  const manifestRes = await fetchOk(base + PACK_MANIFEST, 'the pack manifest', hint, ctx.signal);
  let json: unknown;
  try {
    json = await manifestRes.json();
  } catch (e) {
    throw new Error(`${base}${PACK_MANIFEST}: not valid JSON (${(e as Error).message}); ${hint}`);
  }
  const manifest = parsePackManifest(json, base + PACK_MANIFEST);
  ctx.onProgress('reading the features', 1, 2, 0);
  const bytes = await fetchBytes(base + PACK_FEATURES, 'the pack features', hint, ctx.signal);
  const dataset = packToDataset(manifest, bytes);
  ctx.onProgress('done', 2, 2, 0);
  const warnings = [
    ...(manifest.failedImages.length
      ? [
          `${manifest.failedImages.length} photos could not be read: ${manifest.failedImages.slice(0, 5).join(', ')}`,
        ]
      : []),
    ...(manifest.problems ?? []).slice(0, 10),
    ...splitSizeWarnings(dataset.splits),
  ];
  return {
    dataset,
    preset: ENCODER_PRESETS[manifest.encoder] ?? null,
    info: infoOf(dataset, {
      kind: 'pack',
      encoder: manifest.encoder,
      thumbs: manifest.thumbSize ? 'url' : 'none',
      thumbBase: base.replace(/\/$/, ''),
      imagePaths: manifest.images,
      warnings,
    }),
  };
}
