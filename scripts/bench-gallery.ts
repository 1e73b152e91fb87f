/**
 * npm run bench:gallery [-- options]   (BENCH_GALLERY in ./cli/commands.ts; `--help`, docs/cli.md)
 *
 * How long does the Retrieve tab take to turn a dropped folder of real photos into a gallery searched by
 * sentence? Builds the app as `npm start` does (production React, tests/e2e/harness.ts), serves it,
 * and in headless Chromium (Debian's; wasm backend, no GPU here) picks a folder of --photos Flickr8k dev
 * photos (copied to a temporary folder) on the page's "Gallery folder" input, queried with the starter.
 *
 * First a cancel check, in its own fresh browser context: the progress line must show "N of M photos",
 * an "about ... left" estimate and a Cancel button; Cancel must stop the encoding with a message naming
 * the folder and how far it got, and the photos done by then must come from the cache when the folder
 * is picked again. Then --repeats timed runs, each in a fresh browser context (empty IndexedDB, so
 * nothing is cached): from picking the folder to the gallery summary counting every photo.
 *
 * Prints each repeat and a last line of name=value figures: the median seconds and photos/s, and the
 * estimate shown at about a tenth of the way against the time that then really remained.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { ROOT, serveAndLaunch, type Served } from '../tests/e2e/harness';
import { parseCommand } from './cli/options';
import { BENCH_GALLERY } from './cli/commands';
import { median } from './lib/stats';

/** A folder holding the first `n` dev photos (copies: the page reads plain files). */
function photoFolder(flickr: string, n: number): string {
  const list = join(flickr, 'Flickr_8k.devImages.txt');
  if (!existsSync(list)) throw new Error(`--flickr ${flickr}: no Flickr_8k.devImages.txt there`);
  const names = readFileSync(list, 'utf8').split(/\r?\n/).filter(Boolean);
  if (names.length < n) throw new Error(`${list}: ${names.length} dev photos; --photos ${n} asked for more`);
  const dir = join(os.tmpdir(), `orderembed-gallery-${n}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const name of names.slice(0, n)) copyFileSync(join(flickr, 'Images', name), join(dir, name));
  return dir;
}

/** Where a run is, on stderr (stdout keeps the figures). */
const note = (s: string): void => void process.stderr.write(`bench:gallery: ${s}\n`);

/** A fresh page on the Retrieve tab with the starter open. */
async function openPage(served: Served): Promise<{ page: Page; close: () => Promise<void> }> {
  const context = await served.browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  const t0 = Date.now();
  await page.goto(served.url);
  await page.waitForFunction(
    () => document.querySelector('[data-testid=starter-status]')?.getAttribute('data-state') === 'ready',
    null,
    { timeout: 300_000 },
  );
  note(`the starter opened in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  await page.getByRole('tab', { name: 'Retrieve' }).click();
  return { page, close: () => context.close() };
}

const progressText = (page: Page): Promise<string> =>
  page.evaluate(() => document.querySelector('[data-testid=gallery-progress]')?.textContent ?? '');

/** Progress, estimate and Cancel, then the cache on the second pick. Throws when one is missing. */
async function cancelCheck(served: Served, folder: string, n: number): Promise<string> {
  const { page, close } = await openPage(served);
  try {
    const t0 = Date.now();
    await page.getByLabel('Gallery folder').setInputFiles(folder);
    note(`cancel check: folder picked in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    // Wait for a progress line with an estimate, past the first chunk.
    let seen = '';
    await page.waitForFunction(
      () =>
        /[\d,]+ of [\d,]+ photos.*about .* left/.test(
          document.querySelector('[data-testid=gallery-progress]')?.textContent ?? '',
        ),
      null,
      { timeout: 900_000, polling: 250 },
    );
    note(`cancel check: an estimate shown after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    seen = (await progressText(page)).replace(/\s+/g, ' ').trim();
    await page.getByTestId('gallery-progress').getByRole('button', { name: 'Cancel' }).click();
    await page.waitForFunction(
      () => /cancelled after/.test(document.querySelector('[data-testid=gallery-error]')?.textContent ?? ''),
      null,
      { timeout: 120_000 },
    );
    const cancelled = (await page.getByTestId('gallery-error').innerText()).trim();
    const folderName = folder.split('/').pop()!;
    const m = /cancelled after (\d+) of (\d+) photos/.exec(cancelled);
    if (!m || Number(m[2]) !== n || !cancelled.includes(folderName))
      throw new Error(`cancel: unexpected message “${cancelled}”`);
    if ((await page.getByTestId('gallery-progress').count()) !== 0)
      throw new Error('cancel: the progress line is still shown');
    // Picked again: the photos encoded before the cancel come from the cache.
    await page.getByLabel('Gallery folder').setInputFiles(folder);
    await page.waitForFunction(
      () =>
        /from the cache/.test(document.querySelector('[data-testid=gallery-progress]')?.textContent ?? ''),
      null,
      { timeout: 120_000, polling: 100 },
    );
    const again = (await progressText(page)).replace(/\s+/g, ' ').trim();
    await page.getByTestId('gallery-progress').getByRole('button', { name: 'Cancel' }).click();
    return `progress “${seen}”; after Cancel “${cancelled}”; picked again “${again}”`;
  } finally {
    await close();
  }
}

/** One timed run in a fresh context: seconds from the pick to the gallery holding all `n` photos. */
async function timedRun(
  served: Served,
  folder: string,
  n: number,
): Promise<{ seconds: number; estimate: number | null; remained: number | null }> {
  const { page, close } = await openPage(served);
  try {
    const t0 = Date.now();
    await page.getByLabel('Gallery folder').setInputFiles(folder);
    let estimate: number | null = null;
    let estimatedAt = 0;
    for (;;) {
      // One look at the page per turn (playwright's per-locator timeouts are too coarse to poll with).
      // (No named helpers inside: tsx would wrap them in a __name call the page does not have.)
      const now = await page.evaluate(() => ({
        count: document.querySelector('[data-testid=gallery-summary]')?.getAttribute('data-count') ?? null,
        error: document.querySelector('[data-testid=gallery-error]')?.textContent ?? '',
        progress: document.querySelector('[data-testid=gallery-progress]')?.textContent ?? '',
      }));
      if (now.count !== null) {
        if (Number(now.count) !== n) throw new Error(`the gallery holds ${now.count} photos, not ${n}`);
        break;
      }
      if (now.error) throw new Error(`the gallery failed: ${now.error}`);
      if (Date.now() - t0 > 1_800_000) throw new Error('no gallery after 30 minutes');
      // The estimate shown once a tenth of the photos is done ("about 12 s left", "about 1:20 left").
      // The page writes counts with thousands separators ("96 of 1,000 photos").
      const done = /([\d,]+) of [\d,]+ photos/.exec(now.progress);
      if (estimate === null && done && Number(done[1]!.replace(/,/g, '')) >= n / 10) {
        const left = /about ([\d:.]+)(?: s)? left/.exec(now.progress);
        if (left) {
          estimate = left[1]!.split(':').reduce((t, part) => t * 60 + Number(part), 0);
          estimatedAt = Date.now();
        }
      }
      await page.waitForTimeout(200);
    }
    const end = Date.now();
    return {
      seconds: (end - t0) / 1000,
      estimate,
      remained: estimate === null ? null : (end - estimatedAt) / 1000,
    };
  } finally {
    await close();
  }
}

async function main(): Promise<void> {
  const { values: a } = parseCommand(BENCH_GALLERY);
  const n = a.photos;
  const repeats = a.repeats;
  const shared = process.env.ORDEREMBED_SHARED
    ? resolve(process.env.ORDEREMBED_SHARED)
    : resolve(ROOT, '..', 'shared');
  const flickr = resolve(a.flickr ?? join(shared, 'data', 'flickr8k'));
  const folder = photoFolder(flickr, n);
  const served = await serveAndLaunch();
  try {
    console.log(`cancel check: ${await cancelCheck(served, folder, n)}`);
    const runs: { seconds: number; estimate: number | null; remained: number | null }[] = [];
    for (let r = 0; r < repeats; r++) {
      const run = await timedRun(served, folder, n);
      runs.push(run);
      console.log(
        `repeat ${r + 1}: ${n} photos in ${run.seconds.toFixed(1)} s (${(n / run.seconds).toFixed(2)} photos/s); ` +
          `estimate at a tenth: ${run.estimate ?? 'none'} s, then ${run.remained?.toFixed(1) ?? '?'} s remained`,
      );
    }
    const secs = median(runs.map((r) => r.seconds));
    const est = runs.filter((r) => r.estimate !== null);
    console.log(
      `photos=${n} repeats=${repeats} median_s=${secs.toFixed(1)} photos_per_s=${(n / secs).toFixed(2)} ` +
        `runs_s=${runs.map((r) => r.seconds.toFixed(1)).join(',')} ` +
        `estimate_s=${est.map((r) => r.estimate).join(',')} remained_s=${est.map((r) => r.remained!.toFixed(1)).join(',')}`,
    );
  } finally {
    await served.close();
    rmSync(folder, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:gallery: ${(e as Error).message}\n`);
  process.exit(1);
});
