/**
 * Browser smoke test of the built playground: serve dist/ with `vite preview` on a free loopback
 * port, open it in headless Chromium, press Start, and wait until the live charts have data.
 * Screenshots land in test-results/.
 *
 * Needs /usr/bin/chromium (override with CHROMIUM_PATH). dist/ is rebuilt when it is missing or
 * older than the sources; E2E_SKIP_BUILD=1 uses dist/ as it is.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const DIST = join(ROOT, 'dist');
const RESULTS = join(ROOT, 'test-results');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Newest mtime of the files that go into the build. */
function newestSource(): number {
  let newest = 0;
  const walk = (p: string): void => {
    if (!existsSync(p)) return;
    const st = statSync(p);
    if (st.isDirectory()) for (const f of readdirSync(p)) walk(join(p, f));
    else newest = Math.max(newest, st.mtimeMs);
  };
  for (const p of ['src', 'index.html', 'vite.config.ts', 'package-lock.json']) walk(join(ROOT, p));
  return newest;
}

function ensureBuilt(): void {
  const index = join(DIST, 'index.html');
  const fresh =
    existsSync(index) && existsSync(join(DIST, 'tfjs-wasm')) && statSync(index).mtimeMs >= newestSource();
  if (fresh || process.env.E2E_SKIP_BUILD === '1') return;
  const run = (args: string[]) =>
    execFileSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit', timeout: 240_000 });
  run(['scripts/copy-wasm.mjs']);
  run([join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn']);
}

function freePort(): Promise<number> {
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

const points = (page: Page, testId: string) =>
  page.getByTestId(testId).evaluate((el) => Number(el.getAttribute('data-points') ?? '0'));

describe('playground smoke test', () => {
  let server: PreviewServer | undefined;
  let browser: Browser | undefined;
  let url = '';

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (or set CHROMIUM_PATH)`);
    }
    ensureBuilt();
    const port = await freePort();
    server = await preview({
      root: ROOT,
      logLevel: 'warn',
      preview: { host: '127.0.0.1', port, strictPort: true, open: false },
    });
    url = `http://127.0.0.1:${port}/`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless=new',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    mkdirSync(RESULTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('trains on the default (wasm) backend with live charts', async () => {
    if (!browser) throw new Error('browser did not start');
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });

    await page.goto(url);
    await expect.poll(() => page.getByTestId('status').textContent(), { timeout: 60_000 }).toBe('Ready');
    expect(await page.getByTestId('backend').textContent()).toBe('wasm');

    await page.getByRole('button', { name: 'Start' }).click();
    await expect
      .poll(() => points(page, 'loss-chart'), { timeout: 120_000, interval: 250 })
      .toBeGreaterThanOrEqual(5);
    expect(await points(page, 'recall-chart')).toBeGreaterThanOrEqual(1);
    expect(await page.getByTestId('status').textContent()).toBe('Training');
    // Recharts drew the lines.
    expect(await page.locator('[data-testid="loss-chart"] .recharts-line-curve').count()).toBe(2);

    // Let it run to a second evaluation for a more telling screenshot (not required to pass).
    await expect
      .poll(() => points(page, 'recall-chart'), { timeout: 60_000, interval: 500 })
      .toBeGreaterThanOrEqual(2)
      .catch(() => undefined);

    await page.getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => page.getByTestId('status').textContent()).toBe('Paused');
    await page.screenshot({ path: join(RESULTS, 'smoke.png'), fullPage: true });

    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(RESULTS, 'smoke-narrow.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 860 });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForTimeout(400); // let the colour transitions finish
    await page.screenshot({ path: join(RESULTS, 'smoke-dark.png'), fullPage: true });

    expect(await page.getByRole('alert').count()).toBe(0);
    expect(problems).toEqual([]);
    await page.close();
  });
});
