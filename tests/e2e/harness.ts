/**
 * What the browser suites share: build dist/ when it is stale, serve it with `vite preview` on a free
 * loopback port, and launch Debian's headless Chromium through playwright-core (no browser download).
 *
 * Needs /usr/bin/chromium (override with CHROMIUM_PATH). dist/ is rebuilt when it is missing or older
 * than the sources, or was built with React's development build (dist/build-info.json); E2E_SKIP_BUILD=1 uses
 * dist/ as it is. Screenshots go to test-results/.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { join, resolve } from 'node:path';
import jpeg from 'jpeg-js';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, expect } from 'vitest';
import { makeSceneSet, renderScene, SCENES_DEFAULTS } from '../../src/model/scenes/scenes';

export const ROOT = resolve(import.meta.dirname, '../..');
export const DIST = join(ROOT, 'dist');
export const RESULTS = join(ROOT, 'test-results');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags that work on these machines (closed network: no background connections). */
export const CHROMIUM_FLAGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** WebGPU through SwiftShader (Vulkan) in headless Chromium: the software adapter these machines have. */
export const WEBGPU_FLAGS = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-webgpu-adapter=swiftshader',
];

/** Newest mtime of the files that go into the build. */
function newestSource(): number {
  let newest = 0;
  const walk = (p: string): void => {
    if (!existsSync(p)) return;
    const st = statSync(p);
    if (st.isDirectory()) for (const f of readdirSync(p)) walk(join(p, f));
    else newest = Math.max(newest, st.mtimeMs);
  };
  for (const p of ['src', 'bench', 'index.html', 'kernels.html', 'vite.config.ts', 'package-lock.json'])
    walk(join(ROOT, p));
  return newest;
}

export function ensureBuilt(): void {
  const index = join(DIST, 'index.html');
  const info = join(DIST, 'build-info.json'); // written by vite.config.ts's buildInfo()
  const production = existsSync(info) && JSON.parse(readFileSync(info, 'utf8')).nodeEnv === 'production';
  const fresh =
    production &&
    existsSync(index) &&
    existsSync(join(DIST, 'tfjs-wasm')) &&
    statSync(index).mtimeMs >= newestSource();
  if (fresh || process.env.E2E_SKIP_BUILD === '1') return;
  // NODE_ENV=production: vitest sets it to 'test', which would bundle React's development build
  // (several times slower to render) instead of what `npm start` serves.
  const env = { ...process.env, NODE_ENV: 'production' };
  const run = (args: string[]) =>
    execFileSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit', timeout: 240_000, env });
  run(['scripts/copy-wasm.mjs']);
  run([join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn']);
}

/** Waits (up to 4 minutes) until the page's loaded-dataset summary says a dataset is loaded. */
export async function datasetLoaded(page: Page): Promise<void> {
  await page
    .locator('[data-testid="dataset-summary"][data-loaded="true"]')
    .waitFor({ state: 'attached', timeout: 240_000 });
}

export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => ok(port));
    });
  });
}

export interface Served {
  url: string;
  browser: Browser;
  close(): Promise<void>;
}

/**
 * Builds if needed, serves dist/ (or `outDir`, another build, served as it is) and starts Chromium with
 * `extraFlags`.
 */
export async function serveAndLaunch(
  extraFlags: string[] = ['--disable-gpu'],
  outDir?: string,
): Promise<Served> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  }
  if (!outDir) ensureBuilt();
  mkdirSync(RESULTS, { recursive: true });
  const port = await freePort();
  const server: PreviewServer = await preview({
    root: ROOT,
    logLevel: 'warn',
    build: outDir ? { outDir: resolve(outDir) } : undefined,
    preview: { host: '127.0.0.1', port, strictPort: true, open: false },
  });
  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_FLAGS, ...extraFlags] });
  } catch (e) {
    await server.close();
    throw e;
  }
  return {
    url: `http://127.0.0.1:${port}/`,
    browser,
    close: async () => {
      await browser.close();
      await server.close();
    },
  };
}

