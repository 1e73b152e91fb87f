/**
 * The data and model files of the playground as a server must answer them, for `vite` (dev), `vite
 * preview` (what `npm start` runs) and the browser suites (which serve with `vite preview` too):
 *
 * - a missing file under a data or model path (`models/`, `packs/`, `scenes/`, `shared-models/`,
 *   `tfjs-wasm/`, `wordnet/`) gets a 404 with a plain-text reason. Without this, Vite's single-page-app
 *   fallback answers index.html with status 200, and the page reports "Unexpected token '<'" or "Failed
 *   to parse model JSON" instead of "not found";
 * - `shared-models/` serves ../shared/models (or $ORDEREMBED_SHARED/models) when that folder exists:
 *   the development-only MobileNetV2 export. The default encoder ships in public/models/ and needs none
 *   of it.
 *
 * Only Node APIs; imported by vite.config.ts.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, resolve, sep } from 'node:path';
import type { Connect, Plugin, ResolvedConfig } from 'vite';

/** URL path prefixes (below the page's base) that only ever hold data and model files. */
export const DATA_PREFIXES = ['models/', 'packs/', 'scenes/', 'shared-models/', 'tfjs-wasm/', 'wordnet/'];

const SHARED_PREFIX = 'shared-models/';

/** The shared data folder's models/: $ORDEREMBED_SHARED/models, else ../shared/models beside the checkout. */
export function sharedModelsDir(repoRoot: string): string {
  const env = process.env.ORDEREMBED_SHARED;
  return resolve(env && env.trim() !== '' ? resolve(env) : resolve(repoRoot, '../shared'), 'models');
}

const isFile = (p: string): boolean => existsSync(p) && statSync(p).isFile();

/** How to get the missing file at `rel` (a path below the base), for the 404 body. */
export function missingFileHint(rel: string): string {
  if (rel.startsWith('packs/flickr8k'))
    return 'make the pack with `npm run prepare:flickr8k -- <Flickr8k folder>`';
  if (rel.startsWith('packs/'))
    return 'feature packs are written by `npm run prepare:flickr8k` into public/packs/';
  if (rel.startsWith('scenes/'))
    return 'the built-in scenes pack ships in public/scenes/; rebuild it with `npm run prepare:scenes`';
  if (rel.startsWith(SHARED_PREFIX))
    return 'this model lives in the development data (../shared/models, or $ORDEREMBED_SHARED/models), which this server does not have';
  if (rel.startsWith('models/'))
    return 'the shipped encoders are in public/models/ (git checkout restores them)';
  if (rel.startsWith('tfjs-wasm/') || rel.startsWith('wordnet/'))
    return 'run `npm run copy-wasm` (npm start does), which copies them from node_modules into public/';
  return 'the file is not on this server';
}

export type StaticAnswer =
  /** Let the next middleware (Vite's own static serving) answer. */
  | { kind: 'next' }
  /** Serve this file (shared models, which Vite does not know about). */
  | { kind: 'file'; file: string }
  | { kind: 'missing'; status: 404; body: string };

/**
 * What to answer for a request path: `url` is the request URL (query allowed), `base` the page's base
 * ('/' or '/app/'), `root` the folder the server serves files from (public/ in dev, dist/ in preview),
 * `sharedModels` the ../shared/models folder. Paths outside {@link DATA_PREFIXES} are left to Vite.
 */
export function answerStatic(url: string, base: string, root: string, sharedModels: string): StaticAnswer {
  let path: string;
  try {
    path = decodeURIComponent(url.split(/[?#]/)[0]);
  } catch (_err) {
    return { kind: 'missing', status: 404, body: `not found: ${url} (malformed URL)\n` };
  }
  const b = base.endsWith('/') ? base : `${base}/`;
  if (!path.startsWith(b)) return { kind: 'next' };
  const rel = path.slice(b.length);
  if (!DATA_PREFIXES.some((p) => rel.startsWith(p))) return { kind: 'next' };
  const missing = (): StaticAnswer => ({
    kind: 'missing',
    status: 404,
    body: `not found: ${path} (${missingFileHint(rel)})\n`,
  });
  if (rel.startsWith(SHARED_PREFIX)) {
    const file = resolve(sharedModels, `./${rel.slice(SHARED_PREFIX.length)}`);
    return file.startsWith(sharedModels + sep) && isFile(file) ? { kind: 'file', file } : missing();
  }
  const file = resolve(root, `./${rel}`);
  if (!file.startsWith(resolve(root) + sep)) return missing();
  return isFile(file) ? { kind: 'next' } : missing();
}

const TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.bin': 'application/octet-stream',
};

/** The middleware of {@link answerStatic} over the folder `root()` (read per request: it is resolved late). */
export function staticFilesMiddleware(
  base: () => string,
  root: () => string,
  sharedModels: string,
): Connect.NextHandleFunction {
  return (req, res, next) => {
    const a = answerStatic(req.url ?? '/', base(), root(), sharedModels);
    if (a.kind === 'next') return next();
    if (a.kind === 'missing') {
      res.statusCode = a.status;
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.setHeader('Cache-Control', 'no-store');
      res.end(a.body);
      return;
    }
    res.setHeader('Content-Type', TYPES[extname(a.file)] ?? 'application/octet-stream');
    if (req.method === 'HEAD') {
      res.setHeader('Content-Length', String(statSync(a.file).size));
      res.end();
      return;
    }
    createReadStream(a.file).pipe(res);
  };
}

/**
 * The Vite plugin: in `vite` the data paths are checked against public/, in `vite preview` against the
 * build's output folder (dist/), which holds a copy of public/.
 */
export function staticFiles(): Plugin {
  let config: ResolvedConfig | undefined;
  const base = () => config?.base ?? '/';
  return {
    name: 'orderembed-static-files',
    configResolved(c) {
      config = c;
    },
    configureServer(server) {
      const shared = sharedModelsDir(server.config.root);
      server.middlewares.use(staticFilesMiddleware(base, () => server.config.publicDir, shared));
    },
    configurePreviewServer(server) {
      const shared = sharedModelsDir(server.config.root);
      const outDir = () => resolve(server.config.root, server.config.build.outDir);
      server.middlewares.use(staticFilesMiddleware(base, outDir, shared));
    },
  };
}
