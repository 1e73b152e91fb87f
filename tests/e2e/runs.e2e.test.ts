/**
 * Runs that are never lost, input that never breaks the page, headers, accessibility; in headless
 * Chromium against the production build (`vite preview`, as `npm start` serves it):
 *
 * - the security headers (CSP, nosniff, frame protection) on the page, its assets and 404s, and the
 *   page working under them (worker, wasm backend, IndexedDB): no CSP violation while it trains;
 * - a reload in the middle of training: the run is listed at its last checkpoint, opens, and Resume
 *   continues it from there; Pause answers within 1 s;
 * - malformed imports (string steps, a bad metrics step, hidden 12000, truncated and trailing weights,
 *   a 4 GiB declared entry, `../` names) refused with a message naming the culprit while the saved runs
 *   stay listed and usable; a `train --out` folder's files (with log.jsonl) import;
 * - an origin whose quota is capped (Storage.overrideQuotaForOrigin over CDP): an import and a training
 *   run's checkpoints report that nothing was saved instead of "Imported";
 * - axe-core on every tab: no violations.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { readZip, writeZip } from '../../src/ui/zip';
import {
  afterWorkerEvent,
  browserSuite,
  checkpointSteps,
  datasetLoaded,
  RESULTS,
  watchProblems,
  wrapFirstWorker,
  type ConsoleProblem,
} from './harness';

const SCENES = 60;
const require = createRequire(import.meta.url);

/** Console messages that report a Content-Security-Policy violation. */
const CSP = /Content Security Policy|Refused to (load|execute|evaluate|compile|create|connect|apply)/i;

/** Console errors and Content-Security-Policy reports. */
const REPORT: ConsoleProblem = (text, type) => type === 'error' || CSP.test(text);

async function openPage(context: BrowserContext, problems: string[]): Promise<Page> {
  return watchProblems(await context.newPage(), problems, REPORT);
}

const loaded = datasetLoaded;

const status = (page: Page) => page.getByTestId('status').textContent();

/** Picks files on the Runs tab's import input. */
async function importFiles(page: Page, files: { name: string; buffer: Buffer }[]): Promise<void> {
  await page.getByRole('tab', { name: 'Runs' }).click();
  await page
    .getByLabel(/Run \.zip, or its files/)
    .setInputFiles(files.map((f) => ({ ...f, mimeType: 'application/octet-stream' })));
}

const runItems = (page: Page) => page.locator('li[data-run-id]');

