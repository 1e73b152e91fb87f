/**
 * The starter model as a first visitor meets it, on a machine without ../shared (ORDEREMBED_SHARED
 * points at an empty folder): the first load opens the shipped starter; Flickr8k dev photos dropped with
 * their dev captions typed as candidates get one of their own human captions in their top 10 for most
 * photos (the rate is measured and asserted against MIN_OWN_CAPTION_RATE); a dropped folder of photos
 * is searched by sentence (a photo ranks high for one of its own captions); which sentence is more
 * general, on the starter's measured scale (specific/general pairs told, none reversed, unrelated pairs
 * "neither contains the other"); bad photos (not an image, HEIC), a folder without photos and an empty
 * candidate list get messages naming them, while a GIF, a WebP and a 40-megapixel photo are captioned.
 * The Flickr8k parts read photos from ../shared and are skipped when it is absent. The starter's
 * first-load time (median of 3 fresh browser contexts) goes to test-results/starter-first-load.json.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import jpeg from 'jpeg-js';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { tokenize } from '../../src/model/tokenizer';
import { unusualPhotos } from './bad-photos';
import { browserSuite, RESULTS, ROOT } from './harness';

/**
 * Share of dev photos (of DEV_PHOTOS) with one of their own human captions among their top 10 of the
 * DEV_PHOTOS x 5 typed dev captions. Measured with the shipped starter on 2026-12-05: 20 of 20 (rate
 * 1.0). Chance is about 0.42 (10 of 100 candidates, 5 of them the photo's own), so 0.8 asserts a model
 * that ranks, with room for a near tie.
 */
const MIN_OWN_CAPTION_RATE = 0.8;
/** The best rank (1-based, of DEV_PHOTOS) a gallery photo reaches for one of its own captions, at most. */
const MAX_GALLERY_RANK = 10;
const DEV_PHOTOS = 20;

const REAL_SHARED = process.env.ORDEREMBED_SHARED
  ? resolve(process.env.ORDEREMBED_SHARED)
  : resolve(ROOT, '..', 'shared');
const FLICKR = join(REAL_SHARED, 'data', 'flickr8k');
const HAVE_FLICKR =
  existsSync(join(FLICKR, 'captions.txt')) && existsSync(join(FLICKR, 'Flickr_8k.devImages.txt'));

/** The first `n` dev photos and their captions. */
function devPhotos(n: number): { name: string; path: string; captions: string[] }[] {
  const names = readFileSync(join(FLICKR, 'Flickr_8k.devImages.txt'), 'utf8')
    .split(/\r?\n/)
    .filter(Boolean)
    .slice(0, n);
  const caps = new Map<string, string[]>();
  for (const line of readFileSync(join(FLICKR, 'captions.txt'), 'utf8').split(/\r?\n/).slice(1)) {
    const comma = line.indexOf(',');
    if (comma < 0) continue;
    const [img, text] = [line.slice(0, comma), line.slice(comma + 1).replace(/^"|"$/g, '')];
    caps.set(img, [...(caps.get(img) ?? []), text]);
  }
  return names.map((name) => ({ name, path: join(FLICKR, 'Images', name), captions: caps.get(name) ?? [] }));
}

const words = (t: string) => tokenize(t).join(' ');

