/**
 * Which image encoders this server can actually give the page: an encoder is offered when its model.json
 * is served (status 200, JSON with a topology and a weights manifest, not the HTML of a fallback page)
 * and every weight shard it lists answers a HEAD request. That is what tf.io.http needs to load it; the
 * check moves no weights, so it takes a few small requests per encoder. Encoders that fail are shown
 * greyed with the reason (src/ui/DataPanel.tsx) instead of failing later with "Failed to parse model
 * JSON". No DOM beyond `fetch`, which is passed in (tests give a fake one).
 */
import { modelUrlOf, type BrowserLoaderOptions } from './browser';
import type { EncoderPreset } from './types';

export interface EncoderAvailability {
  id: string;
  /** true: every file of the model is served. */
  ok: boolean;
  /** Why not, naming the file and how to get it (when `ok` is false). */
  reason?: string;
}

type FetchLike = (url: string, init?: { method?: string; signal?: AbortSignal }) => Promise<Response>;

export interface AvailabilityOptions extends BrowserLoaderOptions {
  fetch?: FetchLike;
  signal?: AbortSignal;
}

/** How to get a model that is not served, by where its preset says it lives. */
export function encoderSourceHint(preset: EncoderPreset): string {
  switch (preset.source.kind) {
    case 'shared':
      return `it is in the development data (../shared/models/${preset.source.dir}), which this server does not have; set ORDEREMBED_SHARED to that folder's parent and restart`;
    case 'package':
      return `it comes from the npm package folder ${preset.source.path}`;
    case 'url':
      return preset.source.url.startsWith('/models/')
        ? `it ships in public${preset.source.url.replace(/\/model\.json$/, '')}/ (restore it with git checkout)`
        : `check the URL`;
  }
}

/**
 * Checks that `preset`'s model files are served (see the module comment). Never throws: a failure is
 * `{ok: false, reason}`, the reason naming the file (URL) and how to get it.
 */
export async function checkEncoderAvailable(
  preset: EncoderPreset,
  opts: AvailabilityOptions = {},
): Promise<EncoderAvailability> {
  const doFetch: FetchLike = opts.fetch ?? ((u, i) => fetch(u, i));
  const no = (reason: string): EncoderAvailability => ({ id: preset.id, ok: false, reason });
  let url: string;
  try {
    url = modelUrlOf(preset.source, opts);
  } catch (e) {
    return no(`${(e as Error).message}; ${encoderSourceHint(preset)}`);
  }
  let res: Response;
  try {
    res = await doFetch(url, { signal: opts.signal });
  } catch (e) {
    return no(`cannot fetch ${url}: ${(e as Error).message}`);
  }
  if (!res.ok) return no(`${url}: HTTP ${res.status}; ${encoderSourceHint(preset)}`);
  let json: unknown;
  const text = await res.text();
  try {
    json = JSON.parse(text);
  } catch (_e) {
    const what = /^\s*</.test(text) ? 'an HTML page' : 'not JSON';
    return no(`${url} is ${what}, not a tfjs model.json; ${encoderSourceHint(preset)}`);
  }
  const j = json as { modelTopology?: unknown; weightsManifest?: { paths?: unknown }[] } | null;
  if (!j || typeof j !== 'object' || !j.modelTopology)
    return no(`${url} has no modelTopology: not a tfjs model.json`);
  if (!Array.isArray(j.weightsManifest)) return no(`${url} has no weightsManifest: not a tfjs model.json`);
  const shards = j.weightsManifest.flatMap((g) => (Array.isArray(g?.paths) ? (g.paths as string[]) : []));
  const base = new URL('.', new URL(url, 'http://x/')).href;
  const rel = (p: string) => {
    const abs = new URL(p, base);
    // Keep a root-relative model URL root-relative (the dummy host above only resolves the path).
    return /^https?:/i.test(url) ? abs.href : abs.pathname;
  };
  const missing: string[] = [];
  await Promise.all(
    shards.map(async (p) => {
      const shard = rel(p);
      try {
        const r = await doFetch(shard, { method: 'HEAD', signal: opts.signal });
        if (!r.ok) missing.push(`${shard} (HTTP ${r.status})`);
      } catch (e) {
        missing.push(`${shard} (${(e as Error).message})`);
      }
    }),
  );
  if (missing.length) {
    const list = missing.sort().slice(0, 3).join(', ');
    const more = missing.length > 3 ? ` and ${missing.length - 3} more` : '';
    return no(`weight files of ${url} are missing: ${list}${more}; ${encoderSourceHint(preset)}`);
  }
  return { id: preset.id, ok: true };
}

/**
 * {@link checkEncoderAvailable} for several presets, each model URL checked once (two presets of the
 * same weights share the answer).
 */
export async function checkEncodersAvailable(
  presets: readonly EncoderPreset[],
  opts: AvailabilityOptions = {},
): Promise<Record<string, EncoderAvailability>> {
  const byUrl = new Map<string, Promise<EncoderAvailability>>();
  const out: Record<string, EncoderAvailability> = {};
  await Promise.all(
    presets.map(async (p) => {
      let key: string;
      try {
        key = modelUrlOf(p.source, opts);
      } catch (_e) {
        key = `${p.id}:unreachable`;
      }
      let check = byUrl.get(key);
      if (!check) {
        check = checkEncoderAvailable(p, opts);
        byUrl.set(key, check);
      }
      out[p.id] = { ...(await check), id: p.id };
    }),
  );
  return out;
}
