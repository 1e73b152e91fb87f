/**
 * The page as a user's machine serves it: no ../shared (ORDEREMBED_SHARED points at an empty folder).
 * The encoder list offers only encoders whose files this server really serves (the others greyed with
 * the reason); a missing data file is a 404 and its load error says how to make it; and a Flickr8k-layout
 * folder as commonly downloaded (Images/ and captions.txt, no split lists), with bad photos mixed in,
 * loads with a seeded split (said so), names each bad photo with its reason, and trains with dev curves.
 * The folder is made from ../shared's Flickr8k photos: that part is skipped when ../shared is absent.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { unusualPhotos } from './bad-photos';
import { browserSuite, RESULTS, ROOT } from './harness';

const REAL_SHARED = process.env.ORDEREMBED_SHARED
  ? resolve(process.env.ORDEREMBED_SHARED)
  : resolve(ROOT, '..', 'shared');
const FLICKR = join(REAL_SHARED, 'data', 'flickr8k');
const PHOTOS = 40;

/**
 * The common public Flickr8k copy in small: Images/ and captions.txt, no split lists; 40 real photos,
 * plus a GIF, a WebP and a 40-megapixel PNG (decodable), a text file named .jpg and a HEIC photo (not).
 */
function downloadedFlickr(): string {
  const dir = join(RESULTS, 'flickr-no-splits');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'Images'), { recursive: true });
  const lines = readFileSync(join(FLICKR, 'captions.txt'), 'utf8').split('\n').slice(1);
  const names = [...new Set(lines.map((l) => l.slice(0, l.indexOf(','))).filter(Boolean))].slice(0, PHOTOS);
  const rows = ['image,caption', ...lines.filter((l) => names.includes(l.slice(0, l.indexOf(','))))];
  for (const n of names) writeFileSync(join(dir, 'Images', n), readFileSync(join(FLICKR, 'Images', n)));
  for (const [n, bytes] of Object.entries(unusualPhotos())) {
    writeFileSync(join(dir, 'Images', n), bytes);
    rows.push(`${n},a grey picture of nothing in particular .`);
  }
  writeFileSync(join(dir, 'captions.txt'), rows.join('\n') + '\n');
  return dir;
}

async function series(page: Page, testId: string): Promise<Record<string, number>> {
  const raw = await page.getByTestId(testId).getAttribute('data-series');
  return raw ? (JSON.parse(raw) as Record<string, number>) : {};
}

describe('a user machine without ../shared', () => {
  const suite = browserSuite({ withoutShared: true });
  let page: Page;

  beforeAll(async () => {
    page = suite.page;
    await page.goto(suite.served.url);
  });

  it('offers only encoders whose files are served; the others greyed with the reason', async () => {
    await page.getByRole('tab', { name: 'Data' }).click();
    const select = page.getByLabel('Image encoder');
    await expect.poll(() => select.getAttribute('data-checked'), { timeout: 60_000 }).toBe('true');
    const options = await select.locator('option').evaluateAll((els) =>
      els.map((o) => ({
        value: (o as HTMLOptionElement).value,
        disabled: (o as HTMLOptionElement).disabled,
      })),
    );
    const offered = options.filter((o) => !o.disabled && o.value !== 'custom-url').map((o) => o.value);
    const greyed = options.filter((o) => o.disabled).map((o) => o.value);
    expect(offered).toContain('mobilenet-v1-1.0-trunk');
    expect(greyed).toContain('mobilenet-v2-0.35');
    expect(await select.inputValue()).toBe('mobilenet-v1-1.0-trunk');
    expect(await page.getByTestId('encoders-unavailable').textContent()).toMatch(
      /mobilenet-v2-0\.35 cannot load: .*HTTP 404/,
    );
    // Every offered encoder really is served: its model.json parses and every weight file is there.
    const models: Record<string, string> = {
      'mobilenet-v1-1.0-trunk': 'models/mobilenet-v1-1.0-trunk/',
      'mobilenet-v1-1.0-trunk-meanmax': 'models/mobilenet-v1-1.0-trunk/',
      'centernet-mb3': 'models/centernet-mb3/',
    };
    for (const id of offered) {
      expect(models[id], `an offered encoder this test does not know: ${id}`).toBeTruthy();
      const res = await page.request.get(`${suite.served.url}${models[id]}model.json`);
      expect(res.status()).toBe(200);
      const json = (await res.json()) as { weightsManifest: { paths: string[] }[] };
      for (const p of json.weightsManifest.flatMap((g) => g.paths))
        expect((await page.request.head(`${suite.served.url}${models[id]}${p}`)).status(), p).toBe(200);
    }
  });

  it('answers a missing pack with 404, and the load error names the file and the command', async () => {
    // A pack nobody prepared here (the default one may exist on a development machine).
    const pack = 'packs/flickr8k-not-prepared-here';
    const res = await page.request.get(`${suite.served.url}${pack}/manifest.json`);
    expect(res.status()).toBe(404);
    expect(await res.text()).not.toMatch(/<html/i);
    await page.getByLabel('Feature pack URL').fill(pack);
    await page.getByRole('button', { name: 'Load pack' }).click();
    await expect
      .poll(() => page.getByTestId('dataset-error').textContent(), { timeout: 60_000 })
      .toMatch(/manifest\.json.*404.*npm run prepare:flickr8k/);
  });

  it.skipIf(!existsSync(join(FLICKR, 'captions.txt')))(
    'loads a Flickr8k copy without split lists (seeded split, bad photos named) and trains with dev curves',
    async () => {
      await page.getByRole('tab', { name: 'Data' }).click();
      await page.getByLabel('Photo folder').setInputFiles(downloadedFlickr());
      await page.getByRole('button', { name: 'Load folder' }).click();
      const summary = page.getByTestId('dataset-summary');
      await expect
        .poll(() => summary.textContent(), { timeout: 240_000, interval: 1000 })
        .toMatch(/flickr-no-splits/);
      const text = (await summary.textContent()) ?? '';
      // 45 captioned photos split by name (an eighth each, 6, for dev and test); the two that cannot be
      // decoded (both in train here) are then left out, the GIF, the WebP and the 40 MP PNG are kept.
      expect(text).toMatch(
        /the 45 photos were split by file name with seed 1 into train 33 \/ dev 6 \/ test 6/,
      );
      expect(text).toMatch(/Images43.*train 31 · dev 6 · test 6/);
      expect(text).toMatch(/notes\.jpg: not a photo \(a text file\)/);
      expect(text).toMatch(/IMG_0001\.heic: a HEIC\/HEIF photo .*convert it to JPEG/);
      expect(text).not.toMatch(/(huge\.png|tiny\.gif|tiny\.webp):/);
      expect(text).toMatch(/dev split has only 6 images/);
      await page.screenshot({ path: join(RESULTS, 'folder-no-splits.png'), fullPage: true });

      await page.getByRole('tab', { name: 'Train' }).click();
      await page.getByRole('button', { name: 'Start', exact: true }).click();
      await expect
        .poll(() => series(page, 'chart-recall-step').then((s) => Math.max(0, ...Object.values(s))), {
          timeout: 180_000,
          interval: 1000,
        })
        .toBeGreaterThanOrEqual(2);
      await page.getByRole('button', { name: 'Pause' }).click();
    },
  );
});
