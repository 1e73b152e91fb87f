/**
 * Threads in the browser (issue 18), in headless Chromium against the production build:
 *
 * - the page and its training worker are cross-origin isolated (COOP/COEP from
 *   scripts/lib/vite-security-headers.ts), and the worker uses one thread per core
 *   (navigator.hardwareConcurrency, at most 8), which the header shows: tfjs's single-threaded build,
 *   whose large products our kernel (src/model/kernels/matmul-host.ts, relaxed SIMD in Chromium) splits
 *   over helper threads on a shared stage (src/model/kernels/matmul-stage.ts,
 *   src/worker/matmul-threads.ts); training with threads gives the losses of one thread (`?threads=1`)
 *   bit for bit (same seed, same data); the kernel's plain build gives the losses of tfjs's XNNPACK
 *   (`?matmul=xnnpack`) bit for bit (both sum over k in order, a multiply then an add), its fused
 *   multiply-adds losses that drift apart by rounding only;
 * - served without the COOP/COEP headers, or with helper threads that cannot start (a CSP that blocks
 *   the training worker's workers), the page falls back to one thread, says why in the header, and
 *   still trains; so does `?matmul=xnnpack` (tfjs's threaded build, XNNPACK's threads) under a CSP
 *   without blob: scripts, which its pthread workers need.
 */
import type { BrowserContext, Page, Worker } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { browserSuite, watchProblems, type Served } from './harness';

const SCENES = 60;
const STEPS = 12;

/** Opens the page in a fresh context (fresh IndexedDB) and returns it with its training worker. */
async function open(
  served: Served,
  query: string,
  setup?: (context: BrowserContext) => Promise<void>,
): Promise<{ page: Page; worker: Worker; context: BrowserContext; problems: string[] }> {
  const context = await served.browser.newContext({ viewport: { width: 1280, height: 900 } });
  await setup?.(context);
  const problems: string[] = [];
  const page = watchProblems(await context.newPage(), problems);
  // The training worker (tfjs's pthread workers are blob: workers).
  const worker = page.waitForEvent('worker', { predicate: (w) => !w.url().startsWith('blob:') });
  await page.goto(`${served.url}?scenes=${SCENES}${query}`);
  await expect
    .poll(() => page.getByTestId('dataset-summary').getAttribute('data-loaded'), {
      timeout: 240_000,
      interval: 500,
    })
    .toBe('true');
  return { page, worker: await worker, context, problems };
}

/** The thread count the header shows. */
async function shownThreads(page: Page): Promise<number> {
  return Number(await page.getByTestId('backend-threads').getAttribute('data-threads'));
}

/** The matMul kernel the header names ('xnnpack', or our kernel's build). */
async function shownMatMul(page: Page): Promise<string | null> {
  return page.getByTestId('backend-threads').getAttribute('data-matmul');
}

/** Largest relative difference of two loss curves. */
function worstDiff(a: number[], b: number[]): number {
  return Math.max(...a.map((x, i) => Math.abs(x - b[i]!) / Math.max(1e-6, Math.abs(b[i]!))));
}

/**
 * Trains STEPS steps (default form: seed 1) and returns the stored run's losses, step by step (the entries
 * of its curve that have a loss: the evaluation before the first step has none).
 */
async function trainLosses(page: Page): Promise<number[]> {
  await page.getByRole('tab', { name: 'Train' }).click();
  await page.getByLabel('Stop after (steps)').fill(String(STEPS));
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect
    .poll(() => page.getByTestId('status').textContent(), { timeout: 180_000, interval: 500 })
    .toBe('done');
  const runs = await page.evaluate(
    () =>
      new Promise<{ history: { step: number; loss: number }[] }[]>((resolve, reject) => {
        const req = indexedDB.open('orderembed-runs');
        req.onerror = () => reject(new Error('cannot open IndexedDB'));
        req.onsuccess = () => {
          const all = req.result.transaction('runs', 'readonly').objectStore('runs').getAll();
          all.onsuccess = () => resolve(all.result as { history: { step: number; loss: number }[] }[]);
          all.onerror = () => reject(new Error('cannot read the runs'));
        };
      }),
  );
  expect(runs).toHaveLength(1);
  const loss = runs[0]!.history.filter((e) => e.step > 0);
  expect(loss.map((p) => p.step)).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));
  return loss.map((p) => p.loss);
}

/** Serves the responses whose URL `match`es with their headers changed by `edit`. */
function editHeaders(match: (url: URL) => boolean, edit: (headers: Record<string, string>) => void) {
  return async (context: BrowserContext): Promise<void> => {
    await context.route(match, async (route) => {
      const res = await route.fetch();
      const headers = { ...res.headers() };
      edit(headers);
      await route.fulfill({ response: res, headers });
    });
  };
}

