/**
 * The starter model that ships with the page (public/starter/: a run folder with float16 weights, its
 * calibration and the caption bank), loaded by the worker when it starts, so that a first visit can
 * rank captions for its own photos without training anything.
 *
 * Every file is checked and a failure names it: a missing file (the server answers 404, or an HTML page
 * in its place), a JSON file that does not parse, weights of the wrong size. A broken starter leaves the
 * rest of the page working (training on the scenes, the hierarchy); a broken caption bank leaves the
 * starter working with typed candidates.
 */
import { CALIBRATION_FILE, parseCalibration, type Calibration } from '../model/calibration';
import { CAPTION_BANK_FILE, looksLikeHtml, parseCaptionBank } from '../model/caption-bank';
import { importModel, RUN_FILES, type ImportedModel } from '../model/export';
import { Retriever } from '../model/retrieval';
import { errorMessage } from './protocol';
import { STARTER_RUN_ID, type PhotosEvent, type StarterInfo } from './photos-protocol';

/** Folder of the starter, relative to the page's base URL. */
export const STARTER_DIR = 'starter/';

export interface Starter {
  imported: ImportedModel;
  retriever: Retriever;
  info: StarterInfo;
  calibration: Calibration | null;
  bank: string[] | null;
}

type Fetcher = (url: string) => Promise<Response>;

async function fetchFile(base: string, name: string, fetcher: Fetcher): Promise<Response> {
  const url = base + name;
  let res: Response;
  try {
    res = await fetcher(url);
  } catch (e) {
    throw new Error(`${STARTER_DIR}${name}: cannot be fetched (${errorMessage(e)})`);
  }
  if (!res.ok) throw new Error(`${STARTER_DIR}${name}: missing (HTTP ${res.status} for ${url})`);
  if ((res.headers.get('content-type') ?? '').includes('text/html'))
    throw new Error(`${STARTER_DIR}${name}: missing (the server sent a web page in its place)`);
  return res;
}

async function readText(base: string, name: string, fetcher: Fetcher): Promise<string> {
  const text = await (await fetchFile(base, name, fetcher)).text();
  if (looksLikeHtml(text))
    throw new Error(`${STARTER_DIR}${name}: missing (the server sent a web page in its place)`);
  return text;
}

/** The bytes of a response, reporting progress as they arrive (`total`: Content-Length or a guess). */
async function readBytes(
  res: Response,
  expected: number,
  onProgress: (loaded: number, total: number) => void,
): Promise<Uint8Array> {
  const total = Number(res.headers.get('content-length')) || expected;
  if (!res.body) {
    const all = new Uint8Array(await res.arrayBuffer());
    onProgress(all.length, all.length);
    return all;
  }
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let loaded = 0;
  let last = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    loaded += value.length;
    if (loaded - last > 256 * 1024) {
      last = loaded;
      onProgress(loaded, Math.max(total, loaded));
    }
  }
  onProgress(loaded, loaded);
  const out = new Uint8Array(loaded);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function starterInfo(m: ImportedModel, calibration: Calibration | null, weightBytes: number): StarterInfo {
  const c = m.config;
  const final = m.metrics?.final?.dev ?? m.metrics?.history.filter((h) => h.dev).at(-1)?.dev;
  return {
    id: STARTER_RUN_ID,
    label: `starter (${c.model.layerNorm ? 'LN-GRU' : 'GRU'}, trained on ${c.dataset})`,
    dataset: c.dataset,
    encoder: c.encoder,
    steps: c.steps,
    hiddenDim: c.model.hiddenDim,
    layerNorm: c.model.layerNorm,
    dev: final ? { i2t: final.i2t.r1, t2i: final.t2i.r1, rsum: final.rsum } : null,
    calibration,
    weightBytes,
  };
}

/**
 * Loads the starter from `baseUrl + starter/`. Posts progress, then 'starterLoaded' (or a 'failed'
 * event naming the file) and resolves to the starter, or null when the model itself could not be read.
 */