/** Which console messages a suite counts as problems, by text and type ('error', 'warning', ...). */
export type ConsoleProblem = (text: string, type: string) => boolean;

/** The page's uncaught errors, and the console messages `report` picks, are pushed to `problems`. */
export function watchProblems(page: Page, problems: string[], report?: ConsoleProblem): Page {
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  if (report)
    page.on('console', (m) => {
      if (report(m.text(), m.type())) problems.push(`console: ${m.text()}`);
    });
  return page;
}

export interface SuiteOptions {
  /** Chromium flags besides CHROMIUM_FLAGS (default: --disable-gpu). */
  flags?: string[];
  /** Another build to serve as it is (see serveAndLaunch). */
  outDir?: string;
  /** The page's viewport (default: 1280 x 900). */
  viewport?: { width: number; height: number };
  /** Console messages that count as problems (default: none; uncaught page errors always do). */
  report?: ConsoleProblem;
  /** Serve as on a user's machine: ORDEREMBED_SHARED points at an empty folder while the suite runs. */
  withoutShared?: boolean;
  /** Open the suite's page (default); false for a suite whose tests each open their own contexts. */
  page?: boolean;
}

export interface BrowserSuite {
  readonly served: Served;
  /** One context for the suite's page (fresh contexts: `served.browser.newContext()`); not with page: false. */
  readonly context: BrowserContext;
  readonly page: Page;
  /** What `watchProblems` saw on `page`. */
  readonly problems: string[];
}

/**
 * The set-up of a browser suite, as hooks of the describe block it is called in: before its tests, serve
 * (building if needed), launch Chromium and open one page, watched for problems; after them, close it
 * all (and restore ORDEREMBED_SHARED). The fields throw until the suite has started.
 */
export function browserSuite(opts: SuiteOptions = {}): BrowserSuite {
  let started: Partial<Omit<BrowserSuite, 'problems'>> | undefined;
  const problems: string[] = [];
  const saved = process.env.ORDEREMBED_SHARED;
  const empty = opts.withoutShared ? mkdtempSync(join(os.tmpdir(), 'orderembed-no-shared-')) : undefined;
  let served: Served | undefined;
  beforeAll(async () => {
    // Read by the static-files plugin when the preview server starts.
    if (empty) process.env.ORDEREMBED_SHARED = empty;
    served = await serveAndLaunch(opts.flags, opts.outDir);
    if (opts.page === false) {
      started = { served };
      return;
    }
    const context = await served.browser.newContext({
      viewport: opts.viewport ?? { width: 1280, height: 900 },
    });
    const page = watchProblems(await context.newPage(), problems, opts.report);
    started = { served, context, page };
  });
  afterAll(async () => {
    await served?.close();
    if (!empty) return;
    if (saved === undefined) delete process.env.ORDEREMBED_SHARED;
    else process.env.ORDEREMBED_SHARED = saved;
    rmSync(empty, { recursive: true, force: true });
  });
  type Started = Omit<BrowserSuite, 'problems'>;
  const get = <K extends keyof Started>(k: K): Started[K] => {
    if (!started) throw new Error(`browser suite: ${k} is not there before the suite starts`);
    const v = started[k];
    if (!v) throw new Error(`browser suite: no ${k} (the suite was made with page: false)`);
    return v as Started[K];
  };
  return {
    get served() {
      return get('served');
    },
    get context() {
      return get('context');
    },
    get page() {
      return get('page');
    },
    problems,
  };
}

/**
 * A hook for `wrapFirstWorker`: runs `then` (worker-side JavaScript) once the worker has sent its `n`-th
 * event of `type` to the page. The events reach the page as calls of the callback the page connected
 * (Comlink: an 'APPLY' message on that callback's MessagePort, the event its first argument), so the
 * hook watches what the worker's MessagePorts send.
 */
