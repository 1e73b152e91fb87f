/**
 * The page on WebGPU (issue 18), in headless Chromium on its software WebGPU adapter (SwiftShader), where
 * a synchronous read of the GPU (tfjs's `dataSync` on webgpu goes through a canvas this adapter cannot
 * back) loses the device, so any such read shows:
 *
 * - it trains on WebGPU and, while it trains, answers queries there (captions for an uploaded photo with
 *   the run's calibration, images for a sentence, which of two sentences is more general, also from the
 *   shipped starter), trains the Hierarchy view and exports the live run (its weights), still on WebGPU
 *   afterwards, and tfjs never warns of a synchronous read;
 * - a GPU device lost in the middle of training: the browser's GPU process is crashed over the DevTools
 *   protocol (`Browser.crashGpuProcess`, what a driver reset or a GPU hang does to a page), which loses
 *   every WebGPU device for real. The worker falls back to wasm, says so in the header and a notice, and
 *   the run goes on from its last checkpoint on wasm by itself: no step before that checkpoint is lost,
 *   none of the stored weights come from the lost device.
 *
 * Without a WebGPU adapter the tests fail (they do not skip).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { readZip } from '../../src/ui/zip';
import {
  browserSuite,
  checkpointSteps,
  datasetLoaded,
  RESULTS,
  sceneJpeg,
  trainHierarchy,
  WEBGPU_FLAGS,
} from './harness';

const SCENES = 60;

/** Scene `i` of the page's scenes as a JPEG file, like a photo a user would upload. */
function scenePhoto(i: number): string {
  const file = join(RESULTS, 'upload-scene-webgpu.jpg');
  writeFileSync(file, sceneJpeg(SCENES, i));
  return file;
}