export async function loadStarter(
  baseUrl: string,
  post: (e: PhotosEvent) => void,
  fetcher: Fetcher = (u) => fetch(u),
): Promise<Starter | null> {
  const t0 = performance.now();
  const base = new URL(STARTER_DIR, baseUrl).href;
  let imported: ImportedModel;
  let weightBytes = 0;
  try {
    const config = await readText(base, RUN_FILES.config, fetcher);
    const manifest = await readText(base, RUN_FILES.weightsManifest, fetcher);
    let expected = 0;
    try {
      const m = JSON.parse(manifest) as { dtype?: string; weights?: { shape: number[] }[] };
      const per = m.dtype === 'float16' ? 2 : 4;
      expected = (m.weights ?? []).reduce((n, w) => n + per * w.shape.reduce((a, b) => a * b, 1), 0);
    } catch {
      // importModel below names the file that does not parse.
    }
    post({ kind: 'starterProgress', file: RUN_FILES.weights, loaded: 0, total: expected });
    const res = await fetchFile(base, RUN_FILES.weights, fetcher);
    const bytes = await readBytes(res, expected, (loaded, total) =>
      post({ kind: 'starterProgress', file: RUN_FILES.weights, loaded, total }),
    );
    weightBytes = bytes.length;
    const files: Record<string, string | Uint8Array> = {
      [RUN_FILES.config]: config,
      [RUN_FILES.weightsManifest]: manifest,
      [RUN_FILES.weights]: bytes,
    };
    // Optional: metrics.json only gives the dev figures shown in the header; without codec.json (a
    // starter made before codecs were) config.json's vocabulary and caption length are the codec.
    for (const name of [RUN_FILES.metrics, RUN_FILES.codec]) {
      try {
        files[name] = await readText(base, name, fetcher);
      } catch {
        // absent: see above
      }
    }
    try {
      imported = importModel(files);
    } catch (e) {
      const msg = errorMessage(e);
      // importModel names the run file at fault; say which folder it is in.
      throw new Error(
        /^(config|weights|metrics|codec)\.(json|bin)|missing file/.test(msg)
          ? `${STARTER_DIR}${msg}`
          : `${STARTER_DIR}: ${msg}`,
      );
    }
  } catch (e) {
    post({
      kind: 'failed',
      query: 'starter',
      message: `The starter model could not be loaded: ${errorMessage(e)}. Everything else still works: train on the Data tab's datasets.`,
    });
    return null;
  }

  const problems: string[] = [];
  let calibration: Calibration | null = null;
  try {
    calibration = parseCalibration(
      JSON.parse(await readText(base, CALIBRATION_FILE, fetcher)),
      `${STARTER_DIR}${CALIBRATION_FILE}`,
    );
  } catch (e) {
    const msg = errorMessage(e);
    problems.push(
      `${msg.startsWith(STARTER_DIR) ? msg : `${STARTER_DIR}${CALIBRATION_FILE}: ${msg}`}; "nothing here fits well" is not shown`,
    );
  }
  let bank: string[] | null = null;
  let bankState: { file: string; sentences: number } | { file: string; error: string };
  const bankFile = `${STARTER_DIR}${CAPTION_BANK_FILE}`;
  try {
    bank = parseCaptionBank(await readText(base, CAPTION_BANK_FILE, fetcher), bankFile).sentences;
    bankState = { file: bankFile, sentences: bank.length };
  } catch (e) {
    const msg = errorMessage(e);
    bankState = { file: bankFile, error: msg.startsWith(bankFile) ? msg : `${bankFile}: ${msg}` };
  }
  const retriever = new Retriever(imported.model, imported.codec, null, { cache: true });
  const info = starterInfo(imported, calibration, weightBytes);
  post({ kind: 'starterLoaded', starter: info, bank: bankState, problems, ms: performance.now() - t0 });
  return { imported, retriever, info, calibration, bank };
}

export function disposeStarter(s: Starter | null): void {
  if (!s) return;
  s.retriever.dispose();
  s.imported.model.dispose();
}