export function afterWorkerEvent(type: string, n: number, then: string): string {
  return `
    const post = MessagePort.prototype.postMessage;
    let seen = 0;
    MessagePort.prototype.postMessage = function (message, ...rest) {
      post.call(this, message, ...rest);
      const event = message && message.type === 'APPLY' ? message.argumentList?.[0]?.value : undefined;
      if (event && event.type === ${JSON.stringify(type)} && ++seen === ${n}) {
        ${then}
      }
    };`;
}

/**
 * Serves the page's first training worker wrapped: `hook` (a script run inside the worker before the
 * real one, e.g. one that throws after some message) is imported first, then the real worker script.
 * Later workers (the replacement after a crash) are served as they are. Both wrapper responses carry
 * the real worker response's headers: without Cross-Origin-Embedder-Policy the wrapped worker is not
 * cross-origin isolated, cannot start its wasm threads and dies before it is ready, and the page would
 * replace it (single-threaded, unwrapped) before the hook ever ran. Returns how many worker scripts
 * were requested so far.
 */
export async function wrapFirstWorker(page: Page, hook: string): Promise<() => number> {
  let requested = 0;
  const headersOf = async (url: string) => {
    const response = await page.context().request.get(url);
    const headers = response.headers();
    delete headers['content-length'];
    delete headers['content-encoding'];
    return { ...headers, 'content-type': 'text/javascript' };
  };
  await page.route(/\/assets\/crash-hook\.js$/, async (route) =>
    route.fulfill({ headers: await headersOf(route.request().url()), body: hook }),
  );
  await page.route(/\/assets\/worker-[^/?]+\.js$/, async (route) => {
    if (requested++ > 0) return route.continue();
    const real = `${route.request().url()}?unwrapped`;
    await route.fulfill({
      headers: await headersOf(real),
      body: `import './crash-hook.js';\nimport ${JSON.stringify(real)};\n`,
    });
  });
  return () => requested;
}

/** The checkpoint steps stored in IndexedDB, by run id. */
export function checkpointSteps(page: Page): Promise<Record<string, number>> {
  return page.evaluate(
    () =>
      new Promise<Record<string, number>>((resolve) => {
        const req = indexedDB.open('orderembed-runs');
        req.onsuccess = () => {
          const db = req.result;
          if (!db.objectStoreNames.contains('checkpoints')) return resolve({});
          const st = db.transaction('checkpoints', 'readonly').objectStore('checkpoints');
          const out: Record<string, number> = {};
          const cur = st.openCursor();
          cur.onsuccess = () => {
            const c = cur.result;
            if (!c) return resolve(out);
            out[String(c.key)] = (c.value as { checkpoint: { steps: number } }).checkpoint.steps;
            c.continue();
          };
        };
        req.onerror = () => resolve({});
      }),
  );
}

/** Scene `i` of the page's `?scenes=<scenes>` set as JPEG bytes, like a photo a user would upload. */
export function sceneJpeg(scenes: number, i: number): Buffer {
  const set = makeSceneSet({ ...SCENES_DEFAULTS, numImages: scenes });
  const img = renderScene(set.specs[i], 224);
  const rgba = Buffer.alloc(224 * 224 * 4, 255); // opaque
  for (let p = 0; p < 224 * 224; p++) for (let c = 0; c < 3; c++) rgba[4 * p + c] = img.data[3 * p + c];
  return jpeg.encode({ data: rgba, width: 224, height: 224 }, 90).data;
}

/** Starts the Hierarchy view on the subtree of `root` and waits until it has trained past `steps`. */
export async function trainHierarchy(page: Page, root: string, steps: number): Promise<Locator> {
  await page.getByRole('tab', { name: 'Hierarchy' }).click();
  await page.getByLabel('Subtree root (synset)').fill(root);
  await page.getByRole('button', { name: 'Train hierarchy' }).click();
  const status = page.getByTestId('hierarchy-status');
  await expect
    .poll(() => status.getAttribute('data-step').then(Number), { timeout: 120_000, interval: 500 })
    .toBeGreaterThan(steps);
  return status;
}