describe('the page on WebGPU (Chromium, SwiftShader)', () => {
  const suite = browserSuite({
    flags: WEBGPU_FLAGS,
    // tfjs warns (once) when something reads the GPU synchronously: nothing may, in training,
    // evaluation, checkpoints or queries (on this headless adapter such a read also loses the device).
    report: (text) => /synchronously reading/i.test(text),
  });
  const { problems } = suite;
  let page: Page;

  beforeAll(() => {
    page = suite.page;
  });

  it('trains, answers queries, trains a hierarchy and exports on WebGPU, with no synchronous read', async () => {
    await page.goto(`${suite.served.url}?scenes=${SCENES}#train`);
    await datasetLoaded(page);
    await page.getByLabel('Backend').selectOption('webgpu');
    await expect.poll(() => page.getByTestId('backend').textContent(), { timeout: 120_000 }).toBe('webgpu');
    await datasetLoaded(page);
    await page.getByRole('tab', { name: 'Train' }).click();
    await page.getByLabel('Hidden size').fill('32');
    await page.getByLabel('Word-embedding size').fill('16');
    await page.getByLabel('Batch size').fill('16');
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await expect
      .poll(() => page.getByTestId('status').textContent(), { timeout: 120_000 })
      .toMatch(/running/i);

    // The live run, while it trains: ranked captions (with its calibration), image search, generality.
    const retrieve = page.locator('#panel-retrieve');
    await page.getByRole('tab', { name: 'Retrieve' }).click();
    await page.getByLabel('the loaded dataset’s captions').check();
    await retrieve.getByLabel('Photos to caption').setInputFiles(scenePhoto(SCENES - 3));
    const ranked = retrieve.getByTestId('photo-captions').locator('.caption-text');
    await expect.poll(() => ranked.count(), { timeout: 120_000 }).toBe(10);
    await page.getByLabel('Search sentence', { exact: true }).fill('a red circle');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await expect
      .poll(() => page.getByTestId('image-hit').count(), { timeout: 60_000 })
      .toBeGreaterThanOrEqual(4);
    const generality = page.getByTestId('generality');
    await page.getByLabel('Sentence A').fill('a large red circle left of a small blue square');
    await page.getByLabel('Sentence B').fill('a shape');
    await page.getByRole('button', { name: 'Which is more general?' }).click();
    await expect.poll(() => generality.textContent(), { timeout: 60_000 }).toMatch(/“a shape”/);
    // The shipped starter (hidden 1024) on the same device: its generality verdict.
    await page.getByLabel('Model to query').selectOption('starter');
    await page.getByLabel('Sentence A').fill('a black dog runs on the grass');
    await page.getByLabel('Sentence B').fill('a dog');
    await page.getByRole('button', { name: 'Which is more general?' }).click();
    await expect
      .poll(() => generality.textContent(), { timeout: 60_000 })
      .toMatch('“a dog” is more general than “a black dog runs on the grass”');
    await page.screenshot({ path: join(RESULTS, 'webgpu-retrieve.png'), fullPage: true });

    // The Hierarchy view trains on the same device (its loss and positions read asynchronously).
    const status = await trainHierarchy(page, 'feline.n.01', 20);
    await page.getByRole('button', { name: 'Stop' }).click();
    await expect.poll(() => status.textContent()).toMatch(/stopped/);

    // Export of the live run: its weights copied on the device and read asynchronously.
    await page.getByRole('tab', { name: 'Runs' }).click();
    const download = page.waitForEvent('download');
    await page.locator('li[data-run-id]').first().getByRole('button', { name: 'Export' }).click();
    const files = Object.fromEntries(
      readZip(readFileSync((await (await download).path())!)).map((e) => [e.name, e.data]),
    );
    const manifest = JSON.parse(new TextDecoder().decode(files['weights.json'])) as {
      weights: { shape: number[] }[];
    };
    const values = manifest.weights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
    const weights = new Float32Array(files['weights.bin']!.slice().buffer);
    expect(weights.length).toBe(values);
    expect(weights.every(Number.isFinite)).toBe(true);

    expect(await page.getByTestId('backend').textContent()).toBe('webgpu');
    expect(await page.locator('.banner.error').allTextContents(), 'no error message').toEqual([]);
    expect(problems).toEqual([]);
    await page.getByRole('tab', { name: 'Train' }).click();
  });

  it('falls back to wasm when the device is lost, says so, and the run goes on from its checkpoint', async () => {
    // A checkpoint is stored every 5 s of training.
    await expect
      .poll(async () => Object.values(await checkpointSteps(page))[0] ?? 0, {
        timeout: 120_000,
        interval: 500,
      })
      .toBeGreaterThan(0);
    const [runId, before] = Object.entries(await checkpointSteps(page))[0]!;
    // Adam's bias-correction powers were read from the device (asynchronously) into the checkpoint.
    const powers = await page.evaluate(
      (id) =>
        new Promise<number[]>((resolve) => {
          const req = indexedDB.open('orderembed-runs');
          req.onsuccess = () => {
            const get = req.result.transaction('checkpoints', 'readonly').objectStore('checkpoints').get(id);
            get.onsuccess = () => {
              const adam = (
                get.result as { checkpoint: { adam: { beta1Power: number; beta2Power: number } } }
              ).checkpoint.adam;
              resolve([adam.beta1Power, adam.beta2Power]);
            };
          };
        }),
      runId,
    );
    expect(powers[0]).toBeCloseTo(0.9 ** (before + 1), 5);
    expect(powers[1]).toBeCloseTo(0.999 ** (before + 1), 5);
    const cdp = await suite.served.browser.newBrowserCDPSession();
    await cdp.send('Browser.crashGpuProcess' as never);
    // The header says wasm, a notice says why, and the run trains on.
    await expect.poll(() => page.getByTestId('backend').textContent(), { timeout: 60_000 }).toBe('wasm');
    expect(await page.getByTestId('backend-reason').textContent()).toBe('the WebGPU device was lost');
    const notices = page.getByRole('list', { name: 'Notices' });
    await expect
      .poll(() => notices.textContent(), { timeout: 60_000 })
      .toMatch(
        /The WebGPU device was lost \(.+\); falling back to wasm\. The runs go on there from their last checkpoint\./,
      );
    await expect
      .poll(() => notices.textContent(), { timeout: 60_000 })
      .toMatch(/Resumed run '.+' at step \d+\./);
    const resumedAt = Number(/Resumed run '.+' at step (\d+)\./.exec((await notices.textContent())!)![1]);
    expect(resumedAt).toBeGreaterThanOrEqual(before);
    await expect
      .poll(() => page.getByTestId('status').textContent(), { timeout: 60_000 })
      .toMatch(/running/i);
    // Its checkpoints go on from there, on wasm.
    await expect
      .poll(async () => (await checkpointSteps(page))[runId] ?? 0, { timeout: 60_000, interval: 500 })
      .toBeGreaterThan(resumedAt);
    await page.screenshot({ path: join(RESULTS, 'device-lost.png'), fullPage: true });
    expect(await page.locator('.banner.error').allTextContents(), 'no error message').toEqual([]);
    expect(problems).toEqual([]);
  });
});