describe('the starter model on a machine without ../shared', () => {
  const suite = browserSuite({ withoutShared: true, viewport: { width: 1280, height: 1000 } });
  const { problems } = suite;
  let page: Page;

  beforeAll(() => {
    page = suite.page;
  });

  const retrieve = () => page.locator('#panel-retrieve');
  const shot = (name: string) => page.screenshot({ path: join(RESULTS, `${name}.png`), fullPage: true });

  it('opens the starter on first load, and says which dataset and model are active', async () => {
    // First-load time: fresh browser contexts (empty HTTP cache and IndexedDB), page load to "open".
    const times: number[] = [];
    for (let k = 0; k < 3; k++) {
      const ctx = await suite.served.browser.newContext();
      const p = await ctx.newPage();
      const t0 = Date.now();
      await p.goto(suite.served.url);
      await expect
        .poll(() => p.getByTestId('starter-status').getAttribute('data-state'), {
          timeout: 180_000,
          interval: 200,
        })
        .toBe('ready');
      times.push((Date.now() - t0) / 1000);
      await ctx.close();
    }
    const median = [...times].sort((a, b) => a - b)[1];
    writeFileSync(
      join(RESULTS, 'starter-first-load.json'),
      JSON.stringify({ seconds: times, median }) + '\n',
    );

    await page.goto(suite.served.url);
    await expect
      .poll(() => page.getByTestId('starter-status').getAttribute('data-state'), { timeout: 180_000 })
      .toBe('ready');
    expect(await page.getByRole('tab', { name: 'Start' }).getAttribute('aria-selected')).toBe('true');
    expect(await page.getByTestId('welcome').textContent()).toMatch(/Three things to try/);
    expect(await page.getByTestId('active-run').textContent()).toMatch(/starter/);
    await expect
      .poll(() => page.getByTestId('active-dataset').textContent(), { timeout: 120_000 })
      .toMatch(/scenes/);
    await shot('starter-welcome');
  });

  // The Start tab's compact photo panel and the Retrieve tab's share one store (both stay mounted, the
  // hidden one too): every look-up of a photo-panel test id is scoped to the Retrieve panel.
  it('names a photo that is not an image, a HEIC photo, an empty candidate list and a folder without photos, and keeps working', async () => {
    await page.getByRole('tab', { name: 'Retrieve' }).click();
    const rankError = () =>
      retrieve()
        .getByTestId('rank-photos-error')
        .textContent()
        .catch(() => '');
    const notImage = join(RESULTS, 'not-a-photo.jpg');
    writeFileSync(notImage, 'this is text, not a JPEG');
    await retrieve().getByLabel('Photos to caption').setInputFiles(notImage);
    await expect
      .poll(rankError, { timeout: 180_000 })
      .toMatch(/not-a-photo\.jpg: not a photo \(a text file\)/);
    expect(await retrieve().getByTestId('photo-result').count()).toBe(0); // the failed query cleared the results

    // A GIF, a WebP and a 40-megapixel PNG are captioned; a HEIC photo and a text file named .jpg are
    // named with their reason, beside the others' results.
    const mixed = join(RESULTS, 'unusual-photos');
    rmSync(mixed, { recursive: true, force: true });
    mkdirSync(mixed, { recursive: true });
    const unusual = unusualPhotos();
    for (const [n, bytes] of Object.entries(unusual)) writeFileSync(join(mixed, n), bytes);
    await retrieve()
      .getByLabel('Photos to caption')
      .setInputFiles(Object.keys(unusual).map((n) => join(mixed, n)));
    const resultOf = (n: string) => retrieve().locator(`[data-testid="photo-result"][data-photo="${n}"]`);
    await expect
      .poll(() => retrieve().getByTestId('photo-result').count(), { timeout: 180_000, interval: 500 })
      .toBe(Object.keys(unusual).length);
    for (const n of ['tiny.gif', 'tiny.webp', 'huge.png'])
      expect(await resultOf(n).locator('.caption-text').count(), n).toBe(10);
    expect(await resultOf('IMG_0001.heic').getByRole('alert').textContent()).toMatch(
      /IMG_0001\.heic: a HEIC\/HEIF photo .*convert it to JPEG/,
    );
    expect(await resultOf('notes.jpg').getByRole('alert').textContent()).toMatch(
      /notes\.jpg: not a photo \(a text file\)/,
    );

    await page.getByLabel('captions I type').check();
    await page.getByLabel('Candidate captions, one a line').fill('  \n ');
    await retrieve().getByLabel('Photos to caption').setInputFiles(notImage);
    expect(await rankError()).toMatch(/candidate captions is empty/);
    await page.getByLabel('the caption bank').check();

    // A folder without a single photo: the gallery names the folder and what it holds.
    const noPhotos = join(RESULTS, 'no-photos-here');
    rmSync(noPhotos, { recursive: true, force: true });
    mkdirSync(noPhotos, { recursive: true });
    writeFileSync(join(noPhotos, 'notes.txt'), 'not a photo');
    await page.getByLabel('Gallery folder').setInputFiles(noPhotos);
    await expect
      .poll(
        () =>
          retrieve()
            .getByTestId('gallery-error')
            .textContent()
            .catch(() => ''),
        { timeout: 60_000 },
      )
      .toMatch(/the folder “no-photos-here” holds no photos .* among its 1 files/);

    // Pixel noise is unlike any photo the model was trained on: "nothing here fits well".
    const noise = join(RESULTS, 'noise.jpg');
    const rgba = Buffer.alloc(224 * 224 * 4);
    let seed = 7;
    for (let i = 0; i < rgba.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      rgba[i] = i % 4 === 3 ? 255 : seed >>> 24;
    }
    writeFileSync(noise, jpeg.encode({ data: rgba, width: 224, height: 224 }, 90).data);
    await retrieve().getByLabel('Photos to caption').setInputFiles(noise);
    const result = resultOf('noise.jpg');
    await expect.poll(() => result.count(), { timeout: 60_000 }).toBe(1);
    expect(await result.getAttribute('data-nothing-fits')).toBe('true');
    expect(await result.getByTestId('nothing-fits').textContent()).toMatch(/Nothing here fits well/);
  });

  it('gives most dev photos one of their own human captions in the top 10 of the typed dev captions', async (ctx) => {
    if (!HAVE_FLICKR) ctx.skip();
    const photos = devPhotos(DEV_PHOTOS);
    await page.getByRole('tab', { name: 'Retrieve' }).click();
    expect(await page.getByLabel('Model to query').inputValue()).toBe('starter');
    await page.getByLabel('captions I type').check();
    await page
      .getByLabel('Candidate captions, one a line')
      .fill(photos.flatMap((p) => p.captions).join('\n'));
    await retrieve()
      .getByLabel('Photos to caption')
      .setInputFiles(photos.map((p) => p.path));
    await expect
      .poll(() => retrieve().getByTestId('photo-result').count(), { timeout: 300_000, interval: 500 })
      .toBe(DEV_PHOTOS);
    let hits = 0;
    for (const p of photos) {
      const item = retrieve().locator(`[data-testid="photo-result"][data-photo="${p.name}"]`);
      const ranked = await item.getByTestId('photo-captions').locator('.caption-text').allTextContents();
      expect(ranked).toHaveLength(10);
      expect(new Set(ranked.map(words)).size).toBe(10); // distinct
      const own = new Set(p.captions.map(words));
      if (ranked.some((t) => own.has(words(t)))) hits++;
    }
    const rate = hits / DEV_PHOTOS;
    writeFileSync(
      join(RESULTS, 'starter-own-caption-rate.json'),
      JSON.stringify({ hits, photos: DEV_PHOTOS, rate }) + '\n',
    );
    expect(rate).toBeGreaterThanOrEqual(MIN_OWN_CAPTION_RATE);
    await shot('starter-own-photos');
  });

  it('searches a dropped folder of photos by sentence', async (ctx) => {
    if (!HAVE_FLICKR) ctx.skip();
    const photos = devPhotos(DEV_PHOTOS);
    const dir = join(RESULTS, 'gallery-folder');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const p of photos) copyFileSync(p.path, join(dir, p.name));
    writeFileSync(join(dir, 'notes.txt'), 'not a photo');
    await page.getByLabel('Gallery folder').setInputFiles(dir);
    await expect
      .poll(() => page.getByTestId('gallery-summary').getAttribute('data-count'), {
        timeout: 300_000,
        interval: 500,
      })
      .toBe(String(DEV_PHOTOS));
    // Photo 0 searched with each of its captions: its best rank among the DEV_PHOTOS photos.
    const target = photos[0];
    let best = Infinity;
    for (const caption of target.captions) {
      await page.getByLabel('Gallery search sentence').fill(caption);
      await page.getByRole('button', { name: 'Search my photos' }).click();
      await expect
        .poll(() => page.getByTestId('gallery-panel').textContent(), { timeout: 60_000 })
        .toContain(`for “${caption.trim()}”`);
      const names = await page
        .getByTestId('gallery-hit')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-name')));
      const rank = names.indexOf(target.name) + 1;
      if (rank > 0) best = Math.min(best, rank);
    }
    writeFileSync(
      join(RESULTS, 'starter-gallery-rank.json'),
      JSON.stringify({ photo: target.name, best }) + '\n',
    );
    expect(best).toBeLessThanOrEqual(MAX_GALLERY_RANK);
    await shot('starter-gallery');
  });

  // Which sentence is more general, on real sentences. The thresholds are the starter's own, measured on
  // its caption bank (calibration.json's `generality`, written by `npm run calibrate`; measured in the
  // page on a bank sample when the file has none). On the bank's own pairs they read about 7 in 10
  // specific/general pairs right and tell no direction for 9 in 10 unrelated pairs, so this asserts: no
  // pair reversed, most told, every unrelated pair "neither contains the other".
  it('tells the more general sentence of specific/general pairs, and "neither contains the other" for unrelated ones', async () => {
    await page.getByRole('tab', { name: 'Retrieve' }).click();
    const ask = async (a: string, b: string, timeout = 60_000): Promise<string | null> => {
      await page.getByLabel('Sentence A').fill(a);
      await page.getByLabel('Sentence B').fill(b);
      await page.getByRole('button', { name: 'Which is more general?' }).click();
      const verdict = page.getByTestId('generality');
      await expect
        .poll(() => verdict.textContent().catch(() => ''), { timeout, interval: 250 })
        .toMatch(new RegExp(`“${b}”.*“${a}”|“${a}”.*“${b}”`));
      return verdict.getAttribute('data-verdict');
    };
    // Sentence A specific, B general (B's words appear in A): the right verdict is b-more-general.
    const general: [string, string][] = [
      ['a black dog runs on the grass', 'a dog'],
      ['a dog runs on the grass', 'a dog'],
      ['a black dog runs on the grass', 'a dog runs'],
      ['a man is walking down the street', 'a man'],
      ['a man is walking down the street', 'a man walks'],
      ['two children play in the water', 'two children'],
      ['a girl in a pink dress jumps', 'a girl'],
    ];
    const unrelated: [string, string][] = [
      ['a dog', 'a red car on the street'],
      ['a man', 'a dog runs on the grass'],
      ['a black dog runs on the grass', 'a woman sits at a table'],
    ];
    const verdicts: Record<string, string | null> = {};
    // The first question may measure the scale in the page (a few seconds on a busy machine).
    for (const [a, b] of general) verdicts[`${a} | ${b}`] = await ask(a, b, 180_000);
    for (const [a, b] of unrelated) {
      const v = await ask(a, b);
      verdicts[`${a} | ${b}`] = v;
      expect(v, `${a} | ${b}`).toBe('unrelated');
      expect(await page.getByTestId('generality').textContent()).toMatch(/Neither contains the other/);
    }
    writeFileSync(join(RESULTS, 'starter-generality.json'), JSON.stringify(verdicts, null, 2) + '\n');
    const told = general.filter(([a, b]) => verdicts[`${a} | ${b}`] === 'b-more-general').length;
    const reversed = general.filter(([a, b]) => verdicts[`${a} | ${b}`] === 'a-more-general');
    expect(reversed).toEqual([]);
    expect(told).toBeGreaterThanOrEqual(Math.ceil(general.length / 2));
    // The reverse question of a told pair is told the other way round.
    const [a0, b0] = general.find(([a, b]) => verdicts[`${a} | ${b}`] === 'b-more-general')!;
    expect(await ask(b0, a0)).toBe('a-more-general');

    // Unknown words are named.
    await page.getByLabel('Sentence B').fill('a dog zorblaxes');
    await page.getByRole('button', { name: 'Which is more general?' }).click();
    await expect
      .poll(
        () =>
          page
            .getByTestId('generality-unknown')
            .textContent()
            .catch(() => ''),
        { timeout: 60_000 },
      )
      .toMatch(/zorblaxes/);
  });

  it('raised no page errors', () => {
    expect(problems).toEqual([]);
  });
});