describe('threads in the browser', () => {
  // Each test opens its own contexts (headers and URLs of its own): no suite page.
  const suite = browserSuite({ page: false });
  const contexts: BrowserContext[] = [];

  afterAll(async () => {
    for (const c of contexts) await c.close();
  });

  it('is cross-origin isolated, runs a thread per core, and trains to the losses of one thread', async () => {
    const threaded = await open(suite.served, '');
    contexts.push(threaded.context);
    expect(await threaded.page.evaluate(() => self.crossOriginIsolated)).toBe(true);
    expect(await threaded.worker.evaluate(() => self.crossOriginIsolated)).toBe(true);
    const cores = await threaded.worker.evaluate(() => navigator.hardwareConcurrency);
    const threads = await shownThreads(threaded.page);
    expect(threads).toBe(Math.min(Math.max(cores, 1), 8));
    if (cores > 1) expect(threads).toBeGreaterThan(1);
    expect(await threaded.page.getByTestId('threads-why').count()).toBe(0);

    // Our matMul, its large products split over helper threads.
    expect(await shownMatMul(threaded.page)).toBe('relaxed');

    const single = await open(suite.served, '&threads=1');
    contexts.push(single.context);
    expect(await shownThreads(single.page)).toBe(1);
    expect(await shownMatMul(single.page)).toBe('relaxed');
    // One thread was asked for: no "why" to show.
    expect(await single.page.getByTestId('threads-why').count()).toBe(0);

    const a = await trainLosses(threaded.page);
    const b = await trainLosses(single.page);
    const worst = worstDiff(a, b);
    console.log(
      `threads: ${threads} vs 1 thread over ${STEPS} steps: largest relative loss difference ${worst}` +
        (worst === 0 ? ' (bit-identical)' : ''),
    );
    expect(a.every(Number.isFinite)).toBe(true);
    // Both run tfjs's single-threaded build, and each element of our matMul's products has the same
    // digits however its rows are split over the threads: the same losses, bit for bit.
    expect(worst).toBe(0);
    expect(threaded.problems).toEqual([]);
    expect(single.problems).toEqual([]);

    // One thread with tfjs's matMul, and with our kernel's plain build: the same losses, bit for bit.
    const xnnpack = await open(suite.served, '&threads=1&matmul=xnnpack');
    const plain = await open(suite.served, '&threads=1&matmul=plain');
    contexts.push(xnnpack.context, plain.context);
    expect(await shownMatMul(xnnpack.page)).toBe('xnnpack');
    expect(await shownMatMul(plain.page)).toBe('plain');
    const x = await trainLosses(xnnpack.page);
    const p = await trainLosses(plain.page);
    console.log(
      `one thread, our matMul vs XNNPACK over ${STEPS} steps: relaxed ${worstDiff(b, x)}, plain ${worstDiff(p, x)}`,
    );
    expect(p).toEqual(x);
    // Fused multiply-adds round each product once less; Adam turns those rounding differences in
    // gradients near 0 into whole steps, so the curves drift apart, but only that far.
    expect(worstDiff(b, x)).toBeLessThan(1e-2);
    expect(xnnpack.problems).toEqual([]);
    expect(plain.problems).toEqual([]);
  });

  it('served without COOP/COEP, falls back to one thread, says why, and trains', async () => {
    const plain = await open(
      suite.served,
      '',
      // The document decides whether the page (and so its workers) is cross-origin isolated.
      editHeaders(
        (url) => url.pathname === '/',
        (h) => {
          delete h['cross-origin-opener-policy'];
          delete h['cross-origin-embedder-policy'];
        },
      ),
    );
    contexts.push(plain.context);
    expect(await plain.page.evaluate(() => self.crossOriginIsolated)).toBe(false);
    expect(await plain.worker.evaluate(() => self.crossOriginIsolated)).toBe(false);
    expect(await plain.page.getByTestId('backend').textContent()).toBe('wasm');
    expect(await shownThreads(plain.page)).toBe(1);
    const cores = await plain.worker.evaluate(() => navigator.hardwareConcurrency);
    if (cores > 1) {
      await expect
        .poll(() => plain.page.getByTestId('threads-why').textContent())
        .toMatch(/not cross-origin isolated/);
    }
    const losses = await trainLosses(plain.page);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(plain.problems).toEqual([]);
  });

  it('when the threads cannot start, falls back to one thread, says why, and trains', async () => {
    const probe = await suite.served.browser.newPage();
    const cores = await probe.evaluate(() => navigator.hardwareConcurrency);
    await probe.close();
    if (cores < 2) return; // one core: no threads are tried
    // Our matMul's helper threads: the training worker may start none (its own script's CSP says
    // worker-src 'none'; the helpers are the only workers it starts).
    const broken = await open(
      suite.served,
      '',
      editHeaders(
        (url) => /\/assets\/worker-[^/]*\.js$/.test(url.pathname),
        (h) => {
          h['content-security-policy'] = h['content-security-policy']!.replace(
            /worker-src[^;]*/,
            "worker-src 'none'",
          );
        },
      ),
    );
    contexts.push(broken.context);
    expect(await broken.page.evaluate(() => self.crossOriginIsolated)).toBe(true);
    expect(await shownThreads(broken.page)).toBe(1);
    expect(await broken.page.getByTestId('threads-why').textContent()).toMatch(
      /its matMul helper threads did not start/,
    );
    expect(await shownMatMul(broken.page)).toBe('relaxed');
    const losses = await trainLosses(broken.page);
    expect(losses.every(Number.isFinite)).toBe(true);

    // tfjs's threaded build (XNNPACK's threads, `?matmul=xnnpack`): without blob: in script-src its
    // pthread workers cannot load their glue (importScripts of a blob:); the single-threaded build runs.
    const noBlob = await open(
      suite.served,
      '&matmul=xnnpack',
      // Every response: the training worker's CSP is the one its own script came with.
      editHeaders(
        () => true,
        (h) => {
          h['content-security-policy'] = h['content-security-policy']!.replace(
            /(script-src[^;]*) blob:/,
            '$1',
          );
        },
      ),
    );
    contexts.push(noBlob.context);
    expect(await shownThreads(noBlob.page)).toBe(1);
    expect(await shownMatMul(noBlob.page)).toBe('xnnpack');
    expect(await noBlob.page.getByTestId('threads-why').textContent()).toMatch(
      /training worker crashed while starting its threads|threaded wasm build did not start/,
    );
  });
});