describe('runs, limits and headers in a real browser', () => {
  const suite = browserSuite({ report: REPORT });
  const { problems } = suite;
  let page: Page;
  let exported: Buffer;

  beforeAll(() => {
    page = suite.page;
  });

  it('sends the security headers on the page, its assets and 404s', async () => {
    const page0 = await fetch(suite.served.url);
    const html = await page0.text();
    const asset = html.match(/src="\/(assets\/[^"]+\.js)"/)?.[1];
    expect(asset).toBeTruthy();
    for (const res of [
      page0,
      await fetch(suite.served.url + asset),
      await fetch(suite.served.url + 'packs/none/manifest.json'),
    ]) {
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toMatch(/default-src 'self'/);
      // blob: for the pthread workers of tfjs's threaded wasm (they importScripts a blob: glue).
      expect(csp).toMatch(/script-src 'self' 'wasm-unsafe-eval' blob:(;|$)/);
      expect(csp).toMatch(/worker-src 'self' blob:/);
      expect(csp).toMatch(/frame-ancestors 'none'/);
      expect(csp).not.toMatch(/'unsafe-eval'|script-src[^;]*'unsafe-inline'/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    }
  });

  it('trains under the CSP; after a reload mid-training the run opens at its checkpoint and resumes', async () => {
    await page.goto(`${suite.served.url}?scenes=${SCENES}#train`);
    await loaded(page);
    await page.getByRole('tab', { name: 'Train' }).click();
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    // A checkpoint is stored every 5 s of training.
    await expect
      .poll(async () => Object.values(await checkpointSteps(page)).length, { timeout: 60_000, interval: 500 })
      .toBeGreaterThan(0);
    await page.reload();
    await loaded(page);
    const steps = await checkpointSteps(page);
    const [runId, step] = Object.entries(steps)[0]!;
    expect(step).toBeGreaterThan(0);
    await page.getByRole('tab', { name: 'Runs' }).click();
    const item = page.locator(`li[data-run-id="${runId}"]`);
    await expect.poll(() => item.textContent(), { timeout: 30_000 }).toMatch(/stopped/);
    // Named after its model, dataset and time.
    expect(await item.locator('h3').textContent()).toMatch(/^LN-GRU, scenes.*, \d\d:\d\d/);
    expect(await item.textContent()).toMatch(/checkpoint at step \d+/);
    await item.getByRole('button', { name: 'Open' }).click();
    await expect.poll(() => item.textContent(), { timeout: 60_000 }).toMatch(/open/);
    expect(await page.getByTestId('runs-error').count()).toBe(0);
    await item.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => status(page), { timeout: 60_000 }).toMatch(/running/i);
    await page.getByRole('tab', { name: 'Train' }).click();
    // It goes on past the checkpoint, from the checkpoint's step (the stats show the live step).
    await expect
      .poll(async () => Object.values(await checkpointSteps(page))[0] ?? 0, {
        timeout: 60_000,
        interval: 500,
      })
      .toBeGreaterThan(step);
    const t0 = Date.now();
    await page.getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => status(page), { timeout: 10_000, interval: 50 }).toMatch(/paused/i);
    const pauseMs = Date.now() - t0;
    writeFileSync(join(RESULTS, 'pause-latency-ms.json'), JSON.stringify({ pauseMs }) + '\n');
    expect(pauseMs).toBeLessThan(1000);
    expect(problems.filter((p) => CSP.test(p))).toEqual([]);
  });

  it('after a worker crash mid-training, the run is listed at its checkpoint and Resume continues it', async () => {
    // A fresh context (its own IndexedDB). The first worker is served wrapped: 8 s after the runs
    // start (a checkpoint is stored every 5 s) an uncaught error is thrown inside it, as a real fault
    // would; the page restarts a fresh worker by itself.
    const ctx = await suite.served.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const p = await openPage(ctx, []);
    const hook = afterWorkerEvent(
      'started',
      1,
      "setTimeout(() => { throw new Error('simulated fault in the training worker'); }, 8000);",
    );
    const wrapped = await wrapFirstWorker(p, hook);
    try {
      await p.goto(`${suite.served.url}?scenes=${SCENES}#train`);
      await loaded(p);
      await p.getByRole('tab', { name: 'Train' }).click();
      await p.getByRole('button', { name: 'Start', exact: true }).click();
      const banner = p.getByTestId('crash-banner');
      await expect.poll(() => banner.isVisible(), { timeout: 120_000, interval: 250 }).toBe(true);
      expect(await banner.textContent()).toMatch(/simulated fault/);
      expect(wrapped()).toBeGreaterThanOrEqual(2); // the replacement worker was loaded
      await expect.poll(() => status(p), { timeout: 240_000, interval: 500 }).toMatch(/ready/i);
      const steps = await checkpointSteps(p);
      const [runId, step] = Object.entries(steps)[0]!;
      expect(step).toBeGreaterThan(0);
      await p.getByRole('tab', { name: 'Runs' }).click();
      const item = p.locator(`li[data-run-id="${runId}"]`);
      await expect.poll(() => item.textContent(), { timeout: 30_000 }).toMatch(/stopped.*checkpoint at step/);
      await item.getByRole('button', { name: 'Resume' }).click();
      await expect.poll(() => status(p), { timeout: 60_000 }).toMatch(/running/i);
      await expect
        .poll(async () => (await checkpointSteps(p))[runId] ?? 0, { timeout: 60_000, interval: 500 })
        .toBeGreaterThan(step);
      await p.screenshot({ path: join(RESULTS, 'runs-crash-resume.png'), fullPage: true });
    } finally {
      await ctx.close();
    }
  });

  it('exports a run, and refuses each malformed import by name while the saved runs stay usable', async () => {
    await page.getByRole('tab', { name: 'Runs' }).click();
    const before = await runItems(page).count();
    expect(before).toBeGreaterThan(0);
    const download = page.waitForEvent('download');
    await runItems(page).first().getByRole('button', { name: 'Export' }).click();
    exported = readFileSync((await (await download).path())!);
    const files = Object.fromEntries(readZip(exported).map((e) => [e.name, e.data]));
    const json = (name: string) =>
      JSON.parse(new TextDecoder().decode(files[name])) as Record<string, unknown>;
    const zip = (over: Record<string, string | Uint8Array>) =>
      Buffer.from(writeZip({ ...files, ...over } as Record<string, Uint8Array>));
    const config = json('config.json');
    const metrics = json('metrics.json') as { history: Record<string, unknown>[] };
    const bin = files['weights.bin']!;
    const truncated = bin.slice(0, bin.length - 4);
    const trailing = new Uint8Array(bin.length + 8);
    trailing.set(bin);
    /** A zip whose one entry is renamed (same length) or declares another size, patched in place. */
    const patched = (edit: (view: DataView, at: number, zip: Uint8Array) => void): Buffer => {
      const z = writeZip({ 'aa/config.json': files['config.json']! });
      const view = new DataView(z.buffer);
      for (let i = 0; i + 4 <= z.length; i++) if (view.getUint32(i, true) === 0x02014b50) edit(view, i, z);
      return Buffer.from(z);
    };
    const cases: [string, Buffer, RegExp][] = [
      [
        'steps-string.zip',
        zip({ 'config.json': JSON.stringify({ ...config, steps: '40' }) }),
        /config\.json: steps: .*"40"/,
      ],
      [
        'bad-metrics.zip',
        zip({ 'metrics.json': JSON.stringify({ history: [{ ...metrics.history[0], step: 'x' }] }) }),
        /metrics\.json: history\[0\]\.step/,
      ],
      [
        'hidden-12000.zip',
        zip({
          'config.json': JSON.stringify({
            ...config,
            model: { ...(config.model as object), hiddenDim: 12000 },
          }),
        }),
        /model\.hiddenDim: .*got 12000/,
      ],
      ['truncated.zip', zip({ 'weights.bin': truncated }), /weights\.bin: .*truncated/],
      ['trailing.zip', zip({ 'weights.bin': trailing }), /weights\.bin: holds \d+ bytes .*trailing/],
      [
        'huge-entry.zip',
        patched((v, i) => (v.setUint32(i + 20, 0xfffffff0, true), v.setUint32(i + 24, 0xfffffff0, true))),
        /declares 4\.0 GiB/,
      ],
      [
        'climb.zip',
        patched((_, i, z) => z.set(new TextEncoder().encode('../config.json'), i + 46)),
        /unsafe entry name/,
      ],
    ];
    for (const [name, buffer, message] of cases) {
      await importFiles(page, [{ name, buffer }]);
      const error = page.getByTestId('runs-error');
      await expect.poll(() => error.textContent(), { timeout: 30_000 }).toMatch(message);
      expect(await error.textContent(), name).not.toMatch(
        /Invalid typed array|Cannot read properties|is not a function/,
      );
      expect(await runItems(page).count()).toBe(before);
      expect(await page.getByText('Loading the list…').count()).toBe(0);
    }
    // The saved runs still open.
    await runItems(page).first().getByRole('button', { name: 'Open' }).click();
    await expect.poll(() => runItems(page).first().textContent(), { timeout: 60_000 }).toMatch(/open/);
    // A `train --out` folder's files, with log.jsonl instead of metrics.json.
    const log = metrics.history.map((h) => JSON.stringify(h)).join('\n') + '\n';
    await importFiles(page, [
      { name: 'config.json', buffer: Buffer.from(files['config.json']!) },
      { name: 'weights.json', buffer: Buffer.from(files['weights.json']!) },
      { name: 'weights.bin', buffer: Buffer.from(bin) },
      { name: 'log.jsonl', buffer: Buffer.from(log) },
    ]);
    await expect.poll(() => runItems(page).count(), { timeout: 30_000 }).toBe(before + 1);
    expect(await runItems(page).last().textContent()).toMatch(/\(imported\)/);
  });

  it('reports quota errors instead of "Imported", for an import and for a training run', async () => {
    const ctx = await suite.served.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const quotaProblems: string[] = [];
    const p = await openPage(ctx, quotaProblems);
    const cdp = await ctx.newCDPSession(p);
    await cdp.send('Storage.overrideQuotaForOrigin', {
      origin: new URL(suite.served.url).origin,
      quotaSize: 512 * 1024,
    } as never);
    try {
      await p.goto(`${suite.served.url}?scenes=${SCENES}#runs`);
      await loaded(p);
      await importFiles(p, [{ name: 'run.zip', buffer: exported }]);
      const error = p.getByTestId('runs-error');
      await expect
        .poll(() => error.textContent(), { timeout: 30_000 })
        .toMatch(/storage for this site is full/);
      expect(await runItems(p).count()).toBe(0);
      await p.getByRole('tab', { name: 'Train' }).click();
      await p.getByRole('button', { name: 'Start', exact: true }).click();
      await p.getByRole('tab', { name: 'Runs' }).click();
      await expect
        .poll(() => error.textContent(), { timeout: 60_000, interval: 500 })
        .toMatch(/checkpoint of run .* was not saved: .*storage for this site is full/);
      await p.screenshot({ path: join(RESULTS, 'runs-quota.png'), fullPage: true });
    } finally {
      await ctx.close();
    }
  });

  it('has no axe-core violations on any tab', async () => {
    if (!page.url().startsWith(suite.served.url)) {
      await page.goto(`${suite.served.url}?scenes=${SCENES}`);
      await loaded(page);
    }
    await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') }).catch(async () => {
      // The CSP refuses inline scripts: inject through evaluate instead.
      await page.evaluate(readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));
    });
    const report: Record<string, string[]> = {};
    for (const tab of ['Start', 'Data', 'Train', 'Retrieve', 'Runs', 'Hierarchy']) {
      await page.getByRole('tab', { name: tab, exact: true }).click();
      const violations = await page.evaluate(async () => {
        const axe = (
          window as unknown as {
            axe: {
              run(c: Document): Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }>;
            };
          }
        ).axe;
        const r = await axe.run(document);
        return r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
      });
      report[tab] = violations;
    }
    writeFileSync(join(RESULTS, 'axe-violations.json'), JSON.stringify(report, null, 2) + '\n');
    expect(report).toEqual({ Start: [], Data: [], Train: [], Retrieve: [], Runs: [], Hierarchy: [] });
  });
});
